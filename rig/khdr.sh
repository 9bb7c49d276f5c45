#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The tree's uapi headers (make headers_install) in build/khdr/include, for
# the selftests built on the host: Debian 12's linux-libc-dev is 6.1's and
# lacks iommufd's and VFIO cdev's uapi.  None of the series' patches touch
# include/uapi, so one install serves both kernels.  Prints the directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
khdr=$top/build/khdr
if [ ! -f "$khdr/include/linux/iommufd.h" ]; then
	src=$("$top/rig/tree.sh" patched)
	rm -rf "$khdr" "$top/build/khdr-obj"
	make -s -C "$src" O="$top/build/khdr-obj" ARCH=x86_64 \
		INSTALL_HDR_PATH="$khdr" headers_install >&2
	rm -rf "$top/build/khdr-obj"
fi
echo "$khdr/include"
