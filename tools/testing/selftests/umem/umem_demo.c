// SPDX-License-Identifier: GPL-2.0
/*
 * umem_demo - pin memory through the umem library and show what it built.
 *
 * For each backing (4K pages, THP, 2M hugetlbfs) of --size bytes (default
 * 1 GiB) the program fills the memory with a pattern, pins and releases it
 * through /dev/test_umem (CONFIG_TEST_UMEM, lib/test_umem.c), checks that
 * the kernel read back the same bytes and prints one table row: pages
 * pinned, scatterlist entries, metadata, the best page size for a device
 * taking 4K|2M|1G pages, and the time to pin and to release.
 *
 * --selftest adds the checks: pin counts, the error paths, RLIMIT_MEMLOCK
 * for an unprivileged user, pins kept and dropped on close, SIGKILL inside
 * a pin, a fail-nth sweep over every fault-injection point of a pin, VmPin
 * and /proc/vmstat nr_foll_pin_* balance, and prints them as TAP ("ok N - ...",
 * "not ok N - ...", the plan at the end). It ends with "N passed, N failed"
 * and exits non-zero if anything failed.
 *
 * Build: make -C tools/testing/selftests TARGETS=umem
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../../../lib/test_umem_uapi.h"
#include "umem_util.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#endif

#define DEVICE		"/dev/test_umem"
#define SZ_4K		4096UL
#define SZ_64K		(64UL << 10)
#define SZ_1M		(1024UL * 1024)
#define SZ_2M		(2 * SZ_1M)
#define SZ_1G		(1024 * SZ_1M)
#define NOBODY		65534

enum backing { BACK_4K, BACK_THP, BACK_HUGETLB, NR_BACKINGS };

static const char *const backing_name[NR_BACKINGS] = {
	[BACK_4K]	= "4K",
	[BACK_THP]	= "THP",
	[BACK_HUGETLB]	= "hugetlb",
};

/* Shared with forked children so that their checks count too */
struct counts {
	int passed;
	int failed;
};

static struct counts *counts;
static bool selftest;
static bool require_all;
static long page_size;

/*
 * One check. With --selftest, a TAP line ("ok N - ..." or "not ok N - ...");
 * otherwise only failures are printed.
 */
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		counts->passed++;
	else
		counts->failed++;
	if (ok && !selftest)
		return;
	if (selftest)
		printf("%s %d - ", ok ? "ok" : "not ok",
		       counts->passed + counts->failed);
	else
		printf("  FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *fmt_size(char *buf, size_t len, uint64_t n)
{
	if (!n)
		snprintf(buf, len, "none");
	else if (!(n % SZ_1G))
		snprintf(buf, len, "%lluG", (unsigned long long)(n / SZ_1G));
	else if (!(n % SZ_1M))
		snprintf(buf, len, "%lluM", (unsigned long long)(n / SZ_1M));
	else if (!(n % 1024))
		snprintf(buf, len, "%lluK", (unsigned long long)(n / 1024));
	else
		snprintf(buf, len, "%llu", (unsigned long long)n);
	return buf;
}

static int parse_size(const char *s, size_t *size)
{
	static const char units[] = "kKmMgG";
	unsigned long long n;
	const char *unit;
	unsigned int shift;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	unit = *end ? strchr(units, *end) : NULL;
	if (unit) {
		shift = ((unit - units) / 2 + 1) * 10;
		if (n > SIZE_MAX >> shift)
			return -1;
		n <<= shift;
		end++;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end || !n || n > SIZE_MAX / 2)
		return -1;
	*size = n;
	return 0;
}

/* TEST_UMEM_CSUM (see test_umem_uapi.h) of @len bytes at @p */
static uint64_t csum(const void *p, size_t len)
{
	uint64_t h = TEST_UMEM_CSUM_SEED, w;
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ le64toh(w)) * TEST_UMEM_CSUM_PRIME;
	}
	if (i < len) {
		w = 0;
		memcpy(&w, b + i, len - i);
		h = (h ^ le64toh(w)) * TEST_UMEM_CSUM_PRIME;
	}
	return h;
}

static void fill(void *p, size_t len, uint64_t seed)
{
	unsigned char *b = p;
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		w = (i / 8 + seed) * 0x9e3779b97f4a7c15ULL;
		w ^= w >> 29;
		memcpy(b + i, &w, 8);
	}
	for (; i < len; i++)
		b[i] = (unsigned char)(i * 31 + seed);
}

static int umem_ioctl(int fd, unsigned long op, struct test_umem_cmd *cmd)
{
	return ioctl(fd, op, cmd) ? -errno : 0;
}

static int pin_release(int fd, const void *addr, size_t len, unsigned int flags,
		       struct test_umem_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->addr = (uintptr_t)addr;
	cmd->length = len;
	cmd->flags = flags;
	return umem_ioctl(fd, TEST_UMEM_PIN_RELEASE, cmd);
}

static int pin(int fd, const void *addr, size_t len, unsigned int flags,
	       struct test_umem_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->addr = (uintptr_t)addr;
	cmd->length = len;
	cmd->flags = flags;
	return umem_ioctl(fd, TEST_UMEM_PIN, cmd);
}

static int release(int fd, uint64_t handle)
{
	struct test_umem_cmd cmd = { .handle = handle };

	return umem_ioctl(fd, TEST_UMEM_RELEASE, &cmd);
}

static unsigned long pages_spanned(const void *addr, size_t len)
{
	uintptr_t first = (uintptr_t)addr / page_size;
	uintptr_t last = ((uintptr_t)addr + len - 1) / page_size;

	return last - first + 1;
}

struct mapping {
	void *base;	/* what mmap() returned */
	size_t maplen;
	void *addr;	/* the range to pin */
};

static int map_backing(enum backing b, size_t size, struct mapping *m)
{
	const int prot = PROT_READ | PROT_WRITE;
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	uintptr_t start, aligned;
	size_t head;

	switch (b) {
	case BACK_4K:
		m->maplen = size;
		m->base = mmap(NULL, m->maplen, prot, anon, -1, 0);
		if (m->base == MAP_FAILED)
			return -errno;
		m->addr = m->base;
		if (madvise(m->addr, size, MADV_NOHUGEPAGE))
			perror("madvise(MADV_NOHUGEPAGE)");
		return 0;
	case BACK_THP:
		m->maplen = size + SZ_2M;
		m->base = mmap(NULL, m->maplen, prot, anon, -1, 0);
		if (m->base == MAP_FAILED)
			return -errno;
		start = (uintptr_t)m->base;
		aligned = (start + SZ_2M - 1) & ~(SZ_2M - 1);
		head = aligned - start;
		if (head)
			munmap(m->base, head);
		munmap((void *)(aligned + size), m->maplen - head - size);
		m->base = (void *)aligned;
		m->maplen = size;
		m->addr = m->base;
		if (madvise(m->addr, size, MADV_HUGEPAGE))
			perror("madvise(MADV_HUGEPAGE)");
		return 0;
	default:
		m->maplen = (size + SZ_2M - 1) & ~(SZ_2M - 1);
		m->base = mmap(NULL, m->maplen, prot,
			       anon | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
		if (m->base == MAP_FAILED)
			return -errno;
		m->addr = m->base;
		return 0;
	}
}

/*
 * The same-kernel reference for each row: mm's own GUP benchmark
 * (CONFIG_GUP_TEST) pinning the same buffer into a page array with
 * FOLL_LONGTERM, 512 pages per call, as a driver without umem would. The
 * layout is mm/gup_test.h's.
 */
struct gup_test {
	uint64_t get_delta_usec;
	uint64_t put_delta_usec;
	uint64_t addr;
	uint64_t size;
	uint32_t nr_pages_per_call;
	uint32_t gup_flags;
	uint32_t test_flags;
	uint32_t which_pages[8];
};

#define PIN_LONGTERM_BENCHMARK	_IOWR('g', 3, struct gup_test)
#define GUP_TEST_FOLL_WRITE	0x01
#define GUP_TEST_PATH		"/sys/kernel/debug/gup_test"

static int gup_fd = -1;

/* Milliseconds the reference took to pin @len bytes at @addr, or -1. */
static double gup_ref_ms(void *addr, size_t len)
{
	struct gup_test g = {
		.addr = (uintptr_t)addr,
		.size = len,
		.nr_pages_per_call = 512,
		.gup_flags = GUP_TEST_FOLL_WRITE,
	};

	if (gup_fd < 0 || ioctl(gup_fd, PIN_LONGTERM_BENCHMARK, &g))
		return -1;
	return g.get_delta_usec / 1e3;
}

static void print_header(void)
{
	printf("%-8s %6s %9s %9s %11s %10s %10s %8s %9s %8s %6s %11s %5s\n",
	       "backing", "size", "pages", "entries", "metadata-B", "B/GiB",
	       "sgt-B/GiB", "best-pgsz", "pin-ms", "ref-ms", "ratio",
	       "release-ms", "data");
	fflush(stdout);
}

/* One table row: pin and release @size bytes of backing @b. */
static bool run_case(int fd, enum backing b, size_t size)
{
	char s1[32], s2[32], s3[32], s4[32];
	struct test_umem_cmd cmd, sgt;
	struct mapping m = { 0 };
	double ref_ms;
	uint64_t want;
	bool good;
	int ret;

	ret = map_backing(b, size, &m);
	if (ret) {
		printf("%-8s %6s  not run: mmap failed: %s%s\n", backing_name[b],
		       fmt_size(s1, sizeof(s1), size), strerror(-ret),
		       b == BACK_HUGETLB ?
		       " (no 2M hugetlb pages reserved? see /proc/sys/vm/nr_hugepages)" : "");
		fflush(stdout);
		if (require_all)
			check(false, "%s: backing available", backing_name[b]);
		return !require_all;
	}

	fill(m.addr, size, b + 1);
	want = csum(m.addr, size);

	ret = pin_release(fd, m.addr, size, TEST_UMEM_WRITE | TEST_UMEM_DIRTY, &cmd);
	if (ret) {
		printf("%-8s %6s  TEST_UMEM_PIN_RELEASE failed: %s\n",
		       backing_name[b], fmt_size(s1, sizeof(s1), size),
		       strerror(-ret));
		check(false, "%s: pin and release %zu bytes", backing_name[b],
		      size);
		munmap(m.base, m.maplen);
		return false;
	}

	/* The same pin recorded as a scatterlist, as RDMA records it. */
	ret = pin_release(fd, m.addr, size, TEST_UMEM_WRITE | TEST_UMEM_SGT, &sgt);
	if (ret) {
		check(false, "%s: pin and release %zu bytes as a scatterlist: %s",
		      backing_name[b], size, strerror(-ret));
		memset(&sgt, 0, sizeof(sgt));
	}

	good = cmd.checksum == want;
	ref_ms = gup_ref_ms(m.addr, size);
	if (ref_ms > 0) {
		snprintf(s3, sizeof(s3), "%.1f", ref_ms);
		snprintf(s4, sizeof(s4), "%.2f", cmd.pin_ns / 1e6 / ref_ms);
	} else {
		snprintf(s3, sizeof(s3), "-");
		snprintf(s4, sizeof(s4), "-");
	}
	printf("%-8s %6s %9llu %9llu %11llu %10.0f %10.0f %8s %9.1f %8s %6s %11.1f %5s\n",
	       backing_name[b], fmt_size(s1, sizeof(s1), size),
	       (unsigned long long)cmd.npages, (unsigned long long)cmd.nents,
	       (unsigned long long)cmd.metadata_bytes,
	       (double)cmd.metadata_bytes * SZ_1G / size,
	       (double)sgt.metadata_bytes * SZ_1G / size,
	       fmt_size(s2, sizeof(s2), cmd.best_pgsz[TEST_UMEM_PGSZ_4K_2M_1G]),
	       cmd.pin_ns / 1e6, s3, s4, cmd.release_ns / 1e6,
	       good ? "ok" : "BAD");
	fflush(stdout);

	check(good, "%s: kernel read back the bytes written (checksum %016llx, expected %016llx)",
	      backing_name[b], (unsigned long long)cmd.checksum,
	      (unsigned long long)want);
	if (selftest) {
		unsigned long npages = pages_spanned(m.addr, size);

		check(cmd.npages == npages, "%s: %llu pages pinned, expected %lu",
		      backing_name[b], (unsigned long long)cmd.npages, npages);
		check(cmd.nents >= 1 && cmd.nents <= cmd.npages,
		      "%s: 1 <= %llu entries <= pages", backing_name[b],
		      (unsigned long long)cmd.nents);
		check(cmd.metadata_bytes > 0, "%s: metadata bytes reported",
		      backing_name[b]);
		/*
		 * The compact record: never more than a page array (8 bytes a
		 * page, rounded up to a page) plus the struct umem's slab
		 * object, and never more than the scatterlist record of the
		 * same pin, which must describe the same pages the same way.
		 */
		check(cmd.metadata_bytes <= ((npages * 8 + 4095) & ~4095UL) + 512,
		      "%s: compact record %llu bytes <= a page array of %lu pages",
		      backing_name[b], (unsigned long long)cmd.metadata_bytes,
		      npages);
		check(cmd.metadata_bytes <= sgt.metadata_bytes,
		      "%s: compact record %llu bytes <= scatterlist record %llu",
		      backing_name[b], (unsigned long long)cmd.metadata_bytes,
		      (unsigned long long)sgt.metadata_bytes);
		check(sgt.npages == cmd.npages && sgt.nents == cmd.nents &&
		      sgt.checksum == cmd.checksum &&
		      !memcmp(sgt.best_pgsz, cmd.best_pgsz, sizeof(sgt.best_pgsz)),
		      "%s: both records: same pages, entries, bytes and page sizes",
		      backing_name[b]);
		check(cmd.best_pgsz[TEST_UMEM_PGSZ_4K] == SZ_4K,
		      "%s: best page size for a 4K-only device is 4K (got %llu)",
		      backing_name[b],
		      (unsigned long long)cmd.best_pgsz[TEST_UMEM_PGSZ_4K]);
		if (b == BACK_HUGETLB) {
			size_t nhuge = (size + SZ_2M - 1) / SZ_2M;

			check(cmd.nents <= nhuge,
			      "hugetlb: %llu entries <= %zu huge pages",
			      (unsigned long long)cmd.nents, nhuge);
			check(cmd.best_pgsz[TEST_UMEM_PGSZ_4K_2M] == SZ_2M,
			      "hugetlb: best page size for 4K|2M is 2M (got %llu)",
			      (unsigned long long)cmd.best_pgsz[TEST_UMEM_PGSZ_4K_2M]);
			check(cmd.best_pgsz[TEST_UMEM_PGSZ_4K_2M_1G] >= SZ_2M,
			      "hugetlb: best page size for 4K|2M|1G is at least 2M");
		}
		check(status_kb("VmPin") == 0, "%s: VmPin back to 0 after release",
		      backing_name[b]);
		check(csum(m.addr, size) == want, "%s: data unchanged by the pin",
		      backing_name[b]);
	}
	munmap(m.base, m.maplen);
	return good;
}

static void *map_anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

static void expect_err(int fd, const char *what, const void *addr, size_t len,
		       unsigned int flags, int err)
{
	struct test_umem_cmd cmd;
	int ret;

	ret = pin_release(fd, addr, len, flags, &cmd);
	check(ret == -err, "%s -> %s (got %s)", what, strerrorname_np(err),
	      ret ? strerrorname_np(-ret) : "success");
}

static void test_errors(int fd)
{
	const size_t len = 4 * page_size;
	struct test_umem_cmd cmd;
	char *p, *hole;
	int ret;

	printf("# error paths:\n");
	p = map_anon(len, PROT_READ | PROT_WRITE);
	fill(p, len, 7);

	expect_err(fd, "zero length", p, 0, 0, EINVAL);
	expect_err(fd, "unknown flag", p, len, 1U << 31, EINVAL);

	expect_err(fd, "range wrapping past the top of the address space",
		   (void *)(uintptr_t)-page_size, 2 * page_size, 0, EINVAL);
	expect_err(fd, "range above TASK_SIZE",
		   (void *)(uintptr_t)(-2 * page_size), page_size, 0, EFAULT);

	hole = map_anon(len, PROT_READ | PROT_WRITE);
	munmap(hole, len);
	expect_err(fd, "unmapped address", hole, len, 0, EFAULT);

	/* A hole after the first page: what was pinned must be undone */
	munmap(p + page_size, page_size);
	expect_err(fd, "range with an unmapped hole", p, len, 0, EFAULT);
	check(status_kb("VmPin") == 0, "VmPin 0 after the failed pin");
	munmap(p, len);

	p = map_anon(len, PROT_NONE);
	expect_err(fd, "PROT_NONE read pin", p, len, 0, EFAULT);
	expect_err(fd, "PROT_NONE write pin", p, len, TEST_UMEM_WRITE, EFAULT);
	munmap(p, len);

	p = map_anon(len, PROT_READ | PROT_WRITE);
	fill(p, len, 8);
	mprotect(p, len, PROT_READ);
	expect_err(fd, "write pin of a PROT_READ mapping", p, len,
		   TEST_UMEM_WRITE, EFAULT);
	ret = pin_release(fd, p, len, 0, &cmd);
	check(!ret && cmd.checksum == csum(p, len),
	      "read pin of a PROT_READ mapping reads the data (%s)",
	      ret ? strerrorname_np(-ret) : "success");
	munmap(p, len);
}

static void test_unaligned(int fd)
{
	const size_t len = 8 * page_size;
	struct test_umem_cmd cmd;
	char *p;
	int ret;

	printf("# unaligned ranges:\n");
	p = map_anon(len, PROT_READ | PROT_WRITE);
	fill(p, len, 9);

	ret = pin_release(fd, p + 100, 5000, TEST_UMEM_WRITE, &cmd);
	check(!ret && cmd.npages == 2 && cmd.checksum == csum(p + 100, 5000),
	      "5000 bytes at offset 100: %llu pages, data %s",
	      (unsigned long long)cmd.npages,
	      !ret && cmd.checksum == csum(p + 100, 5000) ? "ok" : "BAD");

	ret = pin_release(fd, p + page_size - 1, 2, 0, &cmd);
	check(!ret && cmd.npages == 2 && cmd.checksum == csum(p + page_size - 1, 2),
	      "2 bytes across a page boundary: %llu pages",
	      (unsigned long long)cmd.npages);

	ret = pin_release(fd, p + 3, 1, 0, &cmd);
	check(!ret && cmd.npages == 1 && cmd.checksum == csum(p + 3, 1),
	      "1 byte: %llu pages", (unsigned long long)cmd.npages);

	ret = pin_release(fd, p + 8, len - 8 - 3, 0, &cmd);
	check(!ret && cmd.npages == len / page_size &&
	      cmd.checksum == csum(p + 8, len - 8 - 3),
	      "%zu bytes at offset 8: %llu pages", len - 11,
	      (unsigned long long)cmd.npages);
	munmap(p, len);
}

/* Pins kept across ioctls, charged in VmPin (never VmLck), dropped on close */
static void test_kept(int fd, size_t size)
{
	size_t len = size < 16 * SZ_1M ? size : 16 * SZ_1M;
	long kb = len / 1024, lck0, lck;
	struct test_umem_cmd cmd;
	uint64_t h1, h2, h3;
	pid_t pid;
	int fd2, ret, status;
	char *p;

	printf("# kept pins:\n");
	p = map_anon(len, PROT_READ | PROT_WRITE);
	fill(p, len, 10);
	lck0 = status_kb("VmLck");

	ret = pin(fd, p, len, TEST_UMEM_WRITE, &cmd);
	h1 = cmd.handle;
	check(!ret && h1 && cmd.checksum == csum(p, len),
	      "TEST_UMEM_PIN pinned_vm: handle %llu (%s)",
	      (unsigned long long)h1, ret ? strerrorname_np(-ret) : "success");
	check(status_kb("VmPin") == kb, "VmPin %ld kB while pinned, expected %ld",
	      status_kb("VmPin"), kb);

	ret = pin(fd, p, len, 0, &cmd);
	h2 = cmd.handle;
	check(!ret && h2 && h2 != h1, "TEST_UMEM_PIN read-only: handle %llu (%s)",
	      (unsigned long long)h2, ret ? strerrorname_np(-ret) : "success");
	check(status_kb("VmPin") == 2 * kb, "VmPin %ld kB with two pins, expected %ld",
	      status_kb("VmPin"), 2 * kb);
	lck = status_kb("VmLck");
	check(lck == lck0, "VmLck unchanged (%ld kB): umem charges pinned_vm only",
	      lck);

	ret = pin(fd, p, len, TEST_UMEM_WRITE | TEST_UMEM_DIRTY, &cmd);
	h3 = cmd.handle;
	check(!ret && h3 && h3 != h1 && h3 != h2,
	      "TEST_UMEM_PIN write+dirty: handle %llu (%s)", (unsigned long long)h3,
	      ret ? strerrorname_np(-ret) : "success");

	check(!release(fd, h1), "TEST_UMEM_RELEASE first pin");
	check(!release(fd, h2), "TEST_UMEM_RELEASE second pin");
	check(status_kb("VmPin") == kb, "VmPin %ld kB: the kept pin's only",
	      status_kb("VmPin"));
	ret = release(fd, h1);
	check(ret == -ENOENT, "second release of a handle -> ENOENT (got %s)",
	      ret ? strerrorname_np(-ret) : "success");
	check(release(fd, 0) == -ENOENT, "release of handle 0 -> ENOENT");
	/* h3 stays: released when @fd is closed at exit */

	fd2 = open(DEVICE, O_RDWR);
	check(fd2 >= 0, "second open of " DEVICE);
	if (fd2 >= 0) {
		ret = pin(fd2, p, len, TEST_UMEM_WRITE, &cmd);
		check(!ret && status_kb("VmPin") == 2 * kb,
		      "pin on a second file: VmPin %ld kB", status_kb("VmPin"));
		close(fd2);
		check(status_kb("VmPin") == kb, "close releases its pins: VmPin %ld kB",
		      status_kb("VmPin"));
	}

	/* A process that exits with pins held must not leak them */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int cfd = open(DEVICE, O_RDWR);

		if (cfd < 0 || pin(cfd, p, len, TEST_UMEM_WRITE, &cmd))
			_exit(1);
		_exit(0);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "child exiting with a pin held");
	munmap(p, len);
}

/* Drop to nobody, with no capabilities left. */
static bool drop_privileges(void)
{
	if (getuid() == 0 || geteuid() == 0) {
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY)) {
			check(false, "switch to uid/gid %d: %s", NOBODY,
			      strerror(errno));
			return false;
		}
	}
	return true;
}

/*
 * RLIMIT_MEMLOCK as an unprivileged user, in a child: the device is opened
 * as root (it is root-only) and used after dropping privileges.
 */
static void rlimit_child(void)
{
	const struct rlimit rl = { .rlim_cur = SZ_64K, .rlim_max = SZ_64K };
	const size_t len = SZ_1M, small = 32 * 1024;
	struct test_umem_cmd cmd;
	int fd, fd2, ret;
	char *p;

	fd = open(DEVICE, O_RDWR);
	check(fd >= 0, "open of " DEVICE " as root (%s)",
	      fd < 0 ? strerror(errno) : "success");
	if (fd < 0)
		return;
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		check(false, "setrlimit(RLIMIT_MEMLOCK, 64K): %s", strerror(errno));
		return;
	}
	if (!drop_privileges())
		return;
	check(!have_cap_ipc_lock(), "running without CAP_IPC_LOCK as uid %d",
	      (int)geteuid());

	fd2 = open(DEVICE, O_RDWR);
	check(fd2 < 0 && errno == EACCES,
	      "unprivileged open of " DEVICE " (mode 0600) -> EACCES (got %s)",
	      fd2 < 0 ? strerrorname_np(errno) : "success");
	if (fd2 >= 0)
		close(fd2);

	p = map_anon(len, PROT_READ | PROT_WRITE);
	fill(p, len, 11);

	ret = pin_release(fd, p, len, TEST_UMEM_WRITE, &cmd);
	check(ret == -ENOMEM, "1M over a 64K limit, pinned_vm -> ENOMEM (got %s)",
	      ret ? strerrorname_np(-ret) : "success");
	check(status_kb("VmPin") == 0, "VmPin stays 0 (%ld kB)",
	      status_kb("VmPin"));

	ret = pin(fd, p, len, TEST_UMEM_WRITE, &cmd);
	check(ret == -ENOMEM, "1M kept pin over the limit, pinned_vm -> ENOMEM (got %s)",
	      ret ? strerrorname_np(-ret) : "success");

	ret = pin_release(fd, p, small, TEST_UMEM_WRITE, &cmd);
	check(!ret && cmd.checksum == csum(p, small),
	      "32K under the 64K limit, pinned_vm, pins (%s)",
	      ret ? strerrorname_np(-ret) : "success");

	ret = pin(fd, p, small, 0, &cmd);
	check(!ret && status_kb("VmPin") == (long)(small / 1024),
	      "32K kept pin: VmPin %ld kB", status_kb("VmPin"));
	ret = pin(fd, p + small, small + page_size, 0, &cmd);
	check(ret == -ENOMEM, "second pin past the limit -> ENOMEM (got %s)",
	      ret ? strerrorname_np(-ret) : "success");
	close(fd);
	check(status_kb("VmPin") == 0, "VmPin 0 after close (%ld kB)",
	      status_kb("VmPin"));
	munmap(p, len);
}

/*
 * /dev/test_umem is root-only twice over: mode 0600, and open() asks for
 * CAP_SYS_ADMIN, so that a node made world-accessible by udev or by hand
 * still lets no unprivileged user pin without bound or learn physical
 * adjacency. The node is opened up to 0666 here for the second check.
 */
static void test_root_only(void)
{
	struct stat st;
	int status, ret;
	pid_t pid;

	printf("# root only:\n");
	if (getuid() != 0) {
		printf("# skipped: not root\n");
		return;
	}
	if (stat(DEVICE, &st) || chmod(DEVICE, 0666)) {
		check(false, "stat/chmod " DEVICE ": %s", strerror(errno));
		return;
	}
	check((st.st_mode & 07777) == 0600, DEVICE " has mode %04o, expected 0600",
	      st.st_mode & 07777);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd;

		if (!drop_privileges())
			_exit(1);
		fd = open(DEVICE, O_RDWR);
		check(fd < 0 && errno == EPERM,
		      "open of a 0666 " DEVICE " without CAP_SYS_ADMIN -> EPERM (got %s)",
		      fd < 0 ? strerrorname_np(errno) : "success");
		_exit(0);
	}
	ret = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status);
	check(ret, "unprivileged child ran to the end");
	if (chmod(DEVICE, st.st_mode & 07777))
		check(false, "restore the mode of " DEVICE ": %s", strerror(errno));
}

/* task->flags from /proc/self/stat, field 9; ~0 if unreadable */
static unsigned long task_flags(void)
{
	unsigned long flags = ~0UL;
	char buf[1024], *p;
	size_t n;
	FILE *f;

	f = fopen("/proc/self/stat", "r");
	if (!f)
		return flags;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return ~0UL;
	return flags;
}

#define PF_SUPERPRIV	0x00000100

/*
 * A root process under its RLIMIT_MEMLOCK causes no capability check when
 * it pins (no audit record, no PF_SUPERPRIV), as with stock ib_umem_get();
 * over the limit CAP_IPC_LOCK is asked and lets it through. In a child:
 * fork() clears PF_SUPERPRIV, and the child uses the parent's file.
 */
static void superpriv_child(int fd)
{
	struct test_umem_cmd cmd;
	unsigned long flags;
	size_t len = SZ_2M;
	struct rlimit rl;
	int ret;
	char *p;

	p = map_anon(len, PROT_READ | PROT_WRITE);
	fill(p, len, 12);
	/* Lowering the soft limit only: raising the hard one asks capable(). */
	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_max < SZ_1M) {
		check(false, "RLIMIT_MEMLOCK hard limit below 1M");
		return;
	}
	rl.rlim_cur = SZ_1M;
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		check(false, "setrlimit(RLIMIT_MEMLOCK, 1M): %s", strerror(errno));
		return;
	}
	flags = task_flags();
	check(!(flags & PF_SUPERPRIV), "PF_SUPERPRIV clear before pinning (flags %#lx)",
	      flags);
	ret = pin_release(fd, p, SZ_64K, TEST_UMEM_WRITE, &cmd);
	flags = task_flags();
	check(!ret && !(flags & PF_SUPERPRIV),
	      "64K under a 1M limit as root: pinned (%s), no capability check (flags %#lx)",
	      ret ? strerrorname_np(-ret) : "success", flags);
	ret = pin_release(fd, p, len, TEST_UMEM_WRITE, &cmd);
	flags = task_flags();
	check(!ret && (flags & PF_SUPERPRIV) && flags != ~0UL,
	      "2M over a 1M limit as root: CAP_IPC_LOCK asked and used (%s, flags %#lx)",
	      ret ? strerrorname_np(-ret) : "success", flags);
	munmap(p, len);
}

static void test_superpriv(int fd)
{
	int status;
	pid_t pid;

	printf("# capability checks:\n");
	if (getuid() != 0 || !have_cap_ipc_lock()) {
		printf("# skipped: not root with CAP_IPC_LOCK\n");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		superpriv_child(fd);
		fflush(stdout);
		_exit(0);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "capability child ran to the end");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * SIGKILL during a long pin: umem_get() must notice the fatal signal
 * between GUP batches (and GUP within one), return -EINTR, and leave
 * nothing pinned or charged, promptly. "Promptly" is a ratio, not a time:
 * the killed pin is of 16 times the memory of a reference pin timed just
 * before (both of untouched 4K pages, so GUP faults every page in), and
 * the child must be gone within the reference pin's time of the kill.
 */
static void test_kill(int fd)
{
	const size_t ref_len = 16 * SZ_1M, len = 16 * ref_len;
	long long acq0, rel0, acq, rel;
	struct test_umem_cmd cmd;
	uint64_t ref_ns, t_kill, t_gone;
	int ret, status, pfd[2];
	bool exact;
	char c;
	void *p;
	pid_t pid;

	printf("# SIGKILL during a pin:\n");
	p = map_anon(ref_len, PROT_READ | PROT_WRITE);
	ret = pin(fd, p, ref_len, TEST_UMEM_WRITE, &cmd);
	ref_ns = cmd.pin_ns;
	check(!ret && ref_ns, "reference pin of 16M of untouched 4K pages: %llu ms",
	      (unsigned long long)ref_ns / 1000000);
	if (!ret)
		release(fd, cmd.handle);
	munmap(p, ref_len);
	if (ret || pipe(pfd))
		return;

	exact = vmstat_refresh();
	acq0 = read_vmstat("nr_foll_pin_acquired");
	rel0 = read_vmstat("nr_foll_pin_released");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		void *q = map_anon(len, PROT_READ | PROT_WRITE);

		close(pfd[0]);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pin(fd, q, len, TEST_UMEM_WRITE, &cmd);
		_exit(0);
	}
	close(pfd[1]);
	if (pid < 0 || read(pfd[0], &c, 1) != 1) {
		check(false, "child started");
		close(pfd[0]);
		return;
	}
	close(pfd[0]);
	/* A quarter of the reference in, well inside the 16x longer pin */
	usleep(ref_ns / 4000);
	t_kill = now_ns();
	kill(pid, SIGKILL);
	ret = waitpid(pid, &status, 0);
	t_gone = now_ns();
	check(ret == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "the child died of SIGKILL inside the 256M pin (status %#x)", status);
	check(t_gone - t_kill < ref_ns,
	      "gone %llu ms after SIGKILL, within the 16M reference pin's %llu ms",
	      (unsigned long long)(t_gone - t_kill) / 1000000,
	      (unsigned long long)ref_ns / 1000000);
	if (exact && vmstat_refresh()) {
		acq = read_vmstat("nr_foll_pin_acquired") - acq0;
		rel = read_vmstat("nr_foll_pin_released") - rel0;
		check(acq == rel, "pins of the killed pin: +%lld acquired, +%lld released",
		      acq, rel);
	}
}

/*
 * Many threads charging one RLIMIT_MEMLOCK at once: the charge is taken
 * before anything is pinned, with an atomic add and compare, so the sum
 * of the pins held never exceeds the limit, every refusal is ENOMEM and
 * nothing stays charged. In an unprivileged child with a 192K limit, four
 * threads keep and release 64K pins of their own memory, so that at most
 * three can hold one at a time. (VmPin itself may read above the limit
 * for an instant: a refused charge is added, compared and taken back, as
 * ib_umem_get() always did; what is held is what counts.)
 */
#define RACE_THREADS	4
#define RACE_ROUNDS	50
#define RACE_LIMIT	(192 * 1024)

static int race_held, race_max_held;

struct rlimit_race {
	int fd;
	char *mem;
	int pinned, refused, bad;
};

static void *rlimit_race_thread(void *arg)
{
	struct rlimit_race *rr = arg;
	struct test_umem_cmd cmd;
	int i, ret, held, max;

	for (i = 0; i < RACE_ROUNDS; i++) {
		ret = pin(rr->fd, rr->mem, SZ_64K, 0, &cmd);
		if (ret) {
			if (ret == -ENOMEM)
				rr->refused++;
			else
				rr->bad = -ret;
			continue;
		}
		rr->pinned++;
		held = __atomic_add_fetch(&race_held, 1, __ATOMIC_SEQ_CST);
		max = __atomic_load_n(&race_max_held, __ATOMIC_SEQ_CST);
		while (held > max &&
		       !__atomic_compare_exchange_n(&race_max_held, &max, held, false,
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			;
		/*
		 * Raised after the pin, dropped before the release: the
		 * count never exceeds what is pinned, so if it ever exceeds
		 * the limit, so did the pins.
		 */
		__atomic_sub_fetch(&race_held, 1, __ATOMIC_SEQ_CST);
		release(rr->fd, cmd.handle);
	}
	return NULL;
}

static void rlimit_race_child(void)
{
	const struct rlimit rl = { .rlim_cur = RACE_LIMIT, .rlim_max = RACE_LIMIT };
	struct rlimit_race rr[RACE_THREADS] = { };
	pthread_t thr[RACE_THREADS];
	int fd, i, pinned = 0, refused = 0, bad = 0;
	char *mem;

	fd = open(DEVICE, O_RDWR);
	mem = map_anon(RACE_THREADS * SZ_64K, PROT_READ | PROT_WRITE);
	if (fd < 0 || setrlimit(RLIMIT_MEMLOCK, &rl) || !drop_privileges()) {
		check(false, "rlimit race: open, setrlimit, drop privileges: %s",
		      strerror(errno));
		return;
	}
	fill(mem, RACE_THREADS * SZ_64K, 13);
	for (i = 0; i < RACE_THREADS; i++) {
		rr[i].fd = fd;
		rr[i].mem = mem + i * SZ_64K;
		if (pthread_create(&thr[i], NULL, rlimit_race_thread, &rr[i])) {
			check(false, "rlimit race: pthread_create");
			return;
		}
	}
	for (i = 0; i < RACE_THREADS; i++) {
		pthread_join(thr[i], NULL);
		pinned += rr[i].pinned;
		refused += rr[i].refused;
		bad = bad ?: rr[i].bad;
	}
	check(!bad && pinned + refused == RACE_THREADS * RACE_ROUNDS,
	      "rlimit race: %d pins, %d refused with ENOMEM, other errors: %s",
	      pinned, refused, bad ? strerror(bad) : "none");
	check(refused > 0 && race_max_held * SZ_64K <= RACE_LIMIT,
	      "rlimit race: at most %d pins of 64K held at once under a %d kB limit (%d seen)",
	      RACE_LIMIT / SZ_64K, RACE_LIMIT / 1024, race_max_held);
	close(fd);
	check(status_kb("VmPin") == 0, "rlimit race: VmPin back to 0 (%ld kB)",
	      status_kb("VmPin"));
}

static void test_rlimit(void)
{
	int status;
	pid_t pid;

	printf("# RLIMIT_MEMLOCK:\n");
	if (getuid() != 0 && have_cap_ipc_lock()) {
		printf("# skipped: not root, but holding CAP_IPC_LOCK\n");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		rlimit_child();
		fflush(stdout);
		_exit(0);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "RLIMIT child ran to the end");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		rlimit_race_child();
		fflush(stdout);
		_exit(0);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "RLIMIT race child ran to the end");
}

/*
 * After iommufd's fail_nth selftest: fail the Nth fault-injection point
 * (umem's fail_umem points: the charge, the page of runs, each GUP call,
 * each table chunk; and any slab allocation) that TEST_UMEM_PIN_RELEASE
 * reaches in this thread, for N = 1, 2, ... until the call runs through
 * with fewer than N points.  After each injected failure: ENOMEM, EFAULT
 * or EINTR, VmPin and the FOLL_PIN balance back, and the same pin works.
 */
static void fail_nth_sweep(int fd, enum backing b, size_t size)
{
	long long held0 = foll_pins_held();
	long pin0 = status_kb("VmPin");
	struct test_umem_cmd cmd;
	char sz[32], what[96];
	struct fail_nth f;
	struct mapping m;
	const char *why;
	unsigned int n;
	int ret = 0;

	fmt_size(sz, sizeof(sz), size);
	snprintf(what, sizeof(what), "TEST_UMEM_PIN_RELEASE %s %s",
		 backing_name[b], sz);
	if (map_backing(b, size, &m)) {
		check(false, "fail-nth %s %s: map: %s", backing_name[b], sz,
		      strerror(errno));
		return;
	}
	fill(m.addr, size, 42);
	why = fail_nth_begin(&f);
	for (n = 1; !why && n <= FAILNTH_MAX; n++) {
		int fired;

		if (fail_nth_arm(&f, n)) {
			why = "cannot write fail-nth";
			break;
		}
		ret = pin_release(fd, m.addr, size, TEST_UMEM_WRITE, &cmd);
		fired = fail_nth_fired(&f);
		if (fired < 0) {
			why = "cannot read or reset fail-nth";
			break;
		}
		if (!fired) {
			/* fewer than n points: the call ran through */
			if (ret || cmd.checksum != csum(m.addr, size))
				why = "the pin without a fault failed or read wrong bytes";
			break;
		}
		if (!fail_nth_count(&f, -ret))
			why = "an errno other than ENOMEM, EFAULT or EINTR";
		else if (!ret && cmd.checksum != csum(m.addr, size))
			why = "a pin that survived its injected failure read wrong bytes";
		else if (status_kb("VmPin") != pin0 || foll_pins_held() != held0)
			why = "VmPin or the FOLL_PIN balance not back";
		else if (pin_release(fd, m.addr, size, TEST_UMEM_WRITE, &cmd))
			why = "the pin after an injected failure failed";
		if (why)
			printf("# fault %u: %s (%s)\n", n, why,
			       ret ? strerrorname_np(-ret) : "success");
	}
	if (!why && n > FAILNTH_MAX)
		why = "still injecting after FAILNTH_MAX points";
	fail_nth_report(&f, what);
	if (!why && !f.injected)
		why = "no point injected";
	fail_nth_end(&f);
	munmap(m.base, m.maplen);
	check(!why,
	      "fail-nth sweep of a %s %s pin: clean errno, nothing left pinned or charged, retry works%s%s",
	      backing_name[b], sz, why ? ": " : "", why ? why : "");
}

static void test_fail_nth(int fd)
{
	printf("# fault injection:\n");
	if (!fail_nth_supported()) {
		printf("# skipped: no " UMEM_DEBUGFS "/fail_umem or failslab (CONFIG_FAILSLAB)\n");
		return;
	}
	fail_nth_sweep(fd, BACK_4K, SZ_2M);
	fail_nth_sweep(fd, BACK_THP, 4 * SZ_1M);
	fail_nth_sweep(fd, BACK_HUGETLB, 4 * SZ_1M);
}

/*
 * A bounded fuzz of pin, pin-and-release, release and close, against a model
 * of what must be pinned: random pieces of a 4K, a THP and a hugetlb buffer,
 * random write/read, record (compact or scatterlist) and dirty flags, while
 * the protection of random 64K blocks of the 4K buffer changes between
 * read-write, read-only and none. A pin must succeed exactly when the model
 * says the range can be pinned (EFAULT otherwise), report the pages it
 * spans and read back the bytes the buffer holds; after every operation
 * VmPin must have grown from where it was by the pages of the live pins
 * (other files of the process may hold pins of their own). UMEM_FUZZ_SEED replays a run,
 * UMEM_FUZZ_SECS sets its length (default 30).
 */
#define FUZZ_LEN	(8 * SZ_1M)
#define FUZZ_BLOCK	SZ_64K
#define FUZZ_PINS	16

struct fuzz_pin {
	uint64_t handle;
	unsigned long npages;
};

static void test_fuzz(void)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE };
	unsigned long ops = 0, kept = 0, once = 0, refused = 0, closes = 0, bad = 0;
	int prot[FUZZ_LEN / FUZZ_BLOCK];
	struct fuzz_pin live[FUZZ_PINS];
	const char *env = getenv("UMEM_FUZZ_SEED");
	unsigned int seed = env ? strtoul(env, NULL, 0) : (unsigned int)time(NULL);
	double secs = getenv("UMEM_FUZZ_SECS") ? atof(getenv("UMEM_FUZZ_SECS")) : 30;
	struct mapping m[NR_BACKINGS];
	long base = status_kb("VmPin");
	unsigned long pinned = 0;
	int nlive = 0, fd, b, i;
	uint64_t end;

	printf("# fuzz: seed %u for %.0f s (UMEM_FUZZ_SEED replays it)\n", seed,
	       secs);
	srandom(seed);
	for (b = 0; b < NR_BACKINGS; b++) {
		if (map_backing(b, FUZZ_LEN, &m[b])) {
			printf("# fuzz: skipped: no %s buffer\n", backing_name[b]);
			while (--b >= 0)
				munmap(m[b].base, m[b].maplen);
			return;
		}
		fill(m[b].addr, FUZZ_LEN, 7 + b);
	}
	for (i = 0; i < (int)ARRAY_SIZE(prot); i++)
		prot[i] = 0;
	fd = open(DEVICE, O_RDWR);
	end = now_ns() + secs * 1e9;
	while (fd >= 0 && now_ns() < end && !bad) {
		int r = random() % 100;
		struct test_umem_cmd cmd;
		unsigned int flags = 0;
		bool can = true, keep;
		size_t off, len;
		char *p;
		int ret;

		ops++;
		if (r < 8) {
			/* Change the protection of a 64K block of the 4K buffer. */
			i = random() % ARRAY_SIZE(prot);
			prot[i] = random() % ARRAY_SIZE(prots);
			if (mprotect((char *)m[BACK_4K].addr + i * FUZZ_BLOCK,
				     FUZZ_BLOCK, prots[prot[i]]))
				bad++;
		} else if (r < 30 && nlive) {
			i = random() % nlive;
			if (release(fd, live[i].handle))
				bad++;
			pinned -= live[i].npages;
			live[i] = live[--nlive];
		} else if (r < 32) {
			/* Closing the file releases every pin it holds. */
			close(fd);
			fd = open(DEVICE, O_RDWR);
			nlive = 0;
			pinned = 0;
			closes++;
		} else {
			b = random() % NR_BACKINGS;
			len = 1 + random() % (random() % 4 ? 64 * SZ_4K : 2 * SZ_1M);
			off = random() % (FUZZ_LEN - len + 1);
			p = (char *)m[b].addr + off;
			if (random() % 2)
				flags |= TEST_UMEM_WRITE;
			if (random() % 2)
				flags |= TEST_UMEM_SGT;
			if (random() % 4 == 0)
				flags |= TEST_UMEM_DIRTY;
			for (i = off / FUZZ_BLOCK;
			     b == BACK_4K && i <= (int)((off + len - 1) / FUZZ_BLOCK);
			     i++) {
				if (prots[prot[i]] == PROT_NONE ||
				    (prots[prot[i]] == PROT_READ &&
				     (flags & TEST_UMEM_WRITE)))
					can = false;
			}
			keep = r >= 60 && nlive < FUZZ_PINS;
			if (!keep)
				ret = pin_release(fd, p, len, flags, &cmd);
			else
				ret = pin(fd, p, len, flags, &cmd);
			if (!can) {
				if (ret != -EFAULT) {
					printf("# fuzz: op %lu: pin of an unpinnable range: %s\n",
					       ops, strerror(-ret));
					bad++;
					if (!ret && keep)
						release(fd, cmd.handle);
				}
				refused++;
			} else if (ret || cmd.npages != pages_spanned(p, len) ||
				   cmd.nents < 1 || cmd.nents > cmd.npages ||
				   cmd.checksum != csum(p, len)) {
				printf(
				       "# fuzz: op %lu: %s of %zu bytes at +%zu (%s, flags %#x): %s, %llu pages, checksum %s\n",
				       ops, keep ? "pin" : "pin-release", len,
				       off, backing_name[b], flags, strerror(-ret),
				       (unsigned long long)cmd.npages,
				       cmd.checksum == csum(p, len) ? "ok" : "BAD");
				bad++;
			} else if (!keep) {
				once++;
			} else {
				live[nlive].handle = cmd.handle;
				live[nlive].npages = cmd.npages;
				pinned += cmd.npages;
				nlive++;
				kept++;
			}
		}
		if (status_kb("VmPin") != base + (long)(pinned * page_size / 1024)) {
			printf("# fuzz: op %lu: VmPin %ld kB, the model says %ld kB\n",
			       ops, status_kb("VmPin"),
			       base + (long)(pinned * page_size / 1024));
			bad++;
		}
	}
	if (fd >= 0)
		close(fd);
	printf(
	       "# fuzz: %lu operations (%lu kept pins, %lu pin-and-release, %lu refused as the model said, %lu closes), seed %u\n",
	       ops, kept, once, refused, closes, seed);
	check(fd >= 0 && !bad && status_kb("VmPin") == base,
	      "fuzz of pin/release with both records and changing protections: no divergence (seed %u)",
	      seed);
	for (b = 0; b < NR_BACKINGS; b++)
		munmap(m[b].base, m[b].maplen);
}

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--size N[K|M|G]] [--selftest] [--require-all]\n"
		"  --size N       bytes per backing (default 1G)\n"
		"  --selftest     also check errors, limits and pin balance;\n"
		"                 ends with \"N passed, N failed\"\n"
		"  --require-all  fail if a backing (hugetlb) is not available\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "selftest", no_argument, NULL, 't' },
		{ "require-all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	long long acq0 = 0, rel0 = 0, acq, rel;
	size_t size = SZ_1G;
	bool exact = false;
	int fd, opt, b;

	while ((opt = getopt_long(argc, argv, "s:tah", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (parse_size(optarg, &size)) {
				fprintf(stderr, "bad size: %s\n", optarg);
				return 2;
			}
			break;
		case 't':
			selftest = true;
			break;
		case 'a':
			require_all = true;
			break;
		case 'h':
			print_usage(argv[0]);
			return 0;
		default:
			print_usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		print_usage(argv[0]);
		return 2;
	}

	page_size = sysconf(_SC_PAGESIZE);
	counts = mmap(NULL, sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		perror("mmap");
		return 2;
	}

	fd = open(DEVICE, O_RDWR);
	if (fd < 0) {
		printf("cannot open %s: %s (is CONFIG_TEST_UMEM enabled?)\n",
		       DEVICE, strerror(errno));
		if (selftest)
			printf("0 passed, 1 failed\n");
		return 1;
	}

	if (selftest) {
		printf("TAP version 13\n");
		exact = vmstat_refresh();
		acq0 = read_vmstat("nr_foll_pin_acquired");
		rel0 = read_vmstat("nr_foll_pin_released");
	}

	printf("umem: pin and release through %s, writable, charged to pinned_vm\n",
	       DEVICE);
	gup_fd = open(GUP_TEST_PATH, O_RDWR);
	printf("pin-ms: umem_get(); ref-ms: the same buffer pinned into a page array by\n"
	       "GUP_TEST PIN_LONGTERM (%s) in this boot; ratio = pin-ms / ref-ms.\n"
	       "On a debug kernel or under emulation, read the ratios rather than\n"
	       "the milliseconds.\n",
	       gup_fd >= 0 ? GUP_TEST_PATH : "not available: no CONFIG_GUP_TEST");
	print_header();
	for (b = 0; b < NR_BACKINGS; b++)
		run_case(fd, b, size);

	if (selftest) {
		test_errors(fd);
		test_unaligned(fd);
		test_kept(fd, size);
		test_superpriv(fd);
		test_kill(fd);
		test_fail_nth(fd);
		test_fuzz();
		test_root_only();
		test_rlimit();
	}
	close(fd);

	if (selftest) {
		printf("# balance:\n");
		check(status_kb("VmPin") == 0, "VmPin back to 0 (%ld kB)",
		      status_kb("VmPin"));
		if (exact && vmstat_refresh()) {
			acq = read_vmstat("nr_foll_pin_acquired") - acq0;
			rel = read_vmstat("nr_foll_pin_released") - rel0;
			check(acq > 0 && acq == rel,
			      "nr_foll_pin_acquired +%lld == nr_foll_pin_released +%lld",
			      acq, rel);
		} else {
			printf("# skipped: nr_foll_pin_* balance (%s)\n",
			       "cannot write /proc/sys/vm/stat_refresh");
		}
		printf("1..%d\n", counts->passed + counts->failed);
		printf("%d passed, %d failed\n", counts->passed, counts->failed);
	}
	return counts->failed ? 1 : 0;
}
