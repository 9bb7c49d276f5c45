#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Everything CI runs.  Each step's output goes to the terminal; a summary of
# steps with their times and the total test counts closes the run.  Exits
# non-zero if any step failed.  --fast (make check-fast): only the steps
# that need no x86_64 kernel and no guest (checkpatch, kernel-doc, UML
# KUnit), a few minutes warm, for iterating.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p build
"$top/rig/deps.sh" || exit 1

fast=0
[ "${1:-}" = --fast ] && fast=1
steps=() failed=0 passed_n=0 failed_n=0 skipped_n=0 t_start=$(date +%s)
step() {
	local name=$1 t0 rc
	shift
	echo "==== $name"
	t0=$(date +%s)
	"$@"
	rc=$?
	steps+=("$(printf '%-28s %-4s %5ss' "$name" "$([ $rc = 0 ] && echo ok || echo FAIL)" $(( $(date +%s) - t0 )))")
	[ $rc = 0 ] || failed=1
	return $rc
}
# "Testing complete. Ran 40 tests: passed: 38, skipped: 2" -> counters
count_kunit() {
	local line
	line=$(grep -a 'Testing complete' "$1" | tail -n 1)
	[ -n "$line" ] || { failed_n=$((failed_n + 1)); return; }
	passed_n=$((passed_n + $(grep -oP 'passed: \K[0-9]+' <<<"$line" || echo 0)))
	failed_n=$((failed_n + $(grep -oP '(failed|crashed): \K[0-9]+' <<<"$line" | paste -sd+ | bc || echo 0)))
	skipped_n=$((skipped_n + $(grep -oP 'skipped: \K[0-9]+' <<<"$line" || echo 0)))
}

step checkpatch rig/checkpatch.sh
step kernel-doc rig/docs-check.sh
step kunit-um rig/kunit-um.sh
count_kunit build/kunit-um.log
summary() {
	echo "==== summary"
	printf '%s\n' "${steps[@]}"
	[ $failed = 0 ] && [ $failed_n = 0 ] || failed=1
	echo "$passed_n passed, $failed_n failed, $skipped_n skipped in $(( $(date +%s) - t_start ))s"
	exit $failed
}
[ $fast = 1 ] && summary
step kernel-x86 make -s kernel
export VM_NO_BUILD=1
step kunit-x86 rig/kunit-x86.sh
count_kunit build/kunit-x86.summary
# In-guest suites print "N passed, N failed" as their last count line.
vm_suite() {
	local name=$1 log=build/$1.log line
	shift
	step "$name" bash -c 'set -o pipefail; "$@" 2>&1 | tee "$0"' "$log" "$@"
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		passed_n=$((passed_n + $(cut -d' ' -f1 <<<"$line")))
		failed_n=$((failed_n + $(cut -d' ' -f3 <<<"$line")))
	else
		failed_n=$((failed_n + 1))
	fi
}
vm_suite selftest-vm rig/selftest.sh
vm_suite gup-runs-vm rig/gup-runs-test.sh
vm_suite vfio-vm rig/vfio-test.sh
# Several GiB: 4 GiB each of 4K pages, THP, 2M hugetlbfs and 1G hugetlbfs
# pages mapped, DMA-checked (also across the 1G boundary), unmapped.  The
# 4K buffer is the slow one: faulting 4K pages in under TCG with the debug
# kernel costs ~45 s per GiB.
big=(env VM_MEM=16G VM_HUGEPAGES=2100 VM_HUGEPAGES_1G=4 rig/vfio-test.sh)
bigonly=4K,THP,hugetlb,hugetlb-1G
vm_suite vfio-vm-4g "${big[@]}" --demo --big 4G --only $bigonly --rlimit-1g
[ -x rig/rdma-test.sh ] && vm_suite rdma-vm rig/rdma-test.sh
# iommufd's own selftests and edu DMA through the VFIO cdev + IOAS: the
# same results are required of the stock kernel below.
rm -f build/iommufd-patched.results build/iommufd-stock.results
vm_suite iommufd-vm rig/iommufd-test.sh
[ -x rig/rdma-build.sh ] && step rdma-build-all rig/rdma-build.sh
# The same behavioural suites on the unpatched base built from the same
# config: they must pass there too.
step kernel-x86-stock make -s kernel-stock
vm_suite vfio-vm-stock rig/vfio-test.sh stock
vm_suite vfio-vm-4g-stock "${big[@]}" stock --demo --big 4G --only $bigonly --rlimit-1g
[ -x rig/rdma-test.sh ] && vm_suite rdma-vm-stock rig/rdma-test.sh stock
vm_suite iommufd-vm-stock env IOMMUFD_TEST_PREBUILT=1 rig/iommufd-test.sh stock
# make bench at tiny sizes, once, so that it cannot rot (times asserted: none).
# It boots the debug kernels built above rather than building the release
# pair: two cold kernel builds that CI's time limit cannot afford, for a step
# that measures nothing. make bench itself uses the release kernels.
step bench-tiny env BENCH_CONFIG=debug BENCH_VM_START= BENCH_SIZES=8M BENCH_REPS=1 BENCH_OUT=build/bench-tiny benchmarks/bench.sh
step w1-sparse rig/w1-sparse.sh
# What the guest suites injected and raced, and what they left (README's
# "Robustness" table is this file from a full run).
step robustness-table bash -c 'python3 rig/robustness.py build/selftest-vm.log \
	build/rdma-vm.log build/vfio-vm.log build/rdma-vm-stock.log \
	build/vfio-vm-stock.log | tee build/robustness.md; exit ${PIPESTATUS[0]}'

summary
