#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest, as root: run umem_vfio_edu (VFIO type1 DMA mapping checked
# through QEMU's edu device behind intel-iommu) and return its exit status.
#
#   umem_vfio_test.sh [BINDIR] [umem_vfio_edu options, e.g. --big 2G]
#
# BINDIR defaults to this script's directory.  Extra options may also come
# from $UMEM_VFIO_ARGS.  The edu device is left bound to vfio-pci.
bindir=${1:-$(dirname "$0")}
[ $# -gt 0 ] && shift
prog=$bindir/umem_vfio_edu

ksft_skip=4

if [ ! -x "$prog" ]; then
	echo "umem_vfio_test: $prog not found (build it first)" >&2
	exit 1
fi
# The device is found in /sys, VmLck and nr_foll_pin_* are read from /proc:
# mount them if init did not.
[ -r /proc/self/status ] || mount -t proc none /proc
[ -d /sys/bus/pci ] || mount -t sysfs none /sys
if [ ! -e /dev/vfio/vfio ]; then
	echo "umem_vfio_test: SKIP: no /dev/vfio/vfio (CONFIG_VFIO?)"
	exit $ksft_skip
fi
# QEMU's edu device (1234:11e8) is the DMA engine this test drives.
edu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1234 ] &&
		[ "$(cat "$d/device" 2>/dev/null)" = 0x11e8 ] && edu=$d
done
if [ -z "$edu" ]; then
	echo "umem_vfio_test: SKIP: no QEMU edu device (1234:11e8)"
	exit $ksft_skip
fi
echo "umem_vfio_test: $(uname -r), hugepages $(cat /proc/sys/vm/nr_hugepages)," \
	"THP $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
# shellcheck disable=SC2086
"$prog" ${UMEM_VFIO_ARGS:-} "$@"
rc=$?
echo "umem_vfio_test: exit status $rc"
exit $rc
