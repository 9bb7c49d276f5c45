#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the guest, as root: run iommufd's own selftests (iommufd and
# iommufd_fail_nth, CONFIG_IOMMUFD_TEST's mock domains) from BINDIR with
# their TAP prefixed "iommufd-tap: ", for rig/iommufd-test.sh to judge.
#   guest-run.sh BINDIR
bindir=$1
limit=${IOMMUFD_TEST_TIMEOUT:-1200}
[ -e /dev/iommu ] || { echo "iommufd-tap: Bail out! no /dev/iommu"; exit 1; }
[ -d /sys/kernel/debug/failslab ] ||
	{ echo "iommufd-tap: Bail out! no failslab (CONFIG_FAILSLAB?)"; exit 1; }
before=$(awk '$1=="nr_foll_pin_acquired"{print $2}' /proc/vmstat)
for t in iommufd iommufd_fail_nth; do
	start=$(date +%s)
	timeout "$limit" "$bindir/$t" 2>&1 | sed -u 's/^/iommufd-tap: /'
	echo "iommufd-tap: # $t took $(( $(date +%s) - start ))s"
done
after=$(awk '$1=="nr_foll_pin_acquired"{print $2}' /proc/vmstat)
echo "iommufd-tap: # FOLL_PIN pins taken: $((after - before))"
exit 0
