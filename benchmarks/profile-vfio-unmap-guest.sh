#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest: perf profile of VFIO_IOMMU_UNMAP_DMA of 4 GiB of 4K pages
# (umem_vfio_edu --demo --only 4K --big 4G).  How it was run:
#   [VM_ACCEL=icount] VM_CONFIG=bench VM_MEM=8G VM_HUGEPAGES=16 \
#	rig/vm-run.sh [--stock] -- "sh $PWD/benchmarks/profile-vfio-unmap-guest.sh"
# Output: benchmarks/results/profile-vfio-4k-unmap.txt.
. "$(dirname "$0")/perf-guest.sh"
perf_setup
cd /tmp || exit 1
perf record -q -e cpu-clock -F 1000 -g -o /tmp/perf.data -- \
	"$(dirname "$0")/../build/bin/umem_vfio_edu" --demo --only 4K --big 4G > /tmp/o.txt 2>&1
echo "==== unmap profile begin"
uname -r
grep -E "MAP_DMA|passed|contiguous runs:" /tmp/o.txt
perf_report UNMAP_DMA 'vfio_iommu_type1_unmap_dma|vfio_dma_do_unmap|vfio_remove_dma'
echo "==== unmap profile end"
