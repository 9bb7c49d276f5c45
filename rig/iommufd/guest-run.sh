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
# The dirty-tracking variants of 64M and 128M (four of nine) test the mock
# IOMMU's dirty bits over bitmaps of that size and take minutes each under
# TCG with KASAN; the five smaller ones cover the same code, and the pins
# of IOAS_MAP, huge pages included, are covered by iommufd_ioas and
# iommufd_mock_domain. -V excludes a fixture variant by its name.
excl="-V domain_dirty64M -V domain_dirty64M_huge"
excl="$excl -V domain_dirty128M -V domain_dirty128M_huge"
before=$(awk '$1=="nr_foll_pin_acquired"{print $2}' /proc/vmstat)
for t in iommufd iommufd_fail_nth; do
	start=$(date +%s)
	[ $t = iommufd ] || excl=
	# shellcheck disable=SC2086
	timeout "$limit" "$bindir/$t" $excl 2>&1 |
		perl -ne 'BEGIN { $| = 1 } print time(), " iommufd-tap: $_"'
	echo "iommufd-tap: # $t took $(( $(date +%s) - start ))s"
done
after=$(awk '$1=="nr_foll_pin_acquired"{print $2}' /proc/vmstat)
echo "iommufd-tap: # FOLL_PIN pins taken: $((after - before))"
exit 0
