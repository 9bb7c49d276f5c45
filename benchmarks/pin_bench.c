// SPDX-License-Identifier: GPL-2.0
/*
 * pin_bench: time long-term pinning of one buffer per backing, in the guest.
 *
 *   pin_bench [--iommufd] [--only WORKLOAD] [--backing BACKING] [--repeat N] SIZE...
 *
 * For each SIZE and backing (4K pages, THP, 2M hugetlbfs, and 1G hugetlbfs
 * for whole-GiB sizes when the guest has 1G pages reserved) the buffer is
 * faulted in first, then pinned and released by whichever of these the
 * running kernel has:
 *
 *  gup-pin-fast, gup-pin-longterm
 *	the kernel's GUP benchmark (CONFIG_GUP_TEST, /sys/kernel/debug/gup_test):
 *	PIN_FAST_BENCHMARK and PIN_LONGTERM_BENCHMARK, 512 pages per call into
 *	a page array, FOLL_WRITE; pin and unpin times measured in the kernel.
 *	Today's cost floor for pinning with a page array.
 *  gup-pin-runs
 *	PIN_LONGTERM_RUNS_BENCHMARK (patched kernel only): the same range and
 *	calls through pin_user_pages_runs_fast(), physically contiguous runs
 *	instead of a page array; the kernel checks the runs against a page
 *	array pin of the range before it unpins.
 *  umem, umem-nodirty
 *	umem_get() and umem_release() through /dev/test_umem (patched kernel
 *	only), writable, pinned_vm accounting; times measured in the kernel.
 *	"umem" marks the pages dirty on release, as every DMA-write user must;
 *	"umem-nodirty" does not, like GUP_TEST's unpin: the like-for-like row.
 *  iommufd
 *	IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP of the buffer in an IOAS that the
 *	vfio-pci device's cdev is attached to (CONFIG_IOMMUFD,
 *	CONFIG_VFIO_DEVICE_CDEV; the device must already be bound to vfio-pci),
 *	timed around the ioctls.
 *
 * --only WORKLOAD (gup-pin-fast, gup-pin-longterm, gup-pin-runs, umem, umem-nodirty or
 * iommufd) and --backing 4K|THP|hugetlb run one workload or backing:
 * benchmarks/profile.sh profiles them one at a time, with --repeat N to pin
 * and release (GUP_TEST, umem), or map and unmap (iommufd), the same buffer
 * N times for enough samples.
 *
 * Output: one line per measurement,
 *	csv,<workload>,<backing>,<bytes>,<op>,<ms>
 * and "csv,<workload>,<backing>,<bytes>,metadata,<bytes per GiB>" where
 * known. Nothing is asserted about time.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/vfio.h>

#include "../lib/test_umem_uapi.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << 26)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << 26)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define SZ_2M		0x200000UL
#define SZ_1G		0x40000000UL

/* mm/gup_test.h */
struct gup_test {
	__u64 get_delta_usec;
	__u64 put_delta_usec;
	__u64 addr;
	__u64 size;
	__u32 nr_pages_per_call;
	__u32 gup_flags;
	__u32 test_flags;
	__u32 which_pages[8];
};

#define PIN_FAST_BENCHMARK	_IOWR('g', 2, struct gup_test)
#define PIN_LONGTERM_BENCHMARK	_IOWR('g', 3, struct gup_test)
#define PIN_LONGTERM_RUNS_BENCHMARK	_IOWR('g', 10, struct gup_test)
#define GUP_FOLL_WRITE		0x01

/* include/uapi/linux/iommufd.h and vfio.h (6.6+); Debian 12's are older */
#define IOMMUFD_TYPE		(';')
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define IOMMU_IOAS_ALLOC	_IO(IOMMUFD_TYPE, 0x81)
#define IOMMU_IOAS_MAP		_IO(IOMMUFD_TYPE, 0x85)
#define IOMMU_IOAS_UNMAP	_IO(IOMMUFD_TYPE, 0x86)
#define IOMMU_IOAS_MAP_FIXED_IOVA	(1 << 0)
#define IOMMU_IOAS_MAP_WRITEABLE	(1 << 1)
#define IOMMU_IOAS_MAP_READABLE		(1 << 2)

struct bench_vfio_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};

struct bench_vfio_attach_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};

#define BENCH_VFIO_DEVICE_BIND_IOMMUFD		_IO(VFIO_TYPE, VFIO_BASE + 18)
#define BENCH_VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)

/* Below edu's default 28-bit DMA mask is not needed: nothing DMAs here. */
#define BENCH_IOVA		(1ULL << 32)

enum backing { BACK_4K, BACK_THP, BACK_HUGETLB, BACK_HUGETLB_1G, NR_BACKINGS };
static const char *const backing_name[NR_BACKINGS] = {
	"4K", "THP", "hugetlb", "hugetlb-1G"
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *only;	/* --only: one workload */

static bool wanted(const char *workload)
{
	return !only || !strcmp(only, workload);
}

static void row(const char *workload, enum backing b, size_t size,
		const char *op, double val)
{
	printf("csv,%s,%s,%zu,%s,%.3f\n", workload, backing_name[b], size, op,
	       val);
	fflush(stdout);
}

struct buf {
	void *base, *addr;
	size_t maplen;
};

/* A faulted-in buffer of @size bytes of backing @b, 2M aligned. */
static int buf_alloc(enum backing b, size_t size, struct buf *m)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	uintptr_t start;

	memset(m, 0, sizeof(*m));
	if (b == BACK_HUGETLB || b == BACK_HUGETLB_1G) {
		m->maplen = size;
		m->base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       flags | MAP_HUGETLB | (b == BACK_HUGETLB ?
			       MAP_HUGE_2MB : MAP_HUGE_1GB), -1, 0);
		if (m->base == MAP_FAILED)
			return -errno;
		m->addr = m->base;
	} else {
		m->maplen = size + SZ_2M;
		m->base = mmap(NULL, m->maplen, PROT_READ | PROT_WRITE, flags,
			       -1, 0);
		if (m->base == MAP_FAILED)
			return -errno;
		start = ((uintptr_t)m->base + SZ_2M - 1) & ~(SZ_2M - 1);
		m->addr = (void *)start;
		if (madvise(m->addr, size, b == BACK_THP ? MADV_HUGEPAGE :
							    MADV_NOHUGEPAGE))
			return -errno;
	}
	if (madvise(m->addr, size, MADV_POPULATE_WRITE)) {
		size_t i;

		for (i = 0; i < size; i += 4096)
			((volatile char *)m->addr)[i] = 1;
	}
	return 0;
}

static void buf_free(struct buf *m)
{
	if (m->base && m->base != MAP_FAILED)
		munmap(m->base, m->maplen);
}

/* A kernel-side check failed (the runs benchmark returns -EIO). */
static int failed;

static void bench_gup(int fd, enum backing b, struct buf *m, size_t size)
{
	static const struct { const char *name; unsigned long cmd; } t[] = {
		{ "gup-pin-fast", PIN_FAST_BENCHMARK },
		{ "gup-pin-longterm", PIN_LONGTERM_BENCHMARK },
		{ "gup-pin-runs", PIN_LONGTERM_RUNS_BENCHMARK },
	};
	unsigned int i;

	for (i = 0; i < 3; i++) {
		struct gup_test g = {
			.addr = (uintptr_t)m->addr,
			.size = size,
			.nr_pages_per_call = 512,
			.gup_flags = GUP_FOLL_WRITE,
		};

		if (!wanted(t[i].name))
			continue;

		if (ioctl(fd, t[i].cmd, &g)) {
			/* The stock kernel has no runs command: not an error. */
			if (t[i].cmd == PIN_LONGTERM_RUNS_BENCHMARK &&
			    errno == EINVAL)
				continue;
			fprintf(stderr, "pin_bench: %s: %s\n", t[i].name,
				strerror(errno));
			failed = 1;
			continue;
		}
		row(t[i].name, b, size, "pin", g.get_delta_usec / 1e3);
		row(t[i].name, b, size, "unpin", g.put_delta_usec / 1e3);
		if (t[i].cmd == PIN_LONGTERM_RUNS_BENCHMARK)
			continue;
		/* The page array GUP_TEST (and any page-array user) holds. */
		row(t[i].name, b, size, "metadata",
		    (double)(size / 4096) * sizeof(void *) * SZ_1G / size);
	}
}

static void bench_umem(int fd, enum backing b, struct buf *m, size_t size)
{
	static const struct { const char *name; __u32 flags; } t[] = {
		{ "umem", TEST_UMEM_WRITE | TEST_UMEM_DIRTY },
		{ "umem-nodirty", TEST_UMEM_WRITE },
		/* The scatterlist record, as RDMA's ib_umem_get() pins */
		{ "umem-sgt", TEST_UMEM_WRITE | TEST_UMEM_DIRTY | TEST_UMEM_SGT },
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct test_umem_cmd c = {
			.addr = (uintptr_t)m->addr,
			.length = size,
			.flags = t[i].flags,
		};

		if (!wanted(t[i].name))
			continue;

		if (ioctl(fd, TEST_UMEM_PIN_RELEASE, &c)) {
			fprintf(stderr, "pin_bench: %s: %s\n", t[i].name,
				strerror(errno));
			continue;
		}
		row(t[i].name, b, size, "pin", c.pin_ns / 1e6);
		row(t[i].name, b, size, "unpin", c.release_ns / 1e6);
		row(t[i].name, b, size, "metadata",
		    (double)c.metadata_bytes * SZ_1G / size);
	}
}

static int iommufd = -1, vfio_dev = -1;
static __u32 ioas_id;

/* Attach the first vfio cdev to a new IOAS; false if there is none. */
static bool iommufd_setup(void)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct bench_vfio_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct bench_vfio_attach_pt attach = { .argsz = sizeof(attach) };
	char path[300] = "";
	struct dirent *de;
	DIR *d;

	d = opendir("/dev/vfio/devices");
	if (!d)
		return false;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s",
				 de->d_name);
			break;
		}
	closedir(d);
	if (!path[0])
		return false;
	iommufd = open("/dev/iommu", O_RDWR);
	vfio_dev = open(path, O_RDWR);
	if (iommufd < 0 || vfio_dev < 0) {
		fprintf(stderr, "pin_bench: open /dev/iommu or %s: %s\n", path,
			strerror(errno));
		return false;
	}
	bind.iommufd = iommufd;
	if (ioctl(vfio_dev, BENCH_VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) {
		fprintf(stderr, "pin_bench: bind/IOAS_ALLOC: %s\n",
			strerror(errno));
		return false;
	}
	ioas_id = alloc.out_ioas_id;
	attach.pt_id = ioas_id;
	if (ioctl(vfio_dev, BENCH_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		fprintf(stderr, "pin_bench: ATTACH_IOMMUFD_PT: %s\n",
			strerror(errno));
		return false;
	}
	return true;
}

static void bench_iommufd(enum backing b, struct buf *m, size_t size)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)m->addr,
		.length = size,
		.iova = BENCH_IOVA,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas_id,
		.iova = BENCH_IOVA,
		.length = size,
	};
	double t0, t_map;

	t0 = now_ms();
	if (ioctl(iommufd, IOMMU_IOAS_MAP, &map)) {
		fprintf(stderr, "pin_bench: IOAS_MAP: %s\n", strerror(errno));
		return;
	}
	t_map = now_ms() - t0;
	t0 = now_ms();
	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap)) {
		fprintf(stderr, "pin_bench: IOAS_UNMAP: %s\n", strerror(errno));
		return;
	}
	row("iommufd", b, size, "map", t_map);
	row("iommufd", b, size, "unmap", now_ms() - t0);
}

static bool have_1g_pages(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "r");
	long n = 0;

	if (!f)
		return false;
	if (fscanf(f, "%ld", &n) != 1)
		n = 0;
	fclose(f);
	return n > 0;
}

static size_t parse_size(const char *s)
{
	char *end;
	size_t n = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': case 'g':
		n <<= 10;
		/* fall through */
	case 'M': case 'm':
		n <<= 20;
		break;
	case 0:
		break;
	default:
		return 0;
	}
	return n % SZ_2M ? 0 : n;
}

int main(int argc, char **argv)
{
	bool want_iommufd = false, have_iommufd = false;
	const char *backing = NULL;
	int repeat = 1, r;
	int gup_fd = -1, umem_fd = -1, i, rc = 0;

	for (;;) {
		if (argc > 1 && !strcmp(argv[1], "--iommufd")) {
			want_iommufd = true;
		} else if (argc > 2 && !strcmp(argv[1], "--only")) {
			only = argv[2];
			argv++;
			argc--;
		} else if (argc > 2 && !strcmp(argv[1], "--repeat")) {
			repeat = atoi(argv[2]);
			if (repeat < 1) {
				fprintf(stderr, "pin_bench: --repeat N, N >= 1\n");
				return 2;
			}
			argv++;
			argc--;
		} else if (argc > 2 && !strcmp(argv[1], "--backing")) {
			backing = argv[2];
			argv++;
			argc--;
		} else {
			break;
		}
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: pin_bench [--iommufd] [--only WORKLOAD] [--backing 4K|THP|hugetlb|hugetlb-1G] [--repeat N] SIZE... (multiples of 2M)\n");
		return 2;
	}
	if (wanted("gup-pin-fast") || wanted("gup-pin-longterm") ||
	    wanted("gup-pin-runs"))
		gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (wanted("umem") || wanted("umem-nodirty"))
		umem_fd = open("/dev/test_umem", O_RDWR);
	if (!wanted("iommufd"))
		want_iommufd = false;
	if (want_iommufd)
		have_iommufd = iommufd_setup();
	printf("# pin_bench: gup_test %s, test_umem %s, iommufd %s\n",
	       gup_fd >= 0 ? "yes" : "no", umem_fd >= 0 ? "yes" : "no",
	       have_iommufd ? "yes" : "no");
	if (want_iommufd && !have_iommufd)
		rc = 1;

	for (i = 1; i < argc; i++) {
		size_t size = parse_size(argv[i]);
		int b;

		if (!size) {
			fprintf(stderr, "pin_bench: bad size %s\n", argv[i]);
			return 2;
		}
		for (b = 0; b < NR_BACKINGS; b++) {
			struct buf m;
			int ret;

			if (backing && strcasecmp(backing, backing_name[b]))
				continue;
			/* 1G pages: whole pages, and only if some are reserved */
			if (b == BACK_HUGETLB_1G &&
			    (size % SZ_1G || !have_1g_pages()))
				continue;
			ret = buf_alloc(b, size, &m);

			if (ret) {
				fprintf(stderr, "pin_bench: %s %s: mmap: %s\n",
					backing_name[b], argv[i], strerror(-ret));
				buf_free(&m);
				rc = 1;
				continue;
			}
			for (r = 0; r < repeat; r++) {
				if (gup_fd >= 0)
					bench_gup(gup_fd, b, &m, size);
				if (umem_fd >= 0)
					bench_umem(umem_fd, b, &m, size);
				if (have_iommufd)
					bench_iommufd(b, &m, size);
			}
			buf_free(&m);
		}
	}
	return rc || failed;
}
