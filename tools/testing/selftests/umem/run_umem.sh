#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run the umem checks through /dev/test_umem (CONFIG_TEST_UMEM).
ksft_skip=4

if [ ! -e /dev/test_umem ]; then
	modprobe -q test_umem 2>/dev/null
	if [ ! -e /dev/test_umem ]; then
		echo "SKIP: /dev/test_umem missing (CONFIG_TEST_UMEM)"
		exit $ksft_skip
	fi
fi
exec "$(dirname "$0")"/umem_demo --selftest --size "${UMEM_SIZE:-64M}"
