#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch --strict on every kernel source the overlay adds, and on patches/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=$("$top/rig/tree.sh" patched)
cd "$top"
files=$(git ls-files 'include/*.h' 'lib/*.c' 'lib/*.h' 'drivers/*.c' 'drivers/*.h' 'mm/*.c' 2>/dev/null)
fail=0
for f in $files; do
	out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types -f "$f" 2>&1) || true
	if grep -qE ': (ERROR|WARNING|CHECK):' <<<"$out"; then
		echo "$out"; fail=1
	else
		echo "checkpatch: $f: clean"
	fi
done
for p in patches/*.patch; do
	out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --no-signoff \
		--ignore FILE_PATH_CHANGES,GIT_COMMIT_ID,COMMIT_MESSAGE "$p" 2>&1) || true
	if grep -qE ': (ERROR|WARNING|CHECK):' <<<"$out"; then
		echo "$out"; fail=1
	else
		echo "checkpatch: $p: clean"
	fi
done
exit "$fail"
