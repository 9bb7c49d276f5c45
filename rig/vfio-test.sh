#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the vfio kselftest on the host (rig/userprogs.sh) and run it in the
# guest: VFIO type1 DMA mapping checked through QEMU's edu device (see
# tools/testing/selftests/vfio/umem_vfio_edu.c).
#
#   rig/vfio-test.sh [stock] [umem_vfio_edu options, e.g. --big 1G]
#
# "stock" runs it on the unpatched 6.12 guest kernel; VM_NO_BUILD=1 boots
# an existing kernel without rebuilding it.  Without options the largest
# mapping per backing is 512M (the program's own default is 1G): under TCG
# with the debug kernel, faulting in and mapping 1G of 4K pages alone takes
# ~1.5 min, and the whole run should stay around 5 minutes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=
if [ "${1:-}" = stock ]; then
	flavour=--stock
	shift
fi
[ $# -gt 0 ] || set -- --big 512M
"$top/rig/userprogs.sh"
# The kselftest as installed (make -C tools/testing/selftests TARGETS=vfio)
inst=$top/build/kselftest/install/vfio
VM_NO_BUILD=${VM_NO_BUILD:-} "$top/rig/vm-run.sh" $flavour -- \
	"sh $inst/umem_vfio_test.sh $inst $*"
