#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest: perf profile of VFIO_IOMMU_UNMAP_DMA of 4 GiB of 4K pages
# (umem_vfio_edu --demo --only 4K --big 4G).  How it was run:
#   VM_CONFIG=bench VM_MEM=8G VM_HUGEPAGES=16 rig/vm-run.sh [--stock] -- \
#	"sh $PWD/benchmarks/profile-vfio-unmap-guest.sh"
# Output: benchmarks/results/profile-vfio-4k-unmap.txt.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
echo 0 > /proc/sys/kernel/kptr_restrict
echo -1 > /proc/sys/kernel/perf_event_paranoid
cd /tmp
perf record -q -e cpu-clock -F 1000 -g -o /tmp/p.data -- $(dirname "$0")/../build/bin/umem_vfio_edu --demo --only 4K --big 4G > /tmp/o.txt 2>&1
echo "==== unmap profile begin"
uname -r
grep -E "MAP_DMA|passed|contiguous runs:" /tmp/o.txt
P='vfio_iommu_type1_unmap_dma|vfio_dma_do_unmap|vfio_remove_dma'
perf report -q -i /tmp/p.data --stdio --no-children -g none -n -p "$P" -x --sort symbol --percentage relative --percent-limit 1.5 2>/dev/null | sed '/^$/d' | head -30 | sed 's/ *-  *- .*//'
echo "### inclusive"
perf report -q -i /tmp/p.data --stdio --children -g none -n -p "$P" -x --sort symbol --percentage relative --percent-limit 4 2>/dev/null | sed '/^$/d' | grep -v "0x[0-9a-f]\{8\}" | head -30 | sed 's/ *-  *- .*//'
echo "==== unmap profile end"
