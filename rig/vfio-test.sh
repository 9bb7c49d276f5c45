#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build umem_vfio_edu on the host into build/bin and run it in the guest:
# VFIO type1 DMA mapping checked through QEMU's edu device (see
# tools/testing/selftests/vfio/umem_vfio_edu.c).
#
#   rig/vfio-test.sh [stock] [umem_vfio_edu options, e.g. --big 2G]
#
# "stock" runs it on the unpatched 6.12 guest kernel; VM_NO_BUILD=1 boots
# an existing kernel without rebuilding it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=
if [ "${1:-}" = stock ]; then
	flavour=--stock
	shift
fi
mkdir -p "$top/build/bin"
gcc -O2 -Wall -Wextra -Werror -o "$top/build/bin/umem_vfio_edu" \
	"$top/tools/testing/selftests/vfio/umem_vfio_edu.c"
VM_NO_BUILD=${VM_NO_BUILD:-} "$top/rig/vm-run.sh" $flavour -- \
	"sh $top/tools/testing/selftests/vfio/umem_vfio_test.sh $top/build/bin $*"
