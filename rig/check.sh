#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Everything CI runs.  Each step's output goes to the terminal (or, for the
# second lane, to build/check-lane.log, printed when the lane ends); a summary
# of steps with their times and the total test counts closes the run.  Exits
# non-zero if any step failed.  --fast (make check-fast): only the steps that
# need no x86_64 kernel and no guest (checkpatch, kernel-doc, UML KUnit), a
# few minutes warm, for iterating.
#
# The full run has two lanes, because a TCG guest running one test keeps
# about one of the two host cores busy:
#   main lane:   patched kernel, its guest suites
#   second lane: checkpatch, kernel-doc, UML KUnit, the stock kernel, the
#                RDMA all-drivers build and W=1/sparse (under nice, so that
#                they take what the guests leave), then the stock kernel's
#                guest suites and bench-tiny (both kernels).
# Guests share the host's 24 GiB in two slots (rig/vm-run.sh's locks): a
# guest of 12 GiB or more (~15 GiB resident) runs with at most one
# ordinary guest beside it, and only one such guest at a time.  The main
# lane starts with its 16 GiB guest, while the second lane builds; the
# stock one (second lane) runs beside the main lane's suites.
# CHECK_LANES=1 runs everything in one lane.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p build
"$top/rig/deps.sh" || exit 1

fast=0
[ "${1:-}" = --fast ] && fast=1
res=build/check-results
rm -rf "$res"
mkdir -p "$res"
t_start=$(date +%s)
lane=

# step NAME CMD...: run CMD, record "NAME ok|FAIL seconds" under $res.
step() {
	local name=$1 t0 rc
	shift
	echo "==== $name${lane:+ ($lane lane)}"
	t0=$(date +%s)
	"$@" 2>&1 | tee "$res/$name.out"
	rc=${PIPESTATUS[0]}
	printf '%-28s %-4s %5ss%s\n' "$name" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
		$(( $(date +%s) - t0 )) "${lane:+   $lane lane}" > "$res/$t0.$name.step"
	return $rc
}
# count NAME PASSED FAILED SKIPPED
count() {
	echo "$2 $3 $4" > "$res/$1.count"
}
# "Testing complete. Ran 40 tests: passed: 38, skipped: 2" -> counters
count_kunit() {
	local name=$1 line p f s
	line=$(grep -a 'Testing complete' "$2" | tail -n 1)
	[ -n "$line" ] || { count "$name" 0 1 0; return; }
	p=$(grep -oP 'passed: \K[0-9]+' <<<"$line" || echo 0)
	f=$(grep -oP '(failed|crashed): \K[0-9]+' <<<"$line" | paste -sd+ | bc || echo 0)
	s=$(grep -oP 'skipped: \K[0-9]+' <<<"$line" || echo 0)
	count "$name" "$p" "${f:-0}" "$s"
}
# In-guest suites print "N passed, N failed" as their last count line.
vm_suite() {
	local name=$1 log=build/$1.log line
	shift
	step "$name" bash -c 'set -o pipefail; "$@" 2>&1 | tee "$0"' "$log" "$@"
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		count "$name" "$(cut -d' ' -f1 <<<"$line")" "$(cut -d' ' -f3 <<<"$line")" 0
	else
		count "$name" 0 1 0
	fi
}
summary() {
	local p=0 f=0 s=0 a b c failed=0
	echo "==== summary"
	cat $(ls "$res"/*.step | sort -t/ -k3 -n)
	grep -q ' FAIL ' "$res"/*.step && failed=1
	for c in "$res"/*.count; do
		read -r a b c < "$c"
		p=$((p + a)) f=$((f + b)) s=$((s + c))
	done
	[ $f = 0 ] || failed=1
	# CI shows the end of this output: say there why each failed step failed.
	for a in $(cat "$res"/*.step | awk '$2 == "FAIL" { print $1 }'); do
		echo "==== $a failed; the last lines of its output:"
		grep -a -v -E '^\s*$' "$res/$a.out" | tail -n 12
	done
	echo "$p passed, $f failed, $s skipped in $(( $(date +%s) - t_start ))s"
	exit $failed
}

if [ $fast = 1 ]; then
	step checkpatch rig/checkpatch.sh
	step kernel-doc rig/docs-check.sh
	step kunit-um rig/kunit-um.sh
	count_kunit kunit-um build/kunit-um.log
	summary
fi

# Built once, before anything runs side by side: both trees, the userspace
# tests (kselftest builds) and iommufd's selftests.  Later calls reuse them.
step prepare bash -c 'rig/tree.sh stock >/dev/null && rig/tree.sh patched >/dev/null &&
	rig/userprogs.sh && USERPROGS_PREBUILT=1 IOMMUFD_TEST_BUILD_ONLY=1 rig/iommufd-test.sh'
export USERPROGS_PREBUILT=1 IOMMUFD_TEST_PREBUILT=1 VM_NO_BUILD=1
rm -f build/iommufd-patched.results build/iommufd-stock.results

# Several GiB: 4 GiB each of 4K pages, THP, 2M hugetlbfs and 1G hugetlbfs
# pages mapped, DMA-checked (also across the 1G boundary), unmapped.  The
# 4K buffer is the slow one: faulting 4K pages in under TCG with the debug
# kernel costs ~45 s per GiB.
big=(env VM_MEM=16G VM_HUGEPAGES=2100 VM_HUGEPAGES_1G=4 rig/vfio-test.sh)
bigonly=4K,THP,hugetlb,hugetlb-1G

second_lane() {
	step checkpatch nice -n 10 rig/checkpatch.sh
	step kernel-doc nice -n 10 rig/docs-check.sh
	step kunit-um nice -n 10 rig/kunit-um.sh
	count_kunit kunit-um build/kunit-um.log
	step kernel-x86-stock nice -n 10 make -s kernel-stock
	local krc=$?
	[ -x rig/rdma-build.sh ] && step rdma-build-all nice -n 10 rig/rdma-build.sh
	[ $krc = 0 ] || return 1
	# W=1 and sparse recompile objects of both x86_64 trees (not bzImage):
	# once both kernels are built (the main lane's marks its end); nothing
	# builds them later in the run.
	while [ ! -e "$res/.kernel-x86.done" ]; do sleep 5; done
	step w1-sparse nice -n 10 rig/w1-sparse.sh
	# The same behavioural suites on the unpatched base built from the
	# same config: they must pass there too.
	vm_suite vfio-vm-stock rig/vfio-test.sh stock
	vm_suite vfio-vm-4g-stock "${big[@]}" stock --demo --big 4G --only $bigonly --rlimit-1g --fail-nth-1g
	[ -x rig/rdma-test.sh ] && vm_suite rdma-vm-stock rig/rdma-test.sh stock
	vm_suite iommufd-vm-stock rig/iommufd-test.sh stock
	# make bench at tiny sizes, once, so that it cannot rot (times asserted:
	# none), on both kernels; in this lane, which ends first. It boots the
	# debug kernels built above rather than building the release pair: two
	# cold kernel builds that CI's time limit cannot afford, for a step that
	# measures nothing. make bench itself uses the release kernels.
	step bench-tiny env BENCH_CONFIG=debug BENCH_VM_START= BENCH_SIZES=8M BENCH_REPS=1 \
		BENCH_OUT=build/bench-tiny benchmarks/bench.sh
}
if [ "${CHECK_LANES:-2}" = 1 ]; then
	lane_pid=
else
	(lane=second; second_lane) > build/check-lane.log 2>&1 &
	lane_pid=$!
	echo "check: the second lane runs in the background (build/check-lane.log)"
fi

step kernel-x86 make -s kernel
touch "$res/.kernel-x86.done"
# First, while the second lane compiles: the big guest.
vm_suite vfio-vm-4g "${big[@]}" --demo --big 4G --only $bigonly --rlimit-1g --fail-nth-1g
step kunit-x86 rig/kunit-x86.sh
count_kunit kunit-x86 build/kunit-x86.summary
vm_suite selftest-vm rig/selftest.sh
vm_suite gup-runs-vm rig/gup-runs-test.sh
vm_suite vfio-vm rig/vfio-test.sh
[ -x rig/rdma-test.sh ] && vm_suite rdma-vm rig/rdma-test.sh
# iommufd's own selftests and edu DMA through the VFIO cdev + IOAS: the
# same results are required of the stock kernel (second lane).
vm_suite iommufd-vm rig/iommufd-test.sh

if [ -z "$lane_pid" ]; then
	second_lane
else
	echo "check: waiting for the second lane"
	wait "$lane_pid"
	echo "==== second lane output (build/check-lane.log)"
	cat build/check-lane.log
fi
# Each iommufd run compares itself with the other kernel's results if they
# exist; side by side, make sure the comparison was made.
step iommufd-same-results bash -c 'diff <(sort build/iommufd-patched.results) \
	<(sort build/iommufd-stock.results) && echo "iommufd: identical results on both kernels"'
# What the guest suites injected and raced, and what they left (README's
# "Robustness" table is this file from a full run).
step robustness-table bash -c 'python3 rig/robustness.py build/selftest-vm.log \
	build/rdma-vm.log build/vfio-vm.log build/vfio-vm-4g.log build/rdma-vm-stock.log \
	build/vfio-vm-stock.log build/vfio-vm-4g-stock.log | tee build/robustness.md; exit ${PIPESTATUS[0]}'

summary
