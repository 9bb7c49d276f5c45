// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for VFIO type1 pinning through umem (vfio_umem_glue.c).
 *
 * Included at the end of vfio_iommu_type1.c so that the cases can drive
 * the container the way its ioctls do: a type1v2 container, an emulated
 * IOMMU group attached to it (as an mdev's would be), VFIO_IOMMU_MAP_DMA of
 * real user memory from kunit_vm_mmap(), then vfio_pin_pages() and
 * vfio_unpin_pages() as an mdev driver calls them, with a device
 * registered for dma_unmap() notification. No IOMMU domain is
 * attached, so the map itself pins nothing and every pin goes through the
 * emulated path: vfio_pin_page_external() and vfio_umem_pin_page(). The
 * remote path (vfio_pin_pages_remote()) needs an IOMMU domain and is run by
 * tools/testing/selftests/vfio on a device behind intel-iommu; its glue,
 * vfio_umem_pin_run() and umem_unpin_pfn_range(), and its accounting of
 * externally pinned pages, vfio_count_vpfns(), are checked here directly.
 *
 * Every case checks at its end that the FOLL_PIN counters moved by the same
 * amount and that mm->locked_vm is back where it began.
 *
 * Not covered: VFIO_IOMMU_UNMAP_DMA of a range a device still has pinned.
 * The device's dma_unmap() must then call vfio_unpin_pages(), which takes
 * iommu->lock under the device_list_lock that vfio_notify_dma_unmap()
 * holds, while vfio_iommu_type1_register_device() takes them in the other
 * order; lockdep reports the inversion, which predates this file.
 */

#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/mman.h>
#include <linux/vmstat.h>

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define VFIO_UMEM_TEST_PAGES	64
#define VFIO_UMEM_TEST_IOVA	SZ_1G

struct vfio_umem_test {
	struct kunit *test;
	struct vfio_iommu *iommu;
	struct iommu_group *group;
	struct vfio_device vdev;
	struct mm_struct *mm;
	bool attached;
	int unmap_calls;
	unsigned long addr;
	long pins;
	unsigned long locked_vm;
};

/* Exact FOLL_PIN balance: node counters plus every CPU's pending diff. */
static long vfio_umem_test_pins(void)
{
	long held = 0;
	int nid, cpu;

	for_each_online_node(nid) {
		struct pglist_data *pgdat = NODE_DATA(nid);

		held += atomic_long_read(&pgdat->vm_stat[NR_FOLL_PIN_ACQUIRED]);
		held -= atomic_long_read(&pgdat->vm_stat[NR_FOLL_PIN_RELEASED]);
		for_each_possible_cpu(cpu) {
			struct per_cpu_nodestat *p;

			p = per_cpu_ptr(pgdat->per_cpu_nodestats, cpu);
			held += READ_ONCE(p->vm_node_stat_diff[NR_FOLL_PIN_ACQUIRED]);
			held -= READ_ONCE(p->vm_node_stat_diff[NR_FOLL_PIN_RELEASED]);
		}
	}
	return held;
}

/* The cases unmap only what nothing holds pinned: count the calls. */
static void vfio_umem_test_dma_unmap(struct vfio_device *vdev, u64 iova,
				     u64 length)
{
	struct vfio_umem_test *t = container_of(vdev, struct vfio_umem_test,
						vdev);

	t->unmap_calls++;
}

static const struct vfio_device_ops vfio_umem_test_ops = {
	.name = "vfio-umem-kunit",
	.dma_unmap = vfio_umem_test_dma_unmap,
};

static void vfio_umem_test_release(void *data)
{
	struct vfio_umem_test *t = data;

	if (t->attached) {
		vfio_iommu_type1_unregister_device(t->iommu, &t->vdev);
		vfio_iommu_type1_detach_group(t->iommu, t->group);
	}
	vfio_iommu_type1_release(t->iommu);
	iommu_group_put(t->group);
	KUNIT_EXPECT_EQ_MSG(t->test, vfio_umem_test_pins(), t->pins,
			    "FOLL_PIN counters unbalanced");
	KUNIT_EXPECT_EQ_MSG(t->test, READ_ONCE(t->mm->locked_vm),
			    t->locked_vm, "locked_vm not back");
	mmput(t->mm);
}

static u8 vfio_umem_test_byte(unsigned long i)
{
	return (i * 131 + (i >> 12) * 7 + 1) & 0xff;
}

/*
 * A type1v2 container with an emulated IOMMU group attached and @npages of
 * anonymous user memory filled with a pattern at t->addr.
 */
static struct vfio_umem_test *vfio_umem_test_setup(struct kunit *test,
						   unsigned long npages)
{
	size_t size = npages * PAGE_SIZE;
	struct vfio_umem_test *t;
	unsigned long i;
	int ret;
	u8 *buf;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->test = test;

	t->addr = kunit_vm_mmap(test, NULL, 0, size, PROT_READ | PROT_WRITE,
				MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(t->addr));
	KUNIT_ASSERT_NE(test, t->addr, 0);
	buf = kunit_kmalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < size; i++)
		buf[i] = vfio_umem_test_byte(i);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)t->addr, buf, size), 0);

	t->pins = vfio_umem_test_pins();
	t->locked_vm = READ_ONCE(current->mm->locked_vm);

	/* Actions run in another thread: keep the test thread's mm alive. */
	t->mm = current->mm;
	t->group = iommu_group_alloc();
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->group));
	t->iommu = vfio_iommu_type1_open(VFIO_TYPE1v2_IOMMU);
	if (IS_ERR(t->iommu))
		iommu_group_put(t->group);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->iommu));
	mmget(t->mm);
	ret = kunit_add_action_or_reset(test, vfio_umem_test_release, t);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, vfio_iommu_type1_attach_group(t->iommu, t->group,
							    VFIO_EMULATED_IOMMU), 0);
	t->vdev.ops = &vfio_umem_test_ops;
	vfio_iommu_type1_register_device(t->iommu, &t->vdev);
	t->attached = true;
	return t;
}

static int vfio_umem_test_map(struct vfio_umem_test *t, unsigned long vaddr,
			      size_t size, u32 flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = vaddr,
		.iova = VFIO_UMEM_TEST_IOVA,
		.size = size,
	};

	return vfio_dma_do_map(t->iommu, &map);
}

static int vfio_umem_test_unmap(struct vfio_umem_test *t, size_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = VFIO_UMEM_TEST_IOVA,
		.size = size,
	};
	int ret;

	ret = vfio_dma_do_unmap(t->iommu, &unmap, NULL);
	return ret ?: (unmap.size == size ? 0 : -ERANGE);
}

/* vfio_pin_pages() of @n pages from page @pgoff of the mapping. */
static int vfio_umem_test_pin(struct vfio_umem_test *t, unsigned long pgoff,
			      int n, int prot, struct page **pages)
{
	return vfio_iommu_type1_pin_pages(t->iommu, t->group,
					  VFIO_UMEM_TEST_IOVA + pgoff * PAGE_SIZE,
					  n, prot, pages);
}

static void vfio_umem_test_unpin(struct vfio_umem_test *t,
				 unsigned long pgoff, int n)
{
	vfio_iommu_type1_unpin_pages(t->iommu,
				     VFIO_UMEM_TEST_IOVA + pgoff * PAGE_SIZE, n);
}

/* The page holds the bytes of the pattern at user offset @off. */
static bool vfio_umem_test_page_ok(struct page *page, unsigned long off)
{
	u8 *p = kmap_local_page(page);
	bool ok = true;
	unsigned long i;

	for (i = 0; i < PAGE_SIZE && ok; i++)
		ok = p[i] == vfio_umem_test_byte(off + i);
	kunmap_local(p);
	return ok;
}

/*
 * vfio_pin_pages() of a window of a mapping: each page is the user's, is
 * charged once to locked_vm, a second pin of a page takes no new pin and no
 * new charge, a write through the pinned page is what the user reads, and
 * vfio_unpin_pages() gives everything back.
 */
static void vfio_umem_test_emulated_pin(struct kunit *test)
{
	const unsigned long npages = VFIO_UMEM_TEST_PAGES, first = 3, n = 17;
	struct vfio_umem_test *t = vfio_umem_test_setup(test, npages);
	struct page **pages, *again;
	unsigned long i, locked;
	long pins;
	int ret;
	u8 byte;

	KUNIT_ASSERT_EQ(test, vfio_umem_test_map(t, t->addr, npages * PAGE_SIZE,
						 VFIO_DMA_MAP_FLAG_READ |
						 VFIO_DMA_MAP_FLAG_WRITE), 0);
	/* No IOMMU domain: MAP_DMA pins and charges nothing. */
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, t->locked_vm);

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	ret = vfio_umem_test_pin(t, first, n, IOMMU_READ | IOMMU_WRITE, pages);
	KUNIT_ASSERT_EQ(test, ret, (int)n);
	pins = vfio_umem_test_pins();
	locked = current->mm->locked_vm;
	KUNIT_EXPECT_EQ(test, pins, t->pins + (long)n);
	KUNIT_EXPECT_EQ(test, locked, t->locked_vm + n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE_MSG(test,
				      vfio_umem_test_page_ok(pages[i],
							     (first + i) * PAGE_SIZE),
				      "pinned page %lu is not the user's", i);

	/* A second pin of a pinned page: same page, no new pin or charge. */
	ret = vfio_umem_test_pin(t, first, 1, IOMMU_READ, &again);
	KUNIT_ASSERT_EQ(test, ret, 1);
	KUNIT_EXPECT_PTR_EQ(test, again, pages[0]);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), pins);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, locked);

	/* The "device" writes through the pinned page; the user sees it. */
	memset_page(pages[n - 1], 100, 0x5a, 1);
	KUNIT_ASSERT_EQ(test, copy_from_user(&byte, (void __user *)(t->addr +
				(first + n - 1) * PAGE_SIZE + 100), 1), 0);
	KUNIT_EXPECT_EQ(test, byte, 0x5a);

	vfio_umem_test_unpin(t, first, n);
	/* The page pinned twice is still pinned and charged once. */
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins + 1);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, t->locked_vm + 1);
	vfio_umem_test_unpin(t, first, 1);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, t->locked_vm);

	/* Nothing left in the pfn_list: the unmap has no device to ask. */
	KUNIT_EXPECT_EQ(test, vfio_umem_test_unmap(t, npages * PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, t->unmap_calls, 0);
}

/*
 * vfio_pin_pages() refusals leave nothing pinned or charged: an IOVA
 * outside any mapping, a write pin of a read-only mapping, and a mapping
 * whose user memory was unmapped behind VFIO's back (a hole).
 */
static void vfio_umem_test_emulated_errors(struct kunit *test)
{
	const unsigned long npages = 8;
	struct vfio_umem_test *t = vfio_umem_test_setup(test, npages);
	struct page *pages[4];

	KUNIT_ASSERT_EQ(test, vfio_umem_test_map(t, t->addr, npages * PAGE_SIZE,
						 VFIO_DMA_MAP_FLAG_READ), 0);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pin(t, npages, 1, IOMMU_READ,
						 pages), -EINVAL);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pin(t, 0, 1,
						 IOMMU_READ | IOMMU_WRITE,
						 pages), -EPERM);

	/* A hole in the middle of the third and fourth page. */
	KUNIT_ASSERT_EQ(test, vm_munmap(t->addr + 3 * PAGE_SIZE, PAGE_SIZE), 0);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pin(t, 2, 2, IOMMU_READ, pages),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, t->locked_vm);

	KUNIT_EXPECT_EQ(test, vfio_umem_test_unmap(t, npages * PAGE_SIZE), 0);
}

/*
 * vfio_pin_pages() with every failure point it reaches failed in turn,
 * after iommufd's fail_nth selftest: the task's fail-nth fails the Nth
 * fault-injection point (umem's GUP call for each page; other subsystems'
 * points count too when they are enabled), for N = 1, 2, ... until the
 * call runs through. After each failure: -ENOMEM or -EFAULT, and nothing
 * pinned or charged, not even for the pages pinned before the failing one.
 * A failure that does not show (none here today) must leave the pages
 * pinned exactly once. At least one point a page is reached.
 */
static void vfio_umem_test_emulated_fail_nth(struct kunit *test)
{
#ifdef CONFIG_FAULT_INJECTION
	const unsigned long npages = 16, first = 2, n = 8;
	struct vfio_umem_test *t = vfio_umem_test_setup(test, npages);
	unsigned int nth, injected = 0;
	struct page **pages;
	int ret = 0;

	KUNIT_ASSERT_EQ(test, vfio_umem_test_map(t, t->addr, npages * PAGE_SIZE,
						 VFIO_DMA_MAP_FLAG_READ |
						 VFIO_DMA_MAP_FLAG_WRITE), 0);
	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (nth = 1; nth < 1000; nth++) {
		WRITE_ONCE(current->fail_nth, nth);
		ret = vfio_umem_test_pin(t, first, n, IOMMU_READ | IOMMU_WRITE,
					 pages);
		if (READ_ONCE(current->fail_nth)) {
			/* Fewer than nth points: nothing was injected. */
			WRITE_ONCE(current->fail_nth, 0);
			break;
		}
		injected++;
		if (ret == (int)n) {
			KUNIT_EXPECT_EQ_MSG(test, vfio_umem_test_pins(),
					    t->pins + (long)n,
					    "fail-nth %u absorbed, pins", nth);
			vfio_umem_test_unpin(t, first, n);
		} else {
			KUNIT_EXPECT_TRUE_MSG(test, ret == -ENOMEM || ret == -EFAULT,
					      "fail-nth %u: returned %d", nth, ret);
		}
		KUNIT_EXPECT_EQ_MSG(test, vfio_umem_test_pins(), t->pins,
				    "fail-nth %u left pins", nth);
		KUNIT_EXPECT_EQ_MSG(test, current->mm->locked_vm, t->locked_vm,
				    "fail-nth %u left a charge", nth);
	}
	KUNIT_ASSERT_EQ(test, ret, (int)n);
	KUNIT_EXPECT_GE(test, injected, (unsigned int)n);
	kunit_info(test, "vfio_pin_pages() of %lu pages: %u failure points injected\n",
		   n, injected);
	/* The call that ran through pinned and charged each page once. */
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins + (long)n);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, t->locked_vm + n);
	vfio_umem_test_unpin(t, first, n);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins);
	KUNIT_EXPECT_EQ(test, current->mm->locked_vm, t->locked_vm);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_unmap(t, npages * PAGE_SIZE), 0);
#else
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
#endif
}

/*
 * The remote-path glue on its own: vfio_umem_pin_run() cuts the range into
 * runs of contiguous pfns, whatever the batch size, each page being the
 * user's; umem_unpin_pfn_range() unpins each run and counts it; pages
 * pinned ahead are given back by umem_stream_fini().
 */
static void vfio_umem_test_pin_run(struct kunit *test)
{
	const unsigned long npages = VFIO_UMEM_TEST_PAGES;
	struct vfio_umem_test *t = vfio_umem_test_setup(test, npages);
	const bool singles[] = { false, true };
	unsigned int s;

	for (s = 0; s < ARRAY_SIZE(singles); s++) {
		struct umem_stream batch;
		unsigned long done = 0, pfn;
		long n, ret, runs = 0;
		bool rsvd;

		umem_stream_init(&batch, NULL, false, singles[s] ? 1 : 0);
		while (done < npages) {
			unsigned long i;

			n = vfio_umem_pin_run(&batch, current->mm,
					      t->addr + done * PAGE_SIZE,
					      singles[s] ? 1 : npages - done,
					      IOMMU_READ | IOMMU_WRITE, &pfn,
					      &rsvd);
			KUNIT_ASSERT_GT(test, n, 0);
			KUNIT_ASSERT_LE(test, n, (long)(npages - done));
			KUNIT_EXPECT_FALSE(test, rsvd);
			for (i = 0; i < n; i++) {
				struct page *page = pfn_to_page(pfn + i);

				KUNIT_EXPECT_TRUE(test,
						  vfio_umem_test_page_ok(page,
									 (done + i) * PAGE_SIZE));
			}
			ret = umem_unpin_pfn_range(pfn, n, UMEM_UNPIN_DIRTY |
						   UMEM_UNPIN_SKIP_RESERVED);
			KUNIT_EXPECT_EQ(test, ret, n);
			done += n;
			runs++;
		}
		KUNIT_EXPECT_EQ(test, done, npages);
		if (singles[s])
			KUNIT_EXPECT_EQ(test, runs, (long)npages);
		umem_stream_fini(&batch);
		KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins);
	}

	/* Stop after the first run: the rest of the batch is given back. */
	{
		struct umem_stream batch;
		unsigned long pfn;
		bool rsvd;
		long n;

		umem_stream_init(&batch, NULL, false, 0);
		n = vfio_umem_pin_run(&batch, current->mm, t->addr, 1,
				      IOMMU_READ, &pfn, &rsvd);
		KUNIT_ASSERT_EQ(test, n, 1);
		KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(pfn, 1, UMEM_UNPIN_SKIP_RESERVED), 1);
		/* A call elsewhere drops the pages pinned ahead first. */
		n = vfio_umem_pin_run(&batch, current->mm,
				      t->addr + 9 * PAGE_SIZE, 1, IOMMU_READ,
				      &pfn, &rsvd);
		KUNIT_ASSERT_EQ(test, n, 1);
		KUNIT_EXPECT_TRUE(test,
				  vfio_umem_test_page_ok(pfn_to_page(pfn),
							 9 * PAGE_SIZE));
		KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(pfn, 1, UMEM_UNPIN_SKIP_RESERVED), 1);
		umem_stream_fini(&batch);
		KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins);
	}

	/* A hole is -EFAULT at the start of a run, a short run before it. */
	{
		struct umem_stream batch;
		unsigned long pfn, done = 0;
		bool rsvd;
		long n;

		KUNIT_ASSERT_EQ(test, vm_munmap(t->addr + 5 * PAGE_SIZE,
						PAGE_SIZE), 0);
		umem_stream_init(&batch, NULL, false, 0);
		while (done < 5) {
			n = vfio_umem_pin_run(&batch, current->mm,
					      t->addr + done * PAGE_SIZE,
					      npages - done, IOMMU_READ,
					      &pfn, &rsvd);
			KUNIT_ASSERT_GT(test, n, 0);
			KUNIT_ASSERT_LE(test, done + n, 5UL);
			umem_unpin_pfn_range(pfn, n, UMEM_UNPIN_SKIP_RESERVED);
			done += n;
		}
		n = vfio_umem_pin_run(&batch, current->mm,
				      t->addr + 5 * PAGE_SIZE, npages - 5,
				      IOMMU_READ, &pfn, &rsvd);
		KUNIT_EXPECT_EQ(test, n, (long)-EFAULT);
		umem_stream_fini(&batch);
		KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins);
	}

	/* Reserved pfns (the zero page) are not unpinned nor counted. */
	KUNIT_EXPECT_TRUE(test, umem_pfn_reserved(my_zero_pfn(0)));
	KUNIT_EXPECT_EQ(test, umem_unpin_pfn_range(my_zero_pfn(0), 1,
						   UMEM_UNPIN_SKIP_RESERVED), 0);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_pins(), t->pins);
}

/*
 * What an unmap uncharges: pages it unpinned, less those vfio_pin_pages()
 * pinned and charged too, counted only where the pfn is not reserved, as
 * put_pfn() decided page by page before. A reserved pfn under a vpfn was
 * never charged: counting it would leave locked_vm short by one page per
 * such pfn.
 */
static void vfio_umem_test_count_vpfns(struct kunit *test)
{
	const unsigned long npages = 8;
	struct vfio_umem_test *t = vfio_umem_test_setup(test, npages);
	struct page *pages[4];
	struct vfio_dma *dma;
	unsigned long pfn;

	KUNIT_ASSERT_EQ(test, vfio_umem_test_map(t, t->addr, npages * PAGE_SIZE,
						 VFIO_DMA_MAP_FLAG_READ |
						 VFIO_DMA_MAP_FLAG_WRITE), 0);
	KUNIT_ASSERT_EQ(test, vfio_umem_test_pin(t, 0, 4, IOMMU_READ, pages), 4);
	pfn = page_to_pfn(pages[0]);

	mutex_lock(&t->iommu->lock);
	dma = vfio_find_dma(t->iommu, VFIO_UMEM_TEST_IOVA, PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, dma);
	if (dma) {
		/* Ordinary pfns: each pinned page with a vpfn counts. */
		KUNIT_EXPECT_EQ(test, vfio_count_vpfns(dma, VFIO_UMEM_TEST_IOVA,
						       pfn, 1), 1);
		KUNIT_EXPECT_EQ(test, vfio_count_vpfns(dma,
						       VFIO_UMEM_TEST_IOVA +
						       4 * PAGE_SIZE, pfn, 4), 0);
		/* The same vpfn over a reserved pfn (the zero page): not. */
		KUNIT_EXPECT_EQ(test, vfio_count_vpfns(dma, VFIO_UMEM_TEST_IOVA,
						       my_zero_pfn(0), 1), 0);
	}
	mutex_unlock(&t->iommu->lock);

	vfio_umem_test_unpin(t, 0, 4);
	KUNIT_EXPECT_EQ(test, vfio_umem_test_unmap(t, npages * PAGE_SIZE), 0);
}

/*
 * A VM_PFNMAP mapping of more than one batch of reserved pages (a BAR, as
 * far as type1 can tell): vfio_umem_pfnmap_run() follows it as one run of
 * contiguous pfns across its mmap_lock drops, and, with a fatal signal
 * pending, stops at the first drop rather than walking everything under
 * the lock.
 */
static void vfio_umem_test_pfnmap(struct kunit *test)
{
	const unsigned int order = ilog2(2 * VFIO_UMEM_PFNMAP_BATCH);
	const long npages = 1L << order;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned long addr, pfn = 0;
	struct page *pages;
	long i, n;
	int ret;

	pages = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
	if (!pages)
		kunit_skip(test, "no %ld contiguous pages", npages);
	for (i = 0; i < npages; i++)
		SetPageReserved(pages + i);
	/* The first kunit_vm_mmap() gives the test thread its mm. */
	addr = kunit_vm_mmap(test, NULL, 0, npages * PAGE_SIZE,
			     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, 0);
	ret = IS_ERR_VALUE(addr) || !addr ? -ENOMEM : 0;
	mm = current->mm;
	if (!ret) {
		mmap_write_lock(mm);
		vma = vma_lookup(mm, addr);
		ret = vma ? remap_pfn_range(vma, addr, page_to_pfn(pages),
					    npages * PAGE_SIZE,
					    vma->vm_page_prot) : -EFAULT;
		mmap_write_unlock(mm);
	}
	if (!ret) {
		n = vfio_umem_pfnmap_run(mm, addr, npages, IOMMU_READ, &pfn);
		KUNIT_EXPECT_EQ(test, n, npages);
		KUNIT_EXPECT_EQ(test, pfn, page_to_pfn(pages));

		/* A fatal signal ends the walk at the first lock drop. */
		allow_signal(SIGKILL);
		send_sig(SIGKILL, current, 1);
		n = vfio_umem_pfnmap_run(mm, addr, npages, IOMMU_READ, &pfn);
		flush_signals(current);
		disallow_signal(SIGKILL);
		KUNIT_EXPECT_EQ(test, n, (long)VFIO_UMEM_PFNMAP_BATCH);
		vm_munmap(addr, npages * PAGE_SIZE);
	}
	for (i = 0; i < npages; i++)
		ClearPageReserved(pages + i);
	__free_pages(pages, order);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static struct kunit_case vfio_umem_test_cases[] = {
	KUNIT_CASE(vfio_umem_test_emulated_pin),
	KUNIT_CASE(vfio_umem_test_emulated_errors),
	KUNIT_CASE(vfio_umem_test_emulated_fail_nth),
	KUNIT_CASE(vfio_umem_test_pin_run),
	KUNIT_CASE(vfio_umem_test_count_vpfns),
	KUNIT_CASE(vfio_umem_test_pfnmap),
	{}
};

static struct kunit_suite vfio_umem_test_suite = {
	.name = "vfio_umem",
	.test_cases = vfio_umem_test_cases,
};

kunit_test_suite(vfio_umem_test_suite);
