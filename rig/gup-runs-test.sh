#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the guest: tools/testing/selftests/mm/gup_runs, pin_user_pages_runs_*()
# checked against page-array pins over THP, hugetlb (2M and 1G), mremap()ed,
# split and COW-broken layouts (patched kernel only: GUP_TEST's runs command
# is new).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/rig/userprogs.sh"
VM_NO_BUILD=${VM_NO_BUILD:-} VM_HUGEPAGES=16 VM_HUGEPAGES_1G=2 \
	"$top/rig/vm-run.sh" -- "$top/build/bin/gup_runs"
# Again with most memory in ZONE_MOVABLE: every FOLL_LONGTERM run pin of
# anonymous memory must find its folios unpinnable, give its pins back and
# migrate through the page-array path (4K and THP cases only).
VM_NO_BUILD=1 VM_HUGEPAGES=16 VM_APPEND="movablecore=75%" \
	"$top/rig/vm-run.sh" -- "$top/build/bin/gup_runs --movable"
