#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Documentation checks for umem.
#   1. scripts/kernel-doc -none -Wall on umem's sources: any warning fails.
#   2. If sphinx-build is installed: the core-api htmldocs subset, built from
#      the patched tree into build/docs (log: build/docs.log); fails if a
#      warning or error line mentions umem or if umem.html was not built.
#      Warnings the base tree already has elsewhere in core-api are ignored.
# Serialised with flock: several shells may call it at once.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/build"
exec 9>"$top/build/.docs-check.lock"
flock 9
src=$("$top/rig/tree.sh" patched)
files="include/linux/umem.h lib/umem.c lib/test_umem.c drivers/vfio/vfio_umem_glue.c
	drivers/vfio/vfio_umem_glue.h"
# No __pycache__ in the materialised tree.
export PYTHONDONTWRITEBYTECODE=1
cd "$src"
rc=0

for f in $files; do
	[ -s "$f" ] || { echo "docs-check: $f missing or empty" >&2; rc=1; }
done
# -none exits 0 whatever it finds: judge by its output.
# shellcheck disable=SC2086
kdoc=$(perl scripts/kernel-doc -none -Wall $files 2>&1) || rc=1
# The run interface patch 0001 adds to mm.h, on its own: -Wall on the whole
# of mm.h reports what the base tree already has.
runs_h=$top/build/mm-page-runs.h
{ echo '/**'; sed -n '/^ \* struct page_run - /,/^void unpin_user_page_runs(/p' include/linux/mm.h; } > "$runs_h"
grep -q '^struct page_runs {' "$runs_h" || { echo "docs-check: page_runs not found in mm.h" >&2; rc=1; }
kdoc+=$(perl scripts/kernel-doc -none -Wall "$runs_h" 2>&1) || rc=1
if [ -n "$kdoc" ]; then
	echo "$kdoc"
	echo "docs-check: kernel-doc -Wall: $(wc -l <<<"$kdoc") line(s) of warnings" >&2
	rc=1
else
	echo "docs-check: kernel-doc -Wall clean: $files"
fi

if ! command -v sphinx-build >/dev/null; then
	echo "docs-check: sphinx-build not installed (rig/deps.sh installs python3-sphinx)" >&2
	exit 1
fi

log=$top/build/docs.log
out=$top/build/docs
html=$out/Documentation/output/core-api/umem.html
# Sphinx re-reads only outdated documents and only then warns: drop the
# doctrees of umem.rst and of the index that lists it, so that every run
# re-reads them and repeats their warnings (a change to umem.h or umem.c
# alone would also trigger that, through kerneldoc.py's dependencies).
rm -f "$html" "$out"/Documentation/output/.doctrees/core-api/{umem,index}.doctree
echo "docs-check: make SPHINXDIRS=core-api htmldocs O=$out (log: $log)"
if ! make -j"$(nproc)" SPHINXDIRS=core-api htmldocs O="$out" > "$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "docs-check: htmldocs failed" >&2
	exit 1
fi
bad=$(grep -aE '(WARNING|ERROR|CRITICAL|SEVERE|[Ww]arning:|[Ee]rror:)' "$log" |
	grep -ai 'umem' || true)
if [ -n "$bad" ]; then
	echo "$bad"
	echo "docs-check: htmldocs: $(wc -l <<<"$bad") warning(s) about umem" >&2
	rc=1
elif [ ! -s "$html" ]; then
	echo "docs-check: htmldocs did not produce $html" >&2
	rc=1
else
	echo "docs-check: htmldocs clean for umem: $html" \
	     "($(grep -acE 'WARNING|[Ww]arning:' "$log") unrelated warning line(s) in $log)"
fi
exit "$rc"
