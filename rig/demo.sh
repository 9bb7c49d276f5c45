#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build what is missing, boot the kernel (patched, or the
# unpatched base with BASE=stock) and pin DEMO_SIZE (default 1G) each of 4K,
# THP and hugetlbfs backed memory through umem, RDMA memory registration and
# VFIO type1 DMA mapping, printing per case what was built and how long it
# took.
#
# DEMO_KERNEL=debug (the default) boots the debug kernel make check builds
# and tests.  DEMO_KERNEL=release boots the kernel make bench measures: the
# guest config without the debug options (rig/configs/bench.config), so
# that its times say something about umem rather than about KASAN, lockdep
# and DEBUG_VM's per-page checks, and a cold build should be shorter (not
# yet measured).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
size=${DEMO_SIZE:-1G}
flavour=patched vmflag=
[ "${BASE:-patched}" = stock ] && flavour=stock vmflag=--stock
case "${DEMO_KERNEL:-debug}" in
release)
	export VM_CONFIG=bench
	kind="release build (no KASAN, lockdep or DEBUG_VM)"
	cold="not yet measured" ;;
debug)
	unset VM_CONFIG
	kind="debug build (KASAN, lockdep, DEBUG_VM, kmemleak)"
	cold="20-25 min" ;;
*)
	echo "demo: DEMO_KERNEL=${DEMO_KERNEL}: release or debug" >&2
	exit 2 ;;
esac
log=$top/build/build-$flavour${VM_CONFIG:+-$VM_CONFIG}.log
mkdir -p "$top/build/bin"
echo "demo: building the $flavour kernel, ${kind%% (*} (incremental; cold on 2 cores: $cold)"
"$top/rig/build-kernel.sh" "$flavour" > "$log" 2>&1 || { tail -40 "$log"; exit 1; }
"$top/rig/userprogs.sh"
echo "demo: booting the guest (TCG, intel-iommu, edu, THP, hugetlbfs)"
VM_NO_BUILD=1 "$top/rig/vm-run.sh" $vmflag -- \
	"sh $top/rig/demo-guest.sh $top/build/bin $size '$kind'"
