// SPDX-License-Identifier: GPL-2.0
/*
 * Register and deregister one memory region per backing (4K pages, THP,
 * 2M hugetlbfs) on the first RDMA device and print how long ibv_reg_mr()
 * and ibv_dereg_mr() took.  The demo for "make demo"; correctness is
 * checked by umem_mr_test.
 *
 *   umem_mr_demo [SIZE[K|M|G] [BACKING [REPEAT]]]
 *
 * SIZE defaults to 1G; BACKING (4K, THP or hugetlb) runs one backing only;
 * REPEAT registers and deregisters the same buffer that many times, a line
 * each (benchmarks/rdma-share.sh profiles the registrations).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <infiniband/verbs.h>

#ifndef fallthrough
#define fallthrough	__attribute__((__fallthrough__))
#endif

#define SZ_2M	(2UL << 20)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t parse_size(const char *s)
{
	char *end;
	size_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': case 'g':
		v <<= 10;
		fallthrough;
	case 'M': case 'm':
		v <<= 10;
		fallthrough;
	case 'K': case 'k':
		v <<= 10;
	}
	return v;
}

/* Returns an address aligned to 2M inside a mapping of size + 2M, or NULL. */
static void *map_backing(int backing, size_t size, void **base, size_t *len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *p;

	*len = size;
	if (backing == 2)
		flags |= MAP_HUGETLB;
	else
		*len += SZ_2M;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	*base = p;
	if (backing != 2)
		p = (char *)(((unsigned long)p + SZ_2M - 1) & ~(SZ_2M - 1));
	if (backing == 0)
		madvise(p, size, MADV_NOHUGEPAGE);
	if (backing == 1)
		madvise(p, size, MADV_HUGEPAGE);
	memset(p, 0x5a, size);
	return p;
}

int main(int argc, char **argv)
{
	static const char * const names[] = { "4K", "THP", "hugetlb" };
	size_t size = argc > 1 ? parse_size(argv[1]) : (1UL << 30);
	const char *only = argc > 2 ? argv[2] : NULL;
	int repeat = argc > 3 ? atoi(argv[3]) : 1;
	struct ibv_device **list;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	int b, r, fails = 0;

	if (!size || repeat < 1) {
		fprintf(stderr, "usage: umem_mr_demo [SIZE[K|M|G] [4K|THP|hugetlb [REPEAT]]]\n");
		return 2;
	}

	list = ibv_get_device_list(NULL);
	if (!list || !list[0]) {
		fprintf(stderr, "umem_mr_demo: no RDMA device\n");
		return 1;
	}
	ctx = ibv_open_device(list[0]);
	pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	if (!pd) {
		fprintf(stderr, "umem_mr_demo: cannot open %s\n", ibv_get_device_name(list[0]));
		return 1;
	}
	printf("RDMA: ibv_reg_mr/ibv_dereg_mr on %s, writable (local+remote)\n",
	       ibv_get_device_name(list[0]));
	printf("%-8s %6s %12s %12s\n", "backing", "size", "reg_mr-ms", "dereg_mr-ms");
	for (b = 0; b < 3; b++) {
		double t0, t_reg, t_dereg;
		struct ibv_mr *mr;
		void *base, *p;
		size_t len;

		if (only && strcasecmp(only, names[b]))
			continue;
		p = map_backing(b, size, &base, &len);
		if (!p) {
			printf("%-8s %5zuM  not run: mmap: %s\n", names[b], size >> 20,
			       strerror(errno));
			fails++;
			continue;
		}
		for (r = 0; r < repeat; r++) {
			t0 = now_ms();
			mr = ibv_reg_mr(pd, p, size, IBV_ACCESS_LOCAL_WRITE |
					IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
			t_reg = now_ms() - t0;
			if (!mr) {
				printf("%-8s %5zuM  ibv_reg_mr: %s\n", names[b],
				       size >> 20, strerror(errno));
				fails++;
				break;
			}
			t0 = now_ms();
			if (ibv_dereg_mr(mr))
				fails++;
			t_dereg = now_ms() - t0;
			printf("%-8s %5zuM %12.1f %12.1f\n", names[b], size >> 20,
			       t_reg, t_dereg);
		}
		munmap(base, len);
	}
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	return fails ? 1 : 0;
}
