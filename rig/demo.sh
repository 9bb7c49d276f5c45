#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build what is missing, boot the kernel (patched, or the
# unpatched base with BASE=stock) and pin DEMO_SIZE (default 1G) each of 4K,
# THP and hugetlbfs backed memory through umem, RDMA memory registration and
# VFIO type1 DMA mapping, printing per case what was built and how long it
# took.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
size=${DEMO_SIZE:-1G}
flavour=patched vmflag=
[ "${BASE:-patched}" = stock ] && flavour=stock vmflag=--stock
mkdir -p "$top/build/bin"
echo "demo: building the $flavour kernel (incremental; cold on 2 cores: 20-25 min)"
"$top/rig/build-kernel.sh" "$flavour" > "$top/build/build-$flavour.log" 2>&1 ||
	{ tail -40 "$top/build/build-$flavour.log"; exit 1; }
"$top/rig/userprogs.sh"
echo "demo: booting the guest (TCG, intel-iommu, edu, THP, hugetlbfs; debug kernel: KASAN, lockdep)"
VM_NO_BUILD=1 "$top/rig/vm-run.sh" $vmflag -- "sh $top/rig/demo-guest.sh $top/build/bin $size"
