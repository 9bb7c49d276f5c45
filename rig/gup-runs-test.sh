#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the guest: tools/testing/selftests/mm/gup_runs, pin_user_pages_runs_*()
# checked against page-array pins over THP, hugetlb (2M and 1G), mremap()ed,
# split and COW-broken layouts (patched kernel only: GUP_TEST's runs command
# is new).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/rig/userprogs.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rc=0
VM_NO_BUILD=${VM_NO_BUILD:-} VM_HUGEPAGES=16 VM_HUGEPAGES_1G=2 \
	"$top/rig/vm-run.sh" -- "$top/build/bin/gup_runs" | tee "$out/1" || rc=1
# Again with most memory in ZONE_MOVABLE: every FOLL_LONGTERM run pin of
# anonymous memory must find its folios unpinnable, give its pins back and
# migrate through the page-array path (4K and THP cases only).
VM_NO_BUILD=1 VM_HUGEPAGES=16 VM_APPEND="movablecore=75%" \
	"$top/rig/vm-run.sh" -- "$top/build/bin/gup_runs --movable" | tee "$out/2" || rc=1
# Both boots' counts in one line, as the other suites print theirs.
pass=0 bad=0
for f in "$out/1" "$out/2"; do
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$f" | tail -n 1)
	[ -n "$line" ] || { bad=$((bad + 1)); continue; }
	pass=$((pass + $(cut -d' ' -f1 <<<"$line")))
	bad=$((bad + $(cut -d' ' -f3 <<<"$line")))
done
echo "$pass passed, $bad failed (gup_runs and gup_runs --movable)"
exit "$rc"
