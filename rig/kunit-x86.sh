#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the umem KUnit suite in the x86_64 guest (THP and hugetlb exist there).
# The guest kernel has the suite built in; kunit.py parses the guest's dmesg.
# This shares one x86_64 kernel with the VM tests instead of building a
# second one with "kunit.py run --arch=x86_64".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=$("$top/rig/tree.sh" patched)
VM_DMESG=$top/build/kunit-x86.log "$top/rig/vm-run.sh" --kunit -- true
cd "$src"
rc=0
python3 tools/testing/kunit/kunit.py parse < "$top/build/kunit-x86.log" |
	tee "$top/build/kunit-x86.summary" || rc=$?
for s in umem vfio_umem; do
	grep -q "=* $s (" "$top/build/kunit-x86.summary" || { echo "kunit-x86: suite $s did not run" >&2; exit 1; }
done
exit "$rc"
