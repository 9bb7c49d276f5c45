#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Generate the upstream series from the overlay: a git tree of the base, one
# commit per line of rig/series.txt (the patch plus the overlay files it
# adds; commit message = the patch's header), then git format-patch with a
# cover letter (rig/cover-letter.txt) into build/series/.  With BISECT=1 each
# commit is then built on its own (rig/bisect-build.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/rig/tree.sh" patched >/dev/null
base=$top/build/base/linux-source-6.12
work=$top/build/series-tree
out=$top/build/series
export GIT_AUTHOR_NAME="umem team" GIT_AUTHOR_EMAIL="umem@localhost"
export GIT_COMMITTER_NAME="umem team" GIT_COMMITTER_EMAIL="umem@localhost"

if [ ! -d "$work/.git" ]; then
	rm -rf "$work"
	cp -a "$base" "$work"
	git -C "$work" init -q
	git -C "$work" add -A -f
	git -C "$work" commit -qm "Linux $(make -s -C "$work" kernelversion) (Debian linux-source-6.12)"
	git -C "$work" tag -f umem-base >/dev/null
fi
cd "$work"
git checkout -q -B umem umem-base
git clean -qfdx

while read -r patch files; do
	case "$patch" in ''|\#*) continue ;; esac
	patch -p1 -F0 -s --no-backup-if-mismatch < "$top/$patch"
	for f in $files; do
		mkdir -p "$(dirname "$f")"
		cp "$top/$f" "$f"
	done
	git add -A -f
	# The patch header (up to the first "---") is the commit message.
	sed -n '/^Subject: /,/^---$/p' "$top/$patch" | sed -e '1s/^Subject: \(\[PATCH[^]]*\] \)\?//' -e '$d' \
		> "$work/.git/umem-msg"
	git commit -qs -F "$work/.git/umem-msg"
done < "$top/rig/series.txt"

# The overlay and the series must describe the same tree.
diffs=$(diff -r -q -x .git -x '*.orig' "$work" "$top/build/src" | grep -v "^Only in $top/build/src" || true)
if [ -n "$diffs" ]; then
	echo "$diffs" >&2
	echo "series: the series tree differs from build/src (rig/series.txt misses a file?)" >&2
	exit 1
fi

rm -rf "$out"
git format-patch -q --cover-letter --base=umem-base -o "$out" umem-base..umem
cover=$(ls "$out"/0000-*)
python3 - "$cover" "$top/rig/cover-letter.txt" <<'PY'
import sys
cover, text = sys.argv[1], open(sys.argv[2]).read()
subject, _, blurb = text.partition('\n\n')
s = open(cover).read()
s = s.replace('*** SUBJECT HERE ***', subject.strip()).replace('*** BLURB HERE ***', blurb.strip())
open(cover, 'w').write(s)
PY
# What a maintainer does with the mails: git am on the base must give the
# tree the overlay describes (build/src, compared above), byte for byte.
git checkout -q -B umem-am umem-base
git clean -qfdx
mapfile -t mails < <(ls "$out"/00[0-9][0-9]-*.patch | grep -v '/0000-')
git am -q "${mails[@]}" 2>"$work/.git/umem-am.err" &&
	[ "$(git rev-parse umem-am^{tree})" = "$(git rev-parse umem^{tree})" ] || {
	cat "$work/.git/umem-am.err" >&2
	git am --abort 2>/dev/null
	git checkout -q umem
	echo "series: git am of build/series/ on the base does not reproduce build/src" >&2
	exit 1
}
git checkout -q umem
echo "series: git am of the ${#mails[@]} patches reproduces build/src"

[ "${BISECT:-0}" = 1 ] && "$top/rig/bisect-build.sh"
ls "$out"
