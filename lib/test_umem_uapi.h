/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Interface of the umem test driver, /dev/test_umem (lib/test_umem.c), for
 * tools/testing/selftests/umem. Not a stable ABI: it changes with the test.
 */
#ifndef _LIB_TEST_UMEM_UAPI_H
#define _LIB_TEST_UMEM_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* test_umem_cmd.flags */
#define TEST_UMEM_WRITE		0x1		/* pin for write */
#define TEST_UMEM_DIRTY		0x2		/* mark the pages dirty on release */
#define TEST_UMEM_SGT		0x4		/* record as a scatterlist (UMEM_SGT) */
#define TEST_UMEM_FLAGS_ALL	(TEST_UMEM_WRITE | TEST_UMEM_DIRTY | TEST_UMEM_SGT)

/* test_umem_cmd.best_pgsz[]: the page size bitmaps asked about */
#define TEST_UMEM_PGSZ_4K		0	/* 4K */
#define TEST_UMEM_PGSZ_4K_2M		1	/* 4K | 2M */
#define TEST_UMEM_PGSZ_4K_2M_1G		2	/* 4K | 2M | 1G */
#define TEST_UMEM_NR_PGSZ		3

/*
 * The checksum of a range: FNV-1a over the bytes read back through
 * umem_copy_from() taken as little-endian 64-bit words, the last word
 * zero-padded; h = SEED, then h = (h ^ word) * PRIME for each word.
 */
#define TEST_UMEM_CSUM_SEED		0xcbf29ce484222325ULL
#define TEST_UMEM_CSUM_PRIME		0x00000100000001b3ULL

/**
 * struct test_umem_cmd - argument of every test_umem ioctl
 * @addr: (in) user virtual address of the first byte to pin.
 * @length: (in) number of bytes to pin.
 * @flags: (in) TEST_UMEM_WRITE, TEST_UMEM_DIRTY, TEST_UMEM_SGT; other bits
 *	are -EINVAL.
 * @handle: (out) of TEST_UMEM_PIN, (in) of TEST_UMEM_RELEASE.
 * @npages: (out) umem->npages.
 * @nents: (out) umem_nents(), entries of the record.
 * @metadata_bytes: (out) umem_metadata_bytes().
 * @best_pgsz: (out) umem_find_best_phys_pgsz() with iova = @addr, for the
 *	bitmaps listed by TEST_UMEM_PGSZ_*.
 * @pin_ns: (out) time spent in umem_get().
 * @release_ns: (out) time spent in umem_release() (not for TEST_UMEM_PIN).
 * @checksum: (out) TEST_UMEM_CSUM over the pinned bytes, read through
 *	umem_copy_from() while pinned.
 *
 * All fields are 64 bits wide, so the layout has no padding and is the
 * same for 32-bit and 64-bit userspace.
 */
struct test_umem_cmd {
	__u64 addr;
	__u64 length;
	__u64 flags;
	__u64 handle;
	__u64 npages;
	__u64 nents;
	__u64 metadata_bytes;
	__u64 best_pgsz[TEST_UMEM_NR_PGSZ];
	__u64 pin_ns;
	__u64 release_ns;
	__u64 checksum;
};

/*
 * TEST_UMEM_PIN_RELEASE: umem_get(), read back, umem_release(); reports all
 *	out fields. Errors of umem_get() are returned unchanged.
 * TEST_UMEM_PIN: umem_get() and read back; the umem stays pinned, owned by
 *	the open file, until TEST_UMEM_RELEASE of @handle or the last close.
 * TEST_UMEM_RELEASE: umem_release() of @handle, dirtying the pages if the
 *	pin asked for TEST_UMEM_DIRTY; -ENOENT if no such handle. Reports
 *	@release_ns only.
 */
#define TEST_UMEM_PIN_RELEASE	_IOWR('U', 0x00, struct test_umem_cmd)
#define TEST_UMEM_PIN		_IOWR('U', 0x01, struct test_umem_cmd)
#define TEST_UMEM_RELEASE	_IOWR('U', 0x02, struct test_umem_cmd)

#endif /* _LIB_TEST_UMEM_UAPI_H */
