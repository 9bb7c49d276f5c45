#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the umem KUnit suite under UML (kunit.py's default architecture).
# Serialised with flock: several shells may call it at once.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/build"
exec 9>"$top/build/.kunit-um.lock"
flock 9
src=$("$top/rig/tree.sh" patched)
export CCACHE_BASEDIR=$top/build CCACHE_NOHASHDIR=true CCACHE_SLOPPINESS=time_macros
cc=gcc; command -v ccache >/dev/null && cc="ccache gcc"
cd "$src"
rc=0
python3 tools/testing/kunit/kunit.py run --build_dir="$top/build/kunit-um" \
	--kunitconfig=lib/tests/.kunitconfig --make_options CC="$cc" \
	--jobs="$(nproc)" "$@" 2>&1 | tee "$top/build/kunit-um.log" || rc=$?
exit "$rc"
