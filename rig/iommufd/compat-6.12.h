/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Debian's linux-source-6.12 (6.12.117) carries a stable backport of
 * tools/testing/selftests/iommu from a later kernel, which no longer
 * builds against 6.12's own uapi. rig/iommufd-test.sh builds it with this
 * header forced in (-include): the names the backport uses, with the
 * values they have in the kernels that define them. The kernel does not
 * implement what they stand for (input data types of IOMMU_GET_HW_INFO,
 * PASID-capable mock devices), so the tests that use them fail on 6.12,
 * stock and patched alike: rig/iommufd/known-failures lists them.
 */
#ifndef RIG_IOMMUFD_COMPAT_6_12_H
#define RIG_IOMMUFD_COMPAT_6_12_H
#include <linux/iommufd.h>

#define IOMMU_HW_INFO_TYPE_DEFAULT	0
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE	(1 << 0)
/* A union with out_data_type in the kernels that have it */
#define in_data_type			out_data_type
#define MOCK_FLAGS_DEVICE_PASID		(1 << 2)
#define MOCK_PASID_WIDTH		20
#endif
