#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch --strict on every kernel source the overlay adds, and on patches/.
set -euo pipefail
# checkpatch runs scripts/spdxcheck.py with "python3": use Debian's, which
# has python3-ply (a pyenv or venv python3 first in PATH may not).
export PATH=/usr/bin:$PATH
top=$(cd "$(dirname "$0")/.." && pwd)
src=$("$top/rig/tree.sh" patched)
cd "$top"
files=$(git ls-files 'include/*.h' 'lib/*.c' 'lib/*.h' 'drivers/*.c' 'drivers/*.h' 'mm/*.c' 2>/dev/null)
fail=0
# Documented exceptions, the same as the kernel's own code of each kind:
#  - TRACE_EVENT() headers are laid out as every include/trace/events/ file
#    is (open-ended "TP_fast_assign(" lines, argument alignment);
#  - iterator macros use their cursor twice, as for_each_sg() does.
ignore_for() {
	case "$1" in
	include/trace/events/*) echo --ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT ;;
	include/linux/umem.h) echo --ignore MACRO_ARG_REUSE ;;
	esac
}
for f in $files; do
	# shellcheck disable=SC2046
	out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		$(ignore_for "$f") -f "$f" 2>&1) || true
	if grep -qE ': (ERROR|WARNING|CHECK):|Traceback' <<<"$out"; then
		echo "$out"; fail=1
	else
		echo "checkpatch: $f: clean"
	fi
done
# The patches as upstream will see them: the generated series.
"$top/rig/series.sh" > "$top/build/series.log" 2>&1 || { cat "$top/build/series.log"; exit 1; }
for p in "$top"/build/series/00[0-9][0-9]-*.patch; do
	case "$p" in */0000-*) continue ;; esac
	# From the series' own git tree, so that spdxcheck.py (which reads the
	# tree through git) validates the SPDX tags as it would upstream.
	out=$(cd "$top/build/series-tree" &&
		perl scripts/checkpatch.pl --strict --terse --show-types \
		--ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT,MACRO_ARG_REUSE,FILE_PATH_CHANGES \
		"$p" 2>&1) || true
	if grep -qE ': (ERROR|WARNING|CHECK):|Traceback' <<<"$out"; then
		echo "$out"; fail=1
	else
		echo "checkpatch: $(basename "$p"): clean"
	fi
done
exit "$fail"
