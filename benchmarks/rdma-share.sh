#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# umem's share of ibv_reg_mr(): the time the kernel spends in ib_umem_get()
# per registration of SIZE of THP, 2M hugetlb and 4K memory over rxe, stock
# against patched, from perf samples in each guest (cpu-clock; TCG has no
# PMU).  On the patched kernel ib_umem_get() is umem_init() + umem_get();
# on stock it is 6.12's own pin and scatterlist build.  Writes SHARE_OUT
# (default benchmarks/results/rdma-umem-share.txt).
#
#   SHARE_SIZE=1G SHARE_REPEAT=40 benchmarks/rdma-share.sh
#
# The kernels are make bench's (build/x86-{stock,patched}-bench).
set -euo pipefail
export VM_CONFIG=${VM_CONFIG-bench}
top=$(cd "$(dirname "$0")/.." && pwd)
size=${SHARE_SIZE:-1G}
repeat=${SHARE_REPEAT:-40}
out=${SHARE_OUT:-$top/benchmarks/results/rdma-umem-share.txt}

"$top/rig/deps.sh"
"$top/rig/userprogs.sh"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
	echo "# umem's share of ibv_reg_mr over rxe (benchmarks/rdma-share.sh), $(date -u +%Y-%m-%d)"
	echo "# share: perf samples under ib_umem_get() over those under ib_uverbs_reg_mr();"
	echo "# ib_umem_get-ms: share x the median ibv_reg_mr() time. Release kernels under"
	echo "# TCG: compare kernels by ratio."
} > "$tmp"
for k in stock patched; do
	flag=
	[ "$k" = stock ] && flag=--stock
	VM_NO_BUILD=${VM_NO_BUILD:-} VM_LOG=$top/build/rdma-share-$k.log \
		"$top/rig/vm-run.sh" $flag -- \
		"sh $top/benchmarks/rdma-share-guest.sh $top/build/bin $size $repeat" |
		tr -d '\r' | sed -n '/==== share begin/,/==== share end/p' | sed '1d;$d' > "$tmp.$k"
	[ -s "$tmp.$k" ] || { echo "rdma-share: no result from the $k guest" >&2; exit 1; }
	cat "$tmp.$k" >> "$tmp"
done
# ib_umem_get() per registration, patched/stock
awk 'FNR == 1 { f++ } /^[0-9A-Za-z]/ && NF == 6 { ms[f, $1] = $6 }
	END {
		print "# ib_umem_get() ms per registration, stock -> patched (patched/stock):"
		n = split("THP hugetlb 4K", bs, " ")
		for (i = 1; i <= n; i++) {
			s = ms[1, bs[i]]; p = ms[2, bs[i]]
			printf "#   %-8s %8.2f -> %8.2f  (%s)\n", bs[i], s, p,
				(s > 0 ? sprintf("%.2f", p / s) : "-")
		}
	}' "$tmp.stock" "$tmp.patched" >> "$tmp"
rm -f "$tmp.stock" "$tmp.patched"
mv "$tmp" "$out"
trap - EXIT
cat "$out"
