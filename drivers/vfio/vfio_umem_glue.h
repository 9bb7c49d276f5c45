/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO type1 pinning on top of umem, see vfio_umem_glue.c.
 */
#ifndef __VFIO_UMEM_GLUE_H
#define __VFIO_UMEM_GLUE_H

#include <linux/types.h>
#include <linux/umem.h>

struct mm_struct;

/**
 * struct vfio_umem_batch - pages pinned ahead of the IOMMU mapping
 * @stream: the umem stream that pins them
 * @writable: @stream pins for write
 */
struct vfio_umem_batch {
	struct umem_stream stream;
	bool writable;
};

void vfio_umem_batch_init(struct vfio_umem_batch *batch, bool single);
void vfio_umem_batch_unpin(struct vfio_umem_batch *batch);
void vfio_umem_batch_fini(struct vfio_umem_batch *batch);
long vfio_umem_pin_run(struct vfio_umem_batch *batch, struct mm_struct *mm,
		       unsigned long vaddr, long npage, int prot,
		       unsigned long *pfn, bool *rsvd);
int vfio_umem_pin_page(struct mm_struct *mm, unsigned long vaddr, int prot,
		       unsigned long *pfn);
long vfio_umem_unpin_run(unsigned long pfn, long npage, int prot);

#endif /* __VFIO_UMEM_GLUE_H */
