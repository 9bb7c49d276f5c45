#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest, as root: run every benchmark workload once per size and
# print one line per measurement,
#	csv,<workload>,<backing>,<bytes>,<op>,<value>
# (times in ms, metadata in bytes per GiB).  Usage: bench-guest.sh BINDIR SIZE...
# Sizes are multiples of 2M written as 64M, 1G, ...; the host side
# (benchmarks/bench.sh) labels the lines with the kernel and repetition.
bin=$1
shift
rc=0

bytes() {
	case "$1" in
	*G) echo $(( ${1%G} * 1024 * 1024 * 1024 )) ;;
	*M) echo $(( ${1%M} * 1024 * 1024 )) ;;
	*) echo "$1" ;;
	esac
}

echo "# bench: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)," \
	"hugepages $(cat /proc/sys/vm/nr_hugepages)"

# 1. VFIO type1: MAP_DMA/UNMAP_DMA through the edu device behind intel-iommu
#    (also binds edu to vfio-pci for the iommufd run below).
for s in "$@"; do
	n=$(bytes "$s")
	"$bin/umem_vfio_edu" --demo --big "$s" > /tmp/bench-vfio.out 2>&1 || {
		rc=1; sed 's/^/# vfio: /' /tmp/bench-vfio.out | tail -20; }
	awk -v n="$n" '$1 == "#" && $4 == "MAP_DMA" && $7 == "UNMAP_DMA" {
			print "csv,vfio-type1," $2 "," n ",map," $5
			print "csv,vfio-type1," $2 "," n ",unmap," $8 }
		$1 == "#" && $4 == "metadata:" {
			s = $0; sub(/.*slab [-+0-9]+ kB \(/, "", s); sub(/ bytes.*/, "", s)
			print "csv,vfio-type1," $2 "," n ",metadata," s }' /tmp/bench-vfio.out
done

# 2. RDMA: ibv_reg_mr/ibv_dereg_mr through soft-RoCE on a dummy netdev.
ip link add benchrxe0 type dummy && ip link set benchrxe0 up &&
	rdma link add benchrxe type rxe netdev benchrxe0 || rc=1
# rxe keeps a kmalloc'ed array of 16 bytes per 4K page of an MR
# (__alloc_mr_page_info()): above 1 GiB it exceeds kmalloc's largest size,
# ibv_reg_mr fails with ENOMEM and page_alloc WARNs, on both kernels.
for s in "$@"; do
	n=$(bytes "$s")
	if [ "$n" -gt $((1 << 30)) ]; then
		echo "# rdma: $s skipped: rxe cannot register MRs above 1 GiB"
		continue
	fi
	"$bin/umem_mr_demo" "$s" > /tmp/bench-rdma.out 2>&1 || {
		rc=1; sed 's/^/# rdma: /' /tmp/bench-rdma.out | tail -20; }
	awk -v n="$n" 'NF == 4 && $3 ~ /^[0-9.]+$/ && $4 ~ /^[0-9.]+$/ {
			print "csv,rdma-reg-mr," $1 "," n ",reg," $3
			print "csv,rdma-reg-mr," $1 "," n ",dereg," $4 }' /tmp/bench-rdma.out
done
rdma link del benchrxe 2>/dev/null
ip link del benchrxe0 2>/dev/null

# 3. Raw pinning (GUP_TEST, umem) and iommufd IOAS_MAP/UNMAP.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
# shellcheck disable=SC2046
"$bin/pin_bench" --iommufd $(for s in "$@"; do bytes "$s"; done) || rc=1

# 4. VM start: map a guest-sized IOVA space that aliases a few GiB of
#    hugetlb pages (BENCH_VM_START, e.g. 256G), then unmap it, type1.
if [ -n "${BENCH_VM_START:-}" ]; then
	n=$(bytes "$BENCH_VM_START")
	"$bin/umem_vfio_edu" --vm-start "$BENCH_VM_START" > /tmp/bench-vmstart.out 2>&1 || {
		rc=1; sed 's/^/# vm-start: /' /tmp/bench-vmstart.out | tail -20; }
	awk -v n="$n" '$1 == "#" && $2 == "vm-start" && $5 == "MAP_DMA" && $8 == "UNMAP_DMA" {
			print "csv,vfio-vm-start," $3 "," n ",map," $6
			print "csv,vfio-vm-start," $3 "," n ",unmap," $9 }' /tmp/bench-vmstart.out
fi

echo "# bench: exit status $rc"
exit $rc
