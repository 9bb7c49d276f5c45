// SPDX-License-Identifier: GPL-2.0
/*
 * Test driver for the umem pinned-memory library.
 *
 * /dev/test_umem lets tools/testing/selftests/umem pin a range of its own
 * memory through umem_get(), see what umem built (pages, scatterlist
 * entries, metadata, the best IOMMU page size), read the pinned bytes back
 * through umem_copy_from() and release the pin, timing both ends. Pins can
 * also be kept, owned by the open file, so that userspace can watch
 * VmPin, VmLck and /proc/vmstat while they are held. The ABI is in
 * lib/test_umem_uapi.h and is not stable.
 *
 * This is a test driver, off by default: it can pin without bound (pins
 * kept by a file outlive the mm they were charged to when the file is
 * inherited across fork) and tells its user how physically contiguous its
 * pages are, which /proc/self/pagemap hides from unprivileged users. So the
 * node is 0600 and open() also needs CAP_SYS_ADMIN. A root process may pass
 * an open file to a task that dropped its privileges, as the
 * RLIMIT_MEMLOCK test does: every pin by a task without CAP_IPC_LOCK is
 * charged and limited by RLIMIT_MEMLOCK (CAP_IPC_LOCK is asked only over
 * the limit), and an unaccounted pin needs CAP_IPC_LOCK. Do not build it
 * into production kernels.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/umem.h>
#include <linux/unaligned.h>
#include <linux/xarray.h>

#include "test_umem_uapi.h"

/*
 * umem_copy_from() skips to @offset from the start of the table on each
 * call, so the read-back costs O(length / chunk * npages): a large chunk
 * keeps a 1 GiB range of 4K pages in seconds, not minutes, under TCG.
 */
#define TEST_UMEM_CHUNK		SZ_4M

/**
 * struct test_umem_file - state of one open file
 * @pins: the kept pins, &struct test_umem_pin by handle. The xarray's
 *	own lock is enough: TEST_UMEM_RELEASE takes an entry out with
 *	xa_erase() before it touches it, so no two threads use one pin.
 */
struct test_umem_file {
	struct xarray pins;
};

/**
 * struct test_umem_pin - a pin kept by TEST_UMEM_PIN
 * @umem: the pinned range.
 * @dirty: mark the pages dirty when releasing them.
 */
struct test_umem_pin {
	struct umem *umem;
	bool dirty;
};

static int test_umem_checksum(struct umem *umem, u64 *csum)
{
	u8 *buf __free(kvfree) = kvmalloc(TEST_UMEM_CHUNK, GFP_KERNEL_ACCOUNT);
	u64 h = TEST_UMEM_CSUM_SEED;
	size_t off, len, i;
	int ret;

	if (!buf)
		return -ENOMEM;

	for (off = 0; off < umem->length; off += len) {
		len = min_t(size_t, umem->length - off, TEST_UMEM_CHUNK);
		ret = umem_copy_from(buf, umem, off, len);
		if (ret)
			return ret;
		/* The last word is zero-padded; CHUNK is a multiple of 8 */
		memset(buf + len, 0, round_up(len, 8) - len);
		for (i = 0; i < len; i += 8)
			h = (h ^ get_unaligned_le64(buf + i)) * TEST_UMEM_CSUM_PRIME;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	*csum = h;
	return 0;
}

static int test_umem_inspect(struct umem *umem, struct test_umem_cmd *cmd)
{
	static const unsigned long pgsz[TEST_UMEM_NR_PGSZ] = {
		[TEST_UMEM_PGSZ_4K]		= SZ_4K,
		[TEST_UMEM_PGSZ_4K_2M]		= SZ_4K | SZ_2M,
		[TEST_UMEM_PGSZ_4K_2M_1G]	= SZ_4K | SZ_2M | SZ_1G,
	};
	int i;

	cmd->npages = umem->npages;
	cmd->nents = umem_nents(umem);
	cmd->metadata_bytes = umem_metadata_bytes(umem);
	for (i = 0; i < TEST_UMEM_NR_PGSZ; i++)
		cmd->best_pgsz[i] = umem_find_best_phys_pgsz(umem, pgsz[i],
							     umem->address);
	return test_umem_checksum(umem, &cmd->checksum);
}

static void test_umem_clear_out(struct test_umem_cmd *cmd)
{
	cmd->npages = 0;
	cmd->nents = 0;
	cmd->metadata_bytes = 0;
	memset(cmd->best_pgsz, 0, sizeof(cmd->best_pgsz));
	cmd->pin_ns = 0;
	cmd->release_ns = 0;
	cmd->checksum = 0;
}

/* Pin and inspect the range of @cmd; release with umem_release() */
static struct umem *test_umem_get(struct test_umem_cmd *cmd)
{
	struct umem_args args = {
		.start = cmd->addr,
		.length = cmd->length,
	};
	struct umem *umem;
	u64 start;
	int ret;

	test_umem_clear_out(cmd);
	if (cmd->flags & ~(u64)TEST_UMEM_FLAGS_ALL)
		return ERR_PTR(-EINVAL);
	if (cmd->addr > ULONG_MAX || cmd->length > SIZE_MAX)
		return ERR_PTR(-EINVAL);

	/*
	 * The pins are charged to mm->pinned_vm, CAP_IPC_LOCK asked only over
	 * the limit, as RDMA does: the fd may have been passed to an
	 * unprivileged process.
	 */
	args.acct.ask_cap = true;
	if (cmd->flags & TEST_UMEM_WRITE)
		args.flags |= UMEM_WRITE;
	if (cmd->flags & TEST_UMEM_SGT)
		args.flags |= UMEM_SGT;

	start = ktime_get_ns();
	umem = umem_get(&args);
	cmd->pin_ns = ktime_get_ns() - start;
	if (IS_ERR(umem))
		return umem;

	ret = test_umem_inspect(umem, cmd);
	if (ret) {
		umem_release(umem, false);
		return ERR_PTR(ret);
	}
	return umem;
}

static u64 test_umem_release_timed(struct umem *umem, bool dirty)
{
	u64 start = ktime_get_ns();

	umem_release(umem, dirty);
	return ktime_get_ns() - start;
}

static int test_umem_pin_release(struct test_umem_cmd *cmd)
{
	struct umem *umem;

	umem = test_umem_get(cmd);
	if (IS_ERR(umem))
		return PTR_ERR(umem);
	cmd->release_ns = test_umem_release_timed(umem,
						  cmd->flags & TEST_UMEM_DIRTY);
	return 0;
}

static int test_umem_pin(struct test_umem_file *tfile,
			 struct test_umem_cmd *cmd)
{
	struct test_umem_pin *pin;
	struct umem *umem;
	u32 handle;
	int ret;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return -ENOMEM;

	umem = test_umem_get(cmd);
	if (IS_ERR(umem)) {
		ret = PTR_ERR(umem);
		goto err_free;
	}
	pin->umem = umem;
	pin->dirty = cmd->flags & TEST_UMEM_DIRTY;

	/* Undone in test_umem_release() or test_umem_fop_release() */
	ret = xa_alloc(&tfile->pins, &handle, pin, xa_limit_32b,
		       GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_release;
	cmd->handle = handle;
	return 0;

err_release:
	umem_release(umem, false);
err_free:
	kfree(pin);
	return ret;
}

static int test_umem_release(struct test_umem_file *tfile,
			     struct test_umem_cmd *cmd)
{
	struct test_umem_pin *pin;

	test_umem_clear_out(cmd);
	if (cmd->handle > U32_MAX)
		return -ENOENT;
	pin = xa_erase(&tfile->pins, cmd->handle);
	if (!pin)
		return -ENOENT;

	cmd->release_ns = test_umem_release_timed(pin->umem, pin->dirty);
	kfree(pin);
	return 0;
}

static long test_umem_fop_ioctl(struct file *file, unsigned int op,
				unsigned long arg)
{
	struct test_umem_file *tfile = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct test_umem_cmd cmd;
	int ret;

	switch (op) {
	case TEST_UMEM_PIN_RELEASE:
	case TEST_UMEM_PIN:
	case TEST_UMEM_RELEASE:
		break;
	default:
		return -ENOTTY;
	}

	if (copy_from_user(&cmd, uarg, sizeof(cmd)))
		return -EFAULT;

	switch (op) {
	case TEST_UMEM_PIN_RELEASE:
		ret = test_umem_pin_release(&cmd);
		break;
	case TEST_UMEM_PIN:
		/* If the copy out fails, the pin is still released on close */
		ret = test_umem_pin(tfile, &cmd);
		break;
	default:
		ret = test_umem_release(tfile, &cmd);
		break;
	}
	if (ret)
		return ret;

	if (copy_to_user(uarg, &cmd, sizeof(cmd)))
		return -EFAULT;
	return 0;
}

static int test_umem_fop_open(struct inode *inode, struct file *file)
{
	struct test_umem_file *tfile;

	/* It pins without bound and shows physical adjacency: root only. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	tfile = kzalloc(sizeof(*tfile), GFP_KERNEL_ACCOUNT);
	if (!tfile)
		return -ENOMEM;
	xa_init_flags(&tfile->pins, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	file->private_data = tfile;
	return 0;
}

static int test_umem_fop_release(struct inode *inode, struct file *file)
{
	struct test_umem_file *tfile = file->private_data;
	struct test_umem_pin *pin;
	unsigned long handle;

	xa_for_each(&tfile->pins, handle, pin) {
		umem_release(pin->umem, pin->dirty);
		kfree(pin);
	}
	xa_destroy(&tfile->pins);
	kfree(tfile);
	return 0;
}

static const struct file_operations test_umem_fops = {
	.owner		= THIS_MODULE,
	.open		= test_umem_fop_open,
	.release	= test_umem_fop_release,
	.unlocked_ioctl	= test_umem_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice test_umem_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "test_umem",
	.fops	= &test_umem_fops,
	.mode	= 0600,
};
module_misc_device(test_umem_misc);

MODULE_DESCRIPTION("Test driver for the umem pinned-memory library");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(UMEM);
