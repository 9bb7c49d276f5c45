#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# RDMA memory registration through soft-RoCE in the guest: rdma-core's
# pingpongs and umem_mr_test (tools/testing/selftests/rdma/) on rxe over a
# dummy netdev.  Tests behaviour only, so it must pass on both kernels:
#
#   rig/rdma-test.sh          # the patched kernel
#   rig/rdma-test.sh stock    # the unpatched 6.12
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=
[ "${1:-}" = stock ] && flavour=--stock
mkdir -p "$top/build/bin"
gcc -O2 -Wall -Wextra -Werror -o "$top/build/bin/umem_mr_test" \
	"$top/tools/testing/selftests/rdma/umem_mr_test.c" -libverbs
VM_NO_BUILD=${VM_NO_BUILD:-} "$top/rig/vm-run.sh" $flavour -- \
	"sh $top/tools/testing/selftests/rdma/umem_rdma_test.sh $top/build/bin"
