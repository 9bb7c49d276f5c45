// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO type1 pinning on top of umem.
 *
 * Type1 keeps no record of the pages it pins: each physically contiguous
 * run is mapped into the IOMMU domains at once, and on unmap the IOMMU page
 * table gives the physical addresses back. Type1 pins those runs with a
 * umem stream (batched FOLL_LONGTERM pins from the mm of the task that
 * mapped, one page of scratch whatever the size) and unpins them with
 * umem_unpin_pfn_range(), a folio at a time. What umem does not know about
 * is here: mappings of MMIO (VM_PFNMAP), whose pfns are mapped but neither
 * pinned nor charged, and the IOMMU_READ/IOMMU_WRITE protection bits. The
 * accounting against RLIMIT_MEMLOCK stays with the vfio_dma it belongs to
 * in vfio_iommu_type1.c.
 */

#include <kunit/visibility.h>
#include <linux/export.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/umem.h>

#include "vfio_umem_glue.h"

MODULE_IMPORT_NS(UMEM);

static int vfio_umem_follow_fault_pfn(struct vm_area_struct *vma,
				      struct mm_struct *mm,
				      unsigned long vaddr, unsigned long *pfn,
				      bool write_fault)
{
	struct follow_pfnmap_args args = { .vma = vma, .address = vaddr };
	int ret;

	ret = follow_pfnmap_start(&args);
	if (ret) {
		bool unlocked = false;

		ret = fixup_user_fault(mm, vaddr,
				       FAULT_FLAG_REMOTE |
				       (write_fault ?  FAULT_FLAG_WRITE : 0),
				       &unlocked);
		if (unlocked)
			return -EAGAIN;

		if (ret)
			return ret;

		ret = follow_pfnmap_start(&args);
		if (ret)
			return ret;
	}

	if (write_fault && !args.writable)
		ret = -EFAULT;
	else
		*pfn = args.pfn;

	follow_pfnmap_end(&args);
	return ret;
}

/*
 * The run of contiguous reserved pfns of VM_PFNMAP mappings from @vaddr,
 * at most @npage long. Returns its length, 0 if @vaddr is not in a
 * VM_PFNMAP mapping, or a negative errno for the first pfn. A BAR can be
 * many GiB: the mmap_lock is held for at most VFIO_UMEM_PFNMAP_BATCH pages
 * at a time, with a reschedule point and a fatal-signal check in between
 * (stock type1 took the lock once per page).
 */
VISIBLE_IF_KUNIT
long vfio_umem_pfnmap_run(struct mm_struct *mm, unsigned long vaddr,
			  long npage, int prot, unsigned long *pfn)
{
	struct vm_area_struct *vma;
	unsigned long next = 0;
	long n = 0, held;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vaddr = untagged_addr_remote(mm, vaddr);
	for (held = 0; n < npage; held++) {
		if (held == VFIO_UMEM_PFNMAP_BATCH) {
			mmap_read_unlock(mm);
			cond_resched();
			if (fatal_signal_pending(current) ||
			    mmap_read_lock_killable(mm))
				return n ?: -EINTR;
			held = 0;
		}
		vma = vma_lookup(mm, vaddr);
		if (!vma || !(vma->vm_flags & VM_PFNMAP))
			break;
		ret = vfio_umem_follow_fault_pfn(vma, mm, vaddr, &next,
						 prot & IOMMU_WRITE);
		if (ret == -EAGAIN)
			continue;	/* the mmap lock was dropped */
		if (!ret && !umem_pfn_reserved(next))
			ret = -EFAULT;
		if (ret || (n && next != *pfn + n))
			break;
		if (!n)
			*pfn = next;
		n++;
		vaddr += PAGE_SIZE;
	}
	mmap_read_unlock(mm);
	return n ?: ret;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_umem_pfnmap_run);

/**
 * vfio_umem_pin_run() - Pin the next physically contiguous run of a mapping
 * @st: the stream, carrying pages pinned ahead from one call to the next;
 *	pointed at @mm and @prot here when they change
 * @mm: the address space of the mapping
 * @vaddr: user virtual address of the first page, page aligned
 * @npage: most pages to pin, at least 1
 * @prot: IOMMU_READ and/or IOMMU_WRITE; IOMMU_WRITE pins for write
 * @pfn: the run's first pfn
 * @rsvd: the run is of reserved pfns (umem_pfn_reserved()), mapped but
 *	neither pinned nor to be charged
 *
 * Pins a batch of pages at a time and returns the longest run from @vaddr
 * whose pfns are contiguous and all reserved or all ordinary; what was
 * pinned beyond it stays in @st for the next call. ``VM_PFNMAP``
 * mappings give runs of reserved pfns. The caller owns the pins of the run
 * and releases them with umem_unpin_pfn_range().
 *
 * Return: number of pages in the run, or a negative errno if the page at
 * @vaddr can be neither pinned nor followed as a ``VM_PFNMAP`` pfn. An error
 * after the first page ends the run and is returned by the next call.
 */
long vfio_umem_pin_run(struct umem_stream *st, struct mm_struct *mm,
		       unsigned long vaddr, long npage, int prot,
		       unsigned long *pfn, bool *rsvd)
{
	bool writable = prot & IOMMU_WRITE;
	struct umem_run run;
	long ret, n;

	if (st->mm != mm || umem_stream_writable(st) != writable)
		umem_stream_reset(st, mm, writable);

	ret = umem_stream_next(st, vaddr, npage, &run);
	if (ret > 0) {
		*pfn = run.pfn;
		*rsvd = run.reserved;
		return ret;
	}
	if (ret != -EFAULT)
		return ret;

	n = vfio_umem_pfnmap_run(mm, vaddr, npage, prot, pfn);
	if (!n)
		return ret;
	*rsvd = true;
	return n;
}
EXPORT_SYMBOL_GPL(vfio_umem_pin_run);

/**
 * vfio_umem_pin_page() - Pin one page of a mapping
 * @mm: the address space of the mapping
 * @vaddr: user virtual address of the page, page aligned
 * @prot: IOMMU_READ and/or IOMMU_WRITE
 * @pfn: the page's pfn
 *
 * For the emulated IOMMU path (vfio_pin_pages()). A reserved pfn is not
 * pinned, see umem_pfn_reserved().
 *
 * Return: 0 or a negative errno.
 */
int vfio_umem_pin_page(struct mm_struct *mm, unsigned long vaddr, int prot,
		       unsigned long *pfn)
{
	struct umem_stream st;
	bool rsvd;
	long ret;

	umem_stream_init(&st, NULL, false, 1);
	ret = vfio_umem_pin_run(&st, mm, vaddr, 1, prot, pfn, &rsvd);
	umem_stream_fini(&st);
	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_GPL(vfio_umem_pin_page);
