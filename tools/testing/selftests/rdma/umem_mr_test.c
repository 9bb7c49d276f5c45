// SPDX-License-Identifier: GPL-2.0
/*
 * umem_mr_test - RDMA memory registration, checked by moving data.
 *
 * Opens the first RDMA device (soft-RoCE rxe in the rig's guest), connects
 * two RC QPs of that device to each other and, for MRs of 4 KiB, 1 MiB and
 * --big bytes (default 1 GiB) backed by 4K pages, THP and 2M hugetlbfs,
 * moves data with RDMA WRITE and RDMA READ through the MR both as the
 * remote (rkey) and as the local (lkey) side and checks every byte.  Large
 * MRs are registered whole; the data moves through a bounded window at
 * several offsets (start, across a page and a 2 MiB boundary, the middle,
 * the last byte).  Further cases: unaligned start and length with the MR
 * bounds checked, read-only MRs (remote WRITE must fail with a remote
 * access error), RLIMIT_MEMLOCK as an unprivileged user, fork with the
 * child writing its copy, no capability check (PF_SUPERPRIV) below the
 * limit for root, rereg of access
 * flags and of the translation, mremap() and MADV_DONTNEED of a live MR,
 * munmap/mmap(MAP_FIXED) of part of a range racing its registration, and
 * the VmPin accounting of all of them.
 * Last, a fail-nth sweep of ibv_reg_mr() (4K, THP and hugetlb memory)
 * and of ibv_rereg_mr() of a live MR's access flags: every
 * fault-injection point the call reaches is failed in turn and must leave
 * a clean errno, VmPin and the FOLL_PIN balance unchanged, and a call
 * that works after it.
 * Then a bounded fuzz of reg/rereg/dereg over overlapping MRs of every
 * backing, against a model of VmPin and of each MR's access (the seed is
 * printed; UMEM_RDMA_FUZZ_SEED and UMEM_RDMA_FUZZ_SECS replay and size it).
 *
 * Only the behaviour visible to userspace is tested, so the result must be
 * the same whatever implements ib_umem in the kernel.  The fail-nth sweep
 * needs umem's fail_umem fault attribute in debugfs and is skipped on a
 * kernel without it.
 *
 * Output: TAP, "ok N - ..." / "not ok N - ...: reason" per case and the
 * plan at the end, then "N passed, N failed"; the exit status is non-zero
 * if anything failed.
 *
 * Build: make -C tools/testing/selftests TARGETS=rdma (needs libibverbs)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../umem/umem_util.h"
#include <fcntl.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <infiniband/verbs.h>
#include <rdma/ib_user_verbs.h>

#ifndef fallthrough
#define fallthrough	__attribute__((__fallthrough__))
#endif

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#endif

#define SZ_4K		4096UL
#define SZ_1M		(1024UL * 1024)
#define SZ_2M		(2 * SZ_1M)
#define SZ_1G		(1024 * SZ_1M)
#define LBUF_SIZE	(2 * SZ_1M)	/* local bounce buffer */
#define WINDOW		(256UL * 1024)	/* data window in large MRs */
#define NOBODY		65534
#define CQ_TIMEOUT_S	120

#define ACC_RW		(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
			 IBV_ACCESS_REMOTE_READ)
#define ACC_RO		IBV_ACCESS_REMOTE_READ

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)		(((x) + (a) - 1) & ~((uintptr_t)(a) - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((uintptr_t)(a) - 1))

enum backing { BACK_4K, BACK_THP, BACK_HUGETLB, NR_BACKINGS };

static const char *const backing_name[NR_BACKINGS] = {
	[BACK_4K]	= "4K pages",
	[BACK_THP]	= "THP",
	[BACK_HUGETLB]	= "hugetlb 2M",
};

/* In shared memory, so that the checks of forked children count too */
struct counts {
	int n;
	int passed;
	int failed;
};

static struct counts *counts;
static char reason[512];
static size_t big_size = SZ_1G;
static int opt_gid_index = -1;

struct rdma {
	struct ibv_device *dev;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
	bool broken;
	uint8_t port;
	int gid_index;
	union ibv_gid gid;
	enum ibv_mtu mtu;
	char *lbuf;
	struct ibv_mr *lmr;
	uint64_t wr_id;
};

static struct rdma r;

/* Record the first reason a case fails; returns false for "return fail()" */
static bool fail(const char *fmt, ...)
{
	va_list ap;

	if (reason[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return false;
}

static void report(bool ok, const char *fmt, ...)
{
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	counts->n++;
	if (ok && !reason[0]) {
		counts->passed++;
		printf("ok %d - %s\n", counts->n, desc);
	} else {
		counts->failed++;
		printf("not ok %d - %s: %s\n", counts->n, desc,
		       reason[0] ? reason : "failed");
	}
	reason[0] = '\0';
	fflush(stdout);
}

static void report_skip(const char *why, const char *fmt, ...)
{
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	counts->n++;
	counts->passed++;
	printf("ok %d - %s # SKIP %s\n", counts->n, desc, why);
	reason[0] = '\0';
	fflush(stdout);
}

static long status_field(const char *key, int base)
{
	size_t klen = strlen(key);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtol(line + klen + 1, NULL, base);
			break;
		}
	fclose(f);
	return val;
}

static unsigned long status_hex(const char *key)
{
	return (unsigned long)status_field(key, 16);
}

static long vmpin_kb(void)
{
	return status_kb("VmPin");
}

/* AnonHugePages of the VMA containing addr, in kB, or -1 */
static long anon_huge_kb(const void *addr)
{
	unsigned long start, end, a = (unsigned long)addr;
	bool in = false;
	char line[512];
	long val = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = a >= start && a < end;
			continue;
		}
		if (in && !strncmp(line, "AnonHugePages:", 14)) {
			val = strtol(line + 14, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

static unsigned long pinned_kb(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	return (ALIGN_UP(a + len, SZ_4K) - ALIGN_DOWN(a, SZ_4K)) / 1024;
}

static inline uint8_t pattern(uint32_t seed, uint64_t off)
{
	uint32_t v = (uint32_t)off * 0x9e3779b1u ^ seed * 0x85ebca6bu;

	v ^= v >> 15;
	return (uint8_t)(v ^ (v >> 8) ^ (off >> 20));
}

static void fill(char *p, size_t len, uint32_t seed, uint64_t base)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern(seed, base + i);
}

static bool verify(const char *p, size_t len, uint32_t seed, uint64_t base,
		   const char *what)
{
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)p[i] != pattern(seed, base + i))
			return fail("%s: byte %zu of %zu is %#x, expected %#x",
				    what, i, len, (uint8_t)p[i],
				    pattern(seed, base + i));
	return true;
}

/* ---- device, QPs ---- */

static int pick_gid(void)
{
	struct ibv_port_attr pa;
	int best = -1, best_rank = -1;

	if (ibv_query_port(r.ctx, r.port, &pa))
		return -1;
	r.mtu = pa.active_mtu;
	if (opt_gid_index >= 0)
		return opt_gid_index;
	for (int i = 0; i < pa.gid_tbl_len; i++) {
		struct ibv_gid_entry e;
		int rank;

		if (ibv_query_gid_ex(r.ctx, r.port, i, &e, 0))
			continue;
		/* RoCE v2 IPv4-mapped > RoCE v2 > anything non-zero */
		rank = 0;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2) {
			rank = 1;
			if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)e.gid.raw))
				rank = 2;
		}
		if (rank > best_rank) {
			best = i;
			best_rank = rank;
		}
	}
	return best < 0 ? 0 : best;
}

static int open_rdma(void)
{
	struct ibv_device **list;
	int n;

	list = ibv_get_device_list(&n);
	if (!list || n == 0) {
		fail("no RDMA device");
		return -1;
	}
	r.dev = list[0];	/* the list is kept: children open r.dev */
	r.ctx = ibv_open_device(r.dev);
	if (!r.ctx) {
		fail("ibv_open_device(%s): %s", ibv_get_device_name(r.dev),
		     strerror(errno));
		return -1;
	}
	r.port = 1;
	r.gid_index = pick_gid();
	if (r.gid_index < 0 ||
	    ibv_query_gid(r.ctx, r.port, r.gid_index, &r.gid)) {
		fail("no GID on port %u", r.port);
		return -1;
	}
	r.pd = ibv_alloc_pd(r.ctx);
	if (!r.pd) {
		fail("ibv_alloc_pd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static struct ibv_qp *make_qp(void)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = r.cq,
		.recv_cq = r.cq,
		.cap = {
			.max_send_wr = 16,
			.max_recv_wr = 16,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
	};
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = r.port,
		.qp_access_flags = IBV_ACCESS_REMOTE_READ |
				   IBV_ACCESS_REMOTE_WRITE,
	};
	struct ibv_qp *qp = ibv_create_qp(r.pd, &ia);

	if (!qp) {
		fail("ibv_create_qp: %s", strerror(errno));
		return NULL;
	}
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS)) {
		fail("modify QP to INIT: %s", strerror(errno));
		ibv_destroy_qp(qp);
		return NULL;
	}
	return qp;
}

static int connect_qp(struct ibv_qp *qp, uint32_t dest_qpn)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = r.mtu,
		.dest_qp_num = dest_qpn,
		.rq_psn = 0,
		.max_dest_rd_atomic = 16,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.grh = {
				.dgid = r.gid,
				.sgid_index = r.gid_index,
				.hop_limit = 64,
			},
			.port_num = r.port,
		},
	};
	int err;

	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV |
			    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			    IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			    IBV_QP_MIN_RNR_TIMER);
	if (err) {
		fail("modify QP %u to RTR: %s", qp->qp_num, strerror(err));
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 16;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.sq_psn = 0;
	a.max_rd_atomic = 16;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			    IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
			    IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	if (err) {
		fail("modify QP %u to RTS: %s", qp->qp_num, strerror(err));
		return -1;
	}
	return 0;
}

static void destroy_qps(void)
{
	for (int i = 0; i < 2; i++)
		if (r.qp[i]) {
			if (ibv_destroy_qp(r.qp[i]))
				fail("ibv_destroy_qp: %s", strerror(errno));
			r.qp[i] = NULL;
		}
	if (r.cq) {
		if (ibv_destroy_cq(r.cq))
			fail("ibv_destroy_cq: %s", strerror(errno));
		r.cq = NULL;
	}
}

/* (Re)create the pair of connected QPs; after an error they are dead */
static int setup_qps(void)
{
	destroy_qps();
	r.cq = ibv_create_cq(r.ctx, 64, NULL, NULL, 0);
	if (!r.cq)
		return fail("ibv_create_cq: %s", strerror(errno)), -1;
	for (int i = 0; i < 2; i++) {
		r.qp[i] = make_qp();
		if (!r.qp[i])
			return -1;
	}
	if (connect_qp(r.qp[0], r.qp[1]->qp_num) ||
	    connect_qp(r.qp[1], r.qp[0]->qp_num))
		return -1;
	r.broken = false;
	return 0;
}

/*
 * One signalled RDMA WRITE or READ from qp[0] to qp[1]: len bytes between
 * the local laddr (lkey) and the remote raddr (rkey).  Returns the
 * completion status, or -1 if it could not be posted or timed out.
 */
static int rdma_op(enum ibv_wr_opcode op, void *laddr, uint32_t lkey,
		   size_t len, void *raddr, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)laddr,
		.length = (uint32_t)len,
		.lkey = lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = ++r.wr_id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = {
			.remote_addr = (uintptr_t)raddr,
			.rkey = rkey,
		},
	};
	struct ibv_send_wr *bad;
	struct timespec t0, t;
	struct ibv_wc wc;
	int n, err;

	if (r.broken && setup_qps())
		return -1;
	err = ibv_post_send(r.qp[0], &wr, &bad);
	if (err) {
		fail("ibv_post_send: %s", strerror(err));
		r.broken = true;
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = ibv_poll_cq(r.cq, 1, &wc);
		if (n < 0) {
			fail("ibv_poll_cq failed");
			r.broken = true;
			return -1;
		}
		if (n == 1 && wc.wr_id == wr.wr_id)
			break;
		if (n == 1)
			continue;	/* a stale flush completion */
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > CQ_TIMEOUT_S) {
			fail("no completion after %d s", CQ_TIMEOUT_S);
			r.broken = true;
			return -1;
		}
		usleep(20);
	}
	if (wc.status != IBV_WC_SUCCESS)
		r.broken = true;	/* the QPs went to the error state */
	return wc.status;
}

static bool op_ok(enum ibv_wr_opcode op, void *laddr, uint32_t lkey,
		  size_t len, void *raddr, uint32_t rkey, const char *what)
{
	int st = rdma_op(op, laddr, lkey, len, raddr, rkey);

	if (st < 0)
		return fail("%s: %s", what, reason[0] ? reason : "failed");
	if (st != IBV_WC_SUCCESS)
		return fail("%s of %zu bytes: completion %s", what, len,
			    ibv_wc_status_str(st));
	return true;
}

/* The op must fail with a remote access error */
static bool op_denied(enum ibv_wr_opcode op, void *laddr, uint32_t lkey,
		      size_t len, void *raddr, uint32_t rkey, const char *what)
{
	int st = rdma_op(op, laddr, lkey, len, raddr, rkey);

	if (st < 0)
		return false;
	if (st == IBV_WC_SUCCESS)
		return fail("%s succeeded, expected IBV_WC_REM_ACCESS_ERR",
			    what);
	if (st != IBV_WC_REM_ACCESS_ERR)
		return fail("%s: completion %s, expected IBV_WC_REM_ACCESS_ERR",
			    what, ibv_wc_status_str(st));
	return true;
}

/* ---- memory ---- */

struct buf {
	char *map;	/* what mmap returned */
	size_t maplen;
	char *base;	/* aligned start */
	size_t len;
};

static bool buf_alloc(struct buf *b, enum backing bk, size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t i;

	memset(b, 0, sizeof(*b));
	switch (bk) {
	case BACK_4K:
		b->len = ALIGN_UP(len, SZ_4K);
		b->maplen = b->len;
		break;
	case BACK_THP:
		b->len = ALIGN_UP(len, SZ_2M);
		b->maplen = b->len + SZ_2M;
		break;
	case BACK_HUGETLB:
		b->len = ALIGN_UP(len, SZ_2M);
		b->maplen = b->len;
		flags |= MAP_HUGETLB | MAP_HUGE_2MB;
		break;
	default:
		return false;
	}
	b->map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return fail("mmap %zu bytes (%s): %s", b->maplen,
			    backing_name[bk], strerror(errno));
	}
	b->base = b->map;
	if (bk == BACK_4K && madvise(b->base, b->len, MADV_NOHUGEPAGE))
		return fail("MADV_NOHUGEPAGE: %s", strerror(errno));
	if (bk == BACK_THP) {
		b->base = (char *)ALIGN_UP((uintptr_t)b->map, SZ_2M);
		if (madvise(b->base, b->len, MADV_HUGEPAGE))
			return fail("MADV_HUGEPAGE: %s", strerror(errno));
	}
	/* Fault everything in, as an application would have */
	for (i = 0; i < b->len; i += SZ_4K)
		b->base[i] = 1;
	if (bk == BACK_THP) {
		long kb = anon_huge_kb(b->base);

		if (kb <= 0)
			return fail("not really THP: AnonHugePages %ld kB", kb);
	}
	return true;
}

static void buf_free(struct buf *b)
{
	if (b->map)
		munmap(b->map, b->maplen);
	b->map = NULL;
}

static struct ibv_mr *reg(void *addr, size_t len, int access)
{
	struct ibv_mr *mr = ibv_reg_mr(r.pd, addr, len, access);

	if (!mr)
		fail("ibv_reg_mr(%p, %zu, %#x): %s", addr, len, access,
		     strerror(errno));
	return mr;
}

static bool dereg(struct ibv_mr *mr)
{
	int err = ibv_dereg_mr(mr);

	if (err)
		return fail("ibv_dereg_mr: %s", strerror(err));
	return true;
}

/* ---- data checks ---- */

static uint32_t seed_ctr = 1;

/*
 * Move data through [t + off, t + off + len) of the MR: remote WRITE into
 * it and remote READ out of it (rkey), WRITE from it and READ into it as
 * the local side (lkey).  t is the MR's start (its iova); the bytes just
 * outside the window must stay untouched.
 */
static bool move_window(char *t, struct ibv_mr *mr, size_t off, size_t len,
			bool writable, const char *tag)
{
	char *w = t + off, *l = r.lbuf;
	char what[96];
	uint32_t s;
	bool ok = true;
	char *lo = off ? w - 1 : NULL;
	char *hi = off + len < mr->length ? w + len : NULL;

	if (lo)
		*lo = (char)0xa5;
	if (hi)
		*hi = (char)0x5a;

	/* remote WRITE into the MR */
	s = seed_ctr++;
	fill(l, len, s, off);
	snprintf(what, sizeof(what), "%s: remote WRITE at +%#zx", tag, off);
	if (writable) {
		ok = op_ok(IBV_WR_RDMA_WRITE, l, r.lmr->lkey, len, w,
			   mr->rkey, what) &&
		     verify(w, len, s, off, what);
	} else {
		fill(w, len, s + 1000, off);
		ok = op_denied(IBV_WR_RDMA_WRITE, l, r.lmr->lkey, len, w,
			       mr->rkey, what) &&
		     verify(w, len, s + 1000, off, what);
	}
	if (!ok)
		return false;

	/* remote READ out of the MR */
	s = seed_ctr++;
	fill(w, len, s, off);
	memset(l, 0, len);
	snprintf(what, sizeof(what), "%s: remote READ at +%#zx", tag, off);
	if (!op_ok(IBV_WR_RDMA_READ, l, r.lmr->lkey, len, w, mr->rkey, what) ||
	    !verify(l, len, s, off, what))
		return false;

	/* the MR as the local source of a WRITE */
	s = seed_ctr++;
	fill(w, len, s, off);
	memset(l, 0, len);
	snprintf(what, sizeof(what), "%s: local WRITE source at +%#zx", tag,
		 off);
	if (!op_ok(IBV_WR_RDMA_WRITE, w, mr->lkey, len, l, r.lmr->rkey,
		   what) ||
	    !verify(l, len, s, off, what))
		return false;

	/* the MR as the local sink of a READ */
	if (writable) {
		s = seed_ctr++;
		fill(l, len, s, off);
		snprintf(what, sizeof(what), "%s: local READ sink at +%#zx",
			 tag, off);
		if (!op_ok(IBV_WR_RDMA_READ, w, mr->lkey, len, l, r.lmr->rkey,
			   what) ||
		    !verify(w, len, s, off, what))
			return false;
	}

	if (lo && *lo != (char)0xa5)
		return fail("%s: byte before +%#zx changed", tag, off);
	if (hi && *hi != (char)0x5a)
		return fail("%s: byte after +%#zx+%#zx changed", tag, off,
			    len);
	return true;
}

/* Offset of a window of len centred on the k-th bnd boundary after t */
static size_t across(char *t, size_t mrlen, size_t len, size_t bnd, size_t k)
{
	uintptr_t b = ALIGN_UP((uintptr_t)t + 1, bnd) + k * bnd;
	size_t off = b - (uintptr_t)t;

	off = off > len / 2 ? off - len / 2 : 0;
	return off + len > mrlen ? mrlen - len : off;
}

static bool move_data(char *t, struct ibv_mr *mr, bool writable,
		      const char *tag)
{
	size_t len = mr->length, w = WINDOW, offs[6];
	int n = 0;

	if (len <= LBUF_SIZE)
		return move_window(t, mr, 0, len, writable, tag);
	offs[n++] = 0;
	offs[n++] = across(t, len, w, SZ_4K, 0);
	offs[n++] = across(t, len, w, SZ_2M, 0);
	offs[n++] = across(t, len, w, SZ_2M, len / SZ_2M / 2);
	offs[n++] = across(t, len, w, SZ_2M, len / SZ_2M - 1);
	offs[n++] = len - w;	/* up to and including the last byte */
	for (int i = 0; i < n; i++)
		if (!move_window(t, mr, offs[i], w, writable, tag))
			return false;
	return true;
}

static bool check_vmpin(long want, const char *when)
{
	long kb = vmpin_kb();

	if (kb != want)
		return fail("VmPin %s: %ld kB, expected %ld kB", when, kb, want);
	return true;
}

/*
 * Register [addr, addr + len) with access, check VmPin grew by the pages it
 * spans, move data through it, deregister, check VmPin dropped back.
 */
static bool mr_case(char *addr, size_t len, int access, const char *tag)
{
	long pin0 = vmpin_kb();
	struct ibv_mr *mr;
	bool ok;

	mr = reg(addr, len, access);
	if (!mr)
		return false;
	ok = check_vmpin(pin0 + pinned_kb(addr, len), "after ibv_reg_mr") &&
	     move_data(addr, mr, access & IBV_ACCESS_REMOTE_WRITE, tag);
	if (ok && !(access & IBV_ACCESS_REMOTE_WRITE)) {
		/* a read-only pin still sees what the CPU writes */
		uint32_t s = seed_ctr++;
		size_t n = len < LBUF_SIZE ? len : LBUF_SIZE;

		fill(addr, n, s, 0);
		ok = op_ok(IBV_WR_RDMA_READ, r.lbuf, r.lmr->lkey, n, addr,
			   mr->rkey, "READ after CPU update") &&
		     verify(r.lbuf, n, s, 0, "READ after CPU update");
	}
	if (!dereg(mr))
		return false;
	return ok && check_vmpin(pin0, "after ibv_dereg_mr");
}

/* MR bounds: its first and last byte are reachable, one byte out is not */
static bool bounds_case(char *addr, size_t len)
{
	struct ibv_mr *mr = reg(addr, len, ACC_RW);
	uint32_t s = seed_ctr++;
	bool ok;

	if (!mr)
		return false;
	fill(addr, len, s, 0);
	ok = op_ok(IBV_WR_RDMA_READ, r.lbuf, r.lmr->lkey, 1, addr, mr->rkey,
		   "READ of the first byte") &&
	     verify(r.lbuf, 1, s, 0, "first byte") &&
	     op_ok(IBV_WR_RDMA_READ, r.lbuf, r.lmr->lkey, 1, addr + len - 1,
		   mr->rkey, "READ of the last byte") &&
	     verify(r.lbuf, 1, s, len - 1, "last byte") &&
	     op_denied(IBV_WR_RDMA_READ, r.lbuf, r.lmr->lkey, 1, addr + len,
		       mr->rkey, "READ one byte past the end") &&
	     op_denied(IBV_WR_RDMA_WRITE, r.lbuf, r.lmr->lkey, 2,
		       addr + len - 1, mr->rkey,
		       "WRITE across the end") &&
	     op_denied(IBV_WR_RDMA_READ, r.lbuf, r.lmr->lkey, 1, addr - 1,
		       mr->rkey, "READ one byte before the start") &&
	     verify(addr, len, s, 0, "MR after denied accesses");
	return dereg(mr) && ok;
}

static const char *size_str(size_t sz)
{
	static char s[4][32];
	static int i;
	char *p = s[i++ & 3];

	if (sz % SZ_1G == 0)
		snprintf(p, 32, "%zu GiB", sz / SZ_1G);
	else if (sz % SZ_1M == 0)
		snprintf(p, 32, "%zu MiB", sz / SZ_1M);
	else if (sz % 1024 == 0)
		snprintf(p, 32, "%zu KiB", sz / 1024);
	else
		snprintf(p, 32, "%zu bytes", sz);
	return p;
}

static void backing_cases(enum backing bk)
{
	const char *bn = backing_name[bk];
	size_t sizes[] = { SZ_4K, SZ_1M, big_size };
	char tag[96];
	struct buf b;

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(tag, sizeof(tag), "%s, %s MR", bn, size_str(sizes[i]));
		if (buf_alloc(&b, bk, sizes[i]))
			mr_case(b.base, sizes[i], ACC_RW, tag);
		buf_free(&b);
		report(true, "%s: RDMA WRITE/READ, remote and local, every byte",
		       tag);
	}

	/* unaligned start and length, across a 2 MiB boundary */
	snprintf(tag, sizeof(tag), "%s, unaligned MR", bn);
	if (buf_alloc(&b, bk, 2 * SZ_2M)) {
		char *start = b.base + SZ_2M - 512 * 1024 + 123;
		size_t len = SZ_1M + 4567;

		if (mr_case(start, len, ACC_RW, tag))
			bounds_case(start, len);
	}
	buf_free(&b);
	report(true, "%s (+%#x, %zu bytes, across 2M): data and bounds", tag,
	       SZ_2M - 512 * 1024 + 123, SZ_1M + 4567);

	/* read-only: remote READ works, remote WRITE is refused */
	snprintf(tag, sizeof(tag), "%s, read-only 1 MiB MR", bn);
	if (buf_alloc(&b, bk, SZ_1M))
		mr_case(b.base, SZ_1M, ACC_RO, tag);
	buf_free(&b);
	report(true, "%s: READ ok, WRITE gets IBV_WC_REM_ACCESS_ERR", tag);
}

/* ---- RLIMIT_MEMLOCK as an unprivileged user ---- */

static void memlock_child(void)
{
	struct rlimit rl = { .rlim_cur = SZ_1M, .rlim_max = SZ_1M };
	struct ibv_mr *mr, *mr2, *mr3;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	char *mem;
	unsigned long cap;

	mem = mmap(NULL, 8 * SZ_1M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fail("mmap: %s", strerror(errno));
		goto out;
	}
	memset(mem, 1, 8 * SZ_1M);
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY)) {
		fail("dropping privileges: %s", strerror(errno));
		goto out;
	}
	cap = status_hex("CapEff");
	if (cap != 0) {
		fail("CapEff still %#lx after setresuid", cap);
		goto out;
	}
	ctx = ibv_open_device(r.dev);
	if (!ctx) {
		fail("ibv_open_device as uid %d: %s (chmod 666 /dev/infiniband/uverbs*?)",
		     NOBODY, strerror(errno));
		goto out;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		fail("ibv_alloc_pd: %s", strerror(errno));
		goto out;
	}

	errno = 0;
	mr = ibv_reg_mr(pd, mem, 8 * SZ_1M, ACC_RW);
	if (mr) {
		fail("ibv_reg_mr of 8 MiB succeeded");
		ibv_dereg_mr(mr);
	} else if (errno != ENOMEM) {
		fail("ibv_reg_mr of 8 MiB: errno %d (%s), expected ENOMEM",
		     errno, strerror(errno));
	}
	check_vmpin(0, "after the refused registration");
	report(true, "RLIMIT_MEMLOCK 1 MiB, uid %d: ibv_reg_mr of 8 MiB fails with ENOMEM, VmPin 0",
	       NOBODY);

	mr = ibv_reg_mr(pd, mem, 512 * 1024, ACC_RW);
	if (!mr)
		fail("ibv_reg_mr of 512 KiB: %s", strerror(errno));
	else
		check_vmpin(512, "with 512 KiB registered");
	report(true, "RLIMIT_MEMLOCK 1 MiB, uid %d: ibv_reg_mr of 512 KiB works, VmPin 512 kB",
	       NOBODY);
	if (!mr)
		_exit(1);

	/* charges add up: exactly at the limit is allowed, beyond is not */
	mr2 = ibv_reg_mr(pd, mem + SZ_1M, 512 * 1024, ACC_RW);
	if (!mr2) {
		fail("second 512 KiB (at the limit): %s", strerror(errno));
	} else {
		check_vmpin(1024, "at the limit");
		errno = 0;
		mr3 = ibv_reg_mr(pd, mem + 2 * SZ_1M, SZ_4K, ACC_RW);
		if (mr3) {
			fail("4 KiB over the limit was registered");
			ibv_dereg_mr(mr3);
		} else if (errno != ENOMEM) {
			fail("4 KiB over the limit: %s, expected ENOMEM",
			     strerror(errno));
		}
		check_vmpin(1024, "after the refused 4 KiB");
		if (ibv_dereg_mr(mr2))
			fail("ibv_dereg_mr: %s", strerror(errno));
	}
	report(true,
	       "RLIMIT_MEMLOCK 1 MiB, uid %d: 2x 512 KiB reach the limit, 4 KiB more fails with ENOMEM",
	       NOBODY);

	if (ibv_dereg_mr(mr))
		fail("ibv_dereg_mr: %s", strerror(errno));
	check_vmpin(0, "after ibv_dereg_mr");
	report(true, "RLIMIT_MEMLOCK, uid %d: VmPin back to 0 after ibv_dereg_mr",
	       NOBODY);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	_exit(0);
out:
	report(false, "RLIMIT_MEMLOCK 1 MiB as uid %d", NOBODY);
	_exit(1);
}

static void memlock_cases(void)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		report(false, "RLIMIT_MEMLOCK as uid %d", NOBODY);
		return;
	}
	if (pid == 0)
		memlock_child();
	if (waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status)) {
		fail("child died (status %#x)", status);
		report(false, "RLIMIT_MEMLOCK as uid %d", NOBODY);
	}
}

/* ---- fork after registration ---- */

/*
 * The FOLL_LONGTERM/COW contract: fork() copies pinned anonymous pages for
 * the child, so the parent keeps the very pages the MR maps. After the
 * child writes all of its copy, RDMA WRITE and READ through the MR must
 * still move the parent's bytes in both directions, and never touch the
 * child's copy.
 */
static void fork_cases(void)
{
	const size_t len = 64 * 1024;
	int to_child[2], to_parent[2], status = 0;
	struct ibv_mr *mr = NULL;
	bool ok = false;
	pid_t pid = -1;
	char *p, c;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED || pipe(to_child) || pipe(to_parent)) {
		fail("mmap/pipe: %s", strerror(errno));
		goto out;
	}
	memset(p, 1, len);
	mr = reg(p, len, ACC_RW);
	if (!mr)
		goto out;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		size_t i;

		memset(p, 0x77, len);
		if (write(to_parent[1], "w", 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < len; i++)
			if (p[i] != 0x77)
				_exit(1);
		_exit(0);
	}
	if (pid < 0 || read(to_parent[0], &c, 1) != 1) {
		fail("fork: %s", strerror(errno));
		goto out;
	}
	ok = move_data(p, mr, true, "after fork");
	if (write(to_child[1], "d", 1) != 1 || waitpid(pid, &status, 0) != pid)
		ok = fail("child lost");
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		ok = fail("the child's copy changed (status %#x)", status);
out:
	if (mr && !dereg(mr))
		ok = false;
	report(ok,
	       "fork after ibv_reg_mr, the child writing its copy: RDMA moves the parent's pages, never the child's");
	if (p != MAP_FAILED)
		munmap(p, len);
}

/* ---- SIGKILL during registration ---- */

/*
 * SIGKILL at random points of an ibv_reg_mr/ibv_dereg_mr loop over 256M
 * of 4K pages: a child with its own device context loops over shared
 * memory the parent faulted in once, and is killed after a random delay
 * (within two cycles, seed printed). Its MRs go with its file at exit; the
 * suite's final nr_foll_pin_* balance shows nothing stayed pinned.
 */
#define KILLS	24

static void kill_cases(void)
{
	const size_t len = 256 * SZ_1M;
	unsigned int seed = (unsigned int)time(NULL), k, killed = 0;
	struct timespec t0, t1;
	struct ibv_mr *mr;
	double cycle_ms;
	int status;
	char *p;
	pid_t pid;

	if (getenv("UMEM_MR_KILL_SEED"))
		seed = strtoul(getenv("UMEM_MR_KILL_SEED"), NULL, 0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		fail("mmap: %s", strerror(errno));
		goto out;
	}
	memset(p, 3, len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mr = reg(p, len, ACC_RW);
	if (!mr || !dereg(mr))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cycle_ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf(
	       "# SIGKILL loop: one reg/dereg of 256M takes %.0f ms, seed %u (UMEM_MR_KILL_SEED replays it)\n",
	       cycle_ms, seed);
	for (k = 0; k < KILLS; k++) {
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			struct ibv_context *ctx = ibv_open_device(r.dev);
			struct ibv_pd *pd = ctx ? ibv_alloc_pd(ctx) : NULL;

			if (!pd)
				_exit(2);
			for (;;) {
				struct ibv_mr *m = ibv_reg_mr(pd, p, len, ACC_RW);

				if (m)
					ibv_dereg_mr(m);
			}
		}
		if (pid < 0) {
			fail("fork: %s", strerror(errno));
			break;
		}
		usleep((useconds_t)(rand_r(&seed) % (unsigned int)(2 * cycle_ms + 1)) * 1000);
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL)
			killed++;
	}
	if (killed != KILLS)
		fail("%u of %u children killed", killed, KILLS);
out:
	report(killed == KILLS,
	       "SIGKILL at %u random points of ibv_reg_mr/ibv_dereg_mr over 256M of 4K pages",
	       KILLS);
	if (p != MAP_FAILED)
		munmap(p, len);
}

/* ---- capability checks ---- */

#define PF_SUPERPRIV	0x00000100

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

/*
 * A root process under its RLIMIT_MEMLOCK causes no capability check in
 * ibv_reg_mr() (no audit record, no PF_SUPERPRIV): ib_umem_get() asks for
 * CAP_IPC_LOCK only when the registration would exceed the limit, and then
 * it lets root through. In a child, since fork() clears PF_SUPERPRIV.
 */
static void superpriv_child(void)
{
	struct ibv_mr *mr = NULL, *mr2 = NULL;
	struct ibv_context *ctx;
	unsigned long before, under, over;
	struct ibv_pd *pd;
	struct rlimit rl;
	char *mem;

	mem = mmap(NULL, 2 * SZ_1M, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fail("mmap: %s", strerror(errno));
		goto out;
	}
	memset(mem, 1, 2 * SZ_1M);
	/* Lower the soft limit only: raising the hard one asks capable(). */
	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_max < SZ_1M) {
		fail("RLIMIT_MEMLOCK hard limit below 1 MiB");
		goto out;
	}
	rl.rlim_cur = SZ_1M;
	if (setrlimit(RLIMIT_MEMLOCK, &rl)) {
		fail("setrlimit: %s", strerror(errno));
		goto out;
	}
	ctx = ibv_open_device(r.dev);
	pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	if (!pd) {
		fail("ibv_open_device/ibv_alloc_pd: %s", strerror(errno));
		goto out;
	}
	before = task_flags();
	mr = ibv_reg_mr(pd, mem, 64 * 1024, ACC_RW);
	under = task_flags();
	if (mr)
		mr2 = ibv_reg_mr(pd, mem + SZ_1M, SZ_1M, ACC_RW);
	over = task_flags();
	if (before == ~0UL || (before & PF_SUPERPRIV))
		fail("PF_SUPERPRIV already set before ibv_reg_mr (flags %#lx)",
		     before);
	else if (!mr)
		fail("ibv_reg_mr of 64 KiB under a 1 MiB limit: %s",
		     strerror(errno));
	else if (under & PF_SUPERPRIV)
		fail("ibv_reg_mr of 64 KiB under the limit asked capable() (flags %#lx)",
		     under);
	else if (!mr2)
		fail("ibv_reg_mr of 1 MiB more, over the limit, as root: %s",
		     strerror(errno));
	else if (!(over & PF_SUPERPRIV))
		fail("over the limit without asking for CAP_IPC_LOCK (flags %#lx)",
		     over);
	else
		check_vmpin(1088, "with 64 KiB + 1 MiB registered");
	if (mr2 && ibv_dereg_mr(mr2))
		fail("ibv_dereg_mr: %s", strerror(errno));
	if (mr && ibv_dereg_mr(mr))
		fail("ibv_dereg_mr: %s", strerror(errno));
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	report(true,
	       "root under RLIMIT_MEMLOCK: ibv_reg_mr asks no capability; over it, CAP_IPC_LOCK is asked and used");
	_exit(0);
out:
	report(false, "capability checks of ibv_reg_mr");
	_exit(1);
}

static void superpriv_cases(void)
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		report_skip("not root", "capability checks of ibv_reg_mr");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		report(false, "capability checks of ibv_reg_mr");
		return;
	}
	if (pid == 0)
		superpriv_child();
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		fail("child died (status %#x)", status);
		report(false, "capability checks of ibv_reg_mr");
	}
}

/* ---- rereg ---- */

/*
 * ibv_rereg_mr(); if the provider has no rereg_mr (rdma-core's rxe does
 * not), send the kernel's REREG_MR command on the context's command fd.
 * Returns 0 or an errno; updates the keys of mr.
 */
static int rereg(struct ibv_mr *mr, int flags, void *addr, size_t len,
		 int access)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_rereg_mr cmd;
	} req;
	struct ib_uverbs_rereg_mr_resp resp;
	int ret;

	errno = 0;
	ret = ibv_rereg_mr(mr, flags, r.pd, addr, len, access);
	if (!ret)
		return 0;
	/* the provider's verb is missing or refused: ask the kernel itself */
	if ((ret != IBV_REREG_MR_ERR_INPUT && ret != IBV_REREG_MR_ERR_CMD) ||
	    errno != EOPNOTSUPP)
		return errno ? errno : EIO;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.hdr.command = IB_USER_VERBS_CMD_REREG_MR;
	req.hdr.in_words = sizeof(req) / 4;
	req.hdr.out_words = sizeof(resp) / 4;
	req.cmd.response = (uintptr_t)&resp;
	req.cmd.mr_handle = mr->handle;
	/* the uAPI flags are the kernel's IB_MR_REREG_* */
	req.cmd.flags = flags;
	req.cmd.start = (uintptr_t)addr;
	req.cmd.length = len;
	req.cmd.hca_va = (uintptr_t)addr;
	req.cmd.pd_handle = r.pd->handle;
	req.cmd.access_flags = access;
	if (write(r.ctx->cmd_fd, &req, sizeof(req)) != (ssize_t)sizeof(req))
		return errno;
	mr->lkey = resp.lkey;
	mr->rkey = resp.rkey;
	if (flags & IBV_REREG_MR_CHANGE_TRANSLATION) {
		mr->addr = addr;
		mr->length = len;
	}
	return 0;
}

static void rereg_cases(void)
{
	long pin0 = vmpin_kb();
	struct ibv_mr *mr;
	struct buf a, b;
	int err;

	/* access flags: rw -> read-only -> rw, the pages stay */
	if (!buf_alloc(&a, BACK_4K, SZ_1M))
		goto access_out;
	mr = reg(a.base, SZ_1M, ACC_RW);
	if (!mr)
		goto access_out;
	err = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0,
		    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ);
	if (err) {
		fail("rereg to read-only: %s", strerror(err));
	} else if (check_vmpin(pin0 + 1024, "after rereg to read-only") &&
		   move_data(a.base, mr, false, "rereg to read-only")) {
		err = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0, ACC_RW);
		if (err)
			fail("rereg back to writable: %s", strerror(err));
		else if (check_vmpin(pin0 + 1024, "after rereg to writable"))
			move_data(a.base, mr, true, "rereg back to writable");
	}
	dereg(mr);
	check_vmpin(pin0, "after ibv_dereg_mr");
access_out:
	buf_free(&a);
	report(true,
	       "rereg access flags: rw -> read-only (remote WRITE refused) -> rw, data moves");

	/* a read-only pin cannot be made writable without new translation */
	if (!buf_alloc(&a, BACK_4K, SZ_1M))
		goto ro_out;
	mr = reg(a.base, SZ_1M, ACC_RO);
	if (!mr)
		goto ro_out;
	err = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0, ACC_RW);
	if (!err)
		fail("rereg of a read-only MR to writable succeeded");
	else if (err != EACCES)
		fail("rereg of a read-only MR to writable: %s, expected EACCES",
		     strerror(err));
	else
		move_data(a.base, mr, false, "read-only MR after refused rereg");
	dereg(mr);
	check_vmpin(pin0, "after ibv_dereg_mr");
ro_out:
	buf_free(&a);
	report(true, "rereg of a read-only MR to writable access fails with EACCES, MR unchanged");

	/* translation: move the MR to another buffer of another backing */
	memset(&b, 0, sizeof(b));
	if (!buf_alloc(&a, BACK_4K, SZ_1M) || !buf_alloc(&b, BACK_THP, SZ_2M))
		goto trans_out;
	mr = reg(a.base, SZ_1M, ACC_RW);
	if (!mr)
		goto trans_out;
	err = rereg(mr, IBV_REREG_MR_CHANGE_TRANSLATION |
		    IBV_REREG_MR_CHANGE_ACCESS, b.base + 4096 + 77,
		    SZ_1M + 1000, ACC_RW);
	if (err == EOPNOTSUPP) {
		/* refused (rxe): the old MR must be intact */
		if (check_vmpin(pin0 + 1024, "after refused rereg") &&
		    move_data(a.base, mr, true, "MR after refused rereg") &&
		    dereg(mr) && check_vmpin(pin0, "after ibv_dereg_mr")) {
			buf_free(&a);
			buf_free(&b);
			report_skip("device: EOPNOTSUPP; the MR stayed intact",
				    "rereg translation to a new (THP, unaligned) range");
			return;
		}
		dereg(mr);
	} else if (err) {
		fail("rereg translation: %s", strerror(err));
		dereg(mr);
	} else {
		if (check_vmpin(pin0 + pinned_kb(b.base + 4096 + 77,
						  SZ_1M + 1000),
				"after rereg translation") &&
		    move_data(b.base + 4096 + 77, mr, true,
			      "rereg translation"))
			bounds_case(b.base + 4096 + 77, SZ_1M + 1000);
		dereg(mr);
	}
	check_vmpin(pin0, "after ibv_dereg_mr");
trans_out:
	buf_free(&a);
	buf_free(&b);
	report(true, "rereg translation to a new (THP, unaligned) range, data moves");
}

/*
 * The mapping changes under a live MR; the MR keeps the pages it pinned:
 *  - mremap() moves them to another address: an RDMA WRITE through the MR
 *    (at its unchanged iova) lands where the CPU now sees the buffer, and
 *    an RDMA READ returns what the CPU wrote there;
 *  - MADV_DONTNEED drops the process's view: the CPU sees zero pages, RDMA
 *    still reaches the pinned ones (a WRITE is not seen by the CPU, a READ
 *    returns it), VmPin is unchanged until ibv_dereg_mr().
 * 4K pages and THP; the suite's nr_foll_pin_* balance shows that the pages
 * dropped from the process were unpinned at deregistration.
 */
static void live_mr_case(enum backing bk)
{
	const size_t len = 4 * SZ_1M, off = SZ_2M - 100, n = 64 * 1024;
	char *q = MAP_FAILED, *dst, *iova;
	struct ibv_mr *mr = NULL;
	long pin0 = vmpin_kb();
	struct buf b;
	uint32_t sd;
	size_t i;

	memset(&b, 0, sizeof(b));
	if (!buf_alloc(&b, bk, len))
		goto out;
	q = mmap(NULL, len + SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (q == MAP_FAILED) {
		fail("mmap: %s", strerror(errno));
		goto out;
	}
	dst = (char *)ALIGN_UP((uintptr_t)q, SZ_2M);
	mr = reg(b.base, len, ACC_RW);
	if (!mr)
		goto out;
	iova = b.base;
	if (mremap(b.base, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst) != dst) {
		fail("mremap: %s", strerror(errno));
		goto out;
	}
	sd = seed_ctr++;
	fill(r.lbuf, n, sd, 0);
	if (!op_ok(IBV_WR_RDMA_WRITE, r.lbuf, r.lmr->lkey, n, iova + off,
		   mr->rkey, "WRITE after mremap") ||
	    !verify(dst + off, n, sd, 0, "CPU view at the new address"))
		goto out;
	sd = seed_ctr++;
	fill(dst + SZ_4K, n, sd, 0);
	if (!op_ok(IBV_WR_RDMA_READ, r.lbuf, r.lmr->lkey, n, iova + SZ_4K,
		   mr->rkey, "READ after mremap") ||
	    !verify(r.lbuf, n, sd, 0, "READ of what the CPU wrote at the new address"))
		goto out;

	if (madvise(dst, len, MADV_DONTNEED)) {
		fail("MADV_DONTNEED: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < len; i += 2048)
		if (dst[i]) {
			fail("byte %#zx is %#x after MADV_DONTNEED", i,
			     (uint8_t)dst[i]);
			goto out;
		}
	memset(dst + off, 0x11, n);
	sd = seed_ctr++;
	fill(r.lbuf, n, sd, 0);
	if (!op_ok(IBV_WR_RDMA_WRITE, r.lbuf, r.lmr->lkey, n, iova + off,
		   mr->rkey, "WRITE after MADV_DONTNEED"))
		goto out;
	for (i = 0; i < n; i++)
		if (dst[off + i] != 0x11) {
			fail("the CPU sees the RDMA WRITE after MADV_DONTNEED (byte %zu)",
			     i);
			goto out;
		}
	memset(r.lbuf, 0, n);
	if (!op_ok(IBV_WR_RDMA_READ, r.lbuf, r.lmr->lkey, n, iova + off,
		   mr->rkey, "READ after MADV_DONTNEED") ||
	    !verify(r.lbuf, n, sd, 0, "READ of the pinned pages after MADV_DONTNEED"))
		goto out;
	check_vmpin(pin0 + len / 1024, "after MADV_DONTNEED");
out:
	if (mr && dereg(mr))
		check_vmpin(pin0, "after ibv_dereg_mr");
	if (q != MAP_FAILED)
		munmap(q, len + SZ_2M);	/* with the pages mremap() moved there */
	buf_free(&b);
	report(true,
	       "live MR of %s: mremap() moves the pinned pages, MADV_DONTNEED leaves them to RDMA only",
	       backing_name[bk]);
}

static void live_mr_cases(void)
{
	live_mr_case(BACK_4K);
	live_mr_case(BACK_THP);
}

/*
 * munmap() and mmap(MAP_FIXED) of the 64K at offset 64K of a 2M range while
 * ibv_reg_mr() registers it, 200 times: each registration either succeeds
 * (and deregisters) or fails with EFAULT, and nothing stays pinned (VmPin
 * and the nr_foll_pin_* balance).
 */
struct race {
	char *p;
	int stop;
	int err;
};

static void *race_remap(void *arg)
{
	struct race *rc = arg;

	while (!__atomic_load_n(&rc->stop, __ATOMIC_RELAXED)) {
		munmap(rc->p + 16 * SZ_4K, 16 * SZ_4K);
		/* NOREPLACE: never over a mapping someone made in the hole */
		if (mmap(rc->p + 16 * SZ_4K, 16 * SZ_4K, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0) != rc->p + 16 * SZ_4K) {
			rc->err = errno;
			break;
		}
		memset(rc->p + 16 * SZ_4K, 0x11, 16 * SZ_4K);
	}
	return NULL;
}

static void munmap_race_cases(void)
{
	int i, regd = 0, faulted = 0, bad = 0;
	long long held0 = foll_pins_held();
	struct race rc = { 0 };
	long pin0 = vmpin_kb();
	struct ibv_mr *mr;
	pthread_t thr;

	rc.p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rc.p == MAP_FAILED) {
		fail("mmap: %s", strerror(errno));
		goto out;
	}
	memset(rc.p, 0x22, SZ_2M);
	if (pthread_create(&thr, NULL, race_remap, &rc)) {
		fail("pthread_create");
		goto out;
	}
	for (i = 0; i < 200; i++) {
		mr = ibv_reg_mr(r.pd, rc.p, SZ_2M, ACC_RW);
		if (mr) {
			regd++;
			if (ibv_dereg_mr(mr))
				bad = EIO;
		} else if (errno == EFAULT) {
			faulted++;
		} else {
			bad = errno;
		}
	}
	__atomic_store_n(&rc.stop, 1, __ATOMIC_RELAXED);
	pthread_join(thr, NULL);
	printf("# munmap race: %d registered, %d EFAULT\n", regd, faulted);
	if (bad)
		fail("a registration failed with %s", strerror(bad));
	if (rc.err)
		fail("the racing mmap(MAP_FIXED_NOREPLACE) failed: %s",
		     strerror(rc.err));
	check_vmpin(pin0, "after the race");
	if (foll_pins_held() != held0)
		fail("%lld FOLL_PIN pins held after the race, %lld before",
		     foll_pins_held(), held0);
out:
	if (rc.p != MAP_FAILED)
		munmap(rc.p, SZ_2M);
	report(true,
	       "munmap/mmap(MAP_FIXED) racing ibv_reg_mr: each succeeds or fails EFAULT, VmPin back");
}

/* ---- fault injection ---- */

/*
 * After iommufd's fail_nth selftest: fail the Nth fault-injection point
 * (any slab allocation, any of umem's fail_umem points: the charge, the
 * page of runs, each GUP call, each table chunk) that ibv_reg_mr() reaches
 * in this thread, for N = 1, 2, ... until the call runs through with
 * fewer than N points.  After each injected failure the call must have
 * failed with ENOMEM, EFAULT or EINTR, VmPin and the FOLL_PIN balance must
 * be where they were, and the same registration must then work (and move
 * data for the first and the last N).  umem's points exist only on a
 * kernel with umem: elsewhere the case is skipped.
 */
static void failnth_case(enum backing bk, size_t len)
{
	long pin0 = vmpin_kb();
	long long held0, held;
	struct fail_nth f = { .fd = -1 };
	struct ibv_mr *mr;
	const char *why;
	char what[96];
	unsigned int n;
	struct buf b;

	snprintf(what, sizeof(what), "ibv_reg_mr %s %s", size_str(len),
		 backing_name[bk]);
	if (!fail_nth_supported()) {
		report_skip("no " UMEM_DEBUGFS "/fail_umem or failslab: a kernel without umem",
			    "fail-nth sweep of ibv_reg_mr of %s of %s",
			    size_str(len), backing_name[bk]);
		return;
	}
	if (!buf_alloc(&b, bk, len))
		goto out;
	/* A first registration warms up libibverbs' and the kernel's caches. */
	mr = reg(b.base, len, ACC_RW);
	if (!mr || !dereg(mr))
		goto out;
	held0 = foll_pins_held();
	if (held0 == LLONG_MIN) {
		fail("cannot fold and read nr_foll_pin_* (root, /proc/sys/vm/stat_refresh)");
		goto out;
	}
	why = fail_nth_begin(&f);
	if (why) {
		fail("%s", why);
		goto out;
	}
	for (n = 1; n <= FAILNTH_MAX; n++) {
		int err, fired;

		if (fail_nth_arm(&f, n)) {
			fail("write %u to fail-nth: %s", n, strerror(errno));
			break;
		}
		mr = ibv_reg_mr(r.pd, b.base, len, ACC_RW);
		err = mr ? 0 : errno;
		fired = fail_nth_fired(&f);
		if (fired < 0) {
			fail("read or reset fail-nth: %s", strerror(errno));
			break;
		}
		if (!fired) {
			/* fewer than n points: the call ran through */
			if (!mr) {
				fail("ibv_reg_mr failed (%s) with no fault injected",
				     strerror(err));
			} else {
				if (!move_data(b.base, mr, true, "after the sweep"))
					fail("no data after the sweep");
				dereg(mr);
			}
			break;
		}
		if (!fail_nth_count(&f, err)) {
			fail("fault %u: ibv_reg_mr failed with %s", n,
			     strerror(err));
			break;
		}
		if (mr) {
			/* the point's failure was absorbed (a retry or a fallback) */
			bool moved = move_data(b.base, mr, true,
					       "MR that survived an injected failure");

			if (!dereg(mr) || !moved)
				break;
		}
		if (!check_vmpin(pin0, "after an injected failure"))
			break;
		held = foll_pins_held();
		if (held != held0) {
			fail("fault %u: %lld FOLL_PIN pins held, %lld before", n,
			     held, held0);
			break;
		}
		mr = reg(b.base, len, ACC_RW);
		if (!mr)
			break;
		if (n == 1 && !move_data(b.base, mr, true, "after fault 1")) {
			dereg(mr);
			break;
		}
		if (!dereg(mr))
			break;
	}
	if (n > FAILNTH_MAX)
		fail("still injecting after %u points", FAILNTH_MAX);
	else if (!f.injected)
		fail("no fault-injection point reached");
	fail_nth_report(&f, what);
out:
	fail_nth_end(&f);
	buf_free(&b);
	report(check_vmpin(pin0, "at the end of the sweep"),
	       "fail-nth sweep of ibv_reg_mr of %s of %s: clean errno, VmPin and pins back, retry works",
	       size_str(len), backing_name[bk]);
}

/*
 * The same sweep for ibv_rereg_mr() of the access flags (read-write to
 * read-only) of a live MR of 4K memory.  An access rereg keeps the MR's
 * pages: umem has no point on this path, so what fails is the command's
 * own allocations (failslab), if it makes any; the count printed says how
 * many.  After each injected failure the MR must be unchanged (data moves
 * both ways), VmPin and the FOLL_PIN balance where they were; a rereg that
 * absorbed its failure must have taken effect (remote WRITE refused) and is
 * undone.  Translation rereg is refused by rxe before anything is pinned
 * (EOPNOTSUPP, see rereg_cases()), so it has no point to sweep on this
 * device.
 */
static void failnth_rereg_case(void)
{
	long pin0 = vmpin_kb(), pin_mr = pin0 + 2 * 1024;
	bool ok = false, rw = true;
	struct ibv_mr *mr = NULL;
	long long held0, held;
	struct fail_nth f = { .fd = -1 };
	const char *why;
	unsigned int n;
	struct buf b;
	int err;

	if (!fail_nth_supported()) {
		report_skip("no " UMEM_DEBUGFS "/fail_umem or failslab: a kernel without umem",
			    "fail-nth sweep of ibv_rereg_mr of the access of a 4K MR");
		return;
	}
	if (!buf_alloc(&b, BACK_4K, 2 * SZ_1M))
		goto out;
	mr = reg(b.base, 2 * SZ_1M, ACC_RW);
	if (!mr)
		goto out;
	/* A first rereg there and back warms up the caches. */
	err = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0, ACC_RO) ?:
	      rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0, ACC_RW);
	if (err) {
		fail("rereg of the access with no fault injected: %s", strerror(err));
		goto out;
	}
	held0 = foll_pins_held();
	if (held0 == LLONG_MIN) {
		fail("cannot fold and read nr_foll_pin_* (root, /proc/sys/vm/stat_refresh)");
		goto out;
	}
	why = fail_nth_begin(&f);
	if (why) {
		fail("%s", why);
		goto out;
	}
	for (n = 1; n <= FAILNTH_MAX; n++) {
		int fired;

		if (fail_nth_arm(&f, n)) {
			fail("write %u to fail-nth: %s", n, strerror(errno));
			break;
		}
		err = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0, ACC_RO);
		fired = fail_nth_fired(&f);
		if (fired < 0) {
			fail("read or reset fail-nth: %s", strerror(errno));
			break;
		}
		if (!fired) {
			/* fewer than n points: the call ran through */
			if (err)
				fail("rereg to read-only failed (%s) with no fault injected",
				     strerror(err));
			else
				ok = move_data(b.base, mr, false, "after the rereg sweep");
			rw = !!err;
			break;
		}
		if (!fail_nth_count(&f, err)) {
			fail("fault %u: ibv_rereg_mr failed with %s", n,
			     strerror(err));
			break;
		}
		if (!err) {
			/* absorbed: the rereg took effect; undo it */
			if (!move_data(b.base, mr, false,
				       "MR reregistered through an injected failure"))
				break;
			err = rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0, ACC_RW);
			if (err) {
				fail("fault %u: rereg back to read-write: %s", n,
				     strerror(err));
				break;
			}
		}
		if (!move_data(b.base, mr, true, "MR after a failed rereg") ||
		    !check_vmpin(pin_mr, "after an injected failure"))
			break;
		held = foll_pins_held();
		if (held != held0) {
			fail("fault %u: %lld FOLL_PIN pins held, %lld before", n,
			     held, held0);
			break;
		}
	}
	if (n > FAILNTH_MAX)
		fail("still injecting after %u points", FAILNTH_MAX);
	fail_nth_report(&f, "ibv_rereg_mr access 2M 4K");
	if (ok && !rw)
		ok = !rereg(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0, ACC_RW) &&
		     move_data(b.base, mr, true, "rereg back after the sweep") &&
		     check_vmpin(pin_mr, "after the sweep");
out:
	fail_nth_end(&f);
	if (mr && !dereg(mr))
		ok = false;
	buf_free(&b);
	report(ok && check_vmpin(pin0, "at the end of the sweep"),
	       "fail-nth sweep of ibv_rereg_mr of the access of a 4K MR: clean errno, MR unchanged, VmPin and pins back, rereg works");
}

static void failnth_cases(void)
{
	failnth_case(BACK_4K, 2 * SZ_1M);
	failnth_case(BACK_THP, 4 * SZ_1M);
	failnth_case(BACK_HUGETLB, 4 * SZ_1M);
	failnth_rereg_case();
}

/* ---- fuzz ---- */

/*
 * A bounded fuzz of ibv_reg_mr / ibv_rereg_mr / ibv_dereg_mr against a
 * shadow model of what is registered and charged.  Random operations over
 * up to FUZZ_MRS MRs on one buffer of each backing, at random byte offsets
 * and lengths, possibly overlapping:
 *  - reg with read-write, local-write + remote-read or read-only access;
 *  - reg of a range that runs into a PROT_NONE mapping: must fail EFAULT;
 *  - dereg;
 *  - rereg of the access flags: a read-only pin cannot become writable
 *    (EACCES, MR unchanged), anything else succeeds;
 *  - rereg of the translation to a new range: done, or refused with
 *    EOPNOTSUPP (rxe) and the MR unchanged; the device must answer the same
 *    way every time;
 *  - data moved through a window of a random MR, remote WRITE refused when
 *    the model says the MR is not remotely writable.
 * After every operation VmPin must equal the model's sum of the pages the
 * live MRs span (each MR charges its own, overlaps count twice).  The seed
 * is printed; UMEM_RDMA_FUZZ_SEED replays a run, UMEM_RDMA_FUZZ_SECS sets
 * its length (default 30 s).
 */
#define FUZZ_MRS	16
#define FUZZ_BUF	(8 * SZ_1M)
#define FUZZ_GUARD	(64 * 1024)

struct fuzz_mr {
	struct ibv_mr *mr;
	char *addr;
	size_t len;
	int access;
	bool writable_pin;
};

static const int fuzz_access[] = {
	ACC_RW, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ, ACC_RO,
};

static bool acc_writable(int access)
{
	return access & (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
}

/* A random range of a random buffer: any byte offset, 1 byte to 1 MiB */
static void fuzz_range(struct buf *bufs, char **addr, size_t *len)
{
	struct buf *b = &bufs[random() % NR_BACKINGS];
	size_t l = 1 + random() % SZ_1M;
	size_t off = random() % (b->len - l + 1);

	*addr = b->base + off;
	*len = l;
}

static long fuzz_model_kb(const struct fuzz_mr *m)
{
	long kb = 0;

	for (int i = 0; i < FUZZ_MRS; i++)
		if (m[i].mr)
			kb += pinned_kb(m[i].addr, m[i].len);
	return kb;
}

static void fuzz_cases(void)
{
	unsigned long ops = 0, nreg = 0, nfault = 0, ndereg = 0, nacc = 0;
	unsigned long nrefused = 0, ntrans = 0, ndata = 0;
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	struct fuzz_mr m[FUZZ_MRS] = { };
	struct buf bufs[NR_BACKINGS] = { };
	int trans_answer = -1;	/* 0 done, EOPNOTSUPP refused */
	long pin0 = vmpin_kb();
	struct timespec t0, t;
	char *guard = MAP_FAILED;
	double secs = 30;
	char tag[96];
	bool ok = true;

	if (getenv("UMEM_RDMA_FUZZ_SEED"))
		seed = strtoul(getenv("UMEM_RDMA_FUZZ_SEED"), NULL, 0);
	if (getenv("UMEM_RDMA_FUZZ_SECS"))
		secs = atof(getenv("UMEM_RDMA_FUZZ_SECS"));
	printf("# fuzz: seed %u for %.0f s (UMEM_RDMA_FUZZ_SEED replays it)\n",
	       seed, secs);
	srandom(seed);
	for (int i = 0; i < NR_BACKINGS; i++)
		if (!buf_alloc(&bufs[i], i, FUZZ_BUF))
			goto out;
	guard = mmap(NULL, FUZZ_GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (guard == MAP_FAILED) {
		fail("mmap PROT_NONE: %s", strerror(errno));
		goto out;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int dice = random() % 100, i = random() % FUZZ_MRS, err;
		struct fuzz_mr *f = &m[i];
		char *addr;
		size_t len;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
		ops++;
		if (!f->mr && dice < 90) {
			/* reg into a free slot */
			f->access = fuzz_access[random() % ARRAY_SIZE(fuzz_access)];
			fuzz_range(bufs, &f->addr, &f->len);
			f->mr = ibv_reg_mr(r.pd, f->addr, f->len, f->access);
			if (!f->mr) {
				ok = fail("op %lu: ibv_reg_mr(+%zu bytes, %#x): %s",
					  ops, f->len, f->access, strerror(errno));
				break;
			}
			f->writable_pin = acc_writable(f->access);
			nreg++;
		} else if (!f->mr) {
			/* a range that runs into the PROT_NONE mapping */
			len = 1 + random() % FUZZ_GUARD;
			addr = guard + random() % (FUZZ_GUARD - len + 1);
			errno = 0;
			f->mr = ibv_reg_mr(r.pd, addr, len, ACC_RW);
			if (f->mr || errno != EFAULT) {
				ok = fail(
					"op %lu: ibv_reg_mr of PROT_NONE memory: %s, expected EFAULT",
					ops, f->mr ? "registered" : strerror(errno));
				if (f->mr)
					ibv_dereg_mr(f->mr);
				f->mr = NULL;
				break;
			}
			nfault++;
		} else if (dice < 35) {
			err = ibv_dereg_mr(f->mr);
			f->mr = NULL;
			if (err) {
				ok = fail("op %lu: ibv_dereg_mr: %s", ops,
					  strerror(err));
				break;
			}
			ndereg++;
		} else if (dice < 55) {
			int acc = fuzz_access[random() % ARRAY_SIZE(fuzz_access)];
			int want = acc_writable(acc) && !f->writable_pin ?
				   EACCES : 0;

			err = rereg(f->mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, 0,
				    acc);
			if (err != want) {
				ok = fail("op %lu: rereg access %#x -> %#x: %s, expected %s",
					  ops, f->access, acc, strerror(err),
					  strerror(want));
				break;
			}
			if (!err)
				f->access = acc;
			else
				nrefused++;
			nacc++;
		} else if (dice < 65) {
			int acc = fuzz_access[random() % ARRAY_SIZE(fuzz_access)];

			fuzz_range(bufs, &addr, &len);
			err = rereg(f->mr, IBV_REREG_MR_CHANGE_TRANSLATION |
				    IBV_REREG_MR_CHANGE_ACCESS, addr, len, acc);
			if (trans_answer < 0 && (!err || err == EOPNOTSUPP))
				trans_answer = err;
			if (err != trans_answer) {
				ok = fail("op %lu: rereg translation: %s, earlier %s",
					  ops, strerror(err),
					  strerror(trans_answer));
				break;
			}
			if (!err) {
				f->addr = addr;
				f->len = len;
				f->access = acc;
				f->writable_pin = acc_writable(acc);
			} else {
				nrefused++;
			}
			ntrans++;
		} else {
			size_t w = f->len < 64 * 1024 ? f->len : 64 * 1024;
			size_t off = random() % (f->len - w + 1);

			snprintf(tag, sizeof(tag), "fuzz op %lu", ops);
			if (!move_window(f->addr, f->mr, off, w,
					 f->access & IBV_ACCESS_REMOTE_WRITE,
					 tag)) {
				ok = false;
				break;
			}
			ndata++;
		}
		if (vmpin_kb() != pin0 + fuzz_model_kb(m)) {
			ok = fail("op %lu: VmPin %ld kB, the model says %ld kB",
				  ops, vmpin_kb(), pin0 + fuzz_model_kb(m));
			break;
		}
	}
	printf(
		"# fuzz: %lu operations (%lu reg, %lu EFAULT reg, %lu dereg, %lu access rereg, %lu translation rereg, %lu refused as the model said, %lu data moves), seed %u\n",
		ops, nreg, nfault, ndereg, nacc, ntrans, nrefused, ndata, seed);
out:
	for (int i = 0; i < FUZZ_MRS; i++)
		if (m[i].mr && ibv_dereg_mr(m[i].mr))
			ok = fail("ibv_dereg_mr: %s", strerror(errno));
	if (guard != MAP_FAILED)
		munmap(guard, FUZZ_GUARD);
	for (int i = 0; i < NR_BACKINGS; i++)
		buf_free(&bufs[i]);
	ok = check_vmpin(pin0, "after the fuzz") && ok;
	report(ok, "fuzz of reg/rereg/dereg against a model of VmPin and access (seed %u)",
	       seed);
}

/* ---- main ---- */

static size_t parse_size(const char *s)
{
	char *end;
	size_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'g': case 'G':
		v <<= 10;
		fallthrough;
	case 'm': case 'M':
		v <<= 10;
		fallthrough;
	case 'k': case 'K':
		v <<= 10;
		break;
	}
	return v;
}

static void print_usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--big SIZE[K|M|G]] [--gid-index N]\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "big", required_argument, NULL, 'b' },
		{ "gid-index", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	char gidstr[INET6_ADDRSTRLEN];
	long kb;
	int c;

	while ((c = getopt_long(argc, argv, "b:g:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			big_size = parse_size(optarg);
			if (big_size < 4 * SZ_2M)
				big_size = 4 * SZ_2M;
			break;
		case 'g':
			opt_gid_index = atoi(optarg);
			break;
		default:
			print_usage(argv[0]);
		}
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	counts = mmap(NULL, sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	if (open_rdma() || setup_qps()) {
		report(false, "open the RDMA device and connect two RC QPs");
		goto done;
	}
	inet_ntop(AF_INET6, r.gid.raw, gidstr, sizeof(gidstr));
	printf("# device %s port %u gid[%d] %s mtu %d, QPs %u <-> %u\n",
	       ibv_get_device_name(r.dev), r.port, r.gid_index, gidstr,
	       128 << r.mtu, r.qp[0]->qp_num, r.qp[1]->qp_num);

	r.lbuf = mmap(NULL, LBUF_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r.lbuf != MAP_FAILED)
		r.lmr = reg(r.lbuf, LBUF_SIZE, ACC_RW);
	if (!r.lmr) {
		report(false, "register the local bounce buffer");
		goto done;
	}
	report(check_vmpin(LBUF_SIZE / 1024, "with the bounce buffer"),
	       "open %s, connect two RC QPs, register a %s bounce buffer",
	       ibv_get_device_name(r.dev), size_str(LBUF_SIZE));

	for (int bk = 0; bk < NR_BACKINGS; bk++)
		backing_cases(bk);
	memlock_cases();
	fork_cases();
	kill_cases();
	superpriv_cases();
	rereg_cases();
	live_mr_cases();
	munmap_race_cases();
	failnth_cases();
	fuzz_cases();

	dereg(r.lmr);
	r.lmr = NULL;
	destroy_qps();
	if (ibv_dealloc_pd(r.pd))
		fail("ibv_dealloc_pd: %s", strerror(errno));
	if (ibv_close_device(r.ctx))
		fail("ibv_close_device: %s", strerror(errno));
	kb = vmpin_kb();
	if (kb != 0)
		fail("VmPin %ld kB", kb);
	report(true, "every MR deregistered, device closed: VmPin 0 kB");
done:
	printf("1..%d\n", counts->n);
	printf("%d passed, %d failed\n", counts->passed, counts->failed);
	return counts->failed ? 1 : 0;
}
