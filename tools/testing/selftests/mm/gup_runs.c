// SPDX-License-Identifier: GPL-2.0
/*
 * pin_user_pages_runs_fast() and pin_user_pages_runs_remote() over memory
 * laid out the ways that make folios and physical contiguity part company.
 *
 * Each case maps a buffer, shapes it, and pins it with GUP_TEST's
 * PIN_LONGTERM_RUNS_BENCHMARK, which checks in the kernel that the runs name
 * exactly the pages a page-array FOLL_LONGTERM pin of the same range
 * returns, in order, with no two neighbouring runs pfn-adjacent, and fails
 * the ioctl with EIO otherwise. Both flavours, write and read pins, 512 and
 * 7 pages per call. After each case nr_foll_pin_acquired must equal
 * nr_foll_pin_released again (needs root for /proc/sys/vm/stat_refresh).
 *
 * With --movable, for a machine booted with movablecore= (anonymous memory
 * then comes from ZONE_MOVABLE, which FOLL_LONGTERM must not pin): only
 * the 4K and THP cases, each of which must migrate the pages before
 * pinning them (the pins check that every page may stay pinned), and
 * pgmigrate_success must have grown.
 *
 * Needs CONFIG_GUP_TEST and debugfs; THP and hugetlb cases skip when the
 * machine has none.
 */
#define _GNU_SOURCE
#define __SANE_USERSPACE_TYPES__ // Use ll64
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mm/gup_test.h>
#include "../kselftest.h"

#define KB		1024UL
#define MB		(1024 * KB)
#define PAGE		(4 * KB)
#define FOLL_WRITE	0x01	/* from mm.h */

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif

static int gup_fd;

static bool vmstat_refresh(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	/* EINVAL only reports a negative counter somewhere: still folded */
	ok = write(fd, "1", 1) == 1 || errno == EINVAL;
	close(fd);
	return ok;
}

static long long read_vmstat(const char *name)
{
	size_t len = strlen(name);
	long long val = -1;
	char line[256];
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ') {
			val = strtoll(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

static long long pins_held(void)
{
	vmstat_refresh();
	return read_vmstat("nr_foll_pin_acquired") -
	       read_vmstat("nr_foll_pin_released");
}

/*
 * Pin [@p, @p + @len) as runs in every flavour, for read and, unless
 * @read_only, for write; @expect is the number of bytes that must be pinned
 * (less than @len when the range has a hole).
 */
static void __check_runs(const char *name, void *p, size_t len, size_t expect,
			 bool read_only)
{
	static const unsigned int per_call_small[] = { 512, 7 };
	/* Over 1G pages, odd counts that still cross the 1G boundary. */
	static const unsigned int per_call_big[] = { 512, 65543 };
	const unsigned int *per_call = len > 256 * MB ? per_call_big :
						       per_call_small;
	unsigned int w, r, c;

	for (r = 0; r < 2; r++)
		for (w = 0; w < (read_only ? 1 : 2); w++)
			for (c = 0; c < 2; c++) {
				struct gup_test g = {
					.addr = (unsigned long)p,
					.size = len,
					.nr_pages_per_call = per_call[c],
					.gup_flags = w ? FOLL_WRITE : 0,
					.test_flags = r ? GUP_TEST_FLAG_RUNS_REMOTE : 0,
				};
				long long held = pins_held();
				int ret;

				ret = ioctl(gup_fd, PIN_LONGTERM_RUNS_BENCHMARK, &g) ? errno : 0;
				ksft_test_result(!ret && g.size == expect &&
						 pins_held() == held,
						 "%s: %s %s, %u pages per call: %s, %llu of %zu bytes pinned\n",
						 name, r ? "remote" : "fast",
						 w ? "write" : "read", per_call[c],
						 ret ? strerror(ret) : "runs match",
						 (unsigned long long)g.size, expect);
			}
}

static void check_runs(const char *name, void *p, size_t len, size_t expect)
{
	__check_runs(name, p, len, expect, false);
}

/* @len bytes aligned to @align inside a larger anonymous mapping. */
static char *map_aligned(size_t len, size_t align, int prot)
{
	char *p = mmap(NULL, len + align, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	return (char *)(((unsigned long)p + align - 1) & ~(align - 1));
}

static void fill(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += PAGE)
		p[i] = (char)(i / PAGE) | 1;
}

/* Whether [@p, @p + 2M) is one PMD-mapped THP, from /proc/self/smaps. */
static bool is_thp(char *p)
{
	unsigned long start, end, kb = 0;
	char line[256];
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = start <= (unsigned long)p && (unsigned long)p < end;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb >= 2048;
}

static char *thp(size_t len)
{
	char *p = map_aligned(len, 2 * MB, PROT_READ | PROT_WRITE);

	if (madvise(p, len, MADV_HUGEPAGE))
		return NULL;
	fill(p, len);
	return is_thp(p) ? p : NULL;
}

static void test_4k(void)
{
	char *p = map_aligned(64 * PAGE, PAGE, PROT_READ | PROT_WRITE);

	madvise(p, 64 * PAGE, MADV_NOHUGEPAGE);
	fill(p, 64 * PAGE);
	check_runs("4K", p, 64 * PAGE, 64 * PAGE);
	check_runs("4K, from page 3 to 5 before the end", p + 3 * PAGE,
		   56 * PAGE, 56 * PAGE);

	p = map_aligned(64 * PAGE, PAGE, PROT_READ | PROT_WRITE);
	madvise(p, 64 * PAGE, MADV_NOHUGEPAGE);
	check_runs("4K, not faulted in", p, 64 * PAGE, 64 * PAGE);

	p = map_aligned(64 * PAGE, PAGE, PROT_READ | PROT_WRITE);
	fill(p, 64 * PAGE);
	munmap(p + 20 * PAGE, PAGE);
	check_runs("4K with a hole at page 20", p, 64 * PAGE, 20 * PAGE);
}

static void test_zero_page(void)
{
	char *p = map_aligned(64 * PAGE, PAGE, PROT_READ);

	madvise(p, 64 * PAGE, MADV_NOHUGEPAGE);
	/* Read faults map the shared zero page. */
	if (madvise(p, 64 * PAGE, MADV_POPULATE_READ))
		ksft_print_msg("MADV_POPULATE_READ: %s\n", strerror(errno));
	/* Only read pins: a write pin of PROT_READ memory fails. */
	__check_runs("zero page", p, 64 * PAGE, 64 * PAGE, true);
}

static void test_thp(void)
{
	char *p = thp(8 * MB), *q;
	int pipefd[2];
	pid_t child;

	if (!p) {
		ksft_test_result_skip("THP: no PMD-mapped THP here\n");
		return;
	}
	check_runs("THP", p, 8 * MB, 8 * MB);
	check_runs("THP, mid-folio to mid-folio", p + MB + 3 * PAGE,
		   5 * MB, 5 * MB);

	/* PTE-mapped: mprotect() of one page splits the PMD mapping. */
	p = thp(4 * MB);
	if (p && !mprotect(p + 100 * PAGE, PAGE, PROT_READ) &&
	    !mprotect(p + 100 * PAGE, PAGE, PROT_READ | PROT_WRITE))
		check_runs("THP, PTE-mapped", p, 4 * MB, 4 * MB);

	/* The two halves of a THP moved apart, then swapped. */
	p = thp(2 * MB);
	q = map_aligned(4 * MB, 2 * MB, PROT_NONE);
	if (p && mremap(p + MB, MB, MB, MREMAP_MAYMOVE | MREMAP_FIXED, q) != MAP_FAILED &&
	    mremap(p, MB, MB, MREMAP_MAYMOVE | MREMAP_FIXED, q + MB) != MAP_FAILED)
		check_runs("THP halves swapped by mremap()", q, 2 * MB, 2 * MB);

	/* One subpage COW-broken after fork: the parent writes to it. */
	p = thp(2 * MB);
	if (!p || pipe(pipefd))
		return;
	child = fork();
	if (!child) {
		char c;

		close(pipefd[1]);
		/* Keep the child's mapping until the parent is done. */
		(void)!read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	p[7 * PAGE] = 42;
	check_runs("THP, one subpage COW-broken after fork", p, 2 * MB, 2 * MB);
	close(pipefd[1]);
	waitpid(child, NULL, 0);
}

static void test_hugetlb(unsigned int shift, const char *name)
{
	size_t sz = 1UL << shift, len = 2 * sz;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		       (shift << MAP_HUGE_SHIFT), -1, 0);

	if (p == MAP_FAILED) {
		ksft_test_result_skip("%s: cannot map 2 hugetlb pages: %s\n",
				      name, strerror(errno));
		return;
	}
	fill(p, len);
	check_runs(name, p, len, len);
	check_runs(name, p + sz / 2, sz, sz);
	munmap(p, len);
}

int main(int argc, char **argv)
{
	bool movable = argc > 1 && !strcmp(argv[1], "--movable");
	long long held, migrated;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gup_fd < 0)
		ksft_exit_skip("/sys/kernel/debug/gup_test: %s\n", strerror(errno));
	if (!vmstat_refresh())
		ksft_exit_skip("needs root for /proc/sys/vm/stat_refresh\n");
	held = pins_held();
	migrated = read_vmstat("pgmigrate_success");

	test_4k();
	if (!movable)
		test_zero_page();
	test_thp();
	if (movable) {
		long long now = read_vmstat("pgmigrate_success");

		ksft_test_result(now > migrated,
				 "pinned memory was migrated out of ZONE_MOVABLE first (pgmigrate_success %lld -> %lld)\n",
				 migrated, now);
	} else {
		test_hugetlb(21, "hugetlb 2M");
		test_hugetlb(30, "hugetlb 1G");
	}

	ksft_test_result(pins_held() == held, "no pin left behind\n");
	printf("%u passed, %u failed\n", ksft_get_pass_cnt(),
	       ksft_get_fail_cnt());
	/* The number of cases depends on what the machine has: no plan. */
	ksft_exit(!ksft_get_fail_cnt());
}
