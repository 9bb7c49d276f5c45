/* SPDX-License-Identifier: GPL-2.0 */
/*
 * umem: long-term pinned user memory for device DMA.
 *
 * See Documentation/core-api/umem.rst for how to use it.
 */
#ifndef _LINUX_UMEM_H
#define _LINUX_UMEM_H

#include <linux/cleanup.h>
#include <linux/dma-direction.h>
#include <linux/err.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

struct bio_vec;
struct device;
struct mm_struct;
struct page;

/**
 * struct umem_acct - how the charge to ``mm->pinned_vm`` is limited
 * @lock_cap: the caller decided the owner may exceed RLIMIT_MEMLOCK, usually
 *	``capable(CAP_IPC_LOCK)`` evaluated once, at creation. The counter is
 *	still charged.
 * @ask_cap: ask ``capable(CAP_IPC_LOCK)`` of the current task if, and only
 *	if, the charge would exceed the limit, as ib_umem_get() and io_uring
 *	always did: a process under its limit then causes no capability check,
 *	so no audit or LSM record and no PF_SUPERPRIV. Ignored if @lock_cap is
 *	set.
 *
 * A umem charges the pages its range spans to ``mm->pinned_vm`` of the
 * pinned mm (the counter RDMA charges and /proc/PID/status reports as
 * VmPin), limited by the current task's RLIMIT_MEMLOCK. Users with other
 * accounting rules (VFIO type1's ``mm->locked_vm``, iommufd's per-IOAS
 * choice) pin with a &struct umem_stream and charge themselves.
 */
struct umem_acct {
	bool lock_cap;
	bool ask_cap;
};

/* umem_args.flags */
#define UMEM_WRITE		BIT(0)	/* device may write: pin for write */
#define UMEM_SGT		BIT(1)	/* record the pages as a scatterlist */

/**
 * struct umem_args - what to pin and who pays for it
 * @mm: the address space to pin from; %NULL means ``current->mm``.
 * @start: user virtual address of the first byte.
 * @length: number of bytes; need not be page aligned.
 * @flags: %UMEM_WRITE for a pin the device may write, or 0 for a read-only
 *	pin; or'ed with %UMEM_SGT to keep the record as a scatterlist in
 *	&umem.sgt_append (see &struct umem).
 * @max_seg_size: largest entry of the record to build, in bytes, at least
 *	%PAGE_SIZE; 0 means no limit beyond a scatterlist entry's own (4GiB
 *	less a page). Pass the DMA device's dma_get_max_seg_size().
 * @acct: the accounting, see &struct umem_acct.
 */
struct umem_args {
	struct mm_struct *mm;
	unsigned long start;
	size_t length;
	unsigned int flags;
	unsigned int max_seg_size;
	struct umem_acct acct;
};

/**
 * struct umem_runs - the compact record of a umem's pages
 *
 * Entries of 64 bits, each a physically contiguous run of pages: its first
 * pfn and its number of pages (covering at most 4GiB less a page, and at
 * most &umem_args.max_seg_size bytes: a longer run takes several
 * entries). The first chunk of entries is one allocation of up to a page,
 * sized for the range; the next ones are whole pages, chained through
 * their page->private. All fields are internal.
 */
struct umem_runs {
	/* private: */
	u64 *head;
	struct page *more;
	struct page *tail;
	u64 *next;
	unsigned int head_cap;
	unsigned int room;
	unsigned int nr;
	unsigned int max_pages;
};

/**
 * struct umem - a range of pinned user memory
 * @sgt_append: a scatterlist of the pinned pages, physically contiguous
 *	runs coalesced into single entries. The table covers whole pages: the
 *	first entry starts at the page holding @address, the last ends at the
 *	page boundary after the last byte. For a umem pinned with %UMEM_SGT it
 *	is the record of what is pinned and lives as long as the umem; without
 *	%UMEM_SGT it is a view of the compact record that umem_dma_map()
 *	builds and umem_dma_unmap() frees, and is empty otherwise. Must stay
 *	the first member: &struct ib_umem overlays it with its own
 *	sgt_append, which dma-buf and ODP umems fill without a &struct umem.
 * @mm: the address space the pages were pinned from (mmgrab()ed).
 * @address: user virtual address of the first byte, as passed in.
 * @length: number of bytes, as passed in.
 * @npages: number of pages pinned.
 * @writable: the pages were pinned for write.
 * @dma_mapped: @sgt_append holds DMA addresses (umem_dma_map() succeeded).
 *
 * Allocated by umem_get(), or embedded in a larger structure and filled by
 * umem_init(). All fields are set at creation and constant until
 * umem_uninit() or umem_release(), except
 * @dma_mapped and the DMA addresses in @sgt_append (the whole table for a
 * umem without %UMEM_SGT), which umem_dma_map() and umem_dma_unmap()
 * change; the caller serialises those against users.
 *
 * The record. Without %UMEM_SGT a umem records its pages in a &struct
 * umem_runs, 8 bytes per physically contiguous run (split at
 * &umem_args.max_seg_size): never more than a page array, 8 bytes per
 * page, even when no two pages are contiguous, and one entry per run
 * otherwise. Users that keep a DMA-mapped scatterlist for
 * the umem's lifetime, as RDMA drivers do with &ib_umem.sgt_append, pin
 * with %UMEM_SGT and get the scatterlist (32 bytes per entry) as the
 * record, built while pinning, with no second copy. Every accessor below
 * reads either record.
 */
struct umem {
	struct sg_append_table sgt_append;
	struct mm_struct *mm;
	unsigned long address;
	size_t length;
	unsigned long npages;
	bool writable;
	bool dma_mapped;
	/* private: */
	struct umem_runs runs;
	bool sgt_record;
	struct umem_acct acct;
	unsigned long charged;
	struct device *dma_dev;
	enum dma_data_direction dma_dir;
	unsigned long dma_attrs;
};

int umem_init(struct umem *umem, const struct umem_args *args);
void umem_uninit(struct umem *umem, bool dirty);
struct umem *umem_get(const struct umem_args *args);
void umem_release(struct umem *umem, bool dirty);
/* Scope-based release is for error paths: no DMA happened, nothing dirtied. */
DEFINE_FREE(umem, struct umem *, umem_release(_T, false))

int umem_dma_map(struct umem *umem, struct device *dev,
		 enum dma_data_direction dir, unsigned long attrs);
void umem_dma_unmap(struct umem *umem);

int umem_copy_from(void *dst, struct umem *umem, size_t offset, size_t length);
size_t umem_metadata_bytes(const struct umem *umem);
int umem_fill_bvec(const struct umem *umem, struct bio_vec *bvec,
		   unsigned int nr);

/**
 * umem_offset() - Offset of the first byte in its page
 * @umem: the umem
 *
 * Return: offset of &umem->address within its page.
 */
static inline unsigned int umem_offset(const struct umem *umem)
{
	return umem->address & ~PAGE_MASK;
}

/**
 * umem_nents() - Number of entries of the record
 * @umem: the umem
 *
 * Each entry is a physically contiguous run of whole pages of at most
 * &umem_args.max_seg_size bytes; the CPU view of &umem.sgt_append, when
 * there is one, has the same entries. After umem_dma_map() the DMA view
 * may have fewer (see &sg_table.nents).
 *
 * Return: the number of entries.
 */
static inline unsigned int umem_nents(const struct umem *umem)
{
	return umem->sgt_record ? umem->sgt_append.sgt.orig_nents :
				  umem->runs.nr;
}

unsigned long umem_sgt_find_best_pgsz(struct sg_table *sgt,
				      unsigned int offset, size_t length,
				      unsigned long pgsz_bitmap, u64 iova);
unsigned long umem_find_best_phys_pgsz(struct umem *umem,
				       unsigned long pgsz_bitmap,
				       unsigned long iova);

/**
 * struct umem_block_iter - cursor over a scatterlist in fixed-size blocks
 *
 * Used through &struct umem_dma_block_iter or &struct umem_phys_block_iter,
 * or over any DMA-mapped scatterlist with umem_sg_block_iter_start() (RDMA's
 * &struct ib_block_iter is one); all fields are internal.
 */
struct umem_block_iter {
	/* private: internal state, keep away */
	struct scatterlist *__sg;
	unsigned int __sg_nents;
	unsigned int __pg_bit;
	unsigned int __sg_advance;
	size_t __blocks_left;
	u64 __addr;
};

/**
 * umem_range_num_blocks() - Number of @pgsz blocks covering a range
 * @iova: device address of the first byte
 * @length: number of bytes, at least 1
 * @pgsz: block size, a power of two
 *
 * Context: Any context.
 * Return: the number of @pgsz-aligned blocks from the one holding @iova to
 * the one holding the last byte.
 */
static inline size_t umem_range_num_blocks(u64 iova, u64 length,
					   unsigned long pgsz)
{
	return (size_t)(ALIGN(iova + length, pgsz) - ALIGN_DOWN(iova, pgsz)) /
	       pgsz;
}

/**
 * umem_sg_block_iter_start() - Start a walk of a scatterlist in blocks
 * @iter: the cursor
 * @sgl: the first entry
 * @nents: entries of the view walked (&sg_table.nents for the DMA view)
 * @pgsz: block size, a power of two
 * @advance: offset in the first entry of the first block's first byte
 *	(a multiple of @pgsz, or 0)
 * @nblocks: most blocks to visit; %SIZE_MAX for every block of the view
 *
 * The blocks are those of the view's addresses aligned to @pgsz, which
 * describe the memory when @pgsz came from umem_sgt_find_best_pgsz() (or
 * ib_umem_find_best_pgsz()) for the same range. Step with
 * umem_sg_block_iter_next().
 *
 * Context: Any context.
 */
static inline void umem_sg_block_iter_start(struct umem_block_iter *iter,
					    struct scatterlist *sgl,
					    unsigned int nents,
					    unsigned long pgsz,
					    unsigned int advance,
					    size_t nblocks)
{
	memset(iter, 0, sizeof(*iter));
	iter->__sg = sgl;
	iter->__sg_nents = nents;
	iter->__pg_bit = __fls(pgsz);
	iter->__sg_advance = advance;
	iter->__blocks_left = nblocks;
}

/**
 * umem_sg_block_iter_next() - Step to the next block
 * @iter: the cursor
 * @dma: walk the DMA view (sg_dma_address(), sg_dma_len()) rather than
 *	the CPU view (sg_phys(), &scatterlist.length)
 *
 * After __rdma_block_iter_next(): @iter->__sg is the entry that holds the
 * next block's first byte and __sg_advance that byte's offset in it. Each
 * step reports the block holding it, aligned down, and skips to the first
 * byte of the following block. __blocks_left stops the walk early.
 *
 * Context: Any context. Cost: O(1) amortised over the walk.
 * Return: true if @iter->__addr now holds a block's address (aligned to
 * the block size), false at the end.
 */
static inline bool umem_sg_block_iter_next(struct umem_block_iter *iter,
					   bool dma)
{
	u64 pgsz = BIT_ULL(iter->__pg_bit);
	u64 addr, delta;

	if (!iter->__blocks_left || !iter->__sg_nents || !iter->__sg)
		return false;

	addr = (dma ? sg_dma_address(iter->__sg) : sg_phys(iter->__sg)) +
	       iter->__sg_advance;
	delta = pgsz - (addr & (pgsz - 1));
	while (iter->__sg_nents && iter->__sg) {
		unsigned int len = dma ? sg_dma_len(iter->__sg) :
					 iter->__sg->length;

		if (len - iter->__sg_advance > delta)
			break;
		delta -= len - iter->__sg_advance;
		iter->__sg_advance = 0;
		iter->__sg = sg_next(iter->__sg);
		iter->__sg_nents--;
	}
	iter->__sg_advance += delta;
	iter->__addr = addr & ~(pgsz - 1);
	iter->__blocks_left--;
	return true;
}

/**
 * struct umem_dma_block_iter - cursor over the DMA addresses of a umem
 * @base: internal, keep away.
 */
struct umem_dma_block_iter {
	struct umem_block_iter base;
};

/**
 * struct umem_run_iter - cursor over the entries of a umem's record
 *
 * Reads either record, see &struct umem. All fields are internal.
 */
struct umem_run_iter {
	/* private: */
	struct scatterlist *sg;
	const u64 *ent;
	struct page *next;
	unsigned int chunk_left;
	unsigned int left;
	bool sgt;
};

/**
 * struct umem_phys_block_iter - cursor over the CPU physical addresses of a umem
 *
 * All fields are internal.
 */
struct umem_phys_block_iter {
	/* private: */
	struct umem_run_iter runs;
	u64 addr;
	u64 len;
	u64 advance;
	size_t blocks_left;
	unsigned int pg_bit;
	bool more;
	u64 block;
};

/**
 * umem_find_best_pgsz() - Largest device page size for a mapped umem
 * @umem: the umem, mapped with umem_dma_map()
 * @pgsz_bitmap: the page sizes the device supports, one bit per power of two
 * @iova: device address &umem->address will be mapped at
 *
 * For devices that use a single page size per mapping: finds the largest
 * size in @pgsz_bitmap such that the DMA view can be described as
 * umem_num_blocks() blocks of that size, aligned to it, at @iova. Same
 * semantics as ib_umem_find_best_pgsz(): a size of %PAGE_SIZE or smaller
 * works whenever @iova and &umem->address agree in the bits below it.
 * umem_sgt_find_best_pgsz() does the work.
 *
 * Context: Any context. Cost: O(DMA entries).
 * Return: the page size, or 0 if @umem is not DMA mapped, the range ends
 * above the top of the IOVA space or no size in @pgsz_bitmap works.
 */
static inline unsigned long umem_find_best_pgsz(struct umem *umem,
						unsigned long pgsz_bitmap,
						unsigned long iova)
{
	if (!umem->dma_mapped)
		return 0;
	return umem_sgt_find_best_pgsz(&umem->sgt_append.sgt, umem_offset(umem),
				       umem->length, pgsz_bitmap, iova);
}

/**
 * umem_num_blocks() - Number of @pgsz blocks covering a umem at @iova
 * @umem: the umem
 * @pgsz: block size, a power of two
 * @iova: device address of &umem->address
 *
 * Context: Any context.
 * Return: the number of @pgsz-aligned blocks from the one holding @iova to
 * the one holding the last byte, or 0 if @pgsz is not a power of two.
 */
static inline size_t umem_num_blocks(const struct umem *umem,
				     unsigned long pgsz, unsigned long iova)
{
	if (!is_power_of_2(pgsz))
		return 0;
	return umem_range_num_blocks(iova, umem->length, pgsz);
}

/*
 * A walk of the DMA view of a umem: from the entry holding the first byte,
 * skipping the blocks of the first page before it when @pgsz is below
 * PAGE_SIZE, and stopping after umem_num_blocks() blocks, which also drops
 * those after the last byte. The DMA view of an unmapped umem is empty.
 */
static inline void __umem_dma_block_iter_start(struct umem_block_iter *iter,
					       struct umem *umem,
					       unsigned long pgsz,
					       unsigned long iova)
{
	struct sg_table *sgt = &umem->sgt_append.sgt;

	if (!is_power_of_2(pgsz) || !umem->dma_mapped) {
		memset(iter, 0, sizeof(*iter));
		return;
	}
	umem_sg_block_iter_start(iter, sgt->sgl, sgt->nents, pgsz,
				 umem_offset(umem) & ~(pgsz - 1),
				 umem_num_blocks(umem, pgsz, iova));
}

void umem_phys_block_iter_start(struct umem_phys_block_iter *iter,
				const struct umem *umem, unsigned long pgsz,
				unsigned long iova);
bool umem_phys_block_iter_next(struct umem_phys_block_iter *iter);

/**
 * umem_for_each_dma_block() - Walk a DMA-mapped umem in blocks of @pgsz
 * @umem: a umem mapped with umem_dma_map()
 * @iter: a &struct umem_dma_block_iter on the caller's stack
 * @pgsz: block size, a power of two from umem_find_best_pgsz()
 * @iova: device address of &umem->address
 *
 * Visits umem_num_blocks() blocks; umem_block_dma_address() gives each
 * block's DMA address, aligned to @pgsz. The first block starts at or
 * before the first byte, the last ends at or after the last byte.
 *
 * Context: Any context. Cost: O(1) per block.
 */
#define umem_for_each_dma_block(umem, iter, pgsz, iova)			\
	for (__umem_dma_block_iter_start(&(iter)->base, umem, pgsz, iova);	\
	     umem_sg_block_iter_next(&(iter)->base, true);)

/**
 * umem_for_each_phys_block() - Walk a umem's physical pages in blocks of @pgsz
 * @umem: the umem
 * @iter: a &struct umem_phys_block_iter on the caller's stack
 * @pgsz: block size, a power of two from umem_find_best_phys_pgsz()
 * @iova: IOMMU address &umem->address will be mapped at
 *
 * As umem_for_each_dma_block() but over CPU physical addresses, read from
 * the record, for programming an IOMMU; umem_block_phys_address() gives
 * each block.
 *
 * Context: Any context. Cost: O(1) per block.
 */
#define umem_for_each_phys_block(umem, iter, pgsz, iova)			\
	for (umem_phys_block_iter_start(iter, umem, pgsz, iova);		\
	     umem_phys_block_iter_next(iter);)

/**
 * umem_block_dma_address() - DMA address of the current block
 * @iter: the cursor of umem_for_each_dma_block()
 *
 * Return: the block's DMA address, aligned to the block size.
 */
static inline dma_addr_t umem_block_dma_address(const struct umem_dma_block_iter *iter)
{
	return iter->base.__addr;
}

/**
 * umem_block_phys_address() - Physical address of the current block
 * @iter: the cursor of umem_for_each_phys_block()
 *
 * Return: the block's CPU physical address, aligned to the block size.
 */
static inline phys_addr_t umem_block_phys_address(const struct umem_phys_block_iter *iter)
{
	return iter->block;
}

/**
 * struct umem_stream - pin a user range run by run, keeping no record
 * @mm: the address space pinned from, set by umem_stream_init() or
 *	umem_stream_reset().
 *
 * For callers whose own data structure records what is pinned, such as an
 * IOMMU page table: umem_stream_next() hands out one physically contiguous
 * run at a time and the caller owns the pins from then on, releasing them
 * with umem_unpin_pfn_range(). The stream holds the runs of the current
 * GUP batch that were pinned but not yet handed out; umem_stream_fini()
 * unpins those. The other fields are internal.
 */
struct umem_stream {
	struct mm_struct *mm;
	/* private: */
	unsigned long addr;
	unsigned long left;
	unsigned long off;
	unsigned int idx;
	unsigned int gup_flags;
	unsigned int batch;
	struct page_runs runs;
	struct page_run fallback_run;
};

/**
 * struct umem_run - a physically contiguous run of pinned pages
 * @pfn: page frame number of the first page.
 * @npages: number of pages.
 * @reserved: the pages are PageReserved() (the shared zero page, pages a
 *	driver mapped with vm_insert_page()). Users of pinned memory usually
 *	do not charge them; GUP pins them all but the zero page, see
 *	umem_unpin_pfn_range(). A run never mixes reserved and ordinary pages.
 */
struct umem_run {
	unsigned long pfn;
	unsigned long npages;
	bool reserved;
};

/**
 * umem_pfn_reserved() - The pfn is not charged as pinned memory
 * @pfn: page frame number
 *
 * Some mappings aren't backed by a struct page, for example an mmap'd MMIO
 * range of this or another device (``VM_PFNMAP``); some pages are reserved
 * (the shared zero page, pages a driver maps with vm_insert_page()). Users
 * of pinned memory such as VFIO do not charge them. This is an accounting
 * rule: GUP pins reserved pages other than the zero page like any other,
 * see umem_unpin_pfn_range(). For compound pages, a driver that sets the
 * reserved bit in the head page must set it in all subpages.
 *
 * Return: %true if @pfn has no struct page or its page is reserved.
 */
static inline bool umem_pfn_reserved(unsigned long pfn)
{
	return !pfn_valid(pfn) || PageReserved(pfn_to_page(pfn));
}

/**
 * umem_stream_writable() - The stream pins for write
 * @st: the stream
 *
 * Return: the @writable of the last umem_stream_init() or umem_stream_reset().
 */
static inline bool umem_stream_writable(const struct umem_stream *st)
{
	return st->gup_flags & FOLL_WRITE;
}

void umem_stream_init(struct umem_stream *st, struct mm_struct *mm,
		      bool writable, unsigned int batch);
long umem_stream_next(struct umem_stream *st, unsigned long addr,
		      unsigned long max_pages, struct umem_run *run);
void umem_stream_drop(struct umem_stream *st);
void umem_stream_reset(struct umem_stream *st, struct mm_struct *mm,
		       bool writable);
void umem_stream_fini(struct umem_stream *st);
/* umem_unpin_pfn_range() flags */
#define UMEM_UNPIN_DIRTY		BIT(0)	/* mark dirty first */
#define UMEM_UNPIN_SKIP_RESERVED	BIT(1)	/* leave reserved pages pinned */

unsigned long umem_unpin_pfn_range(unsigned long pfn, unsigned long npages,
				   unsigned int flags);

#if IS_ENABLED(CONFIG_KUNIT)
/* For lib/tests/umem_kunit.c only, see lib/umem.c. */
int umem_sgt_append_run(struct umem *umem, unsigned long pfn,
			unsigned long npages, unsigned int max_seg,
			unsigned long left_pages);
void umem_sgt_free(struct umem *umem);
int umem_runs_append(struct umem *umem, unsigned long pfn,
		     unsigned long npages, unsigned long left_pages);
void umem_runs_free(struct umem *umem);
void umem_run_iter_start(struct umem_run_iter *it, const struct umem *umem);
bool umem_run_iter_next(struct umem_run_iter *it, struct page_run *run);
int umem_check_user_range(unsigned long untagged, size_t length);
#ifdef CONFIG_FAULT_INJECTION
int umem_fail_set_verbose(int verbose);
#endif
#endif

#endif /* _LINUX_UMEM_H */
