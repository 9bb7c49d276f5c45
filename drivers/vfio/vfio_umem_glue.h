/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO type1 pinning on top of umem, see vfio_umem_glue.c.
 */
#ifndef __VFIO_UMEM_GLUE_H
#define __VFIO_UMEM_GLUE_H

#include <linux/types.h>
#include <linux/umem.h>

struct mm_struct;

long vfio_umem_pin_run(struct umem_stream *st, struct mm_struct *mm,
		       unsigned long vaddr, long npage, int prot,
		       unsigned long *pfn, bool *rsvd);
int vfio_umem_pin_page(struct mm_struct *mm, unsigned long vaddr, int prot,
		       unsigned long *pfn);

/* Pages of a VM_PFNMAP mapping followed per mmap_lock hold. */
#define VFIO_UMEM_PFNMAP_BATCH	512

#if IS_ENABLED(CONFIG_KUNIT)
/* For vfio_umem_kunit.c only. */
long vfio_umem_pfnmap_run(struct mm_struct *mm, unsigned long vaddr,
			  long npage, int prot, unsigned long *pfn);
#endif

#endif /* __VFIO_UMEM_GLUE_H */
