#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Rebuild the umem objects of the x86_64 tree with W=1 and sparse (C=2
# checks even up-to-date objects); any diagnostic on our files fails.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src=$("$top/rig/tree.sh" patched)
objs="lib/umem.o lib/test_umem.o lib/tests/umem_kunit.o drivers/infiniband/core/umem.o
	drivers/vfio/vfio_umem_glue.o drivers/vfio/vfio_iommu_type1.o"
out=$(make -C "$src" O="$top/build/x86-patched" ARCH=x86_64 -j"$(nproc)" W=1 C=2 \
	$objs 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E "umem|vfio_iommu_type1" | grep -vE '^\s*(CC|CHECK|LD|AR)\b' > "$top/build/w1-sparse.log" || true
if [ -s "$top/build/w1-sparse.log" ]; then
	cat "$top/build/w1-sparse.log"
	exit 1
fi
echo "w1-sparse: $objs clean at W=1 and under sparse"

# mm/gup.c and mm/gup_test.c are the base's own files, which already draw
# some sparse warnings (context imbalance around pte_unmap()): the patched
# files must add none to what the base reports for them.
stock=$("$top/rig/tree.sh" stock)
mmobjs="mm/gup.o mm/gup_test.o drivers/iommu/iommufd/pages.o"
diag() {
	make -C "$1" O="$2" ARCH=x86_64 -j"$(nproc)" W=1 C=2 $mmobjs 2>&1 |
		{ grep -E 'warning:|error:' || true; } |
		sed -E 's#^.*/(mm/[^:]+):[0-9]+:[0-9]+: #\1: #; s#^.*/(include/[^:]+):[0-9]+:[0-9]+: #\1: #' |
		sort -u
}
base_diag=$(diag "$stock" "$top/build/x86-stock")
new_diag=$(diag "$src" "$top/build/x86-patched")
added=$(comm -13 <(echo "$base_diag") <(echo "$new_diag"))
if [ -n "$added" ]; then
	echo "w1-sparse: diagnostics the patched $mmobjs add to the base's:"
	echo "$added"
	exit 1
fi
echo "w1-sparse: $mmobjs add no W=1 or sparse diagnostic to the base's ($(grep -c . <<<"$base_diag") there already)"
