#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo, inside the guest: BINDIR SIZE [KERNEL].  Pins SIZE of 4K, THP
# and hugetlb backed memory through umem (/dev/test_umem), registers it as
# RDMA memory regions on soft-RoCE, and maps it for DMA through VFIO type1
# with the edu device doing a DMA round trip.  KERNEL says what kernel this
# is (rig/demo.sh), for the line that qualifies every time printed below.
bin=$1 size=$2 kernel=${3:-build not named} rc=0
trace=/sys/kernel/tracing

echo
echo "Times below: kernel $(uname -r), $kernel, under TCG emulation (no KVM): compare rows of this run, not milliseconds with hardware."

echo
echo "=== umem: pin and release through /dev/test_umem"
if [ -e /dev/test_umem ]; then
	"$bin/umem_demo" --size "$size" || rc=1
else
	echo "(no /dev/test_umem: this kernel has no umem)"
fi

echo
echo "=== RDMA: soft-RoCE (rxe) on a guest-internal dummy netdev"
ip link add umemdemo0 type dummy && ip addr add 192.0.2.1/24 dev umemdemo0 &&
	ip link set umemdemo0 up && rdma link add rxe0 type rxe netdev umemdemo0 || rc=1
chmod 666 /dev/infiniband/* 2>/dev/null
if [ -d $trace/events/umem ]; then
	echo > $trace/trace
	echo 1 > $trace/events/umem/umem_pin/enable
fi
"$bin/umem_mr_demo" "$size" || rc=1
if [ -d $trace/events/umem ]; then
	echo 0 > $trace/events/umem/umem_pin/enable
	echo "umem_pin tracepoints during ibv_reg_mr (one per MR, in order):"
	grep 'umem_pin:' $trace/trace | sed 's/^.*umem_pin: /  /'
	grep -q 'umem_pin:' $trace/trace ||
		echo "  (none: ib_umem does not pin through umem in this kernel)"
fi
rdma link del rxe0 2>/dev/null
ip link del umemdemo0 2>/dev/null

echo
echo "=== VFIO type1: edu behind intel-iommu, MAP_DMA/UNMAP_DMA with a DMA round trip"
"$bin/umem_vfio_edu" --demo --big "$size" || rc=1
exit $rc
