#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the stock 6.12 kernel against the patched one, same config,
# same VM shape, alternating boots, BENCH_REPS repetitions of every workload
# of benchmarks/bench-guest.sh at each of BENCH_SIZES.  Writes the raw
# measurements and a report (table.md, plot.png) into BENCH_OUT.
#
#   BENCH_SIZES="1G 4G" BENCH_REPS=3 BENCH_OUT=benchmarks/results benchmarks/bench.sh
#
# The kernels are built from rig/configs/vm.config without its debug
# options (rig/configs/bench.config: no KASAN, lockdep, DEBUG_VM, kmemleak)
# into build/x86-{stock,patched}-bench; BENCH_CONFIG=debug uses the debug
# test kernels instead.
#
# VM_ACCEL=icount runs the guests with QEMU's -icount shift=0: times become
# guest instruction counts, repeatable boot to boot to ~0.03% (see
# rig/vm-run.sh).
#
# Nothing here asserts anything about time; the run fails only if a
# workload fails or a guest splats (rig/vm-run.sh checks that).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
sizes=${BENCH_SIZES:-1G 4G}
reps=${BENCH_REPS:-3}
# The VM start row: this much IOVA mapped over a few GiB of hugetlb pages.
vm_start=${BENCH_VM_START-256G}
out=${BENCH_OUT:-$top/benchmarks/results}
work=$top/build/bench
[ "$reps" -ge 1 ] || { echo "bench: BENCH_REPS must be >= 1" >&2; exit 2; }
case "${BENCH_CONFIG:-release}" in
release)
	export VM_CONFIG=bench
	kconfig="the test config without debug options (rig/configs/vm.config + bench.config)" ;;
debug)
	unset VM_CONFIG
	kconfig="the debug test config (KASAN, lockdep, kmemleak, DEBUG_VM: rig/configs/vm.config)" ;;
*) echo "bench: BENCH_CONFIG is release or debug" >&2; exit 2 ;;
esac

"$top/rig/deps.sh"
for k in patched stock; do
	# VM_NO_BUILD=1 (make check): boot the kernels as they are. A rebuild,
	# even one with nothing to do, rewrites bzImage under guests that
	# another lane may be starting.
	if [ -n "${VM_NO_BUILD:-}" ] &&
	   [ -f "$top/build/x86-$k${VM_CONFIG:+-$VM_CONFIG}/arch/x86/boot/bzImage" ]; then
		continue
	fi
	"$top/rig/build-kernel.sh" $k > "$top/build/build-$k${VM_CONFIG:+-$VM_CONFIG}.log" 2>&1 || {
		tail -30 "$top/build/build-$k${VM_CONFIG:+-$VM_CONFIG}.log" >&2
		echo "bench: the $k kernel did not build" >&2
		exit 1
	}
done

mkdir -p "$top/build/bin" "$work" "$out"
cc="gcc -O2 -Wall -Wextra -Werror"
"$top/rig/userprogs.sh"
$cc -o "$top/build/bin/pin_bench" "$top/benchmarks/pin_bench.c"

# Guest memory: the largest buffer twice (hugetlb pages are reserved at
# boot, 4K/THP buffers come on top) plus room for the system.
max_mb=0
for s in $sizes; do
	case "$s" in
	*G) mb=$(( ${s%G} * 1024 )) ;;
	*M) mb=${s%M} ;;
	*) echo "bench: size $s: use M or G" >&2; exit 2 ;;
	esac
	[ $(( mb % 2 )) = 0 ] || { echo "bench: size $s: not a multiple of 2M" >&2; exit 2; }
	[ "$mb" -gt "$max_mb" ] && max_mb=$mb
done
hugepages=$(( max_mb / 2 + 16 ))
# 1 GiB pages for the whole-GiB sizes (the hugetlb-1G rows)
hugepages_1g=$(( max_mb / 1024 ))
mem_mb=$(( 2 * max_mb + hugepages_1g * 1024 + 3072 ))
[ "$mem_mb" -ge 6144 ] || mem_mb=6144

raw=$work/raw.csv
echo "kernel,rep,workload,backing,bytes,op,value" > "$raw"
for rep in $(seq 1 "$reps"); do
	# Alternate which kernel boots first, so drift hits both alike.
	if [ $(( rep % 2 )) = 1 ]; then order="stock patched"; else order="patched stock"; fi
	for k in $order; do
		flag=
		[ "$k" = stock ] && flag=--stock
		log=$work/$k-$rep.log
		echo "bench: rep $rep/$reps, $k kernel, sizes $sizes" >&2
		VM_NO_BUILD=1 VM_MEM=${mem_mb}M VM_HUGEPAGES=$hugepages \
			VM_HUGEPAGES_1G=$hugepages_1g \
			"$top/rig/vm-run.sh" $flag -- \
			"BENCH_VM_START=$vm_start sh $top/benchmarks/bench-guest.sh $top/build/bin $sizes" > "$log" 2>&1 || {
			grep -v '^csv,' "$log" | tail -30 >&2
			echo "bench: the $k run $rep failed (log: $log)" >&2
			exit 1
		}
		tr -d '\r' < "$log" | grep '^csv,' | sed "s/^csv,/$k,$rep,/" >> "$raw"
	done
done

# Every workload must have produced numbers on the kernels that have it.
missing=
for k in stock patched; do
	for wl in vfio-type1 rdma-reg-mr gup-pin-fast gup-pin-longterm iommufd; do
		grep -q "^$k,[0-9]*,$wl," "$raw" || missing+=" $k/$wl"
	done
done
grep -q "^patched,[0-9]*,umem," "$raw" || missing+=" patched/umem"
[ -z "$missing" ] || { echo "bench: no measurements for:$missing" >&2; exit 1; }

cp "$raw" "$out/raw.csv"
{
	echo "- host: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs," \
		"$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "- guest: QEMU $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')" \
		"TCG, q35, intel-iommu, edu, 2 vCPUs, ${mem_mb} MiB, $kconfig"
	echo "- sizes: $sizes; $reps repetitions per kernel, boots alternating; $(date -u +%Y-%m-%d)"
	[ -z "$vm_start" ] ||
		echo "- VM start: $vm_start of IOVA mapped by MAP_DMA calls of the same" \
			"few GiB of hugetlb pages (1G ones when reserved), then unmapped with" \
			"one unmap-all"
	[ "${VM_ACCEL:-}" != icount ] ||
		echo "- VM_ACCEL=icount: one TCG thread, -icount shift=0: the guest clock" \
			"advances 1 ns per guest instruction, so every \"ms\" is a million guest" \
			"instructions, blind to cache and TLB costs"
} > "$work/machine.md"
cp "$work/machine.md" "$out/machine.md"
python3 "$top/benchmarks/report.py" "$raw" "$out/machine.md" "$out"
echo "bench: $out/table.md, $out/summary.md, $out/plot.png" >&2
# The default results are what the README and the cover letter quote.
if [ "$out" = "$top/benchmarks/results" ]; then
	(cd "$top" && python3 benchmarks/update-readme.py)
	echo "bench: README.md and rig/cover-letter.txt updated from them" >&2
fi
