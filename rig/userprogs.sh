#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the userspace tests as kselftests, the way upstream builds them:
#   make -C tools/testing/selftests TARGETS="umem rdma vfio" install
# against the patched tree, into build/kselftest/install/<target>/, with
# -Werror. They run in the guest, which shares the host's root, so host
# binaries work there. build/bin/ gets links to the binaries (the demo and
# the benchmarks use them), plus mm's gup_runs selftest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=$("$top/rig/tree.sh" patched)
ks=$top/build/kselftest
# USERPROGS_PREBUILT=1 (make check, whose guests run side by side): use what
# an earlier call built; rebuilding would pull binaries from under a guest.
if [ -n "${USERPROGS_PREBUILT:-}" ] && [ -x "$top/build/bin/gup_runs" ]; then
	exit 0
fi
rm -rf "$ks"
mkdir -p "$top/build/bin" "$ks"
khdr=$("$top/rig/khdr.sh")
make -s -C "$src/tools/testing/selftests" TARGETS="umem rdma vfio" \
	O="$ks" INSTALL_PATH="$ks/install" USERCFLAGS=-Werror \
	KHDR_INCLUDES="-isystem $khdr" install > "$ks/build.log" 2>&1 ||
	{ cat "$ks/build.log"; echo "userprogs: kselftest build failed" >&2; exit 1; }
# lib.mk's install goes on past a target that did not compile: check.
if grep -q 'Error [0-9]' "$ks/build.log"; then
	cat "$ks/build.log"; echo "userprogs: kselftest build failed" >&2; exit 1
fi
for f in umem/umem_demo rdma/umem_mr_test rdma/umem_mr_demo vfio/umem_vfio_edu; do
	[ -x "$ks/install/$f" ] ||
		{ cat "$ks/build.log"; echo "userprogs: $f was not built" >&2; exit 1; }
	ln -sf "$ks/install/$f" "$top/build/bin/$(basename "$f")"
done
# mm's selftest of the run-pinning GUP, against the patched tree's headers
gcc -O2 -Wall -Wextra -Werror -I"$src" -I"$src/tools/testing/selftests/mm" \
	-o "$top/build/bin/gup_runs" "$src/tools/testing/selftests/mm/gup_runs.c"
