/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Debian's linux-source-6.12 (6.12.117) carries a stable backport of
 * tools/testing/selftests/iommu from a later kernel, which no longer
 * builds against 6.12's own uapi. rig/iommufd-test.sh builds it with this
 * header forced in (-include): the names the backport uses, with the
 * values they have in the kernels that define them, except for
 * MOCK_FLAGS_DEVICE_PASID. The kernel does not implement what they stand
 * for (input data types of IOMMU_GET_HW_INFO, PASID-capable mock
 * devices), so the tests of those features fail on 6.12, stock and
 * patched alike: rig/iommufd/known-failures-6.12 lists them.
 */
#ifndef RIG_IOMMUFD_COMPAT_6_12_H
#define RIG_IOMMUFD_COMPAT_6_12_H
#include <linux/iommufd.h>

#define IOMMU_HW_INFO_TYPE_DEFAULT	0
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE	(1 << 0)
/* A union with out_data_type in the kernels that have it */
#define in_data_type			out_data_type
/*
 * The "mock_domain" variant of the iommufd_ioas fixture adds a PASID-capable
 * mock device in its setup; 6.12 refuses the flag, and the whole variant,
 * the main user of mock-domain pinning, would fail in setup. 0 gives it a
 * plain mock device there instead: only the PASID tests then fail.
 */
#define MOCK_FLAGS_DEVICE_PASID		0
#define MOCK_PASID_WIDTH		20

/*
 * The harness gives each test 30 s (TEST_TIMEOUT_DEFAULT) through alarm();
 * the rig's guest is TCG with KASAN and lockdep, 10-50 times slower than
 * the hardware the limit was chosen for. Scale it rather than fail tests on
 * the emulator's speed.
 */
#include <unistd.h>
#define RIG_TIMEOUT_SCALE		10
#define alarm(seconds)			(alarm)((seconds) * RIG_TIMEOUT_SCALE)
#endif
