#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build what is missing, boot the patched kernel and pin 1 GiB
# backed by 4K pages, THP and hugetlbfs through umem, printing per case what
# umem built and how long it took.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
size=${DEMO_SIZE:-1G}
mkdir -p "$top/build"
echo "demo: building the patched kernel (incremental; cold on 2 cores: ~20 min)"
"$top/rig/build-kernel.sh" patched > "$top/build/build-patched.log" 2>&1 ||
	{ tail -40 "$top/build/build-patched.log"; exit 1; }
"$top/rig/userprogs.sh"
echo "demo: booting the guest (TCG, intel-iommu, edu, THP, hugetlbfs)"
VM_NO_BUILD=1 "$top/rig/vm-run.sh" -- "$top/build/bin/umem_demo --size $size"
