#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the userspace test programs into build/bin (they run in the guest,
# which shares the host's root, so host binaries work there).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/build/bin"
gcc -O2 -Wall -Wextra -Werror -I"$top/lib" -o "$top/build/bin/umem_demo" \
	"$top/tools/testing/selftests/umem/umem_demo.c"
# mm's selftest of the run-pinning GUP, against the patched tree's headers
src=$("$top/rig/tree.sh" patched)
gcc -O2 -Wall -Wextra -Werror -I"$src" -I"$src/tools/testing/selftests/mm" \
	-o "$top/build/bin/gup_runs" "$src/tools/testing/selftests/mm/gup_runs.c"
