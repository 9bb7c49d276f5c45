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
