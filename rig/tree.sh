#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Materialise a kernel tree from Debian's linux-source-6.12 package.
#
#   rig/tree.sh stock    -> build/base/linux-source-6.12  (pristine, unpacked once)
#   rig/tree.sh patched  -> build/src                     (base + overlay + patches/)
#
# The patched tree is updated in place: files whose content did not change keep
# their mtime, so kbuild only rebuilds what an edit touched.  Files the overlay or
# the series touched on an earlier run but no longer do are restored from the base.
# Any patch that does not apply exactly (no fuzz, no reject) is fatal.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=/usr/src/linux-source-6.12.tar.xz
bdir=$top/build
base=$bdir/base/linux-source-6.12
src=$bdir/src
overlay_dirs="include lib drivers mm kernel Documentation tools samples"

die() { echo "tree.sh: $*" >&2; exit 1; }

[ -f "$tarball" ] || die "$tarball missing (apt-get install linux-source-6.12)"

# Serialised: make check runs steps side by side, and each may call this.
mkdir -p "$bdir"
exec 8>"$bdir/.tree.lock"
flock 8

unpack_base() {
	local stamp=$bdir/base/.stamp want
	want=$(stat -c '%s %Y' "$tarball")
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$base/Makefile" ]; then
		return
	fi
	echo "tree.sh: unpacking $tarball" >&2
	rm -rf "$bdir/base"
	mkdir -p "$bdir/base"
	tar -C "$bdir/base" -xJf "$tarball"
	echo "$want" > "$stamp"
}

base_version() {
	make -s -C "$base" kernelversion 2>/dev/null
}

unpack_base
echo "tree.sh: base linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo '?'), kernel $(base_version)" >&2

if [ "${1:-patched}" = stock ]; then
	echo "$base"
	exit 0
fi

if [ ! -f "$src/Makefile" ]; then
	echo "tree.sh: creating $src" >&2
	rm -rf "$src"
	cp -a "$base" "$src"
fi

# Stage the desired content of every file we own or touch, then sync by checksum.
stage=$(mktemp -d "$bdir/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

cd "$top"
for d in $overlay_dirs; do
	if [ -d "$d" ]; then find "$d" -type f ! -name "*.o" ! -name "*.orig" ! -name "*.rej"; fi
done | sort > "$stage/.overlay"
while read -r f; do
	mkdir -p "$stage/tree/$(dirname "$f")"
	cp -p "$f" "$stage/tree/$f"
done < "$stage/.overlay"

: > "$stage/.patched"
mkdir -p "$stage/tree"
for p in patches/*.patch; do
	[ -e "$p" ] || continue
	git apply --numstat "$p" | awk '{print $3}' > "$stage/.files"
	while read -r f; do
		if [ ! -e "$stage/tree/$f" ] && [ -e "$base/$f" ]; then
			mkdir -p "$stage/tree/$(dirname "$f")"
			cp -p "$base/$f" "$stage/tree/$f"
		fi
		echo "$f" >> "$stage/.patched"
	done < "$stage/.files"
	patch -d "$stage/tree" -p1 -F0 -N -s --no-backup-if-mismatch -r - < "$p" \
		> "$stage/.err" 2>&1 || { cat "$stage/.err" >&2; die "patch $p does not apply"; }
done

sort -u "$stage/.overlay" "$stage/.patched" > "$stage/.manifest"
rsync -rlc --checksum "$stage/tree/" "$src/"

# Restore files that an earlier run touched and this one no longer does.
if [ -f "$bdir/.manifest" ]; then
	comm -23 "$bdir/.manifest" "$stage/.manifest" | while read -r f; do
		if [ -e "$base/$f" ]; then
			cp -p "$base/$f" "$src/$f"
		else
			rm -f "$src/$f"
		fi
		echo "tree.sh: restored $f" >&2
	done
fi
cp "$stage/.manifest" "$bdir/.manifest"
echo "tree.sh: $(wc -l < "$stage/.overlay") overlay files, $(ls patches/*.patch 2>/dev/null | wc -l) patches applied" >&2
echo "$src"
