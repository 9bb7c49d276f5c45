#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the guest: umem_demo --selftest through /dev/test_umem (pins of every
# backing checked byte for byte, error paths, RLIMIT_MEMLOCK as an
# unprivileged user, pin and VmPin balance).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/rig/userprogs.sh"
# The kselftest as installed (build/kselftest/install/umem/run_umem.sh)
VM_NO_BUILD=${VM_NO_BUILD:-} "$top/rig/vm-run.sh" -- \
	"UMEM_SIZE=64M sh $top/build/kselftest/install/umem/run_umem.sh"
