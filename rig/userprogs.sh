#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the userspace test programs into build/bin (they run in the guest,
# which shares the host's root, so host binaries work there).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/build/bin"
gcc -O2 -Wall -Wextra -Werror -I"$top/lib" -o "$top/build/bin/umem_demo" \
	"$top/tools/testing/selftests/umem/umem_demo.c"
