#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command as root in the rig's guest and return its exit status.
#
#   rig/vm-run.sh [--stock] [--kunit] [--] 'command'
#
# The guest is q35 under TCG with intel-iommu (intremap, caching-mode),
# QEMU's edu DMA device, THP on, 2 MiB hugetlb pages reserved, the host's
# root over 9p read-only, build/vm/scratch writable at /mnt, and no network
# backend.  The console goes to build/vm/console-<flavour>.log; the guest's
# full dmesg is checked afterwards: any WARNING:, BUG:, KASAN report, lockdep
# report, Oops or panic fails the run, as does a pin leak
# (nr_foll_pin_acquired != nr_foll_pin_released) or a kmemleak report.
# --kunit lets the built-in KUnit suites run at boot and leaves their KTAP
# in build/vm/dmesg-<flavour> (or $VM_DMESG).  VM_LOG names the console log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=patched kunit=0
while [ $# -gt 0 ]; do
	case "$1" in
	--stock) flavour=stock ;;
	--kunit) kunit=1 ;;
	--) shift; break ;;
	*) break ;;
	esac
	shift
done
cmd=${*:-true}

# VM_CONFIG=bench: the kernel without debug options (rig/build-kernel.sh)
kernel=$top/build/x86-$flavour${VM_CONFIG:+-$VM_CONFIG}/arch/x86/boot/bzImage
if [ -z "${VM_NO_BUILD:-}" ] || [ ! -f "$kernel" ]; then
	"$top/rig/build-kernel.sh" "$flavour" > "$top/build/build-$flavour.log" 2>&1 ||
		{ tail -40 "$top/build/build-$flavour.log"; echo "vm-run: kernel build failed" >&2; exit 1; }
fi

vm=$top/build/vm
mkdir -p "$vm"
# One scratch directory per run, so several guests may run at once.
scratch=$(mktemp -d "$vm/run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
printf '%s\n' "$cmd" > "$scratch/cmd.sh"
log=$vm/console-$flavour.log
[ -z "${VM_LOG:-}" ] || log=$VM_LOG

append="console=ttyS0 loglevel=4 log_buf_len=8M root=root rootfstype=9p"
append+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro"
# VM_INTEL_IOMMU=off: the kernel leaves QEMU's intel-iommu alone, for
# iommufd's selftests, whose mock IOMMU 6.12 cannot probe beside another
# IOMMU driver (see rig/iommufd-test.sh)
append+=" init=$top/rig/guest-init.sh panic=-1 intel_iommu=${VM_INTEL_IOMMU:-on}"
append+=" transparent_hugepage=always"
# VM_HUGEPAGES_1G: 1 GiB hugetlb pages reserved at boot (default none)
[ "${VM_HUGEPAGES_1G:-0}" -gt 0 ] &&
	append+=" hugepagesz=1G hugepages=$VM_HUGEPAGES_1G hugepagesz=2M"
append+=" hugepages=${VM_HUGEPAGES:-1100}"
append+=" kmemleak=on"
# VM_APPEND: more kernel arguments (movablecore=... for rig/gup-runs-test.sh)
[ -z "${VM_APPEND:-}" ] || append+=" $VM_APPEND"
[ "$kunit" = 1 ] || append+=" kunit.enable=0"

# VM_ACCEL=icount: one TCG thread with -icount shift=0, so that the guest's
# clock advances 1 ns per guest instruction: times measured in the guest are
# instruction counts, repeatable boot to boot to ~0.03% (the memory layout
# still varies a little) and free of host noise, but blind to cache and TLB
# costs.  For analysis, not for the benchmarks.
accel="-accel tcg,thread=multi -cpu max"
case "${VM_ACCEL:-}" in
kvm) accel="-accel kvm -cpu host" ;;
icount) accel="-accel tcg,thread=single -icount shift=0 -cpu max" ;;
esac

# make check runs guests side by side in the host's 24 GiB, in two slots
# (two lanes: at most two guests at a time).  A guest of 12 GiB or more
# (make check's 16 GiB one is ~15 GiB resident) takes the big-guest lock
# and slot 1: one big guest at a time, and at most one ordinary guest
# (6 GiB, at most ~4 GiB resident as measured) beside it in slot 0.
memm=${VM_MEM:-6G}
case $memm in
*[0-9]G) memm=$(( ${memm%G} * 1024 )) ;;
*[0-9]M) memm=${memm%M} ;;
*) memm=0 ;;
esac
exec 7>"$vm/.mem.big" 8>"$vm/.mem.slot0" 9>"$vm/.mem.slot1"
if [ "$memm" -ge 12288 ]; then
	flock -x 7
	flock -x 9
	exec 8>&-
else
	exec 7>&-
	while :; do
		if flock -n -x 8; then exec 9>&-; break; fi
		if flock -n -x 9; then exec 8>&-; break; fi
		sleep 2
	done
fi

run_qemu() {
timeout "${VM_TIMEOUT:-1500}" qemu-system-x86_64 \
	-machine q35,kernel-irqchip=split $accel -smp 2 -m "${VM_MEM:-6G}" \
	-nographic -no-reboot -nic none -display none \
	-device intel-iommu,intremap=on,caching-mode=on \
	-device edu,dma_mask=0xfffffffff \
	-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=root,mount_tag=root \
	-fsdev local,id=scratch,path="$scratch",security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=scratch,mount_tag=scratch \
	-kernel "$kernel" -append "$append" < /dev/null 2>&1 | tee "$log" |
	sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c=>]//g' -e 's/\r$//' |
	grep -v -E '^\s*$|^\[ *[0-9.]+\] (KTAP|    |# |ok |not ok )'
	return "${PIPESTATUS[0]}"
}
set +e
run_qemu
qrc=$?
# A QEMU that could not start (no firmware banner), or that was killed
# (by the OOM killer, say) before the guest ran the command and without a
# panic or oops on the console, is the host's failure, not the guest's:
# say so and try once more.  A guest that failed by itself is never retried.
if [ ! -f "$scratch/started" ] && ! grep -aqE 'Kernel panic|BUG:|Oops' "$log" &&
   { [ "$qrc" -ge 128 ] || ! grep -aq 'Booting from ROM' "$log"; }; then
	echo "vm-run: QEMU exited $qrc before the guest ran the command; its output:" >&2
	tail -n 5 "$log" >&2
	echo "vm-run: retrying once" >&2
	run_qemu
	qrc=$?
fi
set -e

fail=0
if [ ! -f "$scratch/rc" ]; then
	echo "vm-run: the guest did not finish (qemu exit $qrc, $([ -f "$scratch/started" ] &&
		echo "after starting the command" || echo "before starting the command"));" \
		"the last lines of the console ($log):" >&2
	grep -a -v -E '^\s*$' "$log" | tail -n 8 | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c=>]//g' >&2
	exit 1
fi
rc=$(cat "$scratch/rc")
# A stack dump that fault injection prints for a failure it forced (a test's
# fail-nth, CONFIG_FAULT_INJECTION's verbose default) is not a splat: a
# "Call Trace:" within a few lines of "FAULT_INJECTION: forcing a failure"
# is ignored.
if awk '/FAULT_INJECTION: forcing a failure/ { fi = NR }
	/WARNING:|BUG:|KASAN:|Oops|Kernel panic|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|UBSAN:|general protection fault|Call Trace:/ {
		if ($0 ~ /Call Trace:/ && fi && NR - fi <= 6 && $0 !~ /WARNING:|BUG:|KASAN:|Oops|panic|UBSAN:|protection fault|locking|lock state|RCU/)
			next
		print NR ":" $0; found = 1 }
	END { exit !found }' "$scratch/dmesg" > "$scratch/splats" 2>/dev/null; then
	echo "vm-run: splat in the guest log:" >&2
	head -20 "$scratch/splats" >&2
	fail=1
fi
acq=$(awk '$1=="nr_foll_pin_acquired"{print $2}' "$scratch/vmstat")
rel=$(awk '$1=="nr_foll_pin_released"{print $2}' "$scratch/vmstat")
echo "vm-run: $flavour kernel: nr_foll_pin_acquired=$acq nr_foll_pin_released=$rel" >&2
if [ -z "$acq" ] || [ "$acq" != "$rel" ]; then
	echo "vm-run: pin leak" >&2
	fail=1
fi
if [ -s "$scratch/kmemleak" ]; then
	cp "$scratch/kmemleak" "$vm/kmemleak-$flavour"
	echo "vm-run: kmemleak reports unreferenced objects (see $vm/kmemleak-$flavour):" >&2
	grep -E 'unreferenced object|\[<' "$scratch/kmemleak" | head -20 >&2
	fail=1
fi
cp "$scratch/dmesg" "${VM_DMESG:-$vm/dmesg-$flavour}"
[ "$fail" = 0 ] || exit 1
exit "$rc"
