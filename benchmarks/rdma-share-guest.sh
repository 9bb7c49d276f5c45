#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest, as root: how much of ibv_reg_mr() is the kernel's pin of
# the MR (ib_umem_get()), per backing, with perf (cpu-clock, call graphs).
#   rdma-share-guest.sh BINDIR SIZE REPEAT
# umem_mr_demo registers and deregisters the same buffer REPEAT times; the
# samples under ib_umem_get() and under the whole registration
# (ib_uverbs_reg_mr()) are counted. Their ratio, the pin's share of the
# kernel's registration, times the median ibv_reg_mr() time is the pin's
# time per registration. (TCG delivers far fewer cpu-clock samples than
# asked for, and perf lowers its rate, so counts are not times.)
bin=$1 size=$2 repeat=$3
freq=1000
. "$(dirname "$0")/perf-guest.sh"
perf_setup
cd /tmp || exit 1
rc=0
ip link add sharerxe0 type dummy && ip link set sharerxe0 up &&
	rdma link add sharerxe type rxe netdev sharerxe0 || exit 1
for _ in $(seq 50); do
	ls /dev/infiniband/uverbs* > /dev/null 2>&1 && break
	sleep 0.1
done
chmod 666 /dev/infiniband/*

# samples SYMBOL: samples whose call chain has SYMBOL (perf report --parent)
samples() {
	perf report -q -i /tmp/perf.data --stdio --no-children -g none -n \
		-p "^$1\$" -x --sort comm 2>/dev/null | awk '{ s += $2 } END { print s + 0 }'
}

echo "==== share begin"
echo "# $(uname -r): ibv_reg_mr of $size over rxe, $repeat registrations per backing," \
	"perf cpu-clock at $freq Hz"
echo "# backing  reg_mr-ms(median)  samples-reg_mr  samples-ib_umem_get  share  ib_umem_get-ms"
for b in THP hugetlb 4K; do
	perf record -q -e cpu-clock -F $freq -g -o /tmp/perf.data -- \
		"$bin/umem_mr_demo" "$size" "$b" "$repeat" > /tmp/demo.out 2>&1 ||
		{ rc=1; cat /tmp/demo.out; continue; }
	med=$(awk 'NF == 4 && $3 ~ /^[0-9.]+$/ { print $3 }' /tmp/demo.out | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
	reg=$(samples ib_uverbs_reg_mr)
	pin=$(samples ib_umem_get)
	awk -v b="$b" -v med="$med" -v reg="$reg" -v pin="$pin" \
		'BEGIN { sh = reg ? pin / reg : 0
			 printf "%-9s %8s %8d %8d %7.3f %8.2f\n", b, med, reg, pin, sh, sh * med }'
done
echo "==== share end"
rdma link del sharerxe 2>/dev/null
ip link del sharerxe0 2>/dev/null
exit $rc
