// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the umem pinned-memory library.
 *
 * The cases pin real user memory: kunit_vm_mmap() gives the test thread an
 * mm of its own, copy_to_user() faults the pages in, umem_get() pins them.
 * Coalescing and page-size selection over a known physical layout turn
 * pages from alloc_pages() into runs with page_runs_add_pages() and build
 * the table with umem_sgt_append_run(), as umem_init() does, because a
 * user mapping's physical layout is whatever the page allocator handed out
 * (and UML has no THP).
 *
 * Every case runs in the fixture built by umem_test_init(): each pin is a
 * KUnit action, so a failed assertion still releases it, and the last
 * action to run checks that the FOLL_PIN counters balanced and that
 * mm->pinned_vm, mm->locked_vm and the user's locked_vm are back where
 * they began.
 */

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/user.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/umem.h>
#include <linux/vmstat.h>

/* Pages of the anonymous mapping most cases pin from. */
#define UMEM_TEST_PAGES		32

/* Where the page-array tables pretend to live: any page-aligned address. */
#define UMEM_TEST_FAKE_VA	0x10000000UL

struct umem_test_counters {
	unsigned long pin_acquired;
	unsigned long pin_released;
	s64 pinned_vm;
	unsigned long locked_vm;
	long user_locked_vm;
};

/**
 * struct umem_test_ctx - per-case fixture, in &kunit.priv
 * @test: the case, for the checks run as deferred actions
 * @mm: the test thread's mm, mmget() until every pin is released
 * @user: the test thread's user, whose locked_vm umem must not move
 * @start: the counters when the case began
 * @pinned: the case pinned something, so the pin counters must have moved
 */
struct umem_test_ctx {
	struct kunit *test;
	struct mm_struct *mm;
	struct user_struct *user;
	struct umem_test_counters start;
	bool pinned;
};

/*
 * NR_FOLL_PIN_ACQUIRED and NR_FOLL_PIN_RELEASED are node counters. An update
 * lands in the updating CPU's per_cpu_nodestats->vm_node_stat_diff[] and is
 * folded into pgdat->vm_stat[] (and the global vm_node_stat[]) only when it
 * crosses the per-cpu threshold or vmstat_update() runs, so
 * global_node_page_state_pages() alone lags by up to threshold * CPUs *
 * nodes pages: enough to hide a leaked pin, or to report one that is not.
 * The exact value is each online node's vm_stat[] plus every possible CPU's
 * pending diff for that node. The per-node counter is read rather than the
 * global one because refresh_cpu_vm_stats() adds a taken diff to the node
 * right away but to the global counter only after walking every node; the
 * window in which a concurrent fold skews a reading is then a few
 * instructions, and reading until two snapshots agree closes it in practice.
 * All of this works from a module: NODE_DATA() is the exported node_data[]
 * or contig_page_data, the per-cpu offsets and node masks are exported, the
 * rest are struct fields.
 */
static unsigned long umem_test_node_stat(enum node_stat_item item)
{
	long sum = 0;
	int nid, cpu;

	for_each_online_node(nid) {
		struct pglist_data *pgdat = NODE_DATA(nid);

		sum += atomic_long_read(&pgdat->vm_stat[item]);
		for_each_possible_cpu(cpu) {
			struct per_cpu_nodestat *pcp;

			pcp = per_cpu_ptr(pgdat->per_cpu_nodestats, cpu);
			sum += READ_ONCE(pcp->vm_node_stat_diff[item]);
		}
	}
	return sum;
}

static void umem_test_pin_stats(unsigned long *acquired, unsigned long *released)
{
	unsigned long a, r;
	int i;

	*acquired = umem_test_node_stat(NR_FOLL_PIN_ACQUIRED);
	*released = umem_test_node_stat(NR_FOLL_PIN_RELEASED);
	for (i = 0; i < 10; i++) {
		a = umem_test_node_stat(NR_FOLL_PIN_ACQUIRED);
		r = umem_test_node_stat(NR_FOLL_PIN_RELEASED);
		if (a == *acquired && r == *released)
			return;
		*acquired = a;
		*released = r;
	}
}

/* Pins outstanding system-wide: acquired minus released. */
static long umem_test_pins_held(void)
{
	unsigned long acquired, released;

	umem_test_pin_stats(&acquired, &released);
	return acquired - released;
}

static void umem_test_snapshot(const struct umem_test_ctx *ctx,
			       struct umem_test_counters *c)
{
	umem_test_pin_stats(&c->pin_acquired, &c->pin_released);
	c->pinned_vm = atomic64_read(&ctx->mm->pinned_vm);
	c->locked_vm = READ_ONCE(ctx->mm->locked_vm);
	c->user_locked_vm = atomic_long_read(&ctx->user->locked_vm);
}

/* The accounting counters, not the pin counters, are as in @c. */
static void umem_test_expect_charges(struct kunit *test,
				     const struct umem_test_counters *c)
{
	struct umem_test_ctx *ctx = test->priv;
	struct umem_test_counters now;

	umem_test_snapshot(ctx, &now);
	KUNIT_EXPECT_EQ(test, now.pinned_vm, c->pinned_vm);
	KUNIT_EXPECT_EQ(test, now.locked_vm, c->locked_vm);
	KUNIT_EXPECT_EQ(test, now.user_locked_vm, c->user_locked_vm);
}

/*
 * The end-of-case check. It is a deferred action registered first in
 * umem_test_init() rather than code in .exit because KUnit runs .exit
 * before the deferred actions: the pins a failed case left behind are only
 * released after .exit. Actions run last-registered first, so this one runs
 * after every release and before the fixture's mm reference is dropped.
 */
static void umem_test_check_balance(void *data)
{
	struct umem_test_ctx *ctx = data;
	struct kunit *test = ctx->test;
	unsigned long acquired, released;
	struct umem_test_counters now;

	umem_test_snapshot(ctx, &now);
	acquired = now.pin_acquired - ctx->start.pin_acquired;
	released = now.pin_released - ctx->start.pin_released;
	KUNIT_EXPECT_EQ_MSG(test, acquired, released,
			    "FOLL_PIN acquired and released differ: pages leaked");
	if (ctx->pinned)
		KUNIT_EXPECT_GT(test, acquired, 0UL);
	KUNIT_EXPECT_EQ_MSG(test, now.pinned_vm, ctx->start.pinned_vm,
			    "mm->pinned_vm not restored");
	KUNIT_EXPECT_EQ_MSG(test, now.locked_vm, ctx->start.locked_vm,
			    "mm->locked_vm not restored");
	KUNIT_EXPECT_EQ_MSG(test, now.user_locked_vm, ctx->start.user_locked_vm,
			    "user->locked_vm not restored");
}

KUNIT_DEFINE_ACTION_WRAPPER(umem_test_mmput, mmput, struct mm_struct *);
KUNIT_DEFINE_ACTION_WRAPPER(umem_test_free_uid, free_uid, struct user_struct *);

static int umem_test_init(struct kunit *test)
{
	struct umem_test_ctx *ctx;
	unsigned long addr;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->test = test;
	test->priv = ctx;

	/* The first kunit_vm_mmap() attaches a fresh mm to the test thread. */
	addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE_MSG(test, !addr || IS_ERR_VALUE(addr),
			       "kunit_vm_mmap() failed: %ld", (long)addr);
	KUNIT_ASSERT_NOT_NULL(test, current->mm);

	/*
	 * The test thread exits before the deferred actions run, and with it
	 * its mm would go. Keep the address space alive until the pins are
	 * released, so that every uncharge can be checked.
	 */
	ctx->mm = current->mm;
	mmget(ctx->mm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, umem_test_mmput,
							ctx->mm), 0);
	ctx->user = get_current_user();
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, umem_test_free_uid,
							ctx->user), 0);

	umem_test_snapshot(ctx, &ctx->start);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_test_check_balance,
							ctx), 0);
	return 0;
}

/* Pins are released dirty: umem only dirties what it pinned for write. */
static void umem_test_release(struct umem *umem)
{
	umem_release(umem, true);
}

KUNIT_DEFINE_ACTION_WRAPPER(umem_test_release_action, umem_test_release,
			    struct umem *);

static void umem_test_check_twin(struct kunit *test, struct umem *umem,
				 const struct umem_args *args);

/*
 * umem_get() with the result registered for release at the end of the case.
 * The umem returned keeps its record as a scatterlist (%UMEM_SGT), which the
 * cases inspect. Each call also pins the same range with the compact record,
 * checks that every accessor reads the same from it (or that it fails with
 * the same errno) and releases it again before returning, so that every
 * case's range, backing and bad input covers both records.
 */
static struct umem *umem_test_get(struct kunit *test,
				  const struct umem_args *args)
{
	struct umem_test_ctx *ctx = test->priv;
	struct umem_args sgt_args = *args;
	struct umem *umem, *twin;

	sgt_args.flags |= UMEM_SGT;
	umem = umem_get(&sgt_args);
	if (IS_ERR(umem)) {
		sgt_args.flags &= ~UMEM_SGT;
		twin = umem_get(&sgt_args);
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR_OR_ZERO(twin), PTR_ERR(umem),
				    "the compact record fails otherwise");
		umem_release(twin, false);
		return umem;
	}
	ctx->pinned = true;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_test_release_action,
							umem), 0);
	umem_test_check_twin(test, umem, &sgt_args);
	return umem;
}

/* Release now rather than at the end of the case. */
static void umem_test_put(struct kunit *test, struct umem *umem)
{
	kunit_release_action(test, umem_test_release_action, umem);
}

static unsigned long umem_test_mmap(struct kunit *test, struct file *file,
				    size_t len, unsigned long prot,
				    unsigned long flags)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, file, 0, len, prot, flags, 0);
	KUNIT_ASSERT_FALSE_MSG(test, !addr || IS_ERR_VALUE(addr),
			       "vm_mmap(%zu bytes) failed: %ld", len, (long)addr);
	return addr;
}

static unsigned long umem_test_mmap_anon(struct kunit *test, size_t len,
					 unsigned long prot)
{
	return umem_test_mmap(test, NULL, len, prot, MAP_ANONYMOUS | MAP_PRIVATE);
}

/* The byte the tests write at user address @uaddr. */
static u8 umem_test_byte(unsigned long uaddr)
{
	return uaddr ^ (uaddr >> 9) ^ (uaddr >> 17);
}

static void umem_test_pattern(u8 *buf, unsigned long uaddr, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = umem_test_byte(uaddr + i);
}

/* Offset of the first byte of @buf that is not the pattern, or @len. */
static size_t umem_test_pattern_mismatch(const u8 *buf, unsigned long uaddr,
					 size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != umem_test_byte(uaddr + i))
			return i;
	return len;
}

/* Write the pattern to [@uaddr, @uaddr + @len), faulting the pages in. */
static void umem_test_fill(struct kunit *test, unsigned long uaddr, size_t len)
{
	u8 *buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	size_t off, n;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (off = 0; off < len; off += n) {
		n = min_t(size_t, len - off, PAGE_SIZE - ((uaddr + off) & ~PAGE_MASK));
		umem_test_pattern(buf, uaddr + off, n);
		KUNIT_ASSERT_EQ_MSG(test,
				    copy_to_user((void __user *)(uaddr + off), buf, n),
				    0, "copy_to_user() at offset %zu", off);
	}
	kunit_kfree(test, buf);
}

static unsigned int umem_test_sg_len(struct scatterlist *sg, bool dma)
{
	return dma ? sg_dma_len(sg) : sg->length;
}

static u64 umem_test_sg_addr(struct scatterlist *sg, bool dma)
{
	return dma ? sg_dma_address(sg) : sg_phys(sg);
}

static unsigned int umem_test_view_nents(const struct umem *umem, bool dma)
{
	return dma ? umem->sgt_append.sgt.nents : umem->sgt_append.sgt.orig_nents;
}

/*
 * Whether @pgsz blocks at @iova describe @umem's view: every page sits at
 * the same offset in its block as its IOVA does, and pages that share a
 * block are contiguous. Checked page by page, independently of how umem
 * computes it.
 */
static bool umem_test_pgsz_works(const struct umem *umem, unsigned long pgsz,
				 unsigned long iova, bool dma)
{
	unsigned long page_iova = iova - umem_offset(umem);
	struct scatterlist *sg;
	u64 prev = 0;
	bool first = true;
	unsigned int i, k;

	if ((iova ^ umem->address) & ~PAGE_MASK)
		return false;
	for_each_sg(umem->sgt_append.sgt.sgl, sg, umem_test_view_nents(umem, dma), i) {
		u64 addr = umem_test_sg_addr(sg, dma);

		for (k = 0; k < umem_test_sg_len(sg, dma); k += PAGE_SIZE) {
			if (((addr + k) ^ page_iova) & (pgsz - 1))
				return false;
			if (!first && (page_iova & (pgsz - 1)) &&
			    addr + k != prev + PAGE_SIZE)
				return false;
			prev = addr + k;
			page_iova += PAGE_SIZE;
			first = false;
		}
	}
	return true;
}

/*
 * The page size ib_umem_find_best_pgsz() semantics ask for: the largest in
 * @bitmap that works, but no larger than the smallest that covers the whole
 * range in one block.
 */
static unsigned long umem_test_ref_pgsz(const struct umem *umem,
					unsigned long bitmap,
					unsigned long iova, bool dma)
{
	unsigned long last, best = 0;
	unsigned int bit;

	if (check_add_overflow(iova, umem->length - 1, &last))
		return 0;
	for_each_set_bit(bit, &bitmap, BITS_PER_LONG) {
		unsigned long pgsz = BIT(bit);

		if (pgsz < PAGE_SIZE)
			continue;
		if (!umem_test_pgsz_works(umem, pgsz, iova, dma))
			break;
		best = pgsz;
		if ((iova ^ last) < pgsz)
			break;
	}
	return best;
}

/*
 * Walk @umem's view in @pgsz blocks and check the walk: as many blocks as
 * umem_num_blocks(), each aligned to @pgsz, and every page of the view found
 * in the block its IOVA falls in, at the IOVA's offset in the block. The
 * last property is what a device relies on, and it implies that the blocks
 * follow the scatterlist in order.
 */
static void umem_test_check_blocks(struct kunit *test, struct umem *umem,
				   unsigned long pgsz, unsigned long iova,
				   bool dma)
{
	size_t nblocks = umem_num_blocks(umem, pgsz, iova);
	unsigned long page_iova = iova - umem_offset(umem);
	unsigned long base = ALIGN_DOWN(iova, pgsz);
	size_t n = 0, bad = 0, first_bad = 0;
	struct scatterlist *sg;
	unsigned long npages = 0;
	unsigned int i, k;
	u64 *blocks;

	KUNIT_ASSERT_GE(test, pgsz, PAGE_SIZE);
	KUNIT_ASSERT_GT(test, nblocks, 0);
	blocks = kunit_kcalloc(test, nblocks, sizeof(*blocks), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, blocks);

	if (dma) {
		struct umem_dma_block_iter iter;

		umem_for_each_dma_block(umem, &iter, pgsz, iova) {
			if (n < nblocks)
				blocks[n] = umem_block_dma_address(&iter);
			n++;
		}
	} else {
		struct umem_phys_block_iter iter;

		umem_for_each_phys_block(umem, &iter, pgsz, iova) {
			if (n < nblocks)
				blocks[n] = umem_block_phys_address(&iter);
			n++;
		}
	}
	KUNIT_ASSERT_EQ(test, n, nblocks);

	for (i = 0; i < nblocks; i++)
		if (blocks[i] & (pgsz - 1))
			bad++;
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "blocks not aligned to %lu", pgsz);

	bad = 0;
	for_each_sg(umem->sgt_append.sgt.sgl, sg, umem_test_view_nents(umem, dma), i) {
		u64 addr = umem_test_sg_addr(sg, dma);

		for (k = 0; k < umem_test_sg_len(sg, dma); k += PAGE_SIZE) {
			size_t b = (page_iova - base) / pgsz;

			if (b >= nblocks ||
			    blocks[b] + (page_iova & (pgsz - 1)) != addr + k) {
				if (!bad++)
					first_bad = npages;
			}
			page_iova += PAGE_SIZE;
			npages++;
		}
	}
	KUNIT_EXPECT_EQ(test, npages, umem->npages);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0,
			    "page %zu (and %zu more) not where its %lu block says",
			    first_bad, bad ? bad - 1 : 0, pgsz);
}

/* Check the invariants of the CPU view every umem has. */
static void umem_test_check_sgl(struct kunit *test, struct umem *umem,
				unsigned int max_seg_size)
{
	struct sg_table *sgt = &umem->sgt_append.sgt;
	unsigned long pages = 0;
	struct scatterlist *sg;
	unsigned int i, bad = 0;

	KUNIT_EXPECT_GE(test, sgt->orig_nents, 1);
	KUNIT_EXPECT_LE(test, sgt->orig_nents, umem->npages);
	for_each_sgtable_sg(sgt, sg, i) {
		if (sg->offset || !sg->length || (sg->length & ~PAGE_MASK) ||
		    (max_seg_size && sg->length > max_seg_size))
			bad++;
		pages += sg->length >> PAGE_SHIFT;
		if (i == sgt->orig_nents - 1)
			KUNIT_EXPECT_TRUE(test, sg_is_last(sg));
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0,
			    "entries not whole pages or above max_seg_size %u",
			    max_seg_size);
	KUNIT_EXPECT_EQ(test, pages, umem->npages);
}

/*
 * The bio_vec view of @umem names the bytes its scatterlist view does: the
 * same pages in the same order, starting at the umem's first byte and
 * ending after its last, and the bytes read through an iov_iter over the
 * bio_vecs are those umem_copy_from() reads through the scatterlist.
 */
static void umem_test_check_bvec(struct kunit *test, struct umem *umem)
{
	struct sg_table *sgt = &umem->sgt_append.sgt;
	unsigned int nr = umem_nents(umem), j = 0, m = 0, bad = 0;
	struct sg_page_iter piter;
	struct iov_iter iter;
	struct bio_vec *bv;
	size_t total = 0, pos, len, mism = 0;
	u8 *a, *b;

	bv = kunit_kcalloc(test, nr, sizeof(*bv), GFP_KERNEL);
	a = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	b = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, bv && a && b);
	KUNIT_EXPECT_EQ(test, umem_fill_bvec(umem, bv, nr - 1), -EOVERFLOW);
	KUNIT_ASSERT_EQ(test, umem_fill_bvec(umem, bv, nr), nr);

	KUNIT_EXPECT_EQ(test, bv[0].bv_offset, umem_offset(umem));
	for (j = 0; j < nr; j++) {
		total += bv[j].bv_len;
		/* Byte-contiguous: inner boundaries fall on page boundaries */
		if ((j && bv[j].bv_offset) ||
		    (j + 1 < nr && !PAGE_ALIGNED(bv[j].bv_offset + bv[j].bv_len)))
			bad++;
	}
	KUNIT_EXPECT_EQ(test, total, umem->length);

	j = 0;
	for_each_sgtable_page(sgt, &piter, 0) {
		unsigned long pfn;

		if (j == nr) {
			bad++;
			break;
		}
		pfn = page_to_pfn(bv[j].bv_page) + bv[j].bv_offset / PAGE_SIZE + m;
		if (page_to_pfn(sg_page_iter_page(&piter)) != pfn)
			bad++;
		if (++m == DIV_ROUND_UP(offset_in_page(bv[j].bv_offset) +
					bv[j].bv_len, PAGE_SIZE)) {
			j++;
			m = 0;
		}
	}
	KUNIT_EXPECT_EQ(test, j, nr);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "bio_vecs and scatterlist differ");

	iov_iter_bvec(&iter, ITER_SOURCE, bv, nr, umem->length);
	for (pos = 0; pos < umem->length; pos += len) {
		len = min_t(size_t, PAGE_SIZE, umem->length - pos);
		if (copy_from_iter(a, len, &iter) != len ||
		    umem_copy_from(b, umem, pos, len) || memcmp(a, b, len))
			mism++;
	}
	KUNIT_EXPECT_EQ_MSG(test, mism, 0,
			    "bytes read through the bio_vecs differ from the scatterlist's");
}

/*
 * Two umems of the same pages, one recorded as a scatterlist and one in the
 * compact record (or both the same way), hold the same entries, and every
 * accessor that reads the record reads the same from both: bio_vecs, bytes,
 * best physical page sizes and physical block walks.
 */
static void umem_test_check_same_record(struct kunit *test, struct umem *a,
					struct umem *b)
{
	static const unsigned long bitmaps[] = {
		SZ_4K, SZ_4K | SZ_64K | SZ_2M, SZ_4K | SZ_64K | SZ_2M | SZ_1G,
		SZ_2M | SZ_1G,
	};
	unsigned int nr = umem_nents(a), n = 0, bad = 0, i, j;
	struct umem_phys_block_iter xa, xb;
	struct umem_run_iter ia, ib;
	struct bio_vec *bva, *bvb;
	struct page_run ra, rb;
	unsigned long iovas[4];
	size_t offs[3], len;
	u8 *ba, *bb;

	KUNIT_ASSERT_EQ(test, a->npages, b->npages);
	KUNIT_ASSERT_EQ(test, a->length, b->length);
	KUNIT_ASSERT_EQ(test, nr, umem_nents(b));

	umem_run_iter_start(&ia, a);
	umem_run_iter_start(&ib, b);
	for (;;) {
		bool ma = umem_run_iter_next(&ia, &ra);
		bool mb = umem_run_iter_next(&ib, &rb);

		if (ma != mb) {
			bad++;
			break;
		}
		if (!ma)
			break;
		if (ra.pfn != rb.pfn || ra.nr_pages != rb.nr_pages)
			bad++;
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, nr);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "the two records differ");

	bva = kunit_kcalloc(test, nr, sizeof(*bva), GFP_KERNEL);
	bvb = kunit_kcalloc(test, nr, sizeof(*bvb), GFP_KERNEL);
	ba = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	bb = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, bva && bvb && ba && bb);
	KUNIT_ASSERT_EQ(test, umem_fill_bvec(a, bva, nr), nr);
	KUNIT_ASSERT_EQ(test, umem_fill_bvec(b, bvb, nr), nr);
	for (i = 0, bad = 0; i < nr; i++)
		if (bva[i].bv_page != bvb[i].bv_page ||
		    bva[i].bv_len != bvb[i].bv_len ||
		    bva[i].bv_offset != bvb[i].bv_offset)
			bad++;
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "bio_vecs of the two records differ");

	/* Bytes at the start, the middle and the end (some umems are GiBs). */
	len = min_t(size_t, a->length, 3 * PAGE_SIZE - 1);
	offs[0] = 0;
	offs[1] = (a->length - len) / 2;
	offs[2] = a->length - len;
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		KUNIT_EXPECT_EQ(test, umem_copy_from(ba, a, offs[i], len), 0);
		KUNIT_EXPECT_EQ(test, umem_copy_from(bb, b, offs[i], len), 0);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(ba, bb, len), 0,
				    "umem_copy_from() at %zu differs", offs[i]);
	}

	umem_run_iter_start(&ia, a);
	KUNIT_ASSERT_TRUE(test, umem_run_iter_next(&ia, &ra));
	iovas[0] = a->address;
	iovas[1] = a->address + PAGE_SIZE;
	iovas[2] = umem_offset(a);
	iovas[3] = PFN_PHYS(ra.pfn) + umem_offset(a);
	for (i = 0; i < ARRAY_SIZE(bitmaps); i++) {
		for (j = 0; j < ARRAY_SIZE(iovas); j++) {
			unsigned long pa = umem_find_best_phys_pgsz(a, bitmaps[i],
								    iovas[j]);
			unsigned long pb = umem_find_best_phys_pgsz(b, bitmaps[i],
								    iovas[j]);
			unsigned long pgsz = pa ?: PAGE_SIZE;

			KUNIT_EXPECT_EQ(test, pa, pb);
			/* Both walks in step, block by block. */
			n = 0;
			bad = 0;
			umem_phys_block_iter_start(&xa, a, pgsz, iovas[j]);
			umem_phys_block_iter_start(&xb, b, pgsz, iovas[j]);
			for (;;) {
				bool ma = umem_phys_block_iter_next(&xa);
				bool mb = umem_phys_block_iter_next(&xb);

				if (ma != mb) {
					bad++;
					break;
				}
				if (!ma)
					break;
				if (umem_block_phys_address(&xa) !=
				    umem_block_phys_address(&xb))
					bad++;
				n++;
			}
			KUNIT_EXPECT_EQ(test, bad, 0);
			KUNIT_EXPECT_EQ(test, n, umem_num_blocks(a, pgsz, iovas[j]));
		}
	}
}

/*
 * The compact record is never larger than a page array of the pages it
 * records (kmalloc_array(npages, 8)), nor than 8 bytes an entry rounded up
 * to a page.
 */
static void umem_test_check_compact_bytes(struct kunit *test, struct umem *umem)
{
	size_t rec = umem_metadata_bytes(umem) - kmalloc_size_roundup(sizeof(*umem));

	KUNIT_EXPECT_LE_MSG(test, rec,
			    kmalloc_size_roundup(umem->npages * sizeof(u64)),
			    "compact record of %lu pages in %u entries: %zu bytes, more than a page array",
			    umem->npages, umem_nents(umem), rec);
	KUNIT_EXPECT_LE(test, rec, PAGE_ALIGN(umem_nents(umem) * sizeof(u64)));
}

/*
 * The compact twin of @umem (see umem_test_get()): the same range pinned
 * without %UMEM_SGT, charged beyond the limit (@umem holds the charge), so
 * that it never fails for the limit's sake; compared, DMA mapped through
 * its scatterlist view, compared again, released.
 */
static void umem_test_check_twin(struct kunit *test, struct umem *umem,
				 const struct umem_args *args)
{
	struct umem_args c = *args;
	struct scatterlist *sa, *sb;
	size_t bytes;
	unsigned int i, bad = 0;
	struct umem *twin;
	int ret;

	c.flags &= ~UMEM_SGT;
	c.acct.lock_cap = true;
	twin = umem_get(&c);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, twin);
	KUNIT_EXPECT_NULL(test, twin->sgt_append.sgt.sgl);
	umem_test_check_same_record(test, umem, twin);
	umem_test_check_compact_bytes(test, twin);
	KUNIT_EXPECT_LE(test, umem_metadata_bytes(twin), umem_metadata_bytes(umem));

	/* The scatterlist view: the entries of the scatterlist record. */
	bytes = umem_metadata_bytes(twin);
	ret = umem_dma_map(twin, NULL, DMA_BIDIRECTIONAL, 0);
	if (!ret) {
		KUNIT_EXPECT_EQ(test, twin->sgt_append.sgt.orig_nents,
				umem_nents(umem));
		sb = twin->sgt_append.sgt.sgl;
		for_each_sgtable_sg(&umem->sgt_append.sgt, sa, i) {
			if (!sb || sg_page(sa) != sg_page(sb) ||
			    sa->length != sb->length || sb->offset) {
				bad++;
				break;
			}
			sb = sg_next(sb);
		}
		KUNIT_EXPECT_EQ_MSG(test, bad, 0, "scatterlist view differs");
		umem_test_check_same_record(test, umem, twin);
		umem_dma_unmap(twin);
		KUNIT_EXPECT_NULL(test, twin->sgt_append.sgt.sgl);
		KUNIT_EXPECT_EQ(test, umem_metadata_bytes(twin), bytes);
	} else {
		KUNIT_EXPECT_TRUE(test, IS_ENABLED(CONFIG_HIGHMEM) && ret == -EOPNOTSUPP);
	}
	umem_release(twin, false);
}

/* Pages spanned by [@start, @start + @length). */
static unsigned long umem_test_npages(unsigned long start, size_t length)
{
	return (PAGE_ALIGN(start + length) - ALIGN_DOWN(start, PAGE_SIZE)) >>
	       PAGE_SHIFT;
}

/* Pin and release of anonymous memory, and what the pin shows. */

struct umem_test_pin_case {
	const char *name;
	size_t offset;		/* of the first byte, from the mapping */
	size_t length;
	unsigned int flags;
};

static const struct umem_test_pin_case umem_test_pin_cases[] = {
	{ "read-only, one page", 0, PAGE_SIZE, 0 },
	{ "writable, one page", 0, PAGE_SIZE, UMEM_WRITE },
	{ "read-only, 8 pages", PAGE_SIZE, 8 * PAGE_SIZE, 0 },
	{ "writable, 8 pages", PAGE_SIZE, 8 * PAGE_SIZE, UMEM_WRITE },
	{ "writable, unaligned start and end", 100, 5 * PAGE_SIZE + 200, UMEM_WRITE },
	{ "read-only, unaligned start and end", PAGE_SIZE - 8, 3 * PAGE_SIZE, 0 },
	{ "read-only, one byte", 3 * PAGE_SIZE + 5, 1, 0 },
	{ "writable, two bytes across a page boundary", 2 * PAGE_SIZE - 1, 2,
	  UMEM_WRITE },
	{ "read-only, last byte of the mapping", UMEM_TEST_PAGES * PAGE_SIZE - 1,
	  1, 0 },
	{ "writable, whole mapping", 0, UMEM_TEST_PAGES * PAGE_SIZE, UMEM_WRITE },
};

static void umem_test_pin_desc(const struct umem_test_pin_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(umem_test_pin, umem_test_pin_cases, umem_test_pin_desc);

static void umem_test_pin_anon(struct kunit *test)
{
	const struct umem_test_pin_case *c = test->param_value;
	struct umem_args args = {
		.length = c->length,
		.flags = c->flags,
	};
	unsigned long addr, npages, first;
	struct scatterlist *sg;
	long held_before;
	struct umem *umem;
	unsigned int i, k;
	size_t bad;
	u8 *buf;

	addr = umem_test_mmap_anon(test, UMEM_TEST_PAGES * PAGE_SIZE,
				   PROT_READ | PROT_WRITE);
	umem_test_fill(test, addr, UMEM_TEST_PAGES * PAGE_SIZE);
	args.start = addr + c->offset;
	npages = umem_test_npages(args.start, args.length);
	first = ALIGN_DOWN(args.start, PAGE_SIZE);

	held_before = umem_test_pins_held();
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held() - held_before, (long)npages);

	KUNIT_EXPECT_EQ(test, umem->address, args.start);
	KUNIT_EXPECT_EQ(test, umem->length, args.length);
	KUNIT_EXPECT_EQ(test, umem->npages, npages);
	KUNIT_EXPECT_EQ(test, umem->writable, !!(c->flags & UMEM_WRITE));
	KUNIT_EXPECT_FALSE(test, umem->dma_mapped);
	KUNIT_EXPECT_PTR_EQ(test, umem->mm, current->mm);
	umem_test_check_bvec(test, umem);
	KUNIT_EXPECT_EQ(test, umem_offset(umem), args.start & ~PAGE_MASK);
	KUNIT_EXPECT_GE(test, umem_metadata_bytes(umem), sizeof(*umem));
	umem_test_check_sgl(test, umem, 0);

	/* The bytes, through umem_copy_from(). */
	buf = kunit_kmalloc(test, args.length, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_EXPECT_EQ(test, umem_copy_from(buf, umem, 0, args.length), 0);
	bad = umem_test_pattern_mismatch(buf, args.start, args.length);
	KUNIT_EXPECT_EQ_MSG(test, bad, args.length, "umem_copy_from() differs at %zu", bad);
	KUNIT_EXPECT_EQ(test, umem_copy_from(buf, umem, args.length - 1, 1), 0);
	KUNIT_EXPECT_EQ(test, buf[0], umem_test_byte(args.start + args.length - 1));
	KUNIT_EXPECT_EQ(test, umem_copy_from(buf, umem, args.length, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, umem_copy_from(buf, umem, 1, SIZE_MAX), -EINVAL);

	/* The whole pages, through the scatterlist. */
	bad = 0;
	npages = 0;
	for_each_sgtable_sg(&umem->sgt_append.sgt, sg, i) {
		for (k = 0; k < sg->length >> PAGE_SHIFT; k++, npages++) {
			u8 *p = kmap_local_page(nth_page(sg_page(sg), k));
			unsigned long uaddr = first + npages * PAGE_SIZE;

			if (umem_test_pattern_mismatch(p + sg->offset, uaddr,
						       PAGE_SIZE) != PAGE_SIZE)
				bad++;
			kunmap_local(p);
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "pages in the scatterlist do not hold what was written");

	/* A device write to a writable pin is what the user then reads. */
	if (umem->writable) {
		u8 *p = kmap_local_page(sg_page(umem->sgt_append.sgt.sgl));
		u8 val;

		p[umem_offset(umem)] = ~umem_test_byte(args.start);
		kunmap_local(p);
		KUNIT_EXPECT_EQ(test, copy_from_user(&val, (void __user *)args.start, 1), 0);
		KUNIT_EXPECT_EQ(test, val, (u8)~umem_test_byte(args.start));
	}

	umem_test_put(test, umem);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held(), held_before);
}

/* Coalescing, over page arrays with a known physical layout. */

KUNIT_DEFINE_ACTION_WRAPPER(umem_test_put_page, put_page, struct page *);
static void umem_test_free_records(struct umem *umem)
{
	umem_sgt_free(umem);
	umem_runs_free(umem);
}

KUNIT_DEFINE_ACTION_WRAPPER(umem_test_free_table, umem_test_free_records,
			    struct umem *);

/* @nr_allocs allocations of 2^@order pages each, pages in allocation order. */
static struct page **umem_test_alloc_pages(struct kunit *test,
					   unsigned int order,
					   unsigned int nr_allocs)
{
	unsigned int n = 1U << order, a, i;
	struct page **pages;

	pages = kunit_kcalloc(test, n * nr_allocs, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (a = 0; a < nr_allocs; a++) {
		struct page *page;

		page = alloc_pages(GFP_KERNEL | __GFP_COMP | __GFP_NOWARN, order);
		if (!page)
			kunit_skip(test, "cannot allocate an order-%u page", order);
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
								umem_test_put_page,
								page), 0);
		for (i = 0; i < n; i++)
			pages[a * n + i] = nth_page(page, i);
	}
	return pages;
}

/*
 * Append @npages of @pages to @umem's record as umem_init() appends a GUP
 * batch: runs from page_runs_add_pages(), then umem_sgt_append_run() or
 * umem_runs_append() per run; @left pages are still to come after these.
 */
static void umem_test_append(struct kunit *test, struct umem *umem,
			     struct page **pages, unsigned int npages,
			     unsigned int max_seg_size, unsigned long left)
{
	unsigned int max_seg = ALIGN_DOWN(max_seg_size ?: UINT_MAX, PAGE_SIZE);
	struct page_runs runs = { .max = npages };
	unsigned long done = 0;
	unsigned int i;

	runs.runs = kunit_kcalloc(test, npages, sizeof(*runs.runs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, runs.runs);
	KUNIT_ASSERT_EQ(test, page_runs_add_pages(&runs, pages, npages), npages);
	for (i = 0; i < runs.nr; i++) {
		done += runs.runs[i].nr_pages;
		if (umem->sgt_record)
			KUNIT_ASSERT_EQ(test,
					umem_sgt_append_run(umem, runs.runs[i].pfn,
							    runs.runs[i].nr_pages,
							    max_seg,
							    npages - done + left),
					0);
		else
			KUNIT_ASSERT_EQ(test,
					umem_runs_append(umem, runs.runs[i].pfn,
							 runs.runs[i].nr_pages,
							 npages - done + left),
					0);
	}
}

/*
 * A umem whose record was built from @pages, appended in one call or, with
 * @split, in two: a scatterlist with @sgt, the compact record otherwise;
 * freed at the end of the case. It stands for [UMEM_TEST_FAKE_VA + @offset,
 * + @length) and is never released with umem_release(): nothing is pinned.
 */
static struct umem *__umem_test_table(struct kunit *test, struct page **pages,
				      unsigned int npages, unsigned int split,
				      unsigned int max_seg_size,
				      unsigned int offset, size_t length,
				      bool sgt)
{
	struct umem *umem = kunit_kzalloc(test, sizeof(*umem), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, umem);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, umem_test_free_table,
							umem), 0);
	umem->sgt_record = sgt;
	umem->runs.max_pages = ALIGN_DOWN(max_seg_size ?: UINT_MAX, PAGE_SIZE) >>
			       PAGE_SHIFT;
	if (split) {
		KUNIT_ASSERT_LT(test, split, npages);
		umem_test_append(test, umem, pages, split, max_seg_size,
				 npages - split);
	}
	umem_test_append(test, umem, pages + split, npages - split,
			 max_seg_size, 0);
	umem->address = UMEM_TEST_FAKE_VA + offset;
	umem->length = length;
	umem->npages = npages;
	return umem;
}

/*
 * The scatterlist-recorded umem of __umem_test_table(), checked against its
 * compact twin built from the same pages the same way.
 */
static struct umem *umem_test_table(struct kunit *test, struct page **pages,
				    unsigned int npages, unsigned int split,
				    unsigned int max_seg_size,
				    unsigned int offset, size_t length)
{
	struct umem *umem, *twin;

	umem = __umem_test_table(test, pages, npages, split, max_seg_size,
				 offset, length, true);
	twin = __umem_test_table(test, pages, npages, split, max_seg_size,
				 offset, length, false);
	umem_test_check_same_record(test, umem, twin);
	umem_test_check_compact_bytes(test, twin);
	return umem;
}

/* Entries a correct coalescer makes of @pages: contiguous runs, cut greedily. */
static unsigned int umem_test_model_nents(struct page **pages,
					  unsigned int npages,
					  unsigned int max_seg_size)
{
	unsigned long max_pages = max_seg_size ? max_seg_size >> PAGE_SHIFT :
						 UINT_MAX >> PAGE_SHIFT;
	unsigned int i, nents = 0;
	unsigned long run = 0;

	for (i = 0; i < npages; i++) {
		if (i && page_to_pfn(pages[i]) == page_to_pfn(pages[i - 1]) + 1 &&
		    run < max_pages) {
			run++;
			continue;
		}
		nents++;
		run = 1;
	}
	return nents;
}

struct umem_test_coalesce_case {
	const char *name;
	unsigned int order;		/* of each allocation */
	unsigned int nr_allocs;
	unsigned int split;		/* pages in a first append, 0: one append */
	unsigned int max_seg_size;
	bool reverse;			/* pages in descending physical order */
	int nents;			/* expected, -1: depends on adjacency */
};

static const struct umem_test_coalesce_case umem_test_coalesce_cases[] = {
	{ "order 4: one entry", 4, 1, 0, 0, false, 1 },
	{ "order 4 in two appends: one entry", 4, 1, 7, 0, false, 1 },
	{ "order 4, max_seg_size 4 pages", 4, 1, 0, 4 * PAGE_SIZE, false, 4 },
	{ "order 4, max_seg_size 3 pages", 4, 1, 0, 3 * PAGE_SIZE, false, 6 },
	{ "order 4 in two appends, max_seg_size 3 pages", 4, 1, 7, 3 * PAGE_SIZE,
	  false, 6 },
	{ "order 4, max_seg_size rounded down to 4 pages", 4, 1, 0,
	  5 * PAGE_SIZE - 1, false, 4 },
	{ "order 4, max_seg_size PAGE_SIZE", 4, 1, 0, PAGE_SIZE, false, 16 },
	{ "order 4 backwards: no coalescing", 4, 1, 0, 0, true, 16 },
	{ "two order-2 allocations", 2, 2, 0, 0, false, -1 },
	{ "two order-2 allocations in two appends", 2, 2, 4, 0, false, -1 },
	{ "two order-0 allocations", 0, 2, 0, 0, false, -1 },
};

static void umem_test_coalesce_desc(const struct umem_test_coalesce_case *c,
				    char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(umem_test_coalesce, umem_test_coalesce_cases,
		  umem_test_coalesce_desc);

static void umem_test_coalesce(struct kunit *test)
{
	const struct umem_test_coalesce_case *c = test->param_value;
	unsigned int npages = c->nr_allocs << c->order;
	unsigned int i, k, idx = 0, bad = 0;
	unsigned int expect;
	struct scatterlist *sg;
	struct page **pages;
	struct umem *umem;

	pages = umem_test_alloc_pages(test, c->order, c->nr_allocs);
	if (c->reverse) {
		for (i = 0; i < npages / 2; i++)
			swap(pages[i], pages[npages - 1 - i]);
	}
	expect = umem_test_model_nents(pages, npages, c->max_seg_size);
	if (c->nents >= 0) {
		KUNIT_ASSERT_EQ(test, expect, c->nents);
	} else if (page_to_pfn(pages[npages / 2]) !=
		   page_to_pfn(pages[npages / 2 - 1]) + 1) {
		/* Two allocations that happen not to be adjacent. */
		KUNIT_ASSERT_EQ(test, expect, 2);
	}

	umem = umem_test_table(test, pages, npages, c->split, c->max_seg_size,
			       0, (size_t)npages << PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, umem_nents(umem), expect);
	umem_test_check_sgl(test, umem, ALIGN_DOWN(c->max_seg_size, PAGE_SIZE));
	/* max_seg_size splits and merged runs, seen as bio_vecs */
	umem_test_check_bvec(test, umem);

	/* Each entry is the run of pages it stands for, in order. */
	for_each_sgtable_sg(&umem->sgt_append.sgt, sg, i) {
		for (k = 0; k < sg->length >> PAGE_SHIFT; k++, idx++)
			if (idx >= npages || nth_page(sg_page(sg), k) != pages[idx])
				bad++;
	}
	KUNIT_EXPECT_EQ(test, idx, npages);
	KUNIT_EXPECT_EQ(test, bad, 0);
}

/*
 * The generic run builder: pfn-adjacent pages make one run, pages in any
 * other order make one run each, a full array stops it and says how far it
 * got, and only a page that follows the last run still fits then.
 */
static void umem_test_page_runs(struct kunit *test)
{
	struct page **pages = umem_test_alloc_pages(test, 2, 1);
	unsigned long pfn = page_to_pfn(pages[0]);
	struct page_run r[2];
	struct page_runs runs = { .runs = r, .max = 1 };
	struct page *rev[4];
	unsigned int i;

	/* Four adjacent pages, one run even in a one-run array. */
	KUNIT_EXPECT_EQ(test, page_runs_add_pages(&runs, pages, 4), 4);
	KUNIT_EXPECT_EQ(test, runs.nr, 1);
	KUNIT_EXPECT_EQ(test, r[0].pfn, pfn);
	KUNIT_EXPECT_EQ(test, r[0].nr_pages, 4);
	/* Full: only a page that follows the last run fits. */
	KUNIT_EXPECT_TRUE(test, page_runs_can_add(&runs, pfn + 4));
	KUNIT_EXPECT_FALSE(test, page_runs_can_add(&runs, pfn));
	KUNIT_EXPECT_FALSE(test, page_runs_add(&runs, pfn, 1));
	KUNIT_EXPECT_EQ(test, runs.nr, 1);

	/* Backwards: every page is a run; two fit, the count says so. */
	for (i = 0; i < 4; i++)
		rev[i] = pages[3 - i];
	runs.nr = 0;
	runs.max = 2;
	KUNIT_EXPECT_EQ(test, page_runs_add_pages(&runs, rev, 4), 2);
	KUNIT_EXPECT_EQ(test, runs.nr, 2);
	KUNIT_EXPECT_EQ(test, r[0].pfn, pfn + 3);
	KUNIT_EXPECT_EQ(test, r[1].pfn, pfn + 2);
	KUNIT_EXPECT_EQ(test, r[1].nr_pages, 1);
}

/*
 * Best page size and block walks over page-array tables. An order-n
 * allocation is 2^n pages aligned to its size, so the expected sizes below
 * hold whatever physical address the allocator returns. They assume 4 KiB
 * pages.
 */

struct umem_test_pgsz_case {
	const char *name;
	unsigned int order;		/* of each allocation */
	unsigned int nr_allocs;
	unsigned int first;		/* first page of the allocations used */
	unsigned int npages;
	unsigned int offset;		/* of the first byte in the first page */
	unsigned int tail;		/* bytes of the last page not covered */
	bool iova_is_pa;		/* iova is relative to the first page's PA */
	unsigned long iova;
	unsigned long bitmap;
	unsigned long pgsz;		/* expected */
};

#define UMEM_TEST_4K_64K_2M	(SZ_4K | SZ_64K | SZ_2M)
#define UMEM_TEST_ALL_SIZES	(SZ_4K | SZ_64K | SZ_2M | SZ_1G)

static const struct umem_test_pgsz_case umem_test_pgsz_cases[] = {
	{ "64K run at IOVA 0", 4, 1, 0, 16, 0, 0, false, 0, UMEM_TEST_ALL_SIZES,
	  SZ_64K },
	{ "64K run at IOVA 2M", 4, 1, 0, 16, 0, 0, false, SZ_2M,
	  UMEM_TEST_ALL_SIZES, SZ_64K },
	{ "64K run at IOVA 64K+4K", 4, 1, 0, 16, 0, 0, false, SZ_64K + SZ_4K,
	  UMEM_TEST_ALL_SIZES, SZ_4K },
	{ "64K run at IOVA 32K", 4, 1, 0, 16, 0, 0, false, SZ_32K,
	  UMEM_TEST_4K_64K_2M, SZ_4K },
	{ "64K run, unaligned start and end, matching IOVA", 4, 1, 0, 16, 0x100,
	  0x80, false, 0x100, UMEM_TEST_4K_64K_2M, SZ_64K },
	{ "64K run, IOVA disagrees within the page", 4, 1, 0, 16, 0x100, 0,
	  false, 0x200, UMEM_TEST_4K_64K_2M, 0 },
	{ "64K run, no 4K in bitmap, IOVA 4K", 4, 1, 0, 16, 0, 0, false, SZ_4K,
	  SZ_64K | SZ_2M, 0 },
	{ "60K of a 64K run: one block", 4, 1, 0, 15, 0, 0, false, 0,
	  UMEM_TEST_4K_64K_2M, SZ_64K },
	{ "pages 4-11 at IOVA 16K: block starts before", 4, 1, 4, 8, 0, 0, false,
	  SZ_16K, UMEM_TEST_4K_64K_2M, SZ_64K },
	{ "pages 4-11 at IOVA 0", 4, 1, 4, 8, 0, 0, false, 0,
	  UMEM_TEST_4K_64K_2M, SZ_4K },
	{ "64K run, IOVA range wraps", 4, 1, 0, 16, 0, 0, false,
	  ULONG_MAX - SZ_4K + 1, UMEM_TEST_ALL_SIZES, 0 },
	{ "64K run ending at the top of the IOVA space", 4, 1, 0, 16, 0, 0,
	  false, ULONG_MAX - SZ_64K + 1, UMEM_TEST_ALL_SIZES, SZ_64K },
	{ "64K run at IOVA = PA, 1G only: one 1G block", 4, 1, 0, 16, 0, 0, true,
	  0, SZ_1G, SZ_1G },
	{ "64K run at IOVA 4K, 1G only", 4, 1, 0, 16, 0, 0, false, SZ_4K, SZ_1G,
	  0 },
	{ "two order-4 runs at IOVA 0", 4, 2, 0, 32, 0, 0, false, 0,
	  SZ_4K | SZ_64K, SZ_64K },
	{ "two order-4 runs at IOVA 4K", 4, 2, 0, 32, 0, 0, false, SZ_4K,
	  SZ_4K | SZ_64K, SZ_4K },
	{ "2M run at IOVA 0", 9, 1, 0, 512, 0, 0, false, 0, UMEM_TEST_ALL_SIZES,
	  SZ_2M },
	{ "2M run at IOVA = PA", 9, 1, 0, 512, 0, 0, true, 0,
	  UMEM_TEST_ALL_SIZES, SZ_2M },
	{ "2M run at IOVA 1G+2M", 9, 1, 0, 512, 0, 0, false, SZ_1G + SZ_2M,
	  UMEM_TEST_ALL_SIZES, SZ_2M },
	{ "2M run at IOVA 1M: crosses a 2M boundary", 9, 1, 0, 512, 0, 0, false,
	  SZ_1M, UMEM_TEST_ALL_SIZES, SZ_64K },
	{ "2M run at IOVA 64K", 9, 1, 0, 512, 0, 0, false, SZ_64K,
	  UMEM_TEST_4K_64K_2M, SZ_64K },
	{ "2M run less its first page, unaligned start", 9, 1, 1, 511, 0x10,
	  0x10, false, SZ_4K + 0x10, UMEM_TEST_ALL_SIZES, SZ_2M },
};

static void umem_test_pgsz_desc(const struct umem_test_pgsz_case *c,
				char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(umem_test_pgsz, umem_test_pgsz_cases, umem_test_pgsz_desc);

static void umem_test_pgsz_table(struct kunit *test)
{
	const struct umem_test_pgsz_case *c = test->param_value;
	size_t length = (size_t)c->npages * PAGE_SIZE - c->offset - c->tail;
	unsigned long pgsz, iova;
	struct page **pages;
	struct umem *umem;

	if (PAGE_SIZE != SZ_4K)
		kunit_skip(test, "the table assumes 4 KiB pages");
	pages = umem_test_alloc_pages(test, c->order, c->nr_allocs);
	umem = umem_test_table(test, pages + c->first, c->npages, 0, 0,
			       c->offset, length);
	iova = c->iova;
	if (c->iova_is_pa)
		iova += sg_phys(umem->sgt_append.sgt.sgl);

	pgsz = umem_find_best_phys_pgsz(umem, c->bitmap, iova);
	KUNIT_EXPECT_EQ(test, pgsz, c->pgsz);
	KUNIT_EXPECT_EQ(test, pgsz, umem_test_ref_pgsz(umem, c->bitmap, iova, false));
	/* Not DMA mapped: the DMA view has nothing to offer. */
	KUNIT_EXPECT_EQ(test, umem_find_best_pgsz(umem, c->bitmap, iova), 0);
	if (pgsz)
		umem_test_check_blocks(test, umem, pgsz, iova, false);
}

/*
 * Best page size and block walks over real pins, whose physical layout is
 * whatever the allocator gave: checked against umem_test_ref_pgsz().
 */

struct umem_test_view_case {
	const char *name;
	size_t offset;			/* of the first byte, from the mapping */
	size_t length;
	bool iova_is_va;		/* iova is relative to the user address */
	unsigned long iova;
	unsigned long bitmap;
};

static const struct umem_test_view_case umem_test_view_cases[] = {
	{ "whole mapping, IOVA = VA", 0, UMEM_TEST_PAGES * PAGE_SIZE, true, 0,
	  UMEM_TEST_ALL_SIZES },
	{ "unaligned start and end, IOVA = VA", 0x10, 5 * PAGE_SIZE, true, 0,
	  UMEM_TEST_ALL_SIZES },
	{ "two bytes across a page boundary", PAGE_SIZE - 1, 2, false,
	  2 * PAGE_SIZE - 1, UMEM_TEST_4K_64K_2M },
	{ "one byte", 100, 1, false, 100, UMEM_TEST_ALL_SIZES },
	{ "16 pages at IOVA 64K", 0, 16 * PAGE_SIZE, false, SZ_64K,
	  SZ_4K | SZ_64K },
	{ "7 pages, no 4K in bitmap", PAGE_SIZE / 2, 7 * PAGE_SIZE, false,
	  SZ_64K + PAGE_SIZE / 2, SZ_64K | SZ_2M },
	{ "IOVA disagrees within the page", PAGE_SIZE / 2, PAGE_SIZE, false,
	  PAGE_SIZE / 4, UMEM_TEST_ALL_SIZES },
	{ "IOVA range wraps", 0, 3 * PAGE_SIZE, false,
	  ULONG_MAX - 2 * PAGE_SIZE + 1, UMEM_TEST_ALL_SIZES },
	{ "ending at the top of the IOVA space", 0, 16 * PAGE_SIZE, false,
	  ULONG_MAX - 16 * PAGE_SIZE + 1, UMEM_TEST_ALL_SIZES },
	{ "1G only", 0, 8 * PAGE_SIZE, false, SZ_1G, SZ_1G },
};

static void umem_test_view_desc(const struct umem_test_view_case *c,
				char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(umem_test_view, umem_test_view_cases, umem_test_view_desc);

static struct umem *umem_test_view_pin(struct kunit *test,
				       const struct umem_test_view_case *c,
				       unsigned long *iova)
{
	struct umem_args args = { .length = c->length, .flags = UMEM_WRITE };
	unsigned long addr;
	struct umem *umem;

	addr = umem_test_mmap_anon(test, UMEM_TEST_PAGES * PAGE_SIZE,
				   PROT_READ | PROT_WRITE);
	umem_test_fill(test, addr, UMEM_TEST_PAGES * PAGE_SIZE);
	args.start = addr + c->offset;
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	*iova = c->iova_is_va ? args.start + c->iova : c->iova;
	return umem;
}

static void umem_test_phys_view(struct kunit *test)
{
	const struct umem_test_view_case *c = test->param_value;
	unsigned long iova, pgsz;
	struct umem *umem;

	umem = umem_test_view_pin(test, c, &iova);
	pgsz = umem_find_best_phys_pgsz(umem, c->bitmap, iova);
	KUNIT_EXPECT_EQ(test, pgsz, umem_test_ref_pgsz(umem, c->bitmap, iova, false));
	KUNIT_EXPECT_TRUE(test, !pgsz || (is_power_of_2(pgsz) && (pgsz & c->bitmap)));
	if (pgsz)
		umem_test_check_blocks(test, umem, pgsz, iova, false);
}

/* umem_dma_map(umem, NULL, DMA_BIDIRECTIONAL, 0): the DMA address is the kernel address. */
static void umem_test_dma_view(struct kunit *test)
{
	const struct umem_test_view_case *c = test->param_value;
	unsigned long iova, pgsz;
	struct umem_dma_block_iter iter;
	struct scatterlist *sg;
	struct umem *umem;
	unsigned int i, n = 0;
	int ret;

	umem = umem_test_view_pin(test, c, &iova);
	KUNIT_EXPECT_EQ(test, umem_find_best_pgsz(umem, c->bitmap, iova), 0);

	ret = umem_dma_map(umem, NULL, DMA_BIDIRECTIONAL, 0);
	if (IS_ENABLED(CONFIG_HIGHMEM) && ret == -EOPNOTSUPP)
		kunit_skip(test, "no virtual DMA on CONFIG_HIGHMEM");
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, umem->dma_mapped);
	KUNIT_EXPECT_EQ(test, umem_dma_map(umem, NULL, DMA_BIDIRECTIONAL, 0), -EBUSY);
	KUNIT_EXPECT_EQ(test, umem->sgt_append.sgt.nents, umem_nents(umem));
	for_each_sgtable_dma_sg(&umem->sgt_append.sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, sg_dma_address(sg), (dma_addr_t)(uintptr_t)sg_virt(sg));
		KUNIT_EXPECT_EQ(test, sg_dma_len(sg), sg->length);
	}

	pgsz = umem_find_best_pgsz(umem, c->bitmap, iova);
	KUNIT_EXPECT_EQ(test, pgsz, umem_test_ref_pgsz(umem, c->bitmap, iova, true));
	if (pgsz)
		umem_test_check_blocks(test, umem, pgsz, iova, true);

	umem_dma_unmap(umem);
	KUNIT_EXPECT_FALSE(test, umem->dma_mapped);
	KUNIT_EXPECT_EQ(test, umem_find_best_pgsz(umem, c->bitmap, iova), 0);
	umem_for_each_dma_block(umem, &iter, pgsz ?: PAGE_SIZE, iova)
		n++;
	KUNIT_EXPECT_EQ(test, n, 0);
	/* Unmapping twice is harmless; umem_release() would do it too. */
	umem_dma_unmap(umem);
	KUNIT_EXPECT_EQ(test, umem_dma_map(umem, NULL, DMA_BIDIRECTIONAL, 0), 0);
}

/*
 * umem_init()/umem_uninit() on a umem embedded in a larger structure, as
 * struct ib_umem embeds it: the neighbours are left alone, the pages are
 * pinned and charged while it lives, and a failed umem_init() leaves
 * nothing to undo (the fixture checks the counters at the end).
 */
struct umem_test_container {
	unsigned long before;
	struct umem umem;
	unsigned long after;
};

#define UMEM_TEST_GUARD		0x5a5a5a5aUL

static void umem_test_uninit(struct umem *umem)
{
	umem_uninit(umem, true);
}

KUNIT_DEFINE_ACTION_WRAPPER(umem_test_uninit_action, umem_test_uninit,
			    struct umem *);

static void umem_test_init_uninit(struct kunit *test)
{
	struct umem_test_ctx *ctx = test->priv;
	struct umem_args args = {
		.length = 3 * PAGE_SIZE + 2,
		.flags = UMEM_WRITE,
	};
	struct umem_test_container *c;
	s64 pinned_vm;
	u8 byte = 0;

	c = kunit_kmalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	memset(c, 0xff, sizeof(*c));
	c->before = UMEM_TEST_GUARD;
	c->after = UMEM_TEST_GUARD;

	args.start = umem_test_mmap_anon(test, UMEM_TEST_PAGES * PAGE_SIZE,
					 PROT_READ | PROT_WRITE);
	umem_test_fill(test, args.start, UMEM_TEST_PAGES * PAGE_SIZE);
	args.start += PAGE_SIZE - 1;

	/* Bad input fails before the umem is touched. */
	args.length = 0;
	KUNIT_EXPECT_EQ(test, umem_init(&c->umem, &args), -EINVAL);
	args.length = 3 * PAGE_SIZE + 2;

	pinned_vm = atomic64_read(&ctx->mm->pinned_vm);
	KUNIT_ASSERT_EQ(test, umem_init(&c->umem, &args), 0);
	ctx->pinned = true;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_test_uninit_action,
							&c->umem), 0);

	/* The last byte of a page, three pages, the first byte of the next. */
	KUNIT_EXPECT_EQ(test, c->umem.npages, 5);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->mm->pinned_vm), pinned_vm + 5);
	KUNIT_EXPECT_PTR_EQ(test, c->umem.mm, ctx->mm);
	KUNIT_EXPECT_EQ(test, c->umem.address, args.start);
	KUNIT_EXPECT_EQ(test, c->umem.length, args.length);
	KUNIT_EXPECT_TRUE(test, c->umem.writable);
	KUNIT_EXPECT_FALSE(test, c->umem.dma_mapped);
	KUNIT_EXPECT_GE(test, umem_nents(&c->umem), 1);
	KUNIT_EXPECT_EQ(test, c->before, UMEM_TEST_GUARD);
	KUNIT_EXPECT_EQ(test, c->after, UMEM_TEST_GUARD);
	KUNIT_EXPECT_EQ(test, umem_copy_from(&byte, &c->umem, 0, 1), 0);

	kunit_release_action(test, umem_test_uninit_action, &c->umem);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->mm->pinned_vm), pinned_vm);
	KUNIT_EXPECT_EQ(test, c->before, UMEM_TEST_GUARD);
	KUNIT_EXPECT_EQ(test, c->after, UMEM_TEST_GUARD);

	/* The same storage can be filled again. */
	KUNIT_ASSERT_EQ(test, umem_init(&c->umem, &args), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_test_uninit_action,
							&c->umem), 0);
	KUNIT_EXPECT_EQ(test, c->umem.npages, 5);
}

/*
 * umem_sgt_find_best_pgsz() over a table no umem owns, as an RDMA dma-buf
 * umem has: DMA entries written by hand, fewer DMA entries (nents) than
 * CPU entries as after an IOMMU merge, and the first byte at an offset.
 */
struct umem_test_sgt_case {
	const char *name;
	u64 dma[3];		/* DMA address of each entry, 2 MiB long */
	unsigned int nents;	/* DMA entries to use */
	unsigned int offset;
	size_t length;
	u64 iova;
	unsigned long expect;
};

#define UMEM_TEST_SGT_BITMAP	(SZ_4K | SZ_2M)

static const struct umem_test_sgt_case umem_test_sgt_cases[] = {
	{ "contiguous", { 0x40000000, 0x40200000 }, 2, 0, SZ_4M,
	  0x80000000, SZ_2M },
	{ "iova-misaligned", { 0x40000000, 0x40200000 }, 2, 0, SZ_4M,
	  0x80001000, SZ_4K },
	{ "gap-aligned", { 0x40000000, 0x50000000 }, 2, 0, SZ_4M,
	  0x80000000, SZ_2M },
	{ "gap-misaligned", { 0x40000000, 0x50100000 }, 2, 0, SZ_4M,
	  0x80000000, SZ_4K },
	{ "offset", { 0x40000000 }, 1, 0x800, SZ_2M - 0x800,
	  0x80000800, SZ_2M },
	{ "offset-mismatch", { 0x40000000 }, 1, 0x800, SZ_2M - 0x800,
	  0x80000000, 0 },
	{ "nents-only", { 0x40000000, 0x40200000, 0x12345000 }, 2, 0, SZ_4M,
	  0x80000000, SZ_2M },
	{ "iova-wraps", { 0x40000000 }, 1, 0, SZ_8K, U64_MAX - 0xfff, 0 },
};

static void umem_test_sgt_desc(const struct umem_test_sgt_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(umem_test_sgt, umem_test_sgt_cases, umem_test_sgt_desc);

KUNIT_DEFINE_ACTION_WRAPPER(umem_test_free_sgt, sg_free_table,
			    struct sg_table *);

static void umem_test_sgt_pgsz(struct kunit *test)
{
	const struct umem_test_sgt_case *c = test->param_value;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;

	sgt = kunit_kzalloc(test, sizeof(*sgt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(sgt, ARRAY_SIZE(c->dma), GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_test_free_sgt,
							sgt), 0);
	for_each_sgtable_sg(sgt, sg, i) {
		sg_dma_address(sg) = c->dma[i];
		sg_dma_len(sg) = SZ_2M;
	}
	sgt->nents = c->nents;

	KUNIT_EXPECT_EQ(test, umem_sgt_find_best_pgsz(sgt, c->offset, c->length,
						      UMEM_TEST_SGT_BITMAP,
						      c->iova), c->expect);
}

/* On a umem's own mapped table it agrees with umem_find_best_pgsz(). */
static void umem_test_sgt_pgsz_umem(struct kunit *test)
{
	const struct umem_test_view_case *c = test->param_value;
	unsigned long iova;
	struct umem *umem;
	int ret;

	umem = umem_test_view_pin(test, c, &iova);
	ret = umem_dma_map(umem, NULL, DMA_BIDIRECTIONAL, 0);
	if (IS_ENABLED(CONFIG_HIGHMEM) && ret == -EOPNOTSUPP)
		kunit_skip(test, "no virtual DMA on CONFIG_HIGHMEM");
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test,
			umem_sgt_find_best_pgsz(&umem->sgt_append.sgt,
						umem_offset(umem), umem->length,
						c->bitmap, iova),
			umem_find_best_pgsz(umem, c->bitmap, iova));
	KUNIT_EXPECT_EQ(test,
			umem_sgt_find_best_pgsz(&umem->sgt_append.sgt,
						umem_offset(umem), umem->length,
						c->bitmap, iova),
			umem_test_ref_pgsz(umem, c->bitmap, iova, true));
}

/*
 * Accounting: mm->pinned_vm moves by the pages the range spans, and no other
 * counter moves (umem never charges mm->locked_vm or the user's locked_vm:
 * VFIO type1 and iommufd charge those themselves).
 */

struct umem_test_acct_case {
	const char *name;
	size_t offset;
	size_t length;
	unsigned long npages;	/* pages spanned, the charge */
};

static const struct umem_test_acct_case umem_test_acct_cases[] = {
	{ "8 whole pages", 0, 8 * PAGE_SIZE, 8 },
	{ "8 pages' bytes from mid-page", 100, 8 * PAGE_SIZE, 9 },
	{ "one byte", PAGE_SIZE - 1, 1, 1 },
};

static void umem_test_acct_desc(const struct umem_test_acct_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(umem_test_acct, umem_test_acct_cases, umem_test_acct_desc);

static void umem_test_acct(struct kunit *test)
{
	const struct umem_test_acct_case *c = test->param_value;
	struct umem_test_ctx *ctx = test->priv;
	struct umem_test_counters before, want;
	struct umem_args args = { .length = c->length };
	struct umem *umem;

	args.start = umem_test_mmap_anon(test, 10 * PAGE_SIZE,
					 PROT_READ | PROT_WRITE);
	umem_test_fill(test, args.start, 10 * PAGE_SIZE);
	args.start += c->offset;

	umem_test_snapshot(ctx, &before);
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_ASSERT_EQ(test, umem->npages, c->npages);

	want = before;
	want.pinned_vm += c->npages;
	umem_test_expect_charges(test, &want);

	umem_test_put(test, umem);
	umem_test_expect_charges(test, &before);
}

/* RLIMIT_MEMLOCK: over the limit fails unless lock_cap, at the limit works. */

struct umem_test_rlimit {
	struct task_struct *task;
	struct rlimit saved;
};

static void umem_test_restore_rlimit(void *data)
{
	struct umem_test_rlimit *r = data;

	task_lock(r->task->group_leader);
	r->task->signal->rlim[RLIMIT_MEMLOCK] = r->saved;
	task_unlock(r->task->group_leader);
	put_task_struct(r->task);
}

/* Lower current's RLIMIT_MEMLOCK until the end of the case. */
static void umem_test_set_memlock(struct kunit *test, unsigned long bytes)
{
	struct umem_test_rlimit *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->task = get_task_struct(current);
	task_lock(current->group_leader);
	r->saved = current->signal->rlim[RLIMIT_MEMLOCK];
	task_unlock(current->group_leader);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_test_restore_rlimit,
							r), 0);
	KUNIT_ASSERT_LE(test, bytes, r->saved.rlim_max);
	task_lock(current->group_leader);
	current->signal->rlim[RLIMIT_MEMLOCK].rlim_cur = bytes;
	task_unlock(current->group_leader);
	KUNIT_ASSERT_EQ(test, rlimit(RLIMIT_MEMLOCK), bytes);
}

static void umem_test_rlimit(struct kunit *test)
{
	struct umem_test_ctx *ctx = test->priv;
	const unsigned long npages = 4;
	struct umem_test_counters before;
	struct umem_args args = { .length = npages * PAGE_SIZE };
	unsigned long charged;
	struct umem *umem;
	long held;

	args.start = umem_test_mmap_anon(test, args.length, PROT_READ | PROT_WRITE);
	umem_test_fill(test, args.start, args.length);

	umem_test_snapshot(ctx, &before);
	charged = before.pinned_vm;

	/* One page short: refused before anything is pinned or charged. */
	umem_test_set_memlock(test, (charged + npages - 1) << PAGE_SHIFT);
	held = umem_test_pins_held();
	umem = umem_test_get(test, &args);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(umem), -ENOMEM);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held(), held);
	umem_test_expect_charges(test, &before);

	/* The caller decided the limit does not apply: pinned and charged. */
	args.acct.lock_cap = true;
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held() - held, (long)npages);
	umem_test_put(test, umem);
	umem_test_expect_charges(test, &before);

	/*
	 * Asked only over the limit: the test thread holds CAP_IPC_LOCK, so
	 * capable() lets it through (ask_cap's "under the limit, no check" is
	 * shown by PF_SUPERPRIV in the guest suites).
	 */
	args.acct.lock_cap = false;
	args.acct.ask_cap = true;
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held() - held, (long)npages);
	umem_test_put(test, umem);
	umem_test_expect_charges(test, &before);

	/* Exactly at the limit is allowed. */
	args.acct.ask_cap = false;
	umem_test_set_memlock(test, (charged + npages) << PAGE_SHIFT);
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	umem_test_put(test, umem);
	umem_test_expect_charges(test, &before);
}

/* Bad input: umem_get() fails with the documented errno, leaving no trace. */

enum umem_test_layout {
	UMEM_TEST_RW,		/* faulted-in read/write anonymous memory */
	UMEM_TEST_RO,		/* read-only anonymous memory */
	UMEM_TEST_PROT_NONE,
	UMEM_TEST_HOLE,		/* three pages, the middle one unmapped */
	UMEM_TEST_BIG_HOLE,	/* a hole after the first GUP batch */
	UMEM_TEST_IO,		/* VM_IO set on anonymous memory */
	UMEM_TEST_PFNMAP,	/* VM_PFNMAP set on anonymous memory */
	UMEM_TEST_ABS,		/* no mapping: start is an absolute address */
	UMEM_TEST_TASK_SIZE,	/* no mapping: start is relative to TASK_SIZE */
};

struct umem_test_bad_case {
	const char *name;
	enum umem_test_layout layout;
	unsigned long start;	/* from the mapping, TASK_SIZE or 0 */
	size_t length;
	unsigned int flags;
	unsigned int max_seg_size;
	int err;
};

#define UMEM_TEST_BIG_PAGES	(PAGE_SIZE / sizeof(struct page *) + 100)

static const struct umem_test_bad_case umem_test_bad_cases[] = {
	{ "zero length", UMEM_TEST_RW, 0, 0, 0, 0, -EINVAL },
	{ "start + length wraps", UMEM_TEST_RW, 0, SIZE_MAX, 0, 0, -EINVAL },
	{ "last byte of the address space", UMEM_TEST_ABS, ULONG_MAX, 1, 0, 0,
	  -EINVAL },
	{ "ends above TASK_SIZE", UMEM_TEST_TASK_SIZE, -PAGE_SIZE,
	  2 * PAGE_SIZE, 0, 0, -EFAULT },
	{ "ends one byte above TASK_SIZE", UMEM_TEST_TASK_SIZE, -PAGE_SIZE,
	  PAGE_SIZE + 1, UMEM_WRITE, 0, -EFAULT },
	{ "starts at TASK_SIZE", UMEM_TEST_TASK_SIZE, 0, 1, 0, 0, -EFAULT },
	{ "unmapped hole mid-range", UMEM_TEST_HOLE, 0, 3 * PAGE_SIZE, 0, 0,
	  -EFAULT },
	{ "unmapped hole mid-range, write", UMEM_TEST_HOLE, 100, 2 * PAGE_SIZE,
	  UMEM_WRITE, 0, -EFAULT },
	{ "unmapped hole after the first batch", UMEM_TEST_BIG_HOLE, 0,
	  UMEM_TEST_BIG_PAGES * PAGE_SIZE, UMEM_WRITE, 0, -EFAULT },
	{ "PROT_NONE", UMEM_TEST_PROT_NONE, 0, PAGE_SIZE, 0, 0, -EFAULT },
	{ "PROT_NONE, write", UMEM_TEST_PROT_NONE, 0, PAGE_SIZE, UMEM_WRITE, 0,
	  -EFAULT },
	{ "write pin of a read-only mapping", UMEM_TEST_RO, 0, 2 * PAGE_SIZE,
	  UMEM_WRITE, 0, -EFAULT },
	{ "VM_IO mapping", UMEM_TEST_IO, 0, 2 * PAGE_SIZE, 0, 0, -EFAULT },
	{ "VM_PFNMAP mapping", UMEM_TEST_PFNMAP, 0, 2 * PAGE_SIZE, UMEM_WRITE, 0,
	  -EFAULT },
	{ "max_seg_size below PAGE_SIZE", UMEM_TEST_RW, 0, PAGE_SIZE, 0,
	  PAGE_SIZE - 1, -EINVAL },
	{ "max_seg_size 1", UMEM_TEST_RW, 0, PAGE_SIZE, 0, 1, -EINVAL },
	{ "unknown flag", UMEM_TEST_RW, 0, PAGE_SIZE, BIT(7), 0, -EINVAL },
};

static void umem_test_bad_desc(const struct umem_test_bad_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(umem_test_bad, umem_test_bad_cases, umem_test_bad_desc);

struct umem_test_vma_flags {
	struct mm_struct *mm;
	unsigned long addr;
	vm_flags_t flags;
};

static void umem_test_vma_flags_change(struct mm_struct *mm, unsigned long addr,
				       vm_flags_t flags, bool set)
{
	struct vm_area_struct *vma;

	mmap_write_lock(mm);
	vma = find_vma(mm, addr);
	if (vma && vma->vm_start <= addr) {
		if (set)
			vm_flags_set(vma, flags);
		else
			vm_flags_clear(vma, flags);
	}
	mmap_write_unlock(mm);
}

static void umem_test_vma_flags_restore(void *data)
{
	struct umem_test_vma_flags *v = data;

	umem_test_vma_flags_change(v->mm, v->addr, v->flags, false);
}

/*
 * Make the anonymous VMA at @addr look like a VM_IO or VM_PFNMAP mapping
 * until the end of the case. UML has no /dev/mem to map, and GUP decides
 * from the VMA flags alone (check_vma_flags()), so this is the path a real
 * I/O mapping takes. The memory must not be faulted in: GUP-fast does not
 * look at the VMA and would pin present anonymous pages. The flag is
 * cleared again before the mm is torn down.
 */
static void umem_test_set_vma_flags(struct kunit *test, unsigned long addr,
				    vm_flags_t flags)
{
	struct umem_test_vma_flags *v = kunit_kzalloc(test, sizeof(*v), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, v);
	v->mm = current->mm;
	v->addr = addr;
	v->flags = flags;
	umem_test_vma_flags_change(v->mm, addr, flags, true);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_test_vma_flags_restore,
							v), 0);
}

static unsigned long umem_test_bad_layout(struct kunit *test,
					  enum umem_test_layout layout)
{
	const size_t len = 4 * PAGE_SIZE;
	unsigned long addr;

	switch (layout) {
	case UMEM_TEST_ABS:
		return 0;
	case UMEM_TEST_TASK_SIZE:
		return TASK_SIZE;
	case UMEM_TEST_RO:
		return umem_test_mmap_anon(test, len, PROT_READ);
	case UMEM_TEST_PROT_NONE:
		return umem_test_mmap_anon(test, len, PROT_NONE);
	case UMEM_TEST_IO:
	case UMEM_TEST_PFNMAP:
		addr = umem_test_mmap_anon(test, len, PROT_READ | PROT_WRITE);
		umem_test_set_vma_flags(test, addr, layout == UMEM_TEST_IO ?
					VM_IO : VM_PFNMAP);
		return addr;
	case UMEM_TEST_HOLE:
		addr = umem_test_mmap_anon(test, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE);
		umem_test_fill(test, addr, 3 * PAGE_SIZE);
		KUNIT_ASSERT_EQ(test, vm_munmap(addr + PAGE_SIZE, PAGE_SIZE), 0);
		return addr;
	case UMEM_TEST_BIG_HOLE:
		addr = umem_test_mmap_anon(test, UMEM_TEST_BIG_PAGES * PAGE_SIZE,
					   PROT_READ | PROT_WRITE);
		umem_test_fill(test, addr, UMEM_TEST_BIG_PAGES * PAGE_SIZE);
		KUNIT_ASSERT_EQ(test, vm_munmap(addr + (UMEM_TEST_BIG_PAGES - 50) *
						PAGE_SIZE, PAGE_SIZE), 0);
		return addr;
	case UMEM_TEST_RW:
		break;
	}
	addr = umem_test_mmap_anon(test, len, PROT_READ | PROT_WRITE);
	umem_test_fill(test, addr, len);
	return addr;
}

static void umem_test_bad_input(struct kunit *test)
{
	const struct umem_test_bad_case *c = test->param_value;
	struct umem_test_ctx *ctx = test->priv;
	struct umem_test_counters before;
	struct umem_args args = {
		.length = c->length,
		.flags = c->flags,
		.max_seg_size = c->max_seg_size,
	};
	struct umem *umem;
	long held;

	args.start = umem_test_bad_layout(test, c->layout) + c->start;
	umem_test_snapshot(ctx, &before);
	held = umem_test_pins_held();

	umem = umem_test_get(test, &args);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(umem), c->err);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held(), held);
	umem_test_expect_charges(test, &before);
}

/*
 * umem_stream_next() hands out every page of the range once, in address
 * order, as runs of contiguous pfns; umem_unpin_pfn_range() releases a run
 * in any split, a large folio from its middle too, and counts what it
 * unpinned. 4 MiB crosses memory subsections (2 MiB), where the unpin walk
 * looks its pfns up again, and holds PMD-sized THPs where THP is always on.
 * A range of pfns without a struct page unpins nothing.
 */
static void umem_test_stream(struct kunit *test)
{
	const unsigned long npages = SZ_4M / PAGE_SIZE;
	struct umem_test_ctx *ctx = test->priv;
	unsigned long addr, done = 0, bad = 0, pfn;
	struct umem_stream st;
	long n;

	addr = umem_test_mmap_anon(test, SZ_4M + SZ_2M, PROT_READ | PROT_WRITE);
	addr = ALIGN(addr, SZ_2M);
	umem_test_fill(test, addr, SZ_4M);

	umem_stream_init(&st, current->mm, true, 0);
	while (done < npages) {
		struct umem_run run;
		unsigned long i, half;

		n = umem_stream_next(&st, addr + done * PAGE_SIZE,
				     npages - done, &run);
		KUNIT_ASSERT_GT(test, n, 0);
		ctx->pinned = true;
		KUNIT_ASSERT_EQ(test, run.npages, (unsigned long)n);
		KUNIT_ASSERT_LE(test, done + n, npages);
		KUNIT_EXPECT_FALSE(test, run.reserved);
		for (i = 0; i < n; i++) {
			u8 *p = kmap_local_page(pfn_to_page(run.pfn + i));

			if (umem_test_pattern_mismatch(p, addr + (done + i) * PAGE_SIZE,
						       PAGE_SIZE) != PAGE_SIZE)
				bad++;
			kunmap_local(p);
		}
		half = n / 2;
		KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(run.pfn, half, UMEM_UNPIN_DIRTY),
				half);
		KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(run.pfn + half,
							   n - half, 0),
				n - half);
		done += n;
	}
	umem_stream_fini(&st);
	KUNIT_EXPECT_EQ(test, done, npages);
	KUNIT_EXPECT_EQ(test, bad, 0);

	/* The top of the physical address space has no memory map. */
	pfn = PHYS_PFN(PHYS_ADDR_MAX) - 2 * (SZ_2M / PAGE_SIZE);
	KUNIT_EXPECT_FALSE(test, pfn_valid(pfn));
	KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(pfn, 2 * (SZ_2M / PAGE_SIZE),
						   UMEM_UNPIN_DIRTY), 0);
}

/*
 * The run engine: pin_user_pages_runs_fast() and pin_user_pages_runs_remote()
 * against a page-array pin of the same range. The runs must name exactly the
 * pages pin_user_pages_fast() returns, in order, and no two neighbouring
 * runs may be pfn-adjacent (they would have been one). Each GUP call may add
 * at most @max runs, so small @max exercises the short counts of a full run
 * array. Both pins are released before returning; the fixture checks the
 * balance. Return: pages the runs pinned.
 */
static unsigned long umem_test_runs_vs_pages(struct kunit *test,
					     unsigned long addr,
					     unsigned long npages,
					     unsigned int gup_flags,
					     unsigned int max, bool remote,
					     unsigned int *nr_runs)
{
	struct umem_test_ctx *ctx = test->priv;
	struct page_runs runs = { .max = 0 };
	unsigned long done = 0, i = 0, k, bad = 0;
	struct page **pages;
	unsigned int r;
	long n, npinned;

	pages = kunit_kcalloc(test, npages, sizeof(*pages), GFP_KERNEL);
	runs.runs = kunit_kcalloc(test, npages, sizeof(*runs.runs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_NOT_NULL(test, runs.runs);
	ctx->pinned = true;

	while (done < npages) {
		unsigned long start = addr + done * PAGE_SIZE;
		int locked = 1;

		runs.max = min_t(unsigned long, runs.nr + max, npages);
		if (remote) {
			mmap_read_lock(current->mm);
			n = pin_user_pages_runs_remote(current->mm, start,
						       npages - done,
						       gup_flags | FOLL_LONGTERM,
						       &runs, &locked);
			if (locked)
				mmap_read_unlock(current->mm);
		} else {
			n = pin_user_pages_runs_fast(start, npages - done,
						     gup_flags | FOLL_LONGTERM,
						     &runs);
		}
		if (n <= 0)
			break;
		KUNIT_EXPECT_LE(test, runs.nr, runs.max);
		done += n;
	}

	npinned = pin_user_pages_fast(addr, npages, gup_flags | FOLL_LONGTERM,
				      pages);
	KUNIT_EXPECT_EQ(test, npinned, (long)done);
	if (npinned < 0)
		npinned = 0;

	for (r = 0; r < runs.nr; r++) {
		if (r && runs.runs[r - 1].pfn + runs.runs[r - 1].nr_pages ==
			 runs.runs[r].pfn)
			bad++;
		for (k = 0; k < runs.runs[r].nr_pages; k++, i++)
			if (i >= npinned ||
			    page_to_pfn(pages[i]) != runs.runs[r].pfn + k)
				bad++;
	}
	KUNIT_EXPECT_EQ(test, i, done);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0,
			    "runs differ from the page array (%s, %u runs per call)",
			    remote ? "remote" : "fast", max);

	unpin_user_page_runs(runs.runs, runs.nr, false);
	unpin_user_pages(pages, npinned);
	if (nr_runs)
		*nr_runs = runs.nr;
	return done;
}

/* Both flavours, a generous and a tiny run array each. */
static void umem_test_runs_all(struct kunit *test, unsigned long addr,
			       unsigned long npages, unsigned int gup_flags,
			       unsigned long expect_pages)
{
	static const unsigned int max[] = { 512, 1 };
	unsigned int i, remote;

	for (remote = 0; remote < 2; remote++)
		for (i = 0; i < ARRAY_SIZE(max); i++)
			KUNIT_EXPECT_EQ(test,
					umem_test_runs_vs_pages(test, addr, npages,
								gup_flags,
								max[i], remote,
								NULL),
					expect_pages);
}

/*
 * Zero pages asked: 0 pinned and the runs untouched, from either flavour, as
 * pin_user_pages_fast() returns 0 for them.
 */
static void umem_test_runs_zero(struct kunit *test, unsigned long addr)
{
	struct page_run run = { .pfn = 1, .nr_pages = 1 };
	struct page_runs runs = { .runs = &run, .max = 1, .nr = 1 };
	int locked = 1;

	KUNIT_EXPECT_EQ(test, pin_user_pages_runs_fast(addr, 0, FOLL_LONGTERM,
						       &runs), 0);
	mmap_read_lock(current->mm);
	KUNIT_EXPECT_EQ(test, pin_user_pages_runs_remote(current->mm, addr, 0,
							 FOLL_LONGTERM, &runs,
							 &locked), 0);
	if (locked)
		mmap_read_unlock(current->mm);
	KUNIT_EXPECT_EQ(test, runs.nr, 1);
	KUNIT_EXPECT_EQ(test, run.pfn, 1);
	KUNIT_EXPECT_EQ(test, run.nr_pages, 1);
}

/*
 * 4K pages: faulted in or not (the slow path faults them), writable or
 * read-only, a range starting and ending mid-mapping, the shared zero page
 * of a never-written mapping, and a hole (a short count, then nothing).
 */
static void umem_test_runs_4k(struct kunit *test)
{
	const unsigned long n = UMEM_TEST_PAGES;
	unsigned long addr;

	addr = umem_test_mmap_anon(test, n * PAGE_SIZE, PROT_READ | PROT_WRITE);
	umem_test_fill(test, addr, n * PAGE_SIZE);
	umem_test_runs_all(test, addr, n, FOLL_WRITE, n);
	umem_test_runs_all(test, addr + 3 * PAGE_SIZE, n - 5, 0, n - 5);
	umem_test_runs_zero(test, addr);

	/* Not faulted in: GUP-fast finds nothing, the slow path faults. */
	addr = umem_test_mmap_anon(test, n * PAGE_SIZE, PROT_READ | PROT_WRITE);
	umem_test_runs_all(test, addr, n, FOLL_WRITE, n);

	/* Never written, read-only: the zero page, not pinned, one run each. */
	addr = umem_test_mmap_anon(test, n * PAGE_SIZE, PROT_READ);
	umem_test_runs_all(test, addr, n, 0, n);

	/* A hole after 5 pages: 5 pages pinned, then -EFAULT. */
	addr = umem_test_mmap_anon(test, n * PAGE_SIZE, PROT_READ | PROT_WRITE);
	umem_test_fill(test, addr, n * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr + 5 * PAGE_SIZE, PAGE_SIZE), 0);
	umem_test_runs_all(test, addr, n, FOLL_WRITE, 5);
}

/*
 * Huge pages: one entry per huge page, and the huge page size found.
 * hugetlb_file_setup() is not exported, so the hugetlb case needs the suite
 * built in.
 */
#define UMEM_TEST_HUGETLB \
	(IS_ENABLED(CONFIG_HUGETLBFS) && IS_BUILTIN(CONFIG_UMEM_KUNIT_TEST))

#if defined(CONFIG_TRANSPARENT_HUGEPAGE) || UMEM_TEST_HUGETLB

/* Pages of @umem's pin whose folio is at least @order. */
static unsigned long umem_test_pages_in_folios(struct umem *umem,
					       unsigned int order)
{
	struct sg_page_iter piter;
	unsigned long n = 0;

	for_each_sgtable_page(&umem->sgt_append.sgt, &piter, 0)
		if (folio_order(page_folio(sg_page_iter_page(&piter))) >= order)
			n++;
	return n;
}

/*
 * Pin two huge pages at @addr (aligned to @hsize, faulted in) and check that
 * they make one entry each with max_seg_size = @hsize, at most one each
 * without a limit, and that @hsize is the best page size.
 */
static void umem_test_huge(struct kunit *test, unsigned long addr,
			   unsigned long hsize)
{
	const unsigned long bitmap = PAGE_SIZE | hsize;
	struct umem_args args = {
		.start = addr,
		.length = 2 * hsize,
		.flags = UMEM_WRITE,
		.max_seg_size = hsize,
		.acct.lock_cap = true,
	};
	unsigned int i, nr_runs;
	struct scatterlist *sg;
	struct umem *umem;
	size_t off, bad = 0;
	u8 *buf;

	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_ASSERT_EQ(test, umem->npages, 2 * hsize / PAGE_SIZE);
	umem_test_check_sgl(test, umem, hsize);
	umem_test_check_bvec(test, umem);
	KUNIT_EXPECT_EQ(test, umem_nents(umem), 2);
	KUNIT_EXPECT_LT(test, umem_nents(umem), umem->npages);
	for_each_sgtable_sg(&umem->sgt_append.sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, sg->length, hsize);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED(sg_phys(sg), hsize));
	}
	KUNIT_EXPECT_EQ(test, umem_find_best_phys_pgsz(umem, bitmap, addr), hsize);
	KUNIT_EXPECT_EQ(test, umem_test_ref_pgsz(umem, bitmap, addr, false), hsize);
	umem_test_check_blocks(test, umem, hsize, addr, false);
	KUNIT_EXPECT_EQ(test, umem_find_best_phys_pgsz(umem, bitmap, addr + PAGE_SIZE),
			PAGE_SIZE);

	buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (off = 0; off < args.length; off += PAGE_SIZE) {
		if (umem_copy_from(buf, umem, off, PAGE_SIZE) ||
		    umem_test_pattern_mismatch(buf, addr + off, PAGE_SIZE) != PAGE_SIZE)
			bad++;
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	umem_test_put(test, umem);

	/* Without a limit two physically adjacent huge pages may merge. */
	args.max_seg_size = 0;
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	umem_test_check_sgl(test, umem, 0);
	umem_test_check_bvec(test, umem);
	KUNIT_EXPECT_LE(test, umem_nents(umem), 2);
	for_each_sgtable_sg(&umem->sgt_append.sgt, sg, i)
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED(sg->length, hsize));
	umem_test_put(test, umem);

	/*
	 * The engine under it: a huge page mapped whole is one run (two if
	 * the two are not adjacent), also from the middle of one huge page to
	 * the middle of the other.
	 */
	umem_test_runs_all(test, addr, 2 * hsize / PAGE_SIZE, FOLL_WRITE,
			   2 * hsize / PAGE_SIZE);
	umem_test_runs_all(test, addr + hsize / 2, hsize / PAGE_SIZE, 0,
			   hsize / PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, umem_test_runs_vs_pages(test, addr, 2 * hsize / PAGE_SIZE,
						      FOLL_WRITE, 512, false,
						      &nr_runs),
			2 * hsize / PAGE_SIZE);
	KUNIT_EXPECT_LE(test, nr_runs, 2);
	KUNIT_EXPECT_EQ(test, umem_test_runs_vs_pages(test, addr, 2 * hsize / PAGE_SIZE,
						      FOLL_WRITE, 512, true,
						      &nr_runs),
			2 * hsize / PAGE_SIZE);
	KUNIT_EXPECT_LE(test, nr_runs, 2);
}
#endif

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/* transparent_hugepage_flags is not exported: a module cannot tell. */
static bool umem_test_thp_always(void)
{
#if IS_BUILTIN(CONFIG_UMEM_KUNIT_TEST)
	return hugepage_global_always();
#else
	return false;
#endif
}

/*
 * No madvise(): the mapping is big enough to hold two PMD-aligned huge
 * pages and the first touch of each allocates one when THP is "always".
 */
static void umem_test_thp(struct kunit *test)
{
	const unsigned long hsize = HPAGE_PMD_SIZE;
	struct umem_args args = {
		.length = 2 * hsize,
		.acct.lock_cap = true,
	};
	unsigned long addr, huge;
	struct umem *umem;

	addr = umem_test_mmap_anon(test, 3 * hsize, PROT_READ | PROT_WRITE);
	args.start = ALIGN(addr, hsize);
	umem_test_fill(test, args.start, args.length);

	/* Precondition, independent of umem's coalescing: the pages are THPs. */
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	huge = umem_test_pages_in_folios(umem, HPAGE_PMD_ORDER);
	umem_test_put(test, umem);
	if (huge != 2UL * HPAGE_PMD_NR && !umem_test_thp_always())
		kunit_skip(test, "no PMD-sized THP (THP not enabled=always, or built as a module)");
	KUNIT_ASSERT_EQ_MSG(test, huge, 2UL * HPAGE_PMD_NR,
			    "THP is enabled=always but the faults gave %lu of %lu pages in PMD-sized folios",
			    huge, 2UL * HPAGE_PMD_NR);

	umem_test_huge(test, args.start, hsize);
}
#else
static void umem_test_thp(struct kunit *test)
{
	kunit_skip(test, "requires CONFIG_TRANSPARENT_HUGEPAGE");
}
#endif

/*
 * vm_mmap() ignores MAP_HUGETLB; do what ksys_mmap_pgoff() does for it:
 * map an anonymous hugetlbfs file.
 */
#if UMEM_TEST_HUGETLB
static void umem_test_hugetlb(struct kunit *test)
{
	struct hstate *h = hstate_sizelog(0);
	unsigned long addr, hsize, avail;
	struct file *file;

	if (!hugepages_supported() || !hugetlb_max_hstate || !h)
		kunit_skip(test, "no hugetlb page size on this machine");
	hsize = huge_page_size(h);
	if (hsize > UINT_MAX)
		kunit_skip(test, "hugetlb page of %lu bytes exceeds max_seg_size", hsize);
	avail = READ_ONCE(h->free_huge_pages) - READ_ONCE(h->resv_huge_pages);
	if (avail < 2)
		kunit_skip(test, "needs 2 free %lu KiB hugetlb pages, %lu available (hugepages=)",
			   hsize >> 10, avail);

	file = hugetlb_file_setup(HUGETLB_ANON_FILE, 2 * hsize, VM_NORESERVE,
				  HUGETLB_ANONHUGE_INODE, 0);
	if (IS_ERR(file) && (PTR_ERR(file) == -ENODEV || PTR_ERR(file) == -ENOENT))
		kunit_skip(test, "no hugetlbfs mount for %lu KiB pages", hsize >> 10);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	addr = kunit_vm_mmap(test, file, 0, 2 * hsize, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE, 0);
	/* The mapping holds its own reference. */
	fput(file);
	KUNIT_ASSERT_FALSE_MSG(test, !addr || IS_ERR_VALUE(addr),
			       "vm_mmap() of the hugetlb file failed: %ld", (long)addr);
	KUNIT_ASSERT_TRUE(test, IS_ALIGNED(addr, hsize));
	umem_test_fill(test, addr, 2 * hsize);

	umem_test_huge(test, addr, hsize);
}
#else
static void umem_test_hugetlb(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_HUGETLBFS))
		kunit_skip(test, "requires CONFIG_HUGETLBFS");
	kunit_skip(test, "hugetlb_file_setup() is not exported: build the suite in");
}
#endif

static void umem_test_free_reserved(void *data)
{
	struct page *page = data;

	ClearPageReserved(page);
	__free_page(page);
}

/*
 * A reserved page other than the zero page, mapped the way a driver maps
 * one with vm_insert_page() (a VM_MIXEDMAP mapping, shared so that a
 * read-only long-term pin takes the page itself rather than unsharing it):
 * GUP pins it like any page, so umem must unpin it, from its table and
 * from a pfn range; the fixture's balance check would catch a leaked pin.
 * UMEM_UNPIN_SKIP_RESERVED leaves it pinned, for callers that cannot tell
 * it from a reserved pfn they did not pin.
 */
static void umem_test_reserved(struct kunit *test)
{
	struct umem_args args = {
		.length = PAGE_SIZE,
	};
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct umem_stream st;
	struct umem_run run;
	struct umem *umem;
	struct page *page;
	long held, n;
	int ret;

	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	KUNIT_ASSERT_NOT_NULL(test, page);
	SetPageReserved(page);
	/* Registered before the mapping: freed after it is gone. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_test_free_reserved,
							page), 0);
	args.start = umem_test_mmap(test, NULL, PAGE_SIZE, PROT_READ,
				    MAP_SHARED | MAP_ANONYMOUS);
	mmap_write_lock(mm);
	vma = vma_lookup(mm, args.start);
	ret = vma ? vm_insert_page(vma, args.start, page) : -EFAULT;
	mmap_write_unlock(mm);
	KUNIT_ASSERT_EQ(test, ret, 0);

	held = umem_test_pins_held();
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_PTR_EQ(test, sg_page(umem->sgt_append.sgt.sgl), page);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held() - held, 1);
	umem_test_put(test, umem);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held(), held);

	umem_stream_init(&st, mm, false, 0);
	n = umem_stream_next(&st, args.start, 1, &run);
	umem_stream_fini(&st);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_TRUE(test, run.reserved);
	KUNIT_EXPECT_EQ(test, run.pfn, page_to_pfn(page));
	KUNIT_EXPECT_EQ(test, umem_test_pins_held() - held, 1);
	KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(run.pfn, 1,
						   UMEM_UNPIN_SKIP_RESERVED), 0);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held() - held, 1);
	KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(run.pfn, 1, 0), 1);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held(), held);
}

/*
 * Tagged pointers (arm64 TBI/MTE, HWASan, x86 LAM): the TASK_SIZE check is
 * made on the untagged address, as GUP walks it. x86_64 without LAM and UML
 * never untag, so the check is driven directly with a tag in the top byte;
 * where the mm does untag, a pin through the tagged pointer must pin what
 * the untagged one does.
 */
static void umem_test_tagged(struct kunit *test)
{
	const size_t len = 2 * PAGE_SIZE;
	unsigned long addr, tagged;
	struct umem_args args = {
		.length = len,
	};
	struct umem *umem, *tumem;

	if (BITS_PER_LONG < 64)
		kunit_skip(test, "no tag bits on 32-bit");
	addr = umem_test_mmap_anon(test, len, PROT_READ | PROT_WRITE);
	umem_test_fill(test, addr, len);
	tagged = addr | (0x5bUL << (BITS_PER_LONG - 8));

	KUNIT_EXPECT_EQ(test, umem_check_user_range(addr, len), 0);
	KUNIT_EXPECT_EQ(test, umem_check_user_range(addr + len, TASK_SIZE),
			-EFAULT);
	/* What a check on the raw pointer would have said: */
	KUNIT_EXPECT_EQ(test, umem_check_user_range(tagged, len), -EFAULT);

	args.start = addr;
	umem = umem_test_get(test, &args);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	args.start = tagged;
	tumem = umem_test_get(test, &args);
	if (untagged_addr(tagged) != addr) {
		/* This mm does not untag: the pointer is out of range. */
		KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(tumem), -EFAULT);
		return;
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, tumem);
	KUNIT_EXPECT_EQ(test, tumem->address, tagged);
	KUNIT_EXPECT_EQ(test, tumem->npages, umem->npages);
	KUNIT_EXPECT_PTR_EQ(test, sg_page(tumem->sgt_append.sgt.sgl),
			    sg_page(umem->sgt_append.sgt.sgl));
}

/*
 * __free(umem) is for error paths, where no DMA happened: it must not
 * dirty the pages it releases (a page dirtied for nothing is written back
 * for nothing, and a file page dirtied without the filesystem knowing is
 * worse).
 */
static void umem_test_free_clean(struct kunit *test)
{
	struct umem_args args = {
		.length = PAGE_SIZE,
		.flags = UMEM_WRITE | UMEM_SGT,
	};
	struct umem_test_ctx *ctx = test->priv;
	struct folio *folio;

	args.start = umem_test_mmap_anon(test, PAGE_SIZE, PROT_READ | PROT_WRITE);
	umem_test_fill(test, args.start, PAGE_SIZE);
	{
		struct umem *umem __free(umem) = umem_get(&args);

		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
		ctx->pinned = true;
		folio = page_folio(sg_page(umem->sgt_append.sgt.sgl));
		folio_get(folio);
		folio_clear_dirty(folio);
	}
	KUNIT_EXPECT_FALSE(test, folio_test_dirty(folio));
	folio_put(folio);
}

/*
 * Every failure point, after iommufd's fail_nth selftest: fail the Nth
 * fault-injection point of umem_get() (the charge, the page of runs, each
 * GUP call, each scatterlist chunk; other subsystems' points count too
 * when they are enabled), then of umem_dma_map(), for N = 1, 2, ... until
 * the call succeeds; for both records and for each accounting mode (the
 * charge is one point in all of them). After each failure: a documented
 * errno, no pin held, every counter back; the fixture checks the balance
 * at the end too.
 */
#ifdef CONFIG_FAULT_INJECTION
static void umem_test_fail_verbose_restore(void *verbose)
{
	umem_fail_set_verbose((long)verbose);
}

/*
 * A line, not a stack dump, per failure injected at umem's points for the
 * rest of the test: a sweep injects a hundred or more.
 */
static void umem_test_fail_quiet(struct kunit *test)
{
	long verbose = umem_fail_set_verbose(1);
	int ret;

	ret = kunit_add_action_or_reset(test, umem_test_fail_verbose_restore,
					(void *)verbose);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static void umem_test_fail_nth_record(struct kunit *test, unsigned int flags,
				      struct umem_acct acct)
{
	const size_t len = 1024 * PAGE_SIZE;
	struct umem_test_ctx *ctx = test->priv;
	struct umem_test_counters before;
	struct umem_args args = {
		.length = len,
		.flags = UMEM_WRITE | flags,
		.max_seg_size = PAGE_SIZE,	/* one entry a page: several chunks */
		.acct = acct,
	};
	unsigned int n, injected = 0;
	struct umem *umem = NULL;
	long held;
	int ret;

	args.start = umem_test_mmap_anon(test, len, PROT_READ | PROT_WRITE);
	umem_test_fill(test, args.start, len);
	umem_test_snapshot(ctx, &before);
	held = umem_test_pins_held();
	for (n = 1; n < 1000; n++) {
		WRITE_ONCE(current->fail_nth, n);
		umem = umem_get(&args);
		ret = PTR_ERR_OR_ZERO(umem);
		if (!ret && READ_ONCE(current->fail_nth)) {
			/* Fewer than n points: nothing was injected. */
			WRITE_ONCE(current->fail_nth, 0);
			break;
		}
		WRITE_ONCE(current->fail_nth, 0);
		if (!ret) {
			/* The nth point was not one whose failure shows. */
			umem_release(umem, false);
			umem = NULL;
			continue;
		}
		injected++;
		KUNIT_EXPECT_TRUE_MSG(test, ret == -ENOMEM || ret == -EFAULT,
				      "fail-nth %u: errno %d", n, ret);
		KUNIT_EXPECT_EQ_MSG(test, umem_test_pins_held(), held,
				    "fail-nth %u left pins", n);
		umem_test_expect_charges(test, &before);
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	ctx->pinned = true;
	/* Charge, runs page, at least one GUP call, at least two chunks */
	KUNIT_EXPECT_GE(test, injected, 5U);
	kunit_info(test, "umem_get(), %s record, %s: %u failure points injected\n",
		   flags & UMEM_SGT ? "scatterlist" : "compact",
		   acct.lock_cap ? "lock_cap" : acct.ask_cap ? "ask_cap" : "RLIMIT_MEMLOCK",
		   injected);

	for (n = 1, injected = 0; n < 100; n++) {
		WRITE_ONCE(current->fail_nth, n);
		ret = umem_dma_map(umem, NULL, DMA_BIDIRECTIONAL, 0);
		if (!ret && READ_ONCE(current->fail_nth)) {
			WRITE_ONCE(current->fail_nth, 0);
			break;
		}
		WRITE_ONCE(current->fail_nth, 0);
		if (!ret) {
			umem_dma_unmap(umem);
			continue;
		}
		injected++;
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		KUNIT_EXPECT_FALSE(test, umem->dma_mapped);
		KUNIT_EXPECT_TRUE(test, (flags & UMEM_SGT) ||
				  !umem->sgt_append.sgt.sgl);
	}
	KUNIT_EXPECT_TRUE(test, umem->dma_mapped);
	/* The compact record's view takes chunks of its own. */
	KUNIT_EXPECT_GE(test, injected, flags & UMEM_SGT ? 1U : 2U);
	umem_release(umem, false);
	KUNIT_EXPECT_EQ(test, umem_test_pins_held(), held);
	umem_test_expect_charges(test, &before);
}
#endif

static void umem_test_fail_nth(struct kunit *test)
{
#ifdef CONFIG_FAULT_INJECTION
	umem_test_fail_quiet(test);
	umem_test_fail_nth_record(test, 0, (struct umem_acct){ });
	umem_test_fail_nth_record(test, UMEM_SGT, (struct umem_acct){ });
	umem_test_fail_nth_record(test, 0, (struct umem_acct){ .lock_cap = true });
	umem_test_fail_nth_record(test, 0, (struct umem_acct){ .ask_cap = true });
#else
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
#endif
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * Stream @npages from @addr in runs of at most @max pages, unpinning each
 * run; on an error, stop, give the stream's leftovers back and return it.
 */
static long umem_test_stream_all(struct kunit *test, unsigned long addr,
				 unsigned long npages, unsigned int batch,
				 unsigned long max)
{
	unsigned long done = 0;
	struct umem_stream st;
	long n = 0;

	umem_stream_init(&st, current->mm, true, batch);
	while (done < npages) {
		struct umem_run run;

		n = umem_stream_next(&st, addr + done * PAGE_SIZE,
				     min(npages - done, max), &run);
		if (n <= 0)
			break;
		KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(run.pfn, n, 0), n);
		done += n;
	}
	umem_stream_fini(&st);
	return done == npages ? 0 : n ?: -EIO;
}
#endif

/*
 * The streaming pin under fault injection, what VFIO type1 and iommufd pin
 * with: the page of runs (absorbed: the stream then pins a run per GUP
 * call) and each GUP call. 4 MiB asked for 16 pages at a time (a fill
 * pins no more than the run asked for): a GUP call per run. Each failure
 * ends the stream with -ENOMEM (or -EFAULT) and leaves nothing pinned; the
 * runs handed out before it were the caller's and it unpinned them.
 */
static void umem_test_fail_nth_stream(struct kunit *test)
{
#ifdef CONFIG_FAULT_INJECTION
	const unsigned long npages = SZ_4M / PAGE_SIZE;
	struct umem_test_ctx *ctx = test->priv;
	unsigned int n, injected = 0, absorbed = 0;
	unsigned long addr;
	long held, ret;

	umem_test_fail_quiet(test);
	addr = umem_test_mmap_anon(test, SZ_4M, PROT_READ | PROT_WRITE);
	umem_test_fill(test, addr, SZ_4M);
	held = umem_test_pins_held();
	ctx->pinned = true;
	for (n = 1; n < 1000; n++) {
		WRITE_ONCE(current->fail_nth, n);
		ret = umem_test_stream_all(test, addr, npages, 64, 16);
		if (READ_ONCE(current->fail_nth)) {
			/* Fewer than n points: the stream ran through. */
			WRITE_ONCE(current->fail_nth, 0);
			KUNIT_EXPECT_EQ(test, ret, 0);
			break;
		}
		injected++;
		if (!ret)
			absorbed++;
		else
			KUNIT_EXPECT_TRUE_MSG(test, ret == -ENOMEM || ret == -EFAULT,
					      "fail-nth %u: errno %ld", n, ret);
		KUNIT_EXPECT_EQ_MSG(test, umem_test_pins_held(), held,
				    "fail-nth %u left pins", n);
	}
	KUNIT_EXPECT_LT(test, n, 1000U);
	/* The page of runs (absorbed) and a GUP call per run, at least. */
	KUNIT_EXPECT_GE(test, injected, 1 + npages / 16);
	KUNIT_EXPECT_GE(test, absorbed, 1U);
	kunit_info(test, "umem_stream_next(), 4M in runs of 16 pages: %u failure points injected, %u absorbed\n",
		   injected, absorbed);
#else
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
#endif
}

/*
 * A single run of more than 4 GiB (a 1G hugetlb or device-private range
 * of adjacent folios can be that long): the table splits it at the
 * largest entry a scatterlist length holds and counts every page. Only
 * the table is built, no page is touched, but pfn_to_page() of an entry's
 * first pfn needs its memory section: the run starts where that holds for
 * both entries, or the case is skipped (UML, small guests).
 */
static void umem_test_run_over_4g(struct kunit *test)
{
	const unsigned long npages = (SZ_4G >> PAGE_SHIFT) + 3;
	const unsigned int max_all = ALIGN_DOWN(UINT_MAX, PAGE_SIZE);
	const unsigned long first = max_all >> PAGE_SHIFT;
	const unsigned long bases[] = { 0x1000, 0x10000, 0x100000 };
	unsigned long pfn = 0, total = 0;
	struct umem_run_iter it;
	struct scatterlist *sg;
	struct page_run run;
	struct umem *umem;
	unsigned int i;

	if (BITS_PER_LONG < 64)
		kunit_skip(test, "a 4 GiB run needs 64-bit pfn arithmetic here");
	for (i = 0; i < ARRAY_SIZE(bases) && !pfn; i++)
		if (pfn_valid(bases[i]) && pfn_valid(bases[i] + first))
			pfn = bases[i];
	if (!pfn)
		kunit_skip(test, "no memory 4 GiB past any of the candidate pfns");
	umem = kunit_kzalloc(test, sizeof(*umem), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, umem);
	umem->sgt_record = true;
	KUNIT_ASSERT_EQ(test, umem_sgt_append_run(umem, pfn, npages, max_all, 0), 0);
	KUNIT_EXPECT_EQ(test, umem->npages, npages);
	KUNIT_EXPECT_EQ(test, umem_nents(umem), 2);
	for_each_sgtable_sg(&umem->sgt_append.sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, page_to_pfn(sg_page(sg)), pfn + total);
		KUNIT_EXPECT_EQ(test, sg->length, i ? 4 * PAGE_SIZE : max_all);
		total += sg->length >> PAGE_SHIFT;
	}
	KUNIT_EXPECT_EQ(test, total, npages);
	umem_sgt_free(umem);

	/* The compact record splits the same way: an entry's length field. */
	memset(umem, 0, sizeof(*umem));
	umem->runs.max_pages = first;
	KUNIT_ASSERT_EQ(test, umem_runs_append(umem, pfn, npages, 0), 0);
	KUNIT_EXPECT_EQ(test, umem->npages, npages);
	KUNIT_EXPECT_EQ(test, umem_nents(umem), 2);
	umem_run_iter_start(&it, umem);
	for (i = 0, total = 0; umem_run_iter_next(&it, &run); i++) {
		KUNIT_EXPECT_EQ(test, run.pfn, pfn + total);
		KUNIT_EXPECT_EQ(test, run.nr_pages, i ? 4 : first);
		total += run.nr_pages;
	}
	KUNIT_EXPECT_EQ(test, total, npages);
	umem_runs_free(umem);
}

/*
 * The compact record of fully fragmented memory, no two pages adjacent: 8
 * bytes a page, against a scatterlist entry a page (32 bytes on 64-bit
 * kernels with DMA lengths), and no more than a page array of the same
 * pages costs. The first page of each of 1536 order-1
 * allocations: three pages of entries.
 */
static void umem_test_compact_fragmented(struct kunit *test)
{
	const unsigned int n = 3 * PAGE_SIZE / sizeof(u64);
	struct page **pages, **sparse;
	struct umem *umem, *twin;
	size_t base = kmalloc_size_roundup(sizeof(*umem)), rec, sgt;
	unsigned int i;

	pages = umem_test_alloc_pages(test, 1, n);
	sparse = kunit_kcalloc(test, n, sizeof(*sparse), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sparse);
	for (i = 0; i < n; i++)
		sparse[i] = pages[2 * i];
	umem = __umem_test_table(test, sparse, n, 0, 0, 0,
				 (size_t)n << PAGE_SHIFT, true);
	twin = __umem_test_table(test, sparse, n, n / 3, 0, 0,
				 (size_t)n << PAGE_SHIFT, false);
	KUNIT_EXPECT_EQ(test, umem_nents(twin), n);
	umem_test_check_same_record(test, umem, twin);
	rec = umem_metadata_bytes(twin) - base;
	sgt = umem_metadata_bytes(umem) - base;
	KUNIT_EXPECT_EQ(test, rec, n * sizeof(u64));
	KUNIT_EXPECT_LE(test, rec, kmalloc_size_roundup(n * sizeof(struct page *)));
	KUNIT_EXPECT_GE(test, sgt, n * sizeof(struct scatterlist));
	kunit_info(test, "%u fragmented pages: compact record %zu bytes (%zu a page), scatterlist %zu\n",
		   n, rec, rec / n, sgt);
}

static struct kunit_case umem_test_cases[] = {
	KUNIT_CASE_PARAM(umem_test_pin_anon, umem_test_pin_gen_params),
	KUNIT_CASE_PARAM(umem_test_coalesce, umem_test_coalesce_gen_params),
	KUNIT_CASE(umem_test_page_runs),
	KUNIT_CASE(umem_test_run_over_4g),
	KUNIT_CASE(umem_test_compact_fragmented),
	KUNIT_CASE_PARAM(umem_test_pgsz_table, umem_test_pgsz_gen_params),
	KUNIT_CASE_PARAM(umem_test_phys_view, umem_test_view_gen_params),
	KUNIT_CASE_PARAM(umem_test_dma_view, umem_test_view_gen_params),
	KUNIT_CASE(umem_test_init_uninit),
	KUNIT_CASE_PARAM(umem_test_sgt_pgsz, umem_test_sgt_gen_params),
	KUNIT_CASE_PARAM(umem_test_sgt_pgsz_umem, umem_test_view_gen_params),
	KUNIT_CASE_PARAM(umem_test_acct, umem_test_acct_gen_params),
	KUNIT_CASE(umem_test_rlimit),
	KUNIT_CASE_PARAM(umem_test_bad_input, umem_test_bad_gen_params),
	KUNIT_CASE(umem_test_stream),
	KUNIT_CASE(umem_test_reserved),
	KUNIT_CASE(umem_test_fail_nth),
	KUNIT_CASE(umem_test_fail_nth_stream),
	KUNIT_CASE(umem_test_tagged),
	KUNIT_CASE(umem_test_free_clean),
	KUNIT_CASE(umem_test_runs_4k),
	KUNIT_CASE(umem_test_thp),
	KUNIT_CASE(umem_test_hugetlb),
	{}
};

static struct kunit_suite umem_test_suite = {
	.name = "umem",
	.init = umem_test_init,
	.test_cases = umem_test_cases,
};

kunit_test_suite(umem_test_suite);

MODULE_IMPORT_NS(UMEM);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("KUnit tests for the umem pinned-memory library");
MODULE_LICENSE("GPL");
