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
"$top/rig/userprogs.sh"
# The kselftest as installed (make -C tools/testing/selftests TARGETS=rdma)
VM_NO_BUILD=${VM_NO_BUILD:-} "$top/rig/vm-run.sh" $flavour -- \
	"sh $top/build/kselftest/install/rdma/umem_rdma_test.sh"
