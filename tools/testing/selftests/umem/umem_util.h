/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the umem, RDMA and VFIO pinning selftests share: the counters they
 * read after every call (/proc/self/status, /proc/vmstat, the FOLL_PIN
 * balance) and the fail-nth loop.
 *
 * The fail-nth loop follows iommufd's fail_nth selftest: the Nth
 * fault-injection point a call reaches in the calling thread is failed,
 * for N = 1, 2, ... until the call runs through with fewer than N points.
 * The points are every slab allocation (failslab) and umem's own
 * (fail_umem: the charge, the page of runs, each GUP call, each table
 * chunk):
 *
 *	struct fail_nth f;
 *
 *	why = fail_nth_begin(&f);	// this thread's fail-nth, quiet knobs
 *	for (n = 1; !why && n <= FAILNTH_MAX; n++) {
 *		fail_nth_arm(&f, n);
 *		err = the call;
 *		if (!fail_nth_fired(&f))
 *			break;		// ran through: the sweep is over
 *		fail_nth_count(&f, err);	// ENOMEM, EFAULT, EINTR or absorbed
 *		... check that nothing was left behind, retry ...
 *	}
 *	fail_nth_report(&f, "what");
 *	fail_nth_end(&f);		// the knobs as they were
 *
 * Header-only, so that each test stays one .c file.
 */
#ifndef __SELFTESTS_UMEM_UTIL_H
#define __SELFTESTS_UMEM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UMEM_DEBUGFS	"/sys/kernel/debug"
#define FAILNTH_MAX	2000

/* The "Name: value" field @name of @path (/proc/self/status, /proc/meminfo), or -1 */
static inline long proc_kb(const char *path, const char *name)
{
	size_t nlen = strlen(name);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, nlen) && line[nlen] == ':') {
			val = strtol(line + nlen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* A "Name:  value kB" line of /proc/self/status (VmPin, VmLck), or -1 */
static inline long status_kb(const char *name)
{
	return proc_kb("/proc/self/status", name);
}

static inline bool have_cap_ipc_lock(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ULL << 14 /* CAP_IPC_LOCK */);
}

/* Fold the per-CPU vmstat deltas; needs root. False if it cannot. */
static inline bool vmstat_refresh(void)
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

/* A counter of /proc/vmstat, or -1 */
static inline long long read_vmstat(const char *name)
{
	size_t nlen = strlen(name);
	long long val = -1;
	char line[256];
	FILE *f;

	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, nlen) && line[nlen] == ' ') {
			val = strtoll(line + nlen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* nr_foll_pin_acquired - nr_foll_pin_released, folded; LLONG_MIN if unknown */
static inline long long foll_pins_held(void)
{
	long long acq, rel;

	if (!vmstat_refresh())
		return LLONG_MIN;
	acq = read_vmstat("nr_foll_pin_acquired");
	rel = read_vmstat("nr_foll_pin_released");
	if (acq < 0 || rel < 0)
		return LLONG_MIN;
	return acq - rel;
}

/* ---- fail-nth ---- */

/* The knobs a sweep sets: GFP_KERNEL allocations fail too, no log flood. */
static const char *const fail_nth_knobs[][2] = {
	{ UMEM_DEBUGFS "/failslab/ignore-gfp-wait", "N" },
	{ UMEM_DEBUGFS "/failslab/verbose", "0" },
	{ UMEM_DEBUGFS "/fail_umem/verbose", "0" },
};

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define FAIL_NTH_NR_KNOBS	ARRAY_SIZE(fail_nth_knobs)

struct fail_nth {
	int fd;			/* /proc/self/task/<tid>/fail-nth */
	char saved[FAIL_NTH_NR_KNOBS][32];
	unsigned int injected, nenomem, nefault, neintr;
};

/* Only a kernel with umem's fault attribute (and failslab) can be swept. */
static inline bool fail_nth_supported(void)
{
	return !access(UMEM_DEBUGFS "/fail_umem", F_OK) &&
	       !access(UMEM_DEBUGFS "/failslab", F_OK);
}

static inline int fail_nth_knob(const char *path, char *buf, size_t len,
				bool wr)
{
	int fd = open(path, wr ? O_WRONLY : O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = wr ? write(fd, buf, strlen(buf)) : read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	if (!wr)
		buf[n] = '\0';
	return 0;
}

/* Restore the knobs fail_nth_begin() changed; close fail-nth. */
static inline void fail_nth_end(struct fail_nth *f)
{
	for (size_t i = 0; i < FAIL_NTH_NR_KNOBS; i++)
		if (f->saved[i][0])
			fail_nth_knob(fail_nth_knobs[i][0], f->saved[i],
				      sizeof(f->saved[i]), true);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	memset(f->saved, 0, sizeof(f->saved));
}

/*
 * Open this thread's fail-nth and set the knobs, saving them. Returns
 * NULL, or what failed (fail_nth_end() is still due).
 */
static inline const char *fail_nth_begin(struct fail_nth *f)
{
	char path[64], v[8];

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)gettid());
	f->fd = open(path, O_RDWR);
	if (f->fd < 0)
		return "cannot open /proc/self/task/<tid>/fail-nth";
	for (size_t i = 0; i < FAIL_NTH_NR_KNOBS; i++) {
		snprintf(v, sizeof(v), "%s", fail_nth_knobs[i][1]);
		if (fail_nth_knob(fail_nth_knobs[i][0], f->saved[i],
				  sizeof(f->saved[i]), false) ||
		    fail_nth_knob(fail_nth_knobs[i][0], v, sizeof(v), true))
			return "cannot set the failslab/fail_umem knobs in " UMEM_DEBUGFS;
	}
	return NULL;
}

/* Fail the @n-th point the thread reaches from now on. 0, or -1 and errno. */
static inline int fail_nth_arm(struct fail_nth *f, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(f->fd, buf, len, 0) == len ? 0 : -1;
}

/*
 * After the call: 1 if the armed point was reached (its failure was
 * injected), 0 if the call ran through with fewer points (fail-nth is
 * disarmed), -1 (and errno) if fail-nth cannot be read or written.
 */
static inline int fail_nth_fired(struct fail_nth *f)
{
	char buf[16];
	ssize_t n = pread(f->fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (atoi(buf) <= 0)
		return 1;
	return pwrite(f->fd, "0", 1, 0) == 1 ? 0 : -1;
}

/*
 * Count how the call ended after its injected failure: @err is 0 (the
 * failure was absorbed by a retry or a fallback) or a positive errno.
 * False for an errno other than ENOMEM, EFAULT or EINTR.
 */
static inline bool fail_nth_count(struct fail_nth *f, int err)
{
	f->injected++;
	switch (err) {
	case 0:
		return true;
	case ENOMEM:
		f->nenomem++;
		return true;
	case EFAULT:
		f->nefault++;
		return true;
	case EINTR:
		f->neintr++;
		return true;
	}
	return false;
}

/* The line rig/robustness.py tabulates. */
static inline void fail_nth_report(const struct fail_nth *f, const char *what)
{
	printf("# fail-nth %s: %u points injected (%u ENOMEM, %u EFAULT, %u EINTR, %u absorbed)\n",
	       what, f->injected, f->nenomem, f->nefault, f->neintr,
	       f->injected - f->nenomem - f->nefault - f->neintr);
	fflush(stdout);
}

#endif /* __SELFTESTS_UMEM_UTIL_H */
