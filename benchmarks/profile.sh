#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Why umem is slower than GUP_TEST where it is: perf in the patched guest,
# one workload of benchmarks/pin_bench.c at a time, cpu-clock sampling with
# call graphs (TCG has no PMU; the software clock works anywhere).  Writes
# the flat (self) and inclusive (children) kernel profiles per workload to
# PROFILE_OUT (default build/profile/profile.txt).
#
#   PROFILE_SIZE=1G PROFILE_REPEAT=20 PROFILE_BACKINGS="THP 4K" benchmarks/profile.sh
#
# The kernel is make bench's (no debug options, build/x86-patched-bench);
# VM_CONFIG= (empty) profiles the debug test kernel instead, where KASAN and
# DEBUG_VM's per-page checks show up.
set -euo pipefail
export VM_CONFIG=${VM_CONFIG-bench}
top=$(cd "$(dirname "$0")/.." && pwd)
size=${PROFILE_SIZE:-1G}
repeat=${PROFILE_REPEAT:-20}
backings=${PROFILE_BACKINGS:-THP 4K}
out=${PROFILE_OUT:-$top/build/profile/profile.txt}

"$top/rig/deps.sh"
command -v perf >/dev/null || { echo "profile: no perf (linux-perf)" >&2; exit 1; }
mkdir -p "$top/build/bin" "$top/build/profile" "$(dirname "$out")"
gcc -O2 -Wall -Wextra -Werror -o "$top/build/bin/pin_bench" "$top/benchmarks/pin_bench.c"
VM_NO_BUILD=${VM_NO_BUILD:-} VM_LOG=$top/build/profile/console.log \
	"$top/rig/vm-run.sh" -- \
	"sh $top/benchmarks/profile-guest.sh $top/build/bin $size $repeat $backings" |
	tr -d '\r' | sed -n '/==== profile begin/,/==== profile end/p' | sed '1d;$d' > "$out.tmp"
[ -s "$out.tmp" ] || { echo "profile: no profile from the guest" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "profile: $out"
