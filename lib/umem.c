// SPDX-License-Identifier: GPL-2.0
/*
 * umem: long-term pinned user memory for device DMA.
 *
 * See Documentation/core-api/umem.rst for how to use it.
 */

/**
 * DOC: umem design
 *
 * A &struct umem is a range of user memory, [address, address + length),
 * pinned with FOLL_LONGTERM for as long as a device may DMA to it. It keeps
 * one record of what it pinned, built from the physically contiguous runs
 * GUP pins (pin_user_pages_runs_fast()): the record covers whole pages (the
 * first entry starts at the page holding the first byte, the last ends at
 * the page boundary after the last byte), and physically contiguous pages
 * are coalesced into one entry up to the caller's maximum segment size (and
 * never beyond 4GiB less a page, what a scatterlist entry can hold). Release
 * walks the record. Vocabulary: "pages" are %PAGE_SIZE units of the pinned
 * range, "entries" are those of the record, "blocks" are units of whatever
 * page size the device was told to use (umem_find_best_pgsz()). "end" is
 * exclusive.
 *
 * The record is one of two, chosen at umem_init():
 *
 * - The compact record (&struct umem_runs), by default: one u64 per entry,
 *   the first pfn in the high bits and the number of pages in the low
 *   %UMEM_RUN_LEN_BITS. Fully fragmented 4KiB memory costs 8 bytes a page,
 *   what a page array costs, and anything contiguous one entry per run.
 *   Its first chunk is one kmalloc() of up to a page, sized by the pages
 *   still to come, its next chunks whole pages chained through
 *   page->private (no link takes an entry's place, and no allocation is
 *   of a higher order). umem_dma_map() builds the scatterlist view of it in
 *   &umem.sgt_append, one entry per record entry, and umem_dma_unmap()
 *   frees that view.
 *
 * - The scatterlist (%UMEM_SGT): &umem.sgt_append, built while pinning,
 *   for users that keep a DMA-mapped table for the umem's lifetime (RDMA
 *   drivers read &ib_umem.sgt_append). Every entry has offset 0 and a
 *   length that is a multiple of %PAGE_SIZE; it is the "CPU view",
 *   &sg_table.orig_nents entries. Keeping a compact record beside it would
 *   only add 8 bytes an entry.
 *
 * Everything that reads the record (release, umem_copy_from(),
 * umem_fill_bvec(), umem_find_best_phys_pgsz(), umem_for_each_phys_block())
 * goes through one cursor, &struct umem_run_iter, which reads either.
 *
 * Pinning in runs: GUP records what it pins as (pfn, number of pages) runs,
 * deciding contiguity from pfns: a THP or hugetlb page mapped whole is one
 * run and one reference update, PTE-mapped pages merge when their pfns are
 * adjacent. umem_pin_runs() is the one pin loop, under umem_init() and the
 * streams alike: one GUP call fills at most %UMEM_BATCH_RUNS runs (one
 * order-0 page of them, allocated once per umem_init() or stream), however
 * many pages they hold, so a 1GiB hugetlb page costs one run whatever its
 * size and fragmented 4KiB memory 256 pages per call. Each batch of runs is
 * appended to the record before the next is pinned, one entry per run split
 * at the maximum segment size (umem_runs_append() or umem_sgt_append_run()),
 * so the kernel memory a umem_init() needs beyond the result is one order-0
 * page, whatever the size of the range, and no step works page by page for
 * huge pages. A scatterlist is allocated in chunks of at most
 * %SG_MAX_SINGLE_ALLOC entries chained together; each append passes the
 * number of pages still to come as a bound on the entries still needed, so
 * only the last chunk is short (umem_sgt_free() relies on that); the compact
 * record's first chunk is sized by the same bound. umem_metadata_bytes()
 * reports what a umem holds.
 *
 * Accounting. A umem charges the pages its range spans to ``mm->pinned_vm``
 * of the pinned mm, added with atomic64_add_return() and compared against
 * current's RLIMIT_MEMLOCK; on excess the charge is subtracted again (as
 * ib_umem_get() always did). That is the one counter umem charges: the
 * streams charge nothing, and their users (VFIO type1: ``mm->locked_vm``
 * under the mmap_lock, per run; iommufd: per IOAS, the accounting mode it
 * chose, after pinning) keep their own accounting, whose timing umem's
 * charge-before-pin cannot reproduce (see Documentation/core-api/umem.rst).
 *
 * &umem_acct.lock_cap skips the limit but still charges the counter: the caller
 * decides capability once, at creation. &umem_acct.ask_cap instead asks
 * capable(CAP_IPC_LOCK) only when a charge would exceed the limit, as
 * ib_umem_get() always did, so that a process under its limit causes no
 * capability check (no audit record, no PF_SUPERPRIV). The charge is the number
 * of pages the range spans and is taken BEFORE anything is pinned, so a request
 * over the limit fails with -ENOMEM without touching a page. The amount
 * actually charged is stored in the umem and exactly that is uncharged, from
 * the same counter, by umem_uninit() or by umem_init()'s own error unwind; the
 * caller never undoes anything after a failed umem_init(). On failure
 * umem_init() unpins every page it pinned (including a batch that was pinned
 * but not yet appended), frees the table, uncharges, drops its references and
 * leaves nothing for the caller to undo (umem_get() also frees the umem).
 *
 * References: umem_init() mmgrab()s the mm for the umem's lifetime, holds an
 * mmget() only while it charges and pins.
 *
 * Locking: a umem has no lock. All fields are constant from umem_init() to
 * umem_uninit() except the DMA state, which umem_dma_map() and
 * umem_dma_unmap() change and the caller serialises against every user of
 * the DMA view. umem_init() pins with pin_user_pages_runs_fast() when the
 * mm is current's and otherwise takes mmap_read_lock() around each
 * pin_user_pages_runs_remote() call, never across the table's allocations,
 * so umem_init() may not be called with the mm's mmap_lock held. Charging
 * and uncharging take no lock. No lock is held on return.
 */

#include <kunit/visibility.h>
#include <linux/bitops.h>
#include <linux/bvec.h>
#include <linux/capability.h>
#include <linux/count_zeros.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/fault-inject.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/umem.h>

#define CREATE_TRACE_POINTS
#include <trace/events/umem.h>

/*
 * Fault injection (CONFIG_FAULT_INJECTION): every step of a pin that can
 * fail can be made to, through the "fail_umem" debugfs attribute or
 * through a task's fail-nth, which counts these points with every other
 * fault-injection point: the charge, the page of runs, each GUP call, each
 * chunk of the record or of a scatterlist view, and the DMA mapping. The
 * stream's page of runs is one
 * too (its failure selects the one-run fallback).
 */
static DECLARE_FAULT_ATTR(fail_umem);

static int __init umem_fail_debugfs(void)
{
	fault_create_debugfs_attr("fail_umem", NULL, &fail_umem);
	return 0;
}
late_initcall(umem_fail_debugfs);

static bool umem_should_fail(void)
{
	return should_fail(&fail_umem, 1);
}

#if IS_ENABLED(CONFIG_KUNIT) && defined(CONFIG_FAULT_INJECTION)
/**
 * umem_fail_set_verbose() - Set how the "fail_umem" points report a failure
 * @verbose: 0 silent, 1 a line, 2 a line and a stack dump (the default)
 *
 * For the KUnit fail-nth sweeps, which inject a hundred failures and more:
 * a stack dump each floods the console, and UML's console drops what its
 * pipe cannot take, test results included. The debugfs attribute's
 * "verbose" file does the same where debugfs is built.
 *
 * Return: the previous setting.
 */
VISIBLE_IF_KUNIT int umem_fail_set_verbose(int verbose)
{
	int old = fail_umem.verbose;

	fail_umem.verbose = verbose;
	return old;
}
EXPORT_SYMBOL_IF_KUNIT(umem_fail_set_verbose);
#endif

/* Runs pinned per GUP call: one order-0 page of them. */
#define UMEM_BATCH_RUNS		(PAGE_SIZE / sizeof(struct page_run))

/* Largest entry when the caller sets no limit: what sg->length can hold. */
#define UMEM_MAX_SEGMENT	ALIGN_DOWN(UINT_MAX, PAGE_SIZE)

/*
 * An entry of the compact record: pfn << UMEM_RUN_LEN_BITS | pages. The
 * page count field holds exactly the pages of a UMEM_MAX_SEGMENT entry, so
 * the scatterlist view is one sg entry per record entry; the pfn field
 * covers 2^(32 + 2 * PAGE_SHIFT) bytes of physical address space (2^56
 * with 4KiB pages).
 */
#define UMEM_RUN_LEN_BITS	(32 - PAGE_SHIFT)
#define UMEM_RUN_LEN_MASK	(BIT_ULL(UMEM_RUN_LEN_BITS) - 1)
#define UMEM_RUN_PFN_BITS	(64 - UMEM_RUN_LEN_BITS)
#define UMEM_RUNS_PER_PAGE	(PAGE_SIZE / sizeof(u64))

static_assert(UMEM_MAX_SEGMENT >> PAGE_SHIFT == UMEM_RUN_LEN_MASK);

static inline unsigned long umem_run_pfn(u64 entry)
{
	return entry >> UMEM_RUN_LEN_BITS;
}

static inline unsigned long umem_run_pages(u64 entry)
{
	return entry & UMEM_RUN_LEN_MASK;
}

/*
 * The next free entry of the table, allocating a chunk when the current
 * one is full. @needed is an upper bound of the entries still to come,
 * this one included: the last slot of a chunk is only used as an entry if
 * it is the very last entry, otherwise it becomes the link to the next
 * chunk, and a new chunk holds min(@needed, SG_MAX_SINGLE_ALLOC) entries,
 * so only the last chunk is short (umem_sgt_free() and
 * umem_metadata_bytes() rely on that). This is the layout
 * sg_alloc_append_table_from_pages() builds.
 */
static struct scatterlist *umem_sgt_next(struct sg_append_table *t,
					 unsigned long needed)
{
	struct scatterlist *next = NULL, *chunk;
	unsigned int size;

	if (t->prv) {
		/* @needed was not an upper bound if the table is complete. */
		next = sg_next(t->prv);
		if (WARN_ON_ONCE(!next))
			return ERR_PTR(-EINVAL);
		if (!sg_is_last(next) || needed == 1)
			return next;
#ifdef CONFIG_ARCH_NO_SG_CHAIN
		return ERR_PTR(-EOPNOTSUPP);
#endif
	}
	size = min_t(unsigned long, needed, SG_MAX_SINGLE_ALLOC);
	chunk = NULL;
	if (!umem_should_fail())
		chunk = kmalloc_array(size, sizeof(*chunk), GFP_KERNEL_ACCOUNT);
	if (!chunk)
		return ERR_PTR(-ENOMEM);
	sg_init_table(chunk, size);
	if (next) {
		t->total_nents += size - 1;
		sg_chain(next, 1, chunk);
	} else {
		t->sgt.sgl = chunk;
		t->total_nents = size;
	}
	return chunk;
}

/**
 * umem_sgt_append() - Append a physically contiguous run to a table
 * @t: the table; zeroed before the first call
 * @pfn: first page frame number of the run
 * @npages: pages in the run, at least 1
 * @max_seg: largest entry in bytes, a multiple of %PAGE_SIZE
 * @left_pages: an upper bound of the pages later calls will append
 * @appended: incremented by the pages appended
 *
 * The one place umem builds a scatterlist, as the record of a %UMEM_SGT
 * umem or as the view of a compact record, one pass over runs: the run
 * extends the last entry if it follows it physically, and otherwise takes
 * new entries, splitting at @max_seg. Whole pages (offset 0). Takes no page
 * references. The call with @left_pages 0 that appends the last pages
 * marks the end of the table. On -ENOMEM the table holds a prefix of the
 * run, and @appended counts the pages the table holds.
 *
 * Context: Process context. May sleep (GFP_KERNEL_ACCOUNT allocation).
 * Return: 0, -ENOMEM, or -EOPNOTSUPP on architectures without scatterlist
 * chaining when the table outgrows one chunk.
 */
static int umem_sgt_append(struct sg_append_table *t, unsigned long pfn,
			   unsigned long npages, unsigned int max_seg,
			   unsigned long left_pages, unsigned long *appended)
{
	struct scatterlist *sg = t->prv;
	unsigned long n;

	if (sg && page_to_pfn(sg_page(sg)) + (sg->length >> PAGE_SHIFT) == pfn &&
	    sg->length < max_seg) {
		n = min(npages, (unsigned long)(max_seg - sg->length) >> PAGE_SHIFT);
		sg->length += n << PAGE_SHIFT;
		pfn += n;
		npages -= n;
		*appended += n;
	}
	while (npages) {
		n = min(npages, (unsigned long)max_seg >> PAGE_SHIFT);
		sg = umem_sgt_next(t, DIV_ROUND_UP(npages, max_seg >> PAGE_SHIFT) +
				      left_pages);
		if (IS_ERR(sg))
			return PTR_ERR(sg);
		sg_set_page(sg, pfn_to_page(pfn), n << PAGE_SHIFT, 0);
		t->prv = sg;
		t->sgt.nents++;
		t->sgt.orig_nents++;
		pfn += n;
		npages -= n;
		*appended += n;
	}
	if (!left_pages)
		sg_mark_end(t->prv);
	return 0;
}

/* umem_sgt_append() to &umem.sgt_append, counting in &umem.npages. */
VISIBLE_IF_KUNIT int umem_sgt_append_run(struct umem *umem, unsigned long pfn,
					 unsigned long npages,
					 unsigned int max_seg,
					 unsigned long left_pages)
{
	return umem_sgt_append(&umem->sgt_append, pfn, npages, max_seg,
			       left_pages, &umem->npages);
}
EXPORT_SYMBOL_IF_KUNIT(umem_sgt_append_run);

/**
 * umem_sgt_free() - Free a table built by umem_sgt_append_run()
 * @umem: the umem
 *
 * Walks the chunks as umem_sgt_next() allocated them. Leaves the table
 * empty.
 */
VISIBLE_IF_KUNIT void umem_sgt_free(struct umem *umem)
{
	struct sg_append_table *t = &umem->sgt_append;
	struct scatterlist *sgl = t->sgt.sgl, *next;
	unsigned int left = t->total_nents;

	while (sgl && left) {
		next = NULL;
		if (left > SG_MAX_SINGLE_ALLOC) {
			next = sg_chain_ptr(&sgl[SG_MAX_SINGLE_ALLOC - 1]);
			left -= SG_MAX_SINGLE_ALLOC - 1;
		} else {
			left = 0;
		}
		kfree(sgl);
		sgl = next;
	}
	memset(t, 0, sizeof(*t));
}
EXPORT_SYMBOL_IF_KUNIT(umem_sgt_free);

/*
 * The next free entry of the compact record, allocating a chunk when the
 * current one is full: the first chunk holds min(@needed, a page of)
 * entries, @needed being an upper bound of the entries still to come, this
 * one included; each later chunk is a page, chained to the previous one
 * through page->private.
 */
static u64 *umem_runs_next(struct umem_runs *r, unsigned long needed)
{
	struct page *page;

	if (!r->room) {
		if (umem_should_fail())
			return NULL;
		if (!r->head) {
			r->head_cap = min_t(unsigned long, needed,
					    UMEM_RUNS_PER_PAGE);
			r->head = kmalloc_array(r->head_cap, sizeof(u64),
						GFP_KERNEL_ACCOUNT);
			if (!r->head)
				return NULL;
			r->next = r->head;
			r->room = r->head_cap;
		} else {
			page = alloc_page(GFP_KERNEL_ACCOUNT);
			if (!page)
				return NULL;
			set_page_private(page, 0);
			if (r->tail)
				set_page_private(r->tail, (unsigned long)page);
			else
				r->more = page;
			r->tail = page;
			r->next = page_address(page);
			r->room = UMEM_RUNS_PER_PAGE;
		}
	}
	r->room--;
	return r->next++;
}

/**
 * umem_runs_append() - Append a physically contiguous run to the record
 * @umem: the umem whose compact record grows; zeroed, but for
 *	&umem_runs.max_pages, before the first call
 * @pfn: first page frame number of the run
 * @npages: pages in the run, at least 1
 * @left_pages: an upper bound of the pages later calls will append
 *
 * umem_sgt_append() for the compact record: the run extends the last entry
 * if it follows it physically, and otherwise takes new entries, splitting
 * at &umem_runs.max_pages. Takes no page references. On failure the record
 * holds a prefix of the run, and &umem.npages counts the pages it holds.
 *
 * Context: Process context. May sleep (GFP_KERNEL_ACCOUNT allocation).
 * Return: 0, -ENOMEM, or -EOVERFLOW if a pfn does not fit an entry (no
 * architecture has such memory).
 */
VISIBLE_IF_KUNIT int umem_runs_append(struct umem *umem, unsigned long pfn,
				      unsigned long npages,
				      unsigned long left_pages)
{
	struct umem_runs *r = &umem->runs;
	unsigned long n, last;
	u64 *e;

	if (WARN_ON_ONCE((u64)(pfn + npages - 1) >> UMEM_RUN_PFN_BITS))
		return -EOVERFLOW;
	/* Entries are written in order: the last one is just before @next. */
	if (r->nr) {
		e = r->next - 1;
		last = umem_run_pages(*e);
		if (umem_run_pfn(*e) + last == pfn && last < r->max_pages) {
			n = min(npages, r->max_pages - last);
			*e += n;
			pfn += n;
			npages -= n;
			umem->npages += n;
		}
	}
	while (npages) {
		n = min_t(unsigned long, npages, r->max_pages);
		e = umem_runs_next(r, DIV_ROUND_UP(npages, r->max_pages) +
				      left_pages);
		if (!e)
			return -ENOMEM;
		*e = (u64)pfn << UMEM_RUN_LEN_BITS | n;
		r->nr++;
		pfn += n;
		npages -= n;
		umem->npages += n;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(umem_runs_append);

/**
 * umem_runs_free() - Free the compact record
 * @umem: the umem
 *
 * Leaves the record empty, keeping &umem_runs.max_pages.
 */
VISIBLE_IF_KUNIT void umem_runs_free(struct umem *umem)
{
	struct umem_runs *r = &umem->runs;
	unsigned int max_pages = r->max_pages;
	struct page *page = r->more, *next;

	kfree(r->head);
	while (page) {
		next = (struct page *)page_private(page);
		set_page_private(page, 0);
		__free_page(page);
		page = next;
	}
	memset(r, 0, sizeof(*r));
	r->max_pages = max_pages;
}
EXPORT_SYMBOL_IF_KUNIT(umem_runs_free);

/**
 * umem_run_iter_start() - Start a walk of a umem's record
 * @it: the cursor
 * @umem: the umem
 *
 * Reads the compact record, or the CPU view of &umem.sgt_append for a
 * %UMEM_SGT umem. Step with umem_run_iter_next().
 *
 * Context: Any context.
 */
VISIBLE_IF_KUNIT void umem_run_iter_start(struct umem_run_iter *it,
					  const struct umem *umem)
{
	memset(it, 0, sizeof(*it));
	it->sgt = umem->sgt_record;
	if (it->sgt) {
		it->sg = umem->sgt_append.sgt.sgl;
		it->left = umem->sgt_append.sgt.orig_nents;
		return;
	}
	it->ent = umem->runs.head;
	it->chunk_left = umem->runs.head_cap;
	it->next = umem->runs.more;
	it->left = umem->runs.nr;
}
EXPORT_SYMBOL_IF_KUNIT(umem_run_iter_start);

/**
 * umem_run_iter_next() - Step to the next entry of the record
 * @it: the cursor
 * @run: filled with the entry: a physically contiguous run of whole pages
 *
 * Context: Any context. Cost: O(1).
 * Return: true if @run holds the next entry, false at the end.
 */
VISIBLE_IF_KUNIT bool umem_run_iter_next(struct umem_run_iter *it,
					 struct page_run *run)
{
	if (!it->left)
		return false;
	it->left--;
	if (it->sgt) {
		run->pfn = page_to_pfn(sg_page(it->sg));
		run->nr_pages = it->sg->length >> PAGE_SHIFT;
		it->sg = sg_next(it->sg);
		return true;
	}
	if (!it->chunk_left) {
		it->ent = page_address(it->next);
		it->next = (struct page *)page_private(it->next);
		it->chunk_left = UMEM_RUNS_PER_PAGE;
	}
	it->chunk_left--;
	run->pfn = umem_run_pfn(*it->ent);
	run->nr_pages = umem_run_pages(*it->ent);
	it->ent++;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(umem_run_iter_next);

/*
 * Check what userspace can get wrong before anything is allocated, and
 * compute the pages the range spans.
 */
static int umem_check_args(const struct umem_args *args, unsigned long *npages)
{
	unsigned long end;

	if (!args->length || (args->flags & ~(UMEM_WRITE | UMEM_SGT)))
		return -EINVAL;
	if (args->max_seg_size && args->max_seg_size < PAGE_SIZE)
		return -EINVAL;
	/* A wrapping range is malformed, as in ib_umem_get(): -EINVAL. */
	if (check_add_overflow(args->start, args->length, &end) ||
	    PAGE_ALIGN(end) < end)
		return -EINVAL;

	*npages = (PAGE_ALIGN(end) - ALIGN_DOWN(args->start, PAGE_SIZE)) >>
		  PAGE_SHIFT;
	/* Either record counts entries, at most one per page, in 32 bits. */
	if (*npages > UINT_MAX)
		return -EINVAL;
	return 0;
}

/**
 * umem_check_user_range() - The range lies in user space
 * @untagged: the first byte's address with its tag bits cleared
 * @length: number of bytes
 *
 * Tag bits (arm64 TBI and MTE, HWASan, x86 LAM) are not part of the
 * address: GUP untags before it walks the page tables, so this check is
 * made on the untagged address too, or umem would refuse a tagged pointer
 * that GUP, and stock ib_umem_get(), accept.
 *
 * Return: 0, or -EFAULT if the range ends above %TASK_SIZE.
 */
VISIBLE_IF_KUNIT int umem_check_user_range(unsigned long untagged,
					   size_t length)
{
	unsigned long end;

	if (check_add_overflow(untagged, length, &end) || end > TASK_SIZE)
		return -EFAULT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(umem_check_user_range);

/*
 * @addr without its tag bits, as GUP will see it: untagged_addr() for
 * current's mm, untagged_addr_remote() under the mmap_lock for another.
 */
static int umem_untag(struct mm_struct *mm, unsigned long addr,
		      unsigned long *untagged)
{
	if (mm == current->mm) {
		*untagged = untagged_addr(addr);
		return 0;
	}
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	*untagged = untagged_addr_remote(mm, addr);
	mmap_read_unlock(mm);
	return 0;
}

/*
 * May the owner exceed RLIMIT_MEMLOCK? Asked only once a charge would: with
 * &umem_acct.ask_cap, capable() runs then and only then, so that a process
 * under its limit leaves no audit record and no PF_SUPERPRIV behind.
 */
static bool umem_may_exceed(struct umem *umem)
{
	if (umem->acct.lock_cap)
		return true;
	return umem->acct.ask_cap && capable(CAP_IPC_LOCK);
}

/*
 * Charge @npages to ``mm->pinned_vm`` before pinning; see "Accounting" in
 * the DOC block. The caller holds an mmget() on umem->mm.
 */
static int umem_charge(struct umem *umem, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	struct mm_struct *mm = umem->mm;

	if (umem_should_fail())
		return -ENOMEM;
	if (atomic64_add_return(npages, &mm->pinned_vm) > limit &&
	    !umem_may_exceed(umem)) {
		atomic64_sub(npages, &mm->pinned_vm);
		return -ENOMEM;
	}
	/* Undone in umem_uncharge() */
	umem->charged = npages;
	return 0;
}

/* Give back exactly umem->charged. Never fails, never sleeps. */
static void umem_uncharge(struct umem *umem)
{
	atomic64_sub(umem->charged, &umem->mm->pinned_vm);
	umem->charged = 0;
}

/*
 * Unpin every page the record holds, one call per entry (an entry is a
 * physically contiguous range), and free the record.
 */
static void umem_unpin(struct umem *umem, bool dirty)
{
	bool make_dirty = dirty && umem->writable;
	struct umem_run_iter it;
	struct page_run run;

	umem_run_iter_start(&it, umem);
	while (umem_run_iter_next(&it, &run)) {
		unpin_user_page_range_dirty_lock(pfn_to_page(run.pfn),
						 run.nr_pages, make_dirty);
		cond_resched();
	}
	umem_sgt_free(umem);
	umem_runs_free(umem);
}

/* Unpin the pages of @runs from page @off of run @idx on. */
static void umem_unpin_runs(const struct page_runs *runs, unsigned int idx,
			    unsigned long off)
{
	for (; idx < runs->nr; idx++, off = 0)
		unpin_user_page_range_dirty_lock(pfn_to_page(runs->runs[idx].pfn + off),
						 runs->runs[idx].nr_pages - off,
						 false);
}

/*
 * The one pin loop of umem, under umem_init() and the streams alike: pin up
 * to @nr_pages from @addr into @runs, emptied first, with one GUP call that
 * stops when @runs is full. A THP or hugetlb page mapped whole costs one
 * run, PTE-mapped pages merge when their pfns are adjacent (see
 * pin_user_pages_runs_fast()). current's mm is pinned with GUP-fast;
 * another mm under its mmap_lock, taken for read around this call only.
 */
static long umem_pin_runs(struct mm_struct *mm, unsigned long addr,
			  unsigned long nr_pages, unsigned int gup_flags,
			  struct page_runs *runs)
{
	int locked = 1;
	long pinned;

	runs->nr = 0;
	if (fatal_signal_pending(current))
		return -EINTR;
	if (umem_should_fail())
		return -ENOMEM;
	if (mm == current->mm)
		return pin_user_pages_runs_fast(addr, nr_pages, gup_flags, runs);
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	pinned = pin_user_pages_runs_remote(mm, addr, nr_pages, gup_flags, runs,
					    &locked);
	if (locked)
		mmap_read_unlock(mm);
	return pinned;
}

/*
 * Pin @npages pages from the page holding umem->address through @runs and
 * append each batch of runs to the record. On failure the record holds
 * exactly umem->npages pages (the caller unpins them with umem_unpin());
 * the rest of the failing batch is unpinned here.
 */
static int umem_pin(struct umem *umem, unsigned long npages,
		    struct page_runs *runs)
{
	unsigned int max_seg = umem->runs.max_pages << PAGE_SHIFT;
	unsigned long addr = ALIGN_DOWN(umem->address, PAGE_SIZE);
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long left, done;
	unsigned int i;
	long pinned;
	int ret;

	if (umem->writable)
		gup_flags |= FOLL_WRITE;

	while (npages) {
		cond_resched();
		pinned = umem_pin_runs(umem->mm, addr, npages, gup_flags, runs);
		/* GUP reports a hole after the first page as a short pin. */
		if (pinned <= 0)
			return pinned ?: -EFAULT;
		npages -= pinned;
		addr += pinned << PAGE_SHIFT;

		left = pinned;
		done = umem->npages;
		for (i = 0; i < runs->nr; i++) {
			left -= runs->runs[i].nr_pages;
			if (umem->sgt_record)
				ret = umem_sgt_append_run(umem, runs->runs[i].pfn,
							  runs->runs[i].nr_pages,
							  max_seg, left + npages);
			else
				ret = umem_runs_append(umem, runs->runs[i].pfn,
						       runs->runs[i].nr_pages,
						       left + npages);
			if (ret) {
				/* Skip what the record took of run @i. */
				umem_unpin_runs(runs, i, umem->npages - done);
				return ret;
			}
			done += runs->runs[i].nr_pages;
		}
	}
	return 0;
}

static int __umem_init(struct umem *umem, const struct umem_args *args)
{
	struct mm_struct *mm = args->mm ?: current->mm;
	struct page_runs runs = { .max = UMEM_BATCH_RUNS };
	unsigned long npages, untagged;
	int ret;

	ret = umem_check_args(args, &npages);
	if (ret)
		return ret;
	/* A kernel thread without an mm has no user memory to pin. */
	if (!mm)
		return -EFAULT;

	memset(umem, 0, sizeof(*umem));
	umem->address = args->start;
	umem->length = args->length;
	umem->writable = args->flags & UMEM_WRITE;
	umem->sgt_record = args->flags & UMEM_SGT;
	umem->runs.max_pages = ALIGN_DOWN(args->max_seg_size ?: UMEM_MAX_SEGMENT,
					  PAGE_SIZE) >> PAGE_SHIFT;
	/* Undone in umem_uninit() */
	umem->mm = mm;
	mmgrab(mm);
	umem->acct = args->acct;

	/* Keep the address space alive while charging and pinning. */
	if (!mmget_not_zero(mm)) {
		ret = -EFAULT;
		goto err_mmdrop;
	}

	ret = umem_untag(mm, args->start, &untagged);
	if (!ret)
		ret = umem_check_user_range(untagged, args->length);
	if (ret)
		goto err_mmput;

	ret = umem_charge(umem, npages);
	if (ret)
		goto err_mmput;

	if (!umem_should_fail())
		runs.runs = (struct page_run *)__get_free_page(GFP_KERNEL);
	if (!runs.runs) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	ret = umem_pin(umem, npages, &runs);
	free_page((unsigned long)runs.runs);
	if (ret)
		goto err_unpin;

	mmput(mm);
	return 0;

err_unpin:
	umem_unpin(umem, false);
err_uncharge:
	umem_uncharge(umem);
err_mmput:
	mmput(mm);
err_mmdrop:
	mmdrop(mm);
	return ret;
}

/**
 * umem_init() - Pin a range of user memory into a caller-provided umem
 * @umem: the umem to fill, typically embedded in a larger structure; its
 *	previous contents are ignored
 * @args: what to pin and who pays, see &struct umem_args
 *
 * Charges the pages the range spans to ``mm->pinned_vm``, limited as
 * @args->acct says, then pins them with FOLL_LONGTERM (and FOLL_WRITE for
 * %UMEM_WRITE) and records them, physically contiguous pages coalesced up
 * to @args->max_seg_size: in the compact record, or in &umem.sgt_append
 * with %UMEM_SGT (see &struct umem). The pages stay pinned, and
 * charged, until umem_uninit(); after a successful umem_init() the caller must
 * call it exactly once. On failure nothing is pinned, charged or referenced and
 * @umem must not be passed to umem_uninit(). The range is pinned as it is
 * mapped now: later changes to the mapping (munmap, mremap, fork with
 * copy-on-write) do not change which pages the device sees. Callers that need
 * can_do_mlock() or capable(CAP_IPC_LOCK) check them before and pass the result
 * in &umem_acct.lock_cap. umem_get() is the allocating variant.
 *
 * Context: Process context. May sleep. Takes mmap_lock for read when
 * @args->mm is not current's; must not be called with that mm's mmap_lock
 * held.
 * Return: 0, or
 * -EINVAL if @args->length is 0, start + length wraps, the range spans
 * more than %UINT_MAX pages, @args->flags has unknown bits,
 * @args->max_seg_size is nonzero and below %PAGE_SIZE;
 * -EFAULT if the range ends above %TASK_SIZE (tag bits of @args->start, see
 * untagged_addr(), are ignored, as GUP ignores them), there is no mm (a kernel
 * thread) or it has exited, or any page of the range cannot be pinned:
 * unmapped, PROT_NONE, a write pin of a read-only mapping, or a %VM_IO /
 * %VM_PFNMAP mapping (no struct page to pin);
 * -ENOMEM if the charge exceeds RLIMIT_MEMLOCK, or on allocation failure;
 * -EINTR if a fatal signal arrived while pinning or waiting for the mmap_lock;
 * or any other error pin_user_pages*() returns, e.g. -EOPNOTSUPP for a
 * FOLL_LONGTERM pin of file-system DAX.
 */
int umem_init(struct umem *umem, const struct umem_args *args)
{
	u64 start_ns;
	int ret;

	if (!trace_umem_pin_enabled())
		return __umem_init(umem, args);

	start_ns = ktime_get_ns();
	ret = __umem_init(umem, args);
	trace_umem_pin(args, ret ? ERR_PTR(ret) : umem,
		       ktime_get_ns() - start_ns);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(umem_init, UMEM);

/**
 * umem_uninit() - Unpin a umem filled by umem_init()
 * @umem: the umem
 * @dirty: the device may have written to the pages: mark them dirty (only
 *	if the umem was pinned with %UMEM_WRITE)
 *
 * Unmaps the DMA view if umem_dma_map() mapped it, unpins every page,
 * frees the record, uncharges exactly what umem_init() charged and
 * drops the references umem_init() took. Does not free @umem. Never fails
 * and never allocates. The device must no longer access the pages.
 *
 * Context: Process context. May sleep (page locks for @dirty).
 */
void umem_uninit(struct umem *umem, bool dirty)
{
	unsigned int nents = umem_nents(umem);
	bool trace = trace_umem_release_enabled();
	u64 start_ns = trace ? ktime_get_ns() : 0;

	umem_dma_unmap(umem);
	umem_unpin(umem, dirty);
	umem_uncharge(umem);
	if (trace)
		trace_umem_release(umem, nents, dirty,
				   ktime_get_ns() - start_ns);
	mmdrop(umem->mm);
}
EXPORT_SYMBOL_NS_GPL(umem_uninit, UMEM);

/**
 * umem_get() - Pin a range of user memory for device DMA
 * @args: what to pin and who pays, see &struct umem_args
 *
 * Allocates a &struct umem and fills it with umem_init(), which describes
 * what is pinned and charged. Release with umem_release(), exactly once.
 *
 * Context: Process context. May sleep. As umem_init().
 * Return: the umem, or ERR_PTR() of an errno umem_init() documents
 * (-ENOMEM also if the umem cannot be allocated).
 */
struct umem *umem_get(const struct umem_args *args)
{
	struct umem *umem;
	int ret;

	umem = kzalloc(sizeof(*umem), GFP_KERNEL_ACCOUNT);
	if (!umem)
		return ERR_PTR(-ENOMEM);

	ret = umem_init(umem, args);
	if (ret) {
		kfree(umem);
		return ERR_PTR(ret);
	}
	return umem;
}
EXPORT_SYMBOL_IF_KUNIT(umem_get);

/**
 * umem_release() - Unpin and free a umem
 * @umem: a umem from umem_get(); %NULL or an ERR_PTR() does nothing
 * @dirty: the device may have written to the pages: mark them dirty (only
 *	if the umem was pinned with %UMEM_WRITE)
 *
 * umem_uninit(), then frees @umem. Never fails and never allocates. The
 * device must no longer access the pages. Accepting %NULL and ERR_PTR()
 * lets __free(umem) scopes and error paths release unconditionally.
 *
 * Context: Process context. May sleep, as umem_uninit().
 */
void umem_release(struct umem *umem, bool dirty)
{
	if (IS_ERR_OR_NULL(umem))
		return;
	umem_uninit(umem, dirty);
	kfree(umem);
}
EXPORT_SYMBOL_IF_KUNIT(umem_release);

/*
 * The scatterlist view of a compact record, for umem_dma_map(): one entry
 * per entry of the record (the record is split as the view must be, and no
 * two of its entries merge).
 */
static int umem_sgt_build_view(struct umem *umem)
{
	unsigned int max_seg = umem->runs.max_pages << PAGE_SHIFT;
	unsigned long left = umem->npages, appended = 0;
	struct umem_run_iter it;
	struct page_run run;
	int ret;

	umem_run_iter_start(&it, umem);
	while (umem_run_iter_next(&it, &run)) {
		left -= run.nr_pages;
		ret = umem_sgt_append(&umem->sgt_append, run.pfn, run.nr_pages,
				      max_seg, left, &appended);
		if (ret) {
			umem_sgt_free(umem);
			return ret;
		}
	}
	return 0;
}

/*
 * The "virtual DMA" of software RDMA devices (rxe, siw, rdmavt; see
 * INFINIBAND_VIRT_DMA): the device is the CPU, a DMA address is a kernel
 * virtual address, so every page must have one.
 */
static int umem_virt_dma_map(struct umem *umem)
{
	struct sg_table *sgt = &umem->sgt_append.sgt;
	struct scatterlist *sg;
	unsigned int i;

	if (IS_ENABLED(CONFIG_HIGHMEM))
		return -EOPNOTSUPP;

	for_each_sgtable_sg(sgt, sg, i) {
		sg_dma_address(sg) = (uintptr_t)sg_virt(sg);
		sg_dma_len(sg) = sg->length;
	}
	sgt->nents = sgt->orig_nents;
	return 0;
}

/**
 * umem_dma_map() - Map a umem for a device
 * @umem: the umem
 * @dev: the DMA device, or %NULL for a software device whose "DMA address"
 *	is the kernel virtual address (rxe, siw, rdmavt)
 * @dir: %DMA_TO_DEVICE, %DMA_FROM_DEVICE or %DMA_BIDIRECTIONAL. Only a
 *	umem pinned with %UMEM_WRITE may be written by the device, whatever
 *	the mapping says (RDMA maps every umem bidirectionally and lets the
 *	device's access rights keep read-only memory read-only).
 * @attrs: DMA_ATTR_* flags for dma_map_sgtable()
 *
 * Fills the DMA view of &umem.sgt_append (&sg_table.nents entries, read
 * with sg_dma_address() and sg_dma_len(); an IOMMU may have merged
 * entries), building the scatterlist first from the compact record of a
 * umem pinned without %UMEM_SGT. Undo with umem_dma_unmap(), or let
 * umem_uninit() do it.
 *
 * Context: Process context. May sleep. The caller serialises it against
 * umem_dma_unmap() and every user of the DMA view.
 * Return: 0, or -EBUSY if @umem is already mapped, -EINVAL for an invalid
 * @dir, -ENOMEM if the scatterlist view cannot be allocated, -EOPNOTSUPP
 * for @dev %NULL on a %CONFIG_HIGHMEM kernel or, on architectures without
 * scatterlist chaining, for a compact record of more entries than one
 * scatterlist chunk holds, or what dma_map_sgtable()
 * returns (-EINVAL, -ENOMEM, -EIO, -EREMOTEIO).
 */
int umem_dma_map(struct umem *umem, struct device *dev,
		 enum dma_data_direction dir, unsigned long attrs)
{
	int ret;

	if (umem->dma_mapped)
		return -EBUSY;
	if (!valid_dma_direction(dir))
		return -EINVAL;
	if (umem_should_fail())
		return -ENOMEM;
	if (!umem->sgt_record) {
		ret = umem_sgt_build_view(umem);
		if (ret)
			return ret;
	}

	if (dev)
		ret = dma_map_sgtable(dev, &umem->sgt_append.sgt, dir, attrs);
	else
		ret = umem_virt_dma_map(umem);
	if (ret) {
		if (!umem->sgt_record)
			umem_sgt_free(umem);
		return ret;
	}

	umem->dma_dev = dev;
	umem->dma_dir = dir;
	umem->dma_attrs = attrs;
	umem->dma_mapped = true;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(umem_dma_map, UMEM);

/**
 * umem_dma_unmap() - Undo umem_dma_map()
 * @umem: the umem
 *
 * Does nothing if @umem is not mapped. Frees the scatterlist view of a
 * umem pinned without %UMEM_SGT. The device must no longer access the DMA
 * addresses.
 *
 * Context: Process context. The caller serialises it against umem_dma_map()
 * and every user of the DMA view.
 */
void umem_dma_unmap(struct umem *umem)
{
	if (!umem->dma_mapped)
		return;

	if (umem->dma_dev)
		dma_unmap_sgtable(umem->dma_dev, &umem->sgt_append.sgt,
				  umem->dma_dir, umem->dma_attrs);
	if (!umem->sgt_record)
		umem_sgt_free(umem);
	umem->dma_dev = NULL;
	umem->dma_mapped = false;
}
EXPORT_SYMBOL_IF_KUNIT(umem_dma_unmap);

/**
 * umem_copy_from() - Copy bytes out of a umem
 * @dst: kernel buffer of at least @length bytes
 * @umem: the umem
 * @offset: offset from &umem->address of the first byte to copy
 * @length: number of bytes
 *
 * Reads the pinned pages through the record, as ib_umem_copy_from() reads
 * them through the scatterlist.
 *
 * Context: Any context; the pages are mapped with kmap_local_page().
 * Cost: O(entries before @offset + pages copied).
 * Return: 0, or -EINVAL if @offset + @length wraps or exceeds
 * &umem->length, or if fewer bytes could be copied.
 */
int umem_copy_from(void *dst, struct umem *umem, size_t offset, size_t length)
{
	size_t end, pos = offset + umem_offset(umem);
	struct umem_run_iter it;
	struct page_run run;

	if (check_add_overflow(offset, length, &end) || end > umem->length)
		return -EINVAL;

	umem_run_iter_start(&it, umem);
	while (length && umem_run_iter_next(&it, &run)) {
		size_t bytes = (size_t)run.nr_pages << PAGE_SHIFT;

		/* @pos: offset of the next byte to copy in this entry. */
		for (; length && pos < bytes; ) {
			unsigned int off = offset_in_page(pos);
			size_t n = min_t(size_t, PAGE_SIZE - off, length);

			memcpy_from_page(dst, pfn_to_page(run.pfn + (pos >> PAGE_SHIFT)),
					 off, n);
			dst += n;
			pos += n;
			length -= n;
		}
		pos -= min(pos, bytes);
	}
	return length ? -EINVAL : 0;
}
EXPORT_SYMBOL_NS_GPL(umem_copy_from, UMEM);

/**
 * umem_fill_bvec() - Describe the bytes of a umem as bio_vecs
 * @umem: the umem
 * @bvec: array to fill
 * @nr: number of entries in @bvec, at least umem_nents()
 *
 * The bio_vec view of a umem, for users that hand pinned memory to the
 * block layer or to an iov_iter (iov_iter_bvec()) rather than to a DMA
 * device, such as fixed buffers for io_uring or NVMe passthrough: one
 * multi-page bio_vec per entry of the record (a physically contiguous run,
 * split at &umem_args.max_seg_size), the first
 * starting at the byte at &umem->address and the last ending after
 * &umem->length bytes. Neither reads nor changes the DMA view. The
 * bio_vecs name pages the umem keeps pinned: they are valid until
 * umem_uninit() or umem_release().
 *
 * Context: Any context.
 * Return: the number of bio_vecs written, umem_nents(), or -EOVERFLOW if
 * @nr is smaller.
 */
int umem_fill_bvec(const struct umem *umem, struct bio_vec *bvec,
		   unsigned int nr)
{
	unsigned int skip = umem_offset(umem), i = 0;
	size_t left = umem->length;
	struct umem_run_iter it;
	struct page_run run;

	if (nr < umem_nents(umem))
		return -EOVERFLOW;
	umem_run_iter_start(&it, umem);
	while (umem_run_iter_next(&it, &run)) {
		unsigned int len = min_t(size_t, (run.nr_pages << PAGE_SHIFT) - skip,
					 left);

		bvec_set_page(&bvec[i++], pfn_to_page(run.pfn), len, skip);
		left -= len;
		skip = 0;
	}
	return i;
}
EXPORT_SYMBOL_IF_KUNIT(umem_fill_bvec);

/**
 * umem_metadata_bytes() - Kernel memory a umem holds, besides the pages
 * @umem: the umem
 *
 * The slab object of &struct umem (as umem_get() allocates it; a umem
 * embedded by umem_init() lives in its container), the chunks of the
 * compact record and those of the scatterlist (the record of a %UMEM_SGT
 * umem, the view of a DMA-mapped compact one). The compact record's first
 * chunk is a kmalloc_array() rounded up to its slab bucket, the others one
 * page each, allocated as entries fill them. A scatterlist is allocated in
 * chunks of at most %SG_MAX_SINGLE_ALLOC entries: a full chunk is one
 * page, a shorter one (only ever the last, see umem_sgt_next()) a
 * kmalloc_array() rounded up to its slab bucket; chained chunks give one
 * entry to the link. The count below walks the chunks the way
 * umem_sgt_free() frees them. Not counted: the pinned pages themselves,
 * the page of runs (freed before umem_init() returns) and whatever the DMA
 * API or an IOMMU keeps for the mapping.
 *
 * Context: Any context.
 * Return: the number of bytes.
 */
size_t umem_metadata_bytes(const struct umem *umem)
{
	size_t bytes = kmalloc_size_roundup(sizeof(*umem));
	const struct umem_runs *r = &umem->runs;
	unsigned int left = umem->sgt_append.total_nents;

	if (r->head)
		bytes += kmalloc_size_roundup(r->head_cap * sizeof(u64));
	if (r->nr > r->head_cap)
		bytes += DIV_ROUND_UP(r->nr - r->head_cap, UMEM_RUNS_PER_PAGE) *
			 PAGE_SIZE;

	if (!umem->sgt_append.sgt.sgl)
		return bytes;

	while (left > SG_MAX_SINGLE_ALLOC) {
		bytes += PAGE_SIZE;
		left -= SG_MAX_SINGLE_ALLOC - 1;
	}
	if (left == SG_MAX_SINGLE_ALLOC)
		bytes += PAGE_SIZE;
	else
		bytes += kmalloc_size_roundup(left * sizeof(struct scatterlist));
	return bytes;
}
EXPORT_SYMBOL_IF_KUNIT(umem_metadata_bytes);

/*
 * ib_umem_find_best_pgsz() over a sequence of (address, length) entries,
 * fed one by one to umem_pgsz_add(): a DMA view or the record. The first
 * byte is @pgoff into the first entry, the range @length bytes. The best
 * size is the largest in @pgsz_bitmap for which @iova and the address of
 * the first byte agree in the low bits, every discontinuity falls on a
 * block boundary of the IOVA, and no block crosses a bit where the range's
 * first and last IOVA differ beyond that size. The IOVA is computed in 64
 * bits, as RDMA does, whatever the size of a long.
 */
struct umem_pgsz {
	u64 base;
	u64 len;
	u64 va;
	unsigned long mask;
	unsigned int pgoff;
	bool first;
};

static bool umem_pgsz_start(struct umem_pgsz *p, unsigned int pgoff,
			    size_t length, unsigned long pgsz_bitmap, u64 iova)
{
	u64 last_va;
	unsigned int bits;

	/*
	 * The largest size that could work is set by the IOVA bits that
	 * change across the range.
	 */
	if (check_add_overflow(length - 1, iova, &last_va))
		return false;
	bits = bits_per(iova ^ last_va);
	p->mask = 0;
	if (bits < BITS_PER_LONG)
		p->mask = pgsz_bitmap & GENMASK(BITS_PER_LONG - 1, bits);
	p->base = ~0ULL;
	p->len = 0;
	p->va = iova;
	p->pgoff = pgoff;
	p->first = true;
	return true;
}

static void umem_pgsz_add(struct umem_pgsz *p, u64 addr, u64 len)
{
	u64 end;

	/* An entry contiguous with the previous one adds no constraint. */
	if (check_add_overflow(p->base, p->len, &end) || end != addr) {
		p->base = addr;
		p->len = 0;
		/* The IOVA and address bits must agree within a block. */
		p->mask |= (addr + p->pgoff) ^ p->va;
		/* A discontinuity must start a block. */
		if (!p->first)
			p->mask |= p->va;
	}
	p->first = false;
	p->len += len;
	p->va += len - p->pgoff;
	p->pgoff = 0;
}

static unsigned long umem_pgsz_best(const struct umem_pgsz *p,
				    unsigned long pgsz_bitmap)
{
	/* Trailing zeros of the mask: the largest size passing IOVA through. */
	if (p->mask)
		pgsz_bitmap &= GENMASK(count_trailing_zeros(p->mask), 0);
	return pgsz_bitmap ? rounddown_pow_of_two(pgsz_bitmap) : 0;
}

/**
 * umem_sgt_find_best_pgsz() - Largest device page size for a DMA-mapped table
 * @sgt: a DMA-mapped table; its &sg_table.nents DMA entries are read
 * @offset: offset of the first byte of the range in the first DMA entry
 * @length: bytes in the range, at least 1
 * @pgsz_bitmap: the page sizes the device supports, one bit per power of two
 * @iova: device address of the first byte of the range
 *
 * The page-size logic of umem_find_best_pgsz(), for tables a umem does not
 * own: an RDMA dma-buf umem, or a umem mapped by its user through another
 * DMA API wrapper. Exactly the semantics of ib_umem_find_best_pgsz() for a
 * non-ODP umem.
 *
 * Context: Any context. Cost: O(DMA entries).
 * Return: the page size, or 0 if the range ends above the top of the 64-bit
 * IOVA space or no size in @pgsz_bitmap works.
 */
unsigned long umem_sgt_find_best_pgsz(struct sg_table *sgt,
				      unsigned int offset, size_t length,
				      unsigned long pgsz_bitmap, u64 iova)
{
	struct scatterlist *sg;
	struct umem_pgsz p;
	unsigned int i;

	if (!umem_pgsz_start(&p, offset, length, pgsz_bitmap, iova))
		return 0;
	for_each_sgtable_dma_sg(sgt, sg, i)
		umem_pgsz_add(&p, sg_dma_address(sg), sg_dma_len(sg));
	return umem_pgsz_best(&p, pgsz_bitmap);
}
EXPORT_SYMBOL_NS_GPL(umem_sgt_find_best_pgsz, UMEM);

/**
 * umem_find_best_phys_pgsz() - Largest IOMMU page size for a umem
 * @umem: the umem
 * @pgsz_bitmap: the page sizes the IOMMU supports, one bit per power of two
 * @iova: IOMMU address &umem->address will be mapped at
 *
 * As umem_find_best_pgsz(), over the CPU physical addresses of the pages
 * (read from the record), for callers that program an IOMMU themselves.
 * Works whether or not @umem is DMA mapped.
 *
 * Context: Any context. Cost: O(entries).
 * Return: the page size, or 0 if the range ends above the top of the IOVA
 * space or no size in @pgsz_bitmap works.
 */
unsigned long umem_find_best_phys_pgsz(struct umem *umem,
				       unsigned long pgsz_bitmap,
				       unsigned long iova)
{
	struct umem_run_iter it;
	struct page_run run;
	struct umem_pgsz p;

	if (!umem_pgsz_start(&p, umem_offset(umem), umem->length, pgsz_bitmap,
			     iova))
		return 0;
	umem_run_iter_start(&it, umem);
	while (umem_run_iter_next(&it, &run))
		umem_pgsz_add(&p, PFN_PHYS(run.pfn),
			      (u64)run.nr_pages << PAGE_SHIFT);
	return umem_pgsz_best(&p, pgsz_bitmap);
}
EXPORT_SYMBOL_IF_KUNIT(umem_find_best_phys_pgsz);

/**
 * umem_phys_block_iter_start() - Start umem_for_each_phys_block()
 * @iter: the cursor
 * @umem: the umem
 * @pgsz: block size, a power of two
 * @iova: IOMMU address &umem->address will be mapped at
 *
 * The walk starts at the entry holding the first byte, skips the blocks of
 * the first page before it when @pgsz is below %PAGE_SIZE, and stops after
 * umem_num_blocks() blocks, which also drops those after the last byte.
 * Nothing is visited if @pgsz is not a power of two.
 *
 * Context: Any context.
 */
void umem_phys_block_iter_start(struct umem_phys_block_iter *iter,
				const struct umem *umem, unsigned long pgsz,
				unsigned long iova)
{
	struct page_run run;

	memset(iter, 0, sizeof(*iter));
	if (!is_power_of_2(pgsz))
		return;
	umem_run_iter_start(&iter->runs, umem);
	iter->more = umem_run_iter_next(&iter->runs, &run);
	if (iter->more) {
		iter->addr = PFN_PHYS(run.pfn);
		iter->len = (u64)run.nr_pages << PAGE_SHIFT;
	}
	iter->pg_bit = __fls(pgsz);
	iter->advance = umem_offset(umem) & ~(pgsz - 1);
	iter->blocks_left = umem_num_blocks(umem, pgsz, iova);
}
EXPORT_SYMBOL_IF_KUNIT(umem_phys_block_iter_start);

/**
 * umem_phys_block_iter_next() - Step umem_for_each_phys_block()
 * @iter: the cursor
 *
 * umem_sg_block_iter_next() over the record: reports the block holding the
 * next byte, aligned down, and skips to the first byte of the following
 * block, crossing entries as needed.
 *
 * Context: Any context. Cost: O(1) amortised over the walk.
 * Return: true if umem_block_phys_address() now gives a block, false at
 * the end.
 */
bool umem_phys_block_iter_next(struct umem_phys_block_iter *iter)
{
	u64 pgsz = BIT_ULL(iter->pg_bit), addr, delta;
	struct page_run run;

	if (!iter->blocks_left || !iter->more)
		return false;

	addr = iter->addr + iter->advance;
	delta = pgsz - (addr & (pgsz - 1));
	while (iter->len - iter->advance <= delta) {
		delta -= iter->len - iter->advance;
		iter->advance = 0;
		iter->more = umem_run_iter_next(&iter->runs, &run);
		if (!iter->more)
			break;
		iter->addr = PFN_PHYS(run.pfn);
		iter->len = (u64)run.nr_pages << PAGE_SHIFT;
	}
	iter->advance += delta;
	iter->block = addr & ~(pgsz - 1);
	iter->blocks_left--;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(umem_phys_block_iter_next);

/*
 * Streaming pins. umem_stream_fill() pins ahead into st->runs with the same
 * loop as umem_init(), as many pages as umem_stream_next() was asked for
 * (or st->batch) until the runs fill up, and umem_stream_next() hands out
 * the runs as GUP produced them. The rest stays pinned in the stream for
 * the next call, which normally asks for the address right after the run;
 * a call for any other address first gives the leftovers back. Nothing else
 * is allocated, so a stream over any range costs one page of runs.
 */
static long umem_stream_fill(struct umem_stream *st, unsigned long addr,
			     unsigned long max_pages)
{
	unsigned long n = st->batch ? min(max_pages, st->batch) : max_pages;
	long pinned;

	cond_resched();
	pinned = umem_pin_runs(st->mm, addr, n, st->gup_flags, &st->runs);
	if (pinned <= 0)
		return pinned ?: -EFAULT;
	st->addr = addr;
	st->left = pinned;
	st->idx = 0;
	st->off = 0;
	return pinned;
}

/*
 * How many of the @n pages from @pfn are of the kind of the first one,
 * reserved or not (see &umem_run.reserved). The pages of a folio are all
 * reserved or none is: one test per folio.
 */
static unsigned long umem_run_same_kind(unsigned long pfn, unsigned long n,
					bool *reserved)
{
	unsigned long done = 0;

	*reserved = PageReserved(pfn_to_page(pfn));
	while (done < n) {
		struct page *page = pfn_to_page(pfn + done);
		struct folio *folio;

		if (PageReserved(page) != *reserved)
			break;
		folio = page_folio(page);
		done += folio_nr_pages(folio) - folio_page_idx(folio, page);
	}
	return min(done, n);
}

/**
 * umem_stream_init() - Prepare to pin a range run by run
 * @st: the stream
 * @mm: the address space to pin from; the caller keeps it alive (mmget())
 *	from here to umem_stream_fini()
 * @writable: pin for write (the device may write to the pages)
 * @batch: most pages pinned per GUP call; 0 means as many as
 *	umem_stream_next() asks for and one page of runs holds, 1 means one
 *	page per call and no allocation at all
 *
 * Never fails: if the runs cannot be allocated the stream pins one run per
 * GUP call.
 */
void umem_stream_init(struct umem_stream *st, struct mm_struct *mm,
		      bool writable, unsigned int batch)
{
	st->left = 0;
	umem_stream_reset(st, mm, writable);
	st->batch = batch;
	st->runs.runs = NULL;
	st->runs.nr = 0;
	if (batch != 1 && !umem_should_fail())
		st->runs.runs = (struct page_run *)__get_free_page(GFP_KERNEL);
	if (st->runs.runs) {
		st->runs.max = UMEM_BATCH_RUNS;
	} else {
		st->runs.runs = &st->fallback_run;
		st->runs.max = 1;
	}
}
EXPORT_SYMBOL_NS_GPL(umem_stream_init, UMEM);

/**
 * umem_stream_next() - Pin the next physically contiguous run
 * @st: the stream
 * @addr: user virtual address of the run's first page, page aligned
 * @max_pages: most pages the run may hold, at least 1
 * @run: filled with the run on success
 *
 * Hands out the next run GUP pinned from @addr on, up to @max_pages pages
 * and of one kind (see &umem_run.reserved), pinning ahead first if nothing
 * is pinned at @addr. The caller owns the pins of the run and releases
 * them with umem_unpin_pfn_range(); pages pinned beyond the run stay in the
 * stream for a next call at ``addr + run->npages * PAGE_SIZE``. Takes the
 * mmap lock of &umem_stream.mm for read around each GUP call unless it is
 * current's, and may sleep.
 *
 * Return: number of pages in the run, or a negative errno if the page at
 * @addr cannot be pinned: -EFAULT for a hole, a ``VM_PFNMAP``/``VM_IO``
 * mapping or a write pin of a read-only mapping, -ENOMEM, -EINTR on a
 * fatal signal. An error after the first page ends the run early and is
 * returned by the next call.
 */
long umem_stream_next(struct umem_stream *st, unsigned long addr,
		      unsigned long max_pages, struct umem_run *run)
{
	struct page_run *r;
	unsigned long n;
	long ret;

	if (WARN_ON_ONCE(!max_pages || !PAGE_ALIGNED(addr)))
		return -EINVAL;
	if (st->left && st->addr != addr)
		umem_stream_drop(st);
	if (!st->left) {
		ret = umem_stream_fill(st, addr, max_pages);
		if (ret < 0)
			return ret;
	}

	r = &st->runs.runs[st->idx];
	run->pfn = r->pfn + st->off;
	n = min(r->nr_pages - st->off, max_pages);
	n = umem_run_same_kind(run->pfn, n, &run->reserved);
	run->npages = n;

	st->off += n;
	if (st->off == r->nr_pages) {
		st->idx++;
		st->off = 0;
	}
	st->left -= n;
	st->addr += n << PAGE_SHIFT;
	return n;
}
EXPORT_SYMBOL_NS_GPL(umem_stream_next, UMEM);

/**
 * umem_stream_drop() - Unpin the pages pinned ahead but not handed out
 * @st: the stream
 *
 * For a caller that stops early, on an error for instance. The stream can
 * be used again.
 */
void umem_stream_drop(struct umem_stream *st)
{
	if (st->left)
		umem_unpin_runs(&st->runs, st->idx, st->off);
	st->left = 0;
	st->runs.nr = 0;
}
EXPORT_SYMBOL_NS_GPL(umem_stream_drop, UMEM);

/**
 * umem_stream_reset() - Point a stream at another address space or mode
 * @st: the stream
 * @mm: the address space to pin from after this call
 * @writable: pin for write after this call
 *
 * Unpins what umem_stream_drop() would and keeps the batch, for a caller
 * that pins several ranges with one stream.
 */
void umem_stream_reset(struct umem_stream *st, struct mm_struct *mm,
		       bool writable)
{
	umem_stream_drop(st);
	st->mm = mm;
	st->gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
}
EXPORT_SYMBOL_NS_GPL(umem_stream_reset, UMEM);

/**
 * umem_stream_fini() - Finish with a stream
 * @st: the stream
 *
 * Unpins what umem_stream_drop() would and frees the batch. The runs handed
 * out stay pinned.
 */
void umem_stream_fini(struct umem_stream *st)
{
	umem_stream_drop(st);
	if (st->runs.runs != &st->fallback_run)
		free_page((unsigned long)st->runs.runs);
	st->runs.runs = NULL;
}
EXPORT_SYMBOL_NS_GPL(umem_stream_fini, UMEM);

/*
 * The end of the block of pfns from @pfn for which pfn_valid() gives one
 * answer and whose struct pages are contiguous: a memory subsection with
 * SPARSEMEM; otherwise the pfn alone, as an architecture's own pfn_valid()
 * may answer page by page.
 */
static unsigned long umem_pfn_block_end(unsigned long pfn)
{
#if defined(CONFIG_SPARSEMEM) && !defined(CONFIG_HAVE_ARCH_PFN_VALID)
	return ALIGN(pfn + 1, PAGES_PER_SUBSECTION);
#else
	return pfn + 1;
#endif
}

/* Not pinned by GUP: no struct page, the zero page, or as the caller says. */
static bool umem_page_skipped(struct page *page, unsigned int flags)
{
	if (!page || is_zero_page(page))
		return true;
	return (flags & UMEM_UNPIN_SKIP_RESERVED) && PageReserved(page);
}

/**
 * umem_unpin_pfn_range() - Unpin a physically contiguous range of pages
 * @pfn: page frame number of the first page
 * @npages: number of pages
 * @flags: %UMEM_UNPIN_DIRTY to mark the pages dirty first (the device may
 *	have written to them); %UMEM_UNPIN_SKIP_RESERVED to leave reserved
 *	pages alone, see below
 *
 * Releases one FOLL_PIN reference on every page of the range that GUP
 * pins, a folio at a time, as umem_stream_next() or any other FOLL_PIN
 * user took them. Skipped: pfns without a &struct page (``VM_PFNMAP``
 * mappings) and the shared zero page, which GUP does not pin. Other
 * reserved pages, such as those a driver maps with vm_insert_page(), are
 * pinned by GUP like any page and are unpinned here, unless the caller
 * passes %UMEM_UNPIN_SKIP_RESERVED: for a caller whose record cannot tell
 * such a page from a reserved pfn it mapped without pinning (VFIO type1
 * follows ``VM_PFNMAP`` mappings of reserved RAM), at the price of leaving
 * a GUP-pinned reserved page pinned, as type1 always has. The range need
 * not be one run: an IOMMU may give back several runs that happen to be
 * adjacent. Never fails and never allocates; the caller uncharges what it
 * charged.
 *
 * Return: number of pages unpinned, that is @npages less the skipped ones.
 */
unsigned long umem_unpin_pfn_range(unsigned long pfn, unsigned long npages,
				   unsigned int flags)
{
	unsigned long start = pfn, end = pfn + npages, unpinned = 0;
	bool dirty = flags & UMEM_UNPIN_DIRTY;
	unsigned long block_end = pfn;
	struct page *page = NULL;

	while (pfn < end) {
		struct folio *folio;
		unsigned long n;

		/* One pfn_valid() and pfn_to_page() per block, not per page */
		if (pfn >= block_end) {
			block_end = umem_pfn_block_end(pfn);
			page = pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
		}
		if (umem_page_skipped(page, flags)) {
			/* Unpin the ordinary pages before the skipped ones. */
			if (start < pfn)
				unpin_user_page_range_dirty_lock(pfn_to_page(start),
								 pfn - start,
								 dirty);
			unpinned += pfn - start;
			n = page ? 1 : min(block_end - pfn, end - pfn);
			pfn += n;
			start = pfn;
		} else {
			/*
			 * The pages of a folio are all reserved or none is,
			 * and the zero page is a folio of its own.
			 */
			folio = page_folio(page);
			n = 1;
			if (folio_test_large(folio))
				n = folio_nr_pages(folio) -
				    folio_page_idx(folio, page);
			n = min(n, end - pfn);
			pfn += n;
		}
		if (page && pfn < block_end)
			page += n;
	}
	if (start < end)
		unpin_user_page_range_dirty_lock(pfn_to_page(start),
						 end - start, dirty);
	return unpinned + (end - start);
}
EXPORT_SYMBOL_NS_GPL(umem_unpin_pfn_range, UMEM);
