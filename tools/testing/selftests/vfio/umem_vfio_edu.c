// SPDX-License-Identifier: GPL-2.0
/*
 * umem_vfio_edu - behavioural test of VFIO type1 DMA mapping with QEMU's edu
 *
 * Binds QEMU's "edu" PCI device (1234:11e8) to vfio-pci, puts its group in a
 * VFIO_TYPE1v2_IOMMU container and checks what userspace can observe of
 * VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA, on any kernel:
 *
 *  - 4K-page, THP and hugetlbfs (2M pages; 1G pages too when the guest has
 *    them reserved) buffers from 4 KiB to --big bytes (default 1 GiB)
 *    mapped below the device's DMA mask (36 bits: the rig runs QEMU with
 *    -device edu,dma_mask=0xfffffffff); the device reads (RAM->EDU) and
 *    writes (EDU->RAM) 2 KiB windows across 4K and 2M boundaries, the
 *    middle (a 1G boundary for 2G) and the mapping's last bytes, every
 *    moved byte checked;
 *    VmLck charged and uncharged; MAP_DMA/UNMAP_DMA of --big timed;
 *  - the v2 unmap rules (bisecting unmaps refused, EEXIST on overlap,
 *    VFIO_DMA_UNMAP_FLAG_ALL returns the total), the reserved MSI window;
 *  - VFIO_DMA_UNMAP_FLAG_VADDR / VFIO_DMA_MAP_FLAG_VADDR (memfd mapped twice);
 *  - VFIO_IOMMU_DIRTY_PAGES start / get bitmap / unmap with bitmap / stop;
 *  - RLIMIT_MEMLOCK for an unprivileged user (ENOMEM, nothing charged);
 *  - a VM_PFNMAP range (the device's own BAR0, P2P style);
 *  - vfio_iommu_type1.disable_hugepages=Y at run time: THP and hugetlb
 *    mappings still work, in 4K IOMMU pages (nr_iommu_pages shows it);
 *  - replay: mappings made while the container holds only an mdev's
 *    emulated group (the mtty sample) are pinned, charged and mapped when
 *    edu's group attaches as the first IOMMU domain, reached by the device,
 *    and unpinned/uncharged (but kept) when that domain detaches;
 *  - mremap() and MADV_DONTNEED of a live mapping: the device follows the
 *    pinned pages, not the process's view;
 *  - a bounded fuzz of MAP_DMA/UNMAP_DMA/unmap-all/DMA against a shadow
 *    model of what is mapped, charged and pinned (seed printed, replayable);
 *  - a fail-nth sweep of MAP_DMA (4K, THP, hugetlb, THP with dirty
 *    tracking on; 1 GiB of 1G hugetlb pages with --fail-nth-1g): every
 *    fault-injection point it reaches failed in turn,
 *    each leaving a clean errno and nothing mapped, charged or pinned
 *    (kernels with umem's fail_umem fault attribute only);
 *  - VmLck and /proc/vmstat nr_foll_pin_* balance at the end.
 *
 * With --iommufd the device is opened through its VFIO cdev
 * (/dev/vfio/devices/vfioN), bound to /dev/iommu and attached to an IOAS,
 * and the backings are mapped with IOMMU_IOAS_MAP / IOMMU_IOAS_UNMAP
 * instead: the same DMA checks, with VmPin (mm->pinned_vm, which iommufd
 * charges in every accounting mode) in place of VmLck. The type1-only
 * cases (unmap rules, vaddr, dirty pages, RLIMIT_MEMLOCK, PFNMAP, replay)
 * are not run.
 *
 * The edu device (QEMU hw/misc/edu.c) has a 4 KiB DMA buffer at device
 * address 0x40000; QEMU 7.2 aborts the VM on a transfer that ends exactly at
 * the buffer's end, so every transfer here is at most 2 KiB from 0x40000.
 * Each transfer takes ~100 ms of virtual time (edu's DMA timer).
 *
 * Output: TAP ("ok N - ..." / "not ok N - ...: reason", the plan at the
 * end), then "N passed, N failed"; the exit status is non-zero if anything
 * failed.  Run as root in a guest
 * with an IOMMU and the edu device; it leaves edu bound to vfio-pci.
 *
 * Build: make -C tools/testing/selftests TARGETS=vfio
 *
 * Not for upstream as it stands: it needs QEMU's edu device (a test device
 * of the emulator) behind an emulated IOMMU; umem_vfio_test.sh skips it
 * elsewhere.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../umem/umem_util.h"
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << MAP_HUGE_SHIFT)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC	0x0001U
#endif

#define SZ_4K		0x1000UL
#define SZ_64K		0x10000UL
#define SZ_1M		0x100000UL
#define SZ_2M		0x200000UL
#define SZ_16M		0x1000000UL
#define SZ_64M		0x4000000UL
#define SZ_256M		0x10000000UL
#define SZ_1G		0x40000000UL
#define SZ_4G		0x100000000ULL
#define NOBODY		65534

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_REG_ID	0x00
#define EDU_REG_LIVE	0x04
#define EDU_REG_SRC	0x80
#define EDU_REG_DST	0x88
#define EDU_REG_CNT	0x90
#define EDU_REG_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000UL
#define EDU_XFER_MAX	2048UL	/* QEMU 7.2 aborts on 4096 bytes ending at 0x41000 */
#define EDU_DMA_MASK	0xfffffffffULL	/* -device edu,dma_mask=0xfffffffff */

#define GUARD		64	/* bytes checked untouched around a DMA window */

enum backing { BACK_4K, BACK_THP, BACK_HUGETLB, BACK_HUGETLB_1G, NR_BACKINGS };

static const char *const backing_name[NR_BACKINGS] = {
	[BACK_4K]	= "4K",
	[BACK_THP]	= "THP",
	[BACK_HUGETLB]	= "hugetlb",
	[BACK_HUGETLB_1G] = "hugetlb-1G",
};

/* Shared with forked children so that their results count and number on */
struct counts {
	int n;
	int passed;
	int failed;
};

static struct counts *counts;
static char reason[512];

static int container = -1, group_fd = -1, device = -1;
static uint8_t *bar0;
static uint64_t bar0_size, bar0_offset;
static uint64_t iommu_pgsizes;
static struct vfio_iova_range iova_ranges[16];
static unsigned int nr_iova_ranges;
static int verbose;
/* --iommufd: the device's cdev bound to /dev/iommu, mappings in an IOAS */
static bool use_iommufd;
static int iommufd = -1;
static uint32_t ioas_id;

/* ---- reporting ---------------------------------------------------------- */

/* Record why the next check fails (helpers call this, check() prints it) */
static void __printf(1, 2) why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
}

static bool __printf(2, 3)
check(bool ok, const char *fmt, ...)
{
	va_list ap;
	int n = ++counts->n;

	if (ok)
		counts->passed++;
	else
		counts->failed++;
	printf("%sok %d - ", ok ? "" : "not ", n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf(": %s", reason[0] ? reason : "check failed");
	putchar('\n');
	fflush(stdout);
	reason[0] = 0;
	return ok;
}

static void __printf(1, 2) info(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *fmt_size(char *buf, size_t len, uint64_t n)
{
	if (!n)
		snprintf(buf, len, "0");
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
	const char *unit;
	unsigned long long n;
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
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end || !n || n > SIZE_MAX / 2)
		return -1;
	*size = n;
	return 0;
}

/* ---- /proc -------------------------------------------------------------- */

/* A "Name:  value kB" line of /proc/self/status, in kB, or -1 */
static long vmlck(void)
{
	return proc_kb("/proc/self/status", "VmLck");
}

/*
 * What a mapping charges: VmLck for type1, VmPin for iommufd (pinned_vm:
 * its per-user or per-mm locked_vm charge is not in /proc, and a process
 * with CAP_IPC_LOCK is not charged there at all).
 */
static const char *acct_name(void)
{
	return use_iommufd ? "VmPin" : "VmLck";
}

static long acct_kb(void)
{
	return use_iommufd ? proc_kb("/proc/self/status", "VmPin") : vmlck();
}

/*
 * Kernel memory a mapping holds, in kB: unreclaimable slab (where a page
 * array or scatterlist would show) and IOMMU page tables (nr_iommu_pages,
 * the same for any pinning scheme). Per-CPU deltas are folded first.
 */
struct kmem {
	long slab_kb;
	long long iommu_kb;
};

static void kmem_read(struct kmem *k)
{
	vmstat_refresh();
	k->slab_kb = proc_kb("/proc/meminfo", "SUnreclaim");
	k->iommu_kb = read_vmstat("nr_iommu_pages");
	if (k->iommu_kb >= 0)
		k->iommu_kb *= getpagesize() / 1024;
}

/* AnonHugePages (kB) of the smaps entry containing @addr, or -1 */
static long anon_huge_kb(const void *addr)
{
	unsigned long start, end, a = (uintptr_t)addr;
	char line[512];
	bool in = false;
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
		if (in && sscanf(line, "AnonHugePages: %ld", &val) == 1)
			break;
	}
	fclose(f);
	return val;
}

/*
 * Number of physically contiguous runs of pages in [addr, addr + len), from
 * /proc/self/pagemap (pfns need CAP_SYS_ADMIN), or -1 if they are hidden.
 * The memory layout decides how many IOMMU map/unmap calls type1 makes.
 */
static long pfn_runs(const void *addr, size_t len)
{
	uint64_t buf[512], prev = 0;
	size_t i, n, npages = len / SZ_4K, done = 0;
	long runs = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	while (done < npages) {
		off_t off = ((uintptr_t)addr / SZ_4K + done) * sizeof(uint64_t);
		ssize_t r;

		n = npages - done < 512 ? npages - done : 512;
		r = pread(fd, buf, n * sizeof(uint64_t), off);
		if (r != (ssize_t)(n * sizeof(uint64_t))) {
			runs = -1;
			break;
		}
		for (i = 0; i < n; i++) {
			uint64_t pfn = buf[i] & ((1ULL << 55) - 1);

			if (!(buf[i] >> 63) || !pfn) {
				runs = -1;
				goto out;
			}
			if (!done && !i)
				runs = 1;
			else if (pfn != prev + 1)
				runs++;
			prev = pfn;
		}
		done += n;
	}
out:
	close(fd);
	return runs;
}

/* ---- sysfs and VFIO setup ---------------------------------------------- */

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

static unsigned long read_hex(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static bool find_edu(char *bdf, size_t len)
{
	const char *dir = "/sys/bus/pci/devices";
	struct dirent *de;
	char path[PATH_MAX];
	bool found = false;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/vendor", dir, de->d_name);
		if (read_hex(path) != EDU_VENDOR)
			continue;
		snprintf(path, sizeof(path), "%s/%s/device", dir, de->d_name);
		if (read_hex(path) != EDU_DEVICE)
			continue;
		snprintf(bdf, len, "%s", de->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

static bool bind_vfio_pci(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		if (!strcmp(strrchr(link, '/') + 1, "vfio-pci"))
			return true;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		ret = write_file(path, bdf);
		if (ret) {
			why("unbind from %s: %s", link, strerror(-ret));
			return false;
		}
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	ret = write_file(path, "vfio-pci");
	if (ret) {
		why("driver_override: %s", strerror(-ret));
		return false;
	}
	ret = write_file("/sys/bus/pci/drivers_probe", bdf);
	if (ret) {
		why("drivers_probe: %s", strerror(-ret));
		return false;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		why("no driver bound after drivers_probe (CONFIG_VFIO_PCI?)");
		return false;
	}
	link[n] = 0;
	if (strcmp(strrchr(link, '/') + 1, "vfio-pci")) {
		why("bound to %s, not vfio-pci", link);
		return false;
	}
	return true;
}

static bool read_iommu_info(void)
{
	struct vfio_iommu_type1_info *inf;
	struct vfio_info_cap_header *hdr;
	size_t sz = sizeof(*inf);
	uint32_t off;

	inf = calloc(1, sz);
	if (!inf)
		return false;
	inf->argsz = sz;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, inf))
		goto err;
	if (inf->argsz > sz) {
		sz = inf->argsz;
		free(inf);
		inf = calloc(1, sz);
		if (!inf)
			return false;
		inf->argsz = sz;
		if (ioctl(container, VFIO_IOMMU_GET_INFO, inf))
			goto err;
	}
	iommu_pgsizes = inf->iova_pgsizes;
	if (!(inf->flags & VFIO_IOMMU_INFO_CAPS))
		goto out;
	for (off = inf->cap_offset; off && off + sizeof(*hdr) <= sz;
	     off = hdr->next) {
		hdr = (void *)((char *)inf + off);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *r = (void *)hdr;
			unsigned int i;

			for (i = 0; i < r->nr_iovas && i < 16; i++)
				iova_ranges[i] = r->iova_ranges[i];
			nr_iova_ranges = i;
		}
	}
out:
	free(inf);
	return true;
err:
	why("VFIO_IOMMU_GET_INFO: %s", strerror(errno));
	free(inf);
	return false;
}

static bool iova_valid(uint64_t iova, uint64_t size)
{
	unsigned int i;

	if (!nr_iova_ranges)
		return true;
	for (i = 0; i < nr_iova_ranges; i++)
		if (iova >= iova_ranges[i].start &&
		    iova + size - 1 <= iova_ranges[i].end)
			return true;
	return false;
}

/* Lowest 2M-aligned IOVA >= @min with [iova, iova + size) usable */
static uint64_t iova_fit(uint64_t min, uint64_t size)
{
	uint64_t iova;
	unsigned int i;

	if (!nr_iova_ranges)
		return min;
	for (i = 0; i < nr_iova_ranges; i++) {
		iova = iova_ranges[i].start > min ? iova_ranges[i].start : min;
		iova = (iova + SZ_2M - 1) & ~(SZ_2M - 1);
		if (iova + size - 1 >= iova && iova + size - 1 <= iova_ranges[i].end)
			return iova;
	}
	return UINT64_MAX;
}

/*
 * Open the VFIO group of the device at @devpath (its sysfs directory) and
 * check that it is viable.  Returns the group fd or -1 (reason recorded).
 */
static int group_open(const char *devpath)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[PATH_MAX + 16], link[PATH_MAX], *grp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/iommu_group", devpath);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		why("%s has no iommu_group (IOMMU off?)", devpath);
		return -1;
	}
	link[n] = 0;
	grp = strrchr(link, '/') + 1;
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		why("%s: %s", path, strerror(errno));
		return -1;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		why("group %s not viable (other devices in it?)", grp);
		close(fd);
		return -1;
	}
	return fd;
}

static bool container_open(void)
{
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0) {
		why("/dev/vfio/vfio: %s", strerror(errno));
		return false;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		why("VFIO_GET_API_VERSION mismatch");
		return false;
	}
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		why("no VFIO_TYPE1v2_IOMMU");
		return false;
	}
	return true;
}

static bool device_setup(const char *bdf);

static bool vfio_setup(const char *bdf)
{
	char path[PATH_MAX];

	if (!container_open())
		return false;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	group_fd = group_open(path);
	if (group_fd < 0)
		return false;
	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container)) {
		why("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
		return false;
	}
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		why("VFIO_SET_IOMMU(TYPE1v2): %s", strerror(errno));
		return false;
	}
	return device_setup(bdf);
}

static bool device_bar_setup(void);

/* Device fd of edu in group_fd, IOMMU info, BAR0 mmap, bus master on */
static bool device_setup(const char *bdf)
{
	device = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (device < 0) {
		why("VFIO_GROUP_GET_DEVICE_FD: %s", strerror(errno));
		return false;
	}
	if (!read_iommu_info())
		return false;
	return device_bar_setup();
}

/* The usable IOVA ranges of the IOAS, as read_iommu_info() gets type1's */
static bool read_ioas_ranges(void)
{
	struct iommu_iova_range r[16];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas_id,
		.num_iovas = 16,
		.allowed_iovas = (uintptr_t)r,
	};
	unsigned int i;

	if (ioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &q)) {
		why("IOMMU_IOAS_IOVA_RANGES: %s", strerror(errno));
		return false;
	}
	for (i = 0; i < q.num_iovas && i < 16; i++) {
		iova_ranges[i].start = r[i].start;
		iova_ranges[i].end = r[i].last;
	}
	nr_iova_ranges = i;
	iommu_pgsizes = q.out_iova_alignment;
	return true;
}

/*
 * --iommufd: open edu's VFIO cdev, bind it to a new /dev/iommu context and
 * attach it to a new IOAS, then BAR0 and bus master as device_setup().
 */
static bool cdev_setup(const char *bdf)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[PATH_MAX], cdev[NAME_MAX + 1] = "";
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir) {
		why("%s: %s (CONFIG_VFIO_DEVICE_CDEV?)", path, strerror(errno));
		return false;
	}
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(cdev, sizeof(cdev), "%s", de->d_name);
	closedir(dir);
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	device = cdev[0] ? open(path, O_RDWR | O_CLOEXEC) : -1;
	if (device < 0) {
		why("%s: %s", cdev[0] ? path : "no vfio cdev", strerror(errno));
		return false;
	}
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0) {
		why("/dev/iommu: %s", strerror(errno));
		return false;
	}
	bind.iommufd = iommufd;
	if (ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		why("VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(errno));
		return false;
	}
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) {
		why("IOMMU_IOAS_ALLOC: %s", strerror(errno));
		return false;
	}
	ioas_id = alloc.out_ioas_id;
	at.pt_id = ioas_id;
	if (ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at)) {
		why("VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", strerror(errno));
		return false;
	}
	return read_ioas_ranges() && device_bar_setup();
}

/* BAR0 mmap and bus master on for the device fd */
static bool device_bar_setup(void)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	uint16_t cmd;

	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		why("GET_REGION_INFO(BAR0): %s", strerror(errno));
		return false;
	}
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) || ri.size < 0x100) {
		why("BAR0 not mmap-able (flags %#x size %#llx)", ri.flags,
		    (unsigned long long)ri.size);
		return false;
	}
	bar0_size = ri.size;
	bar0_offset = ri.offset;
	bar0 = mmap(NULL, bar0_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    device, bar0_offset);
	if (bar0 == MAP_FAILED) {
		bar0 = NULL;
		why("mmap BAR0: %s", strerror(errno));
		return false;
	}

	memset(&ri, 0, sizeof(ri));
	ri.argsz = sizeof(ri);
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		why("GET_REGION_INFO(config): %s", strerror(errno));
		return false;
	}
	if (pread(device, &cmd, 2, ri.offset + PCI_COMMAND) != 2) {
		why("read PCI_COMMAND: %s", strerror(errno));
		return false;
	}
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(device, &cmd, 2, ri.offset + PCI_COMMAND) != 2) {
		why("write PCI_COMMAND: %s", strerror(errno));
		return false;
	}
	cmd = 0;
	if (pread(device, &cmd, 2, ri.offset + PCI_COMMAND) != 2 ||
	    !(cmd & PCI_COMMAND_MASTER)) {
		why("bus master not enabled (command %#x)", cmd);
		return false;
	}
	return true;
}

/* ---- edu ---------------------------------------------------------------- */

static uint32_t edu_rd32(unsigned int reg)
{
	return __atomic_load_n((uint32_t *)(bar0 + reg), __ATOMIC_RELAXED);
}

static void edu_wr32(unsigned int reg, uint32_t val)
{
	__atomic_store_n((uint32_t *)(bar0 + reg), val, __ATOMIC_RELAXED);
}

static uint64_t edu_rd64(unsigned int reg)
{
	return __atomic_load_n((uint64_t *)(bar0 + reg), __ATOMIC_RELAXED);
}

static void edu_wr64(unsigned int reg, uint64_t val)
{
	__atomic_store_n((uint64_t *)(bar0 + reg), val, __ATOMIC_RELAXED);
}

/*
 * One edu DMA of @len bytes between IOVA @iova and the device buffer at
 * offset @boff: to_ram = EDU->RAM (device writes memory), else RAM->EDU.
 */
static int edu_dma(uint64_t iova, unsigned long boff, unsigned long len,
		   bool to_ram)
{
	double t0;

	if (!len || len > EDU_XFER_MAX || boff + len > EDU_XFER_MAX ||
	    iova + len - 1 > EDU_DMA_MASK)
		return -EINVAL;
	t0 = now_ms();
	while (edu_rd64(EDU_REG_CMD) & EDU_CMD_RUN) {
		if (now_ms() - t0 > 10000)
			return -EBUSY;
		usleep(2000);
	}
	if (to_ram) {
		edu_wr64(EDU_REG_SRC, EDU_BUF + boff);
		edu_wr64(EDU_REG_DST, iova);
	} else {
		edu_wr64(EDU_REG_SRC, iova);
		edu_wr64(EDU_REG_DST, EDU_BUF + boff);
	}
	edu_wr64(EDU_REG_CNT, len);
	__sync_synchronize();
	edu_wr64(EDU_REG_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
	t0 = now_ms();
	while (edu_rd64(EDU_REG_CMD) & EDU_CMD_RUN) {
		if (now_ms() - t0 > 10000)
			return -ETIMEDOUT;
		usleep(2000);
	}
	__sync_synchronize();
	return 0;
}

static void pattern(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static uint32_t seed_counter = 1;

/*
 * Device reads @len bytes at IOVA base+src (RAM->EDU) and writes them back at
 * IOVA base+dst (EDU->RAM); @mem is what userspace sees at IOVA @iova,
 * @size bytes.  Checks every byte of the destination window and GUARD bytes
 * either side of it (inside the mapping) untouched.
 */
static bool dma_roundtrip(uint8_t *mem, uint64_t iova, uint64_t size,
			  uint64_t src, uint64_t dst, unsigned long len)
{
	uint8_t want[EDU_XFER_MAX];
	uint64_t g0, g1, i;
	int ret;

	pattern(want, len, seed_counter++);
	memcpy(mem + src, want, len);
	g0 = dst >= GUARD ? dst - GUARD : 0;
	g1 = dst + len + GUARD <= size ? dst + len + GUARD : size;
	for (i = g0; i < g1; i++)
		if (i < src || i >= src + len)
			mem[i] = (uint8_t)(0xa5 ^ i);
	/* DMA reads what the CPU wrote: x86 is coherent, no flush needed */
	__sync_synchronize();
	ret = edu_dma(iova + src, 0, len, false);
	if (!ret)
		ret = edu_dma(iova + dst, 0, len, true);
	if (ret) {
		why("edu DMA: %s", strerror(-ret));
		return false;
	}
	for (i = 0; i < len; i++) {
		if (mem[dst + i] != want[i]) {
			why("byte %#llx of the window at +%#llx is %#x, expected %#x (src +%#llx)",
			    (unsigned long long)i, (unsigned long long)dst,
			    mem[dst + i], want[i], (unsigned long long)src);
			return false;
		}
	}
	for (i = g0; i < g1; i++) {
		if ((i >= dst && i < dst + len) || (i >= src && i < src + len))
			continue;
		if (mem[i] != (uint8_t)(0xa5 ^ i)) {
			why("byte at +%#llx outside the window was overwritten",
			    (unsigned long long)i);
			return false;
		}
	}
	return true;
}

/*
 * Windows: first bytes, across the first 4K boundary, across the first 2M
 * boundary, across the middle, the last bytes.  Then the device moves each
 * window to the next one, so each is read and written once.
 */
static bool dma_windows(uint8_t *mem, uint64_t iova, uint64_t size,
			const char *what)
{
	unsigned long len = size >= 2 * EDU_XFER_MAX ? EDU_XFER_MAX : size / 2;
	uint64_t cand[5], win[5];
	unsigned int n = 0, i, j;
	bool ok = true;

	cand[0] = 0;
	cand[1] = SZ_4K - len / 2;
	cand[2] = SZ_2M - len / 2;
	cand[3] = (size / 2 & ~(SZ_4K - 1)) - len / 2;
	cand[4] = size - len;
	/* sort, then drop what is out of range or overlaps the previous one */
	for (i = 1; i < 5; i++)
		for (j = i; j > 0 && cand[j] < cand[j - 1]; j--) {
			uint64_t t = cand[j];

			cand[j] = cand[j - 1];
			cand[j - 1] = t;
		}
	for (i = 0; i < 5; i++) {
		if (cand[i] + len > size || cand[i] > size)
			continue;
		if (n && cand[i] < win[n - 1] + len)
			continue;
		/* stay below the device's DMA mask */
		if (iova + cand[i] + len - 1 > EDU_DMA_MASK)
			continue;
		win[n++] = cand[i];
	}
	if (n < 2 && iova + size / 2 > EDU_DMA_MASK)
		return check(true,
			     "%s: device DMA # SKIP mapped above the device's DMA mask",
			     what);
	if (n < 2) {
		why("no two DMA windows below the DMA mask");
		return check(false, "%s: device DMA", what);
	}
	for (i = 0; i < n && ok; i++) {
		j = (i + 1) % n;
		ok = dma_roundtrip(mem, iova, size, win[i], win[j], len);
	}
	return check(ok,
		     "%s: device read+write %u windows of %lu bytes (4K/2M crossings, last bytes)",
		     what, n, len);
}

/* ---- VFIO DMA helpers --------------------------------------------------- */

static int dma_map(uint64_t iova, const void *vaddr, uint64_t size,
		   uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	if (use_iommufd) {
		struct iommu_ioas_map im = {
			.size = sizeof(im),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA,
			.ioas_id = ioas_id,
			.user_va = (uintptr_t)vaddr,
			.length = size,
			.iova = iova,
		};

		if (flags & VFIO_DMA_MAP_FLAG_READ)
			im.flags |= IOMMU_IOAS_MAP_READABLE;
		if (flags & VFIO_DMA_MAP_FLAG_WRITE)
			im.flags |= IOMMU_IOAS_MAP_WRITEABLE;
		return ioctl(iommufd, IOMMU_IOAS_MAP, &im) ? -errno : 0;
	}
	return ioctl(container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

static int map_rw(uint64_t iova, const void *vaddr, uint64_t size)
{
	return dma_map(iova, vaddr, size,
		       VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
}

static int dma_unmap(uint64_t iova, uint64_t size, uint32_t flags,
		     uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	int ret;

	if (use_iommufd) {
		/* iova 0, length U64_MAX: everything, as FLAG_ALL */
		struct iommu_ioas_unmap iu = {
			.size = sizeof(iu),
			.ioas_id = ioas_id,
			.iova = flags & VFIO_DMA_UNMAP_FLAG_ALL ? 0 : iova,
			.length = flags & VFIO_DMA_UNMAP_FLAG_ALL ? UINT64_MAX : size,
		};

		if (flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
			return -EINVAL;
		ret = ioctl(iommufd, IOMMU_IOAS_UNMAP, &iu) ? -errno : 0;
		if (unmapped)
			*unmapped = iu.length;
		return ret;
	}
	ret = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
	if (unmapped)
		*unmapped = u.size;
	return ret;
}

/* Unmap exactly [iova, iova + size), expecting @size back */
static bool unmap_exact(uint64_t iova, uint64_t size)
{
	uint64_t got = 0;
	int ret = dma_unmap(iova, size, 0, &got);

	if (ret) {
		why("UNMAP_DMA: %s", strerror(-ret));
		return false;
	}
	if (got != size) {
		why("UNMAP_DMA unmapped %#llx bytes, expected %#llx",
		    (unsigned long long)got, (unsigned long long)size);
		return false;
	}
	return true;
}

/* Clean slate between cases: whatever is left is unmapped (and reported) */
static void unmap_all_quiet(void)
{
	uint64_t got = 0;

	if (!dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got) && got)
		info("cleanup unmapped %#llx bytes left mapped", (unsigned long long)got);
}

/* ---- memory ------------------------------------------------------------- */

struct buf {
	uint8_t *base;	/* what mmap() returned */
	size_t maplen;
	uint8_t *addr;	/* 2M aligned for THP and hugetlb */
};

static int buf_alloc(enum backing b, size_t size, struct buf *m)
{
	const int prot = PROT_READ | PROT_WRITE;
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
	uintptr_t start, aligned;
	size_t head;

	memset(m, 0, sizeof(*m));
	switch (b) {
	case BACK_4K:
		m->maplen = (size + SZ_4K - 1) & ~(SZ_4K - 1);
		m->base = mmap(NULL, m->maplen, prot, anon, -1, 0);
		if (m->base == MAP_FAILED)
			return -errno;
		if (madvise(m->base, m->maplen, MADV_NOHUGEPAGE))
			return -errno;
		break;
	case BACK_THP:
		size = (size + SZ_2M - 1) & ~(SZ_2M - 1);
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
		if (madvise(m->base, size, MADV_HUGEPAGE))
			return -errno;
		break;
	default: {
		/* hugetlbfs: whole 2M or 1G pages */
		size_t pgsz = b == BACK_HUGETLB ? SZ_2M : SZ_1G;

		m->maplen = (size + pgsz - 1) & ~(pgsz - 1);
		m->base = mmap(NULL, m->maplen, prot, anon | MAP_HUGETLB |
			       (b == BACK_HUGETLB ? MAP_HUGE_2MB : MAP_HUGE_1GB),
			       -1, 0);
		if (m->base == MAP_FAILED)
			return -errno;
		break;
	}
	}
	m->addr = m->base;
	return 0;
}

/*
 * Fault the buffer in before MAP_DMA, so that MAP_DMA times pinning, not
 * page faults.  MADV_POPULATE_WRITE (5.14) does it in one call, far faster
 * under TCG than a user fault per page; touch each page if it is missing.
 */
static void buf_touch(struct buf *m)
{
	size_t i;

	if (!madvise(m->addr, m->maplen, MADV_POPULATE_WRITE))
		return;
	for (i = 0; i < m->maplen; i += SZ_4K)
		m->addr[i] = (uint8_t)(i >> 12);
}

static void buf_free(struct buf *m)
{
	if (m->base && m->base != MAP_FAILED)
		munmap(m->base, m->maplen);
	m->base = NULL;
}

/* ---- cases -------------------------------------------------------------- */

static uint64_t iova_low;	/* 2M aligned start of usable IOVA below the mask */

/*
 * Map @size bytes of backing @b at the lowest usable IOVA, DMA through
 * it, unmap.  @timed: print the MAP_DMA/UNMAP_DMA times.
 */
static void case_backing(enum backing b, size_t size, bool timed)
{
	char sz[32], what[96];
	double t0, t_touch, t_map, t_unmap;
	struct kmem k0 = { -1, -1 }, k1 = { -1, -1 };
	struct buf m;
	uint64_t iova;
	long lck0, lck;
	bool mapped;
	int ret;

	snprintf(what, sizeof(what), "%s %s", backing_name[b],
		 fmt_size(sz, sizeof(sz), size));
	iova = iova_fit(iova_low, size);
	if (iova == UINT64_MAX) {
		why("no usable IOVA range of %s", sz);
		check(false, "%s: IOVA space", what);
		return;
	}
	ret = buf_alloc(b, size, &m);
	if (ret) {
		why("mmap/madvise: %s%s", strerror(-ret), b == BACK_HUGETLB ?
		    " (2M hugetlb pages reserved? /proc/sys/vm/nr_hugepages)" :
		    b == BACK_HUGETLB_1G ? " (1G hugetlb pages reserved?)" : "");
		check(false, "%s: allocate", what);
		buf_free(&m);
		return;
	}
	t0 = now_ms();
	buf_touch(&m);
	t_touch = now_ms() - t0;
	if (b == BACK_THP && size >= SZ_2M && (verbose || timed))
		info("%s: AnonHugePages %ld kB", what, anon_huge_kb(m.addr));
	if (timed) {
		long runs = pfn_runs(m.addr, size);

		if (runs > 0)
			info("%s: physically contiguous runs: %ld, %.1f pages each on average",
			     what, runs, (double)size / SZ_4K / runs);
	}

	lck0 = acct_kb();
	if (timed)
		kmem_read(&k0);
	t0 = now_ms();
	ret = map_rw(iova, m.addr, size);
	t_map = now_ms() - t0;
	if (timed)
		kmem_read(&k1);
	mapped = !ret;
	if (ret)
		why("MAP_DMA iova %#llx: %s", (unsigned long long)iova,
		    strerror(-ret));
	if (!check(!ret, "%s: MAP_DMA at iova %#llx", what,
		   (unsigned long long)iova))
		goto out;

	lck = acct_kb();
	why("%s %ld kB -> %ld kB", acct_name(), lck0, lck);
	check(lck - lck0 == (long)(size / 1024),
	      "%s: %s charged %zu kB", what, acct_name(), size / 1024);

	dma_windows(m.addr, iova, size, what);

	t0 = now_ms();
	mapped = !unmap_exact(iova, size);
	t_unmap = now_ms() - t0;
	check(!mapped, "%s: UNMAP_DMA returns the size", what);
	lck = acct_kb();
	why("%s %ld kB, was %ld kB", acct_name(), lck, lck0);
	check(lck == lck0, "%s: %s uncharged", what, acct_name());
	if (timed)
		info("%-8s %6s  MAP_DMA %10.1f ms  UNMAP_DMA %10.1f ms  (fault-in %.1f ms)",
		     backing_name[b], sz, t_map, t_unmap, t_touch);
	if (timed && k0.slab_kb >= 0 && k1.slab_kb >= 0) {
		double per_gib = (double)SZ_1G / size * 1024;

		info(
		     "%-8s %6s  metadata: slab %+ld kB (%.0f bytes/GiB), IOMMU page tables %+lld kB (%.0f bytes/GiB)",
		     backing_name[b], sz, k1.slab_kb - k0.slab_kb,
		     (k1.slab_kb - k0.slab_kb) * per_gib,
		     k0.iommu_kb >= 0 ? k1.iommu_kb - k0.iommu_kb : 0,
		     k0.iommu_kb >= 0 ? (k1.iommu_kb - k0.iommu_kb) * per_gib : 0);
	}
out:
	if (mapped)
		unmap_all_quiet();
	buf_free(&m);
}

/* After UNMAP_DMA the device must no longer reach the memory */
static void case_unmapped_iova(void)
{
	const unsigned long len = 256;
	uint64_t iova = iova_low;
	uint8_t *p;
	bool ok = true;
	unsigned long i;
	int ret;

	p = mmap(NULL, SZ_64K, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		why("mmap: %s", strerror(errno));
		check(false, "device write to an unmapped IOVA");
		return;
	}
	memset(p, 0x3c, SZ_64K);
	ret = map_rw(iova, p, SZ_64K);
	if (!ret)
		ok = dma_roundtrip(p, iova, SZ_64K, 0, SZ_4K, len);
	if (ret)
		why("MAP_DMA: %s", strerror(-ret));
	if (!check(!ret && ok, "64K mapping reachable by the device"))
		goto out;
	if (!check(unmap_exact(iova, SZ_64K), "64K mapping unmapped"))
		goto out;
	memset(p, 0x3c, SZ_64K);
	/* device buffer still holds the last pattern; write it to the old IOVA */
	ret = edu_dma(iova + 8192, 0, len, true);
	for (i = 0; i < SZ_64K && !ret; i++)
		if (p[i] != 0x3c) {
			why("byte +%#lx changed to %#x by a DMA after UNMAP_DMA", i, p[i]);
			ok = false;
			break;
		}
	if (ret) {
		why("edu DMA: %s", strerror(-ret));
		ok = false;
	}
	check(ok,
	      "device write to the unmapped IOVA does not reach the memory (an IOMMU fault in dmesg is expected)");
out:
	unmap_all_quiet();
	munmap(p, SZ_64K);
}

/*
 * Lifecycle: fork after MAP_DMA, the child writing its copy. FOLL_LONGTERM
 * pins make fork() copy the pinned pages for the child, so the parent
 * keeps the very pages the IOMMU maps: the device must reach the parent's
 * memory in both directions after the child wrote, and never the child's.
 */
static void case_fork(void)
{
	const size_t size = SZ_64K;
	int to_child[2], to_parent[2], status;
	uint64_t iova = iova_low;
	bool ok = false;
	uint8_t *p;
	pid_t pid;
	char c;
	int ret;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || pipe(to_child) || pipe(to_parent)) {
		why("mmap/pipe: %s", strerror(errno));
		check(false, "fork after MAP_DMA");
		return;
	}
	memset(p, 0x3c, size);
	ret = map_rw(iova, p, size);
	if (!check(!ret, "fork: MAP_DMA of 64K before fork (%s)",
		   ret ? strerror(-ret) : "success"))
		goto out;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		size_t i;

		/* The child's copy: written all over, then left alone. */
		memset(p, 0x77, size);
		if (write(to_parent[1], "w", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < size; i++)
			if (p[i] != 0x77)
				_exit(1);
		_exit(0);
	}
	if (pid < 0 || read(to_parent[0], &c, 1) != 1) {
		why("fork: %s", strerror(errno));
		check(false, "fork after MAP_DMA");
		goto unmap;
	}
	/* Parent writes, the device reads them and writes them back. */
	ok = dma_roundtrip(p, iova, size, 0, SZ_4K + 100, 2048) &&
	     dma_roundtrip(p, iova, size, 8 * SZ_4K, 4 * SZ_4K, 1024);
	check(ok,
	      "fork: after the child wrote its copy, the device reads and writes the parent's pages");
	ret = write(to_child[1], "d", 1) == 1 && waitpid(pid, &status, 0) == pid;
	why("child status %#x", status);
	check(ret && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "fork: the child's copy is untouched by the device");
unmap:
	check(unmap_exact(iova, size), "fork: UNMAP_DMA of the 64K");
out:
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	munmap(p, size);
}

/*
 * The mapping changes under a live MAP_DMA; the pins keep the pages the
 * IOMMU maps, whatever happens to the process's view of them:
 *  - mremap() moves the pages themselves to another address: the device
 *    reads and writes what the CPU sees at the new address;
 *  - MADV_DONTNEED drops the process's view: the CPU faults in fresh zero
 *    pages, the device keeps reaching the pinned ones (its writes are not
 *    seen by the CPU), VmLck does not change; a new MAP_DMA after
 *    UNMAP_DMA reaches the new pages.
 * 4K pages and THP.  The suite's final nr_foll_pin_* balance shows that
 * the pages dropped from the process were still unpinned at UNMAP_DMA.
 */
static void remap_dontneed(enum backing b)
{
	const size_t size = 4 * SZ_1M;
	uint64_t iova = iova_low, iova2 = iova_low + size + SZ_2M;
	uint8_t want[2048], *q, *dst, *vis;
	long lck0 = vmlck();
	char what[64];
	struct buf m;
	size_t i;
	int ret;

	snprintf(what, sizeof(what), "live MAP_DMA of %s", backing_name[b]);
	ret = buf_alloc(b, size, &m);
	if (ret) {
		why("mmap: %s", strerror(-ret));
		check(false, "%s: allocate", what);
		buf_free(&m);
		return;
	}
	buf_touch(&m);
	/* a 2M aligned place to move it to */
	q = mmap(NULL, size + SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (q == MAP_FAILED) {
		why("mmap: %s", strerror(errno));
		check(false, "%s: allocate", what);
		buf_free(&m);
		return;
	}
	dst = (uint8_t *)(((uintptr_t)q + SZ_2M - 1) & ~(SZ_2M - 1));
	ret = map_rw(iova, m.addr, size);
	why("MAP_DMA: %s", strerror(-ret));
	if (!check(!ret, "%s: MAP_DMA", what))
		goto out;

	if (mremap(m.addr, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, dst) != dst) {
		why("mremap: %s", strerror(errno));
		check(false, "%s: mremap() to another address", what);
		goto unmap;
	}
	m.addr = dst;
	m.base = dst;
	check(dma_roundtrip(dst, iova, size, 100, SZ_2M - 1000, 2048) &&
	      dma_roundtrip(dst, iova, size, size - 2048, SZ_4K, 2048),
	      "%s: after mremap(), the device reads and writes the pages at the new address",
	      what);

	/* known bytes in a pinned page, then the process lets go of it */
	pattern(want, sizeof(want), seed_counter++);
	memcpy(dst + 3 * SZ_4K, want, sizeof(want));
	if (madvise(dst, size, MADV_DONTNEED)) {
		why("MADV_DONTNEED: %s", strerror(errno));
		check(false, "%s: MADV_DONTNEED", what);
		goto unmap;
	}
	for (i = 0; i < size && !dst[i]; i += SZ_4K / 2)
		;
	why("byte %#zx is %#x", i, i < size ? dst[i] : 0);
	check(i >= size, "%s: after MADV_DONTNEED the CPU sees zero pages", what);
	memset(dst + SZ_4K, 0x11, 2048);
	ret = edu_dma(iova, 0, 2048, false);
	if (!ret)
		ret = edu_dma(iova + SZ_4K, 0, 2048, true);
	for (i = 0; !ret && i < 2048 && dst[SZ_4K + i] == 0x11; i++)
		;
	why("edu DMA: %s, CPU byte %zu of the window %#x", strerror(-ret), i,
	    i < 2048 ? dst[SZ_4K + i] : 0x11);
	check(!ret && i == 2048,
	      "%s: after MADV_DONTNEED the device still reaches the pinned pages, not the CPU's",
	      what);
	/* the device copies the pinned page's bytes where the CPU can look */
	vis = mmap(NULL, SZ_64K, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ret = vis == MAP_FAILED ? -errno : map_rw(iova2, vis, SZ_64K);
	if (!ret) {
		memset(vis, 0, SZ_64K);
		ret = edu_dma(iova + 3 * SZ_4K, 0, sizeof(want), false);
		if (!ret)
			ret = edu_dma(iova2 + SZ_4K, 0, sizeof(want), true);
		if (!unmap_exact(iova2, SZ_64K) && !ret)
			ret = -EIO;
	}
	why("%s; the copy %s the bytes written before MADV_DONTNEED",
	    ret ? strerror(-ret) : "DMA done",
	    !ret && !memcmp(vis + SZ_4K, want, sizeof(want)) ? "holds" : "lacks");
	check(!ret && !memcmp(vis + SZ_4K, want, sizeof(want)),
	      "%s: after MADV_DONTNEED the device reads the pinned page's bytes", what);
	if (vis != MAP_FAILED)
		munmap(vis, SZ_64K);
	why("VmLck %ld kB, was %ld kB", vmlck(), lck0);
	check(vmlck() - lck0 == (long)(size / 1024),
	      "%s: MADV_DONTNEED leaves the mapping charged", what);
	if (!check(unmap_exact(iova, size), "%s: UNMAP_DMA", what))
		goto unmap;
	ret = map_rw(iova, dst, size);
	why("MAP_DMA: %s", strerror(-ret));
	check(!ret && dma_roundtrip(dst, iova, size, 0, SZ_2M + 100, 2048),
	      "%s: a new MAP_DMA after MADV_DONTNEED reaches the new pages", what);
	if (!ret)
		check(unmap_exact(iova, size), "%s: UNMAP_DMA of the new mapping",
		      what);
unmap:
	unmap_all_quiet();
out:
	why("VmLck %ld kB, was %ld kB", vmlck(), lck0);
	check(vmlck() == lck0, "%s: VmLck back after UNMAP_DMA", what);
	munmap(q, size + SZ_2M);	/* with the pages mremap() moved there */
	if (m.base == dst)
		m.base = NULL;
	buf_free(&m);
}

static void case_remap_dontneed(void)
{
	remap_dontneed(BACK_4K);
	remap_dontneed(BACK_THP);
}

/*
 * A bounded fuzz of MAP_DMA / UNMAP_DMA against a shadow model of what is
 * mapped: random mappings of random 4K-aligned pieces of a 4K, a THP and a
 * hugetlb buffer at random IOVAs of a 64M window (overlaps must fail
 * EEXIST), unmaps of exact mappings, of random ranges (the v2 rule: a
 * range that would split a mapping fails EINVAL, otherwise every mapping
 * inside it goes and the sizes add up) and unmap-all, and now and then a
 * device DMA through a random live mapping.  After every operation VmLck
 * and the FOLL_PIN balance must equal the model's: every mapping charges
 * and pins its pages (a page mapped at two IOVAs counts two).  The seed is
 * printed; UMEM_VFIO_FUZZ_SEED replays a run, UMEM_VFIO_FUZZ_SECS sets its
 * length (default 60 s).
 */
#define FUZZ_MAPS	64
#define FUZZ_WINDOW	SZ_64M
#define FUZZ_BUF	(8 * SZ_1M)

struct fuzz_map {
	uint64_t iova, size;
	uint8_t *cpu;
};

static void case_fuzz(void)
{
	static const enum backing backs[] = { BACK_4K, BACK_THP, BACK_HUGETLB };
	unsigned int seed = (unsigned int)time(NULL), nmaps = 0, i, j;
	unsigned long ops = 0, nmap = 0, nunmap = 0, nerr = 0, ndma = 0;
	struct fuzz_map maps[FUZZ_MAPS];
	struct buf bufs[ARRAY_SIZE(backs)];
	long long held0 = foll_pins_held(), pages = 0;
	double secs = 60, t0 = now_ms();
	uint64_t win = iova_fit(SZ_256M, FUZZ_WINDOW), got;
	long lck0 = vmlck();
	char op[160] = "";
	bool ok = true;
	int ret;

	if (getenv("UMEM_VFIO_FUZZ_SEED"))
		seed = strtoul(getenv("UMEM_VFIO_FUZZ_SEED"), NULL, 0);
	if (getenv("UMEM_VFIO_FUZZ_SECS"))
		secs = atof(getenv("UMEM_VFIO_FUZZ_SECS"));
	info("fuzz: seed %u for %.0f s (UMEM_VFIO_FUZZ_SEED replays it)", seed,
	     secs);
	srandom(seed);
	memset(bufs, 0, sizeof(bufs));
	for (i = 0; i < ARRAY_SIZE(backs); i++) {
		ret = buf_alloc(backs[i], FUZZ_BUF, &bufs[i]);
		if (ret) {
			why("%s buffer: %s", backing_name[backs[i]], strerror(-ret));
			ok = false;
			goto out;
		}
		buf_touch(&bufs[i]);
	}
	if (win == UINT64_MAX) {
		why("no 64M IOVA window");
		ok = false;
		goto out;
	}
	while (ok && now_ms() - t0 < secs * 1000) {
		unsigned int r = random() % 100;

		ops++;
		if (r < 50 && nmaps < FUZZ_MAPS) {
			/* MAP_DMA of a random piece at a random IOVA */
			struct buf *b = &bufs[random() % ARRAY_SIZE(backs)];
			uint64_t off = (random() % (FUZZ_BUF / SZ_4K)) * SZ_4K;
			uint64_t len = (1 + random() % (r < 10 ? 1024 : 64)) * SZ_4K;
			uint64_t iova = win + (random() % (FUZZ_WINDOW / SZ_4K)) * SZ_4K;
			bool overlap = false;

			if (off + len > FUZZ_BUF)
				len = FUZZ_BUF - off;
			if (iova + len > win + FUZZ_WINDOW)
				len = win + FUZZ_WINDOW - iova;
			for (i = 0; i < nmaps; i++)
				overlap |= iova < maps[i].iova + maps[i].size &&
					   maps[i].iova < iova + len;
			snprintf(op, sizeof(op), "MAP_DMA iova +%#llx size %#llx",
				 (unsigned long long)(iova - win),
				 (unsigned long long)len);
			ret = map_rw(iova, b->addr + off, len);
			nmap++;
			if (overlap ? ret != -EEXIST : ret != 0) {
				why("op %lu %s: %s, expected %s", ops, op,
				    ret ? strerror(-ret) : "success",
				    overlap ? "EEXIST" : "success");
				ok = false;
			} else if (!overlap) {
				maps[nmaps++] = (struct fuzz_map){ iova, len, b->addr + off };
				pages += len / SZ_4K;
			} else {
				nerr++;
			}
		} else if (r < 85 && nmaps) {
			/* UNMAP_DMA of a mapping, or of a random range */
			uint64_t iova, len, want = 0, last;
			int expect = 0;

			if (r < 70) {
				i = random() % nmaps;
				iova = maps[i].iova;
				len = maps[i].size;
			} else {
				iova = win + (random() % (FUZZ_WINDOW / SZ_4K)) * SZ_4K;
				len = (1 + random() % 4096) * SZ_4K;
				if (iova + len > win + FUZZ_WINDOW)
					len = win + FUZZ_WINDOW - iova;
			}
			last = iova + len - 1;
			for (i = 0; i < nmaps; i++) {
				uint64_t end = maps[i].iova + maps[i].size - 1;

				if ((iova > maps[i].iova && iova <= end) ||
				    (last >= maps[i].iova && last < end))
					expect = -EINVAL;
				else if (maps[i].iova >= iova && end <= last)
					want += maps[i].size;
			}
			snprintf(op, sizeof(op), "UNMAP_DMA iova +%#llx size %#llx",
				 (unsigned long long)(iova - win),
				 (unsigned long long)len);
			got = 0;
			ret = dma_unmap(iova, len, 0, &got);
			nunmap++;
			if (ret != expect || (!ret && got != want)) {
				why("op %lu %s: %s, %#llx bytes; expected %s, %#llx bytes",
				    ops, op, ret ? strerror(-ret) : "success",
				    (unsigned long long)got,
				    expect ? "EINVAL" : "success",
				    (unsigned long long)want);
				ok = false;
			} else if (ret) {
				nerr++;
			} else {
				for (i = j = 0; i < nmaps; i++) {
					if (maps[i].iova >= iova &&
					    maps[i].iova + maps[i].size - 1 <= last)
						pages -= maps[i].size / SZ_4K;
					else
						maps[j++] = maps[i];
				}
				nmaps = j;
			}
		} else if (r < 88) {
			uint64_t want = 0;

			for (i = 0; i < nmaps; i++)
				want += maps[i].size;
			snprintf(op, sizeof(op), "UNMAP_DMA all");
			got = 0;
			ret = dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got);
			nunmap++;
			if (ret || got != want) {
				why("op %lu %s: %s, %#llx bytes, expected %#llx",
				    ops, op, ret ? strerror(-ret) : "success",
				    (unsigned long long)got,
				    (unsigned long long)want);
				ok = false;
			}
			nmaps = 0;
			pages = 0;
		} else if (nmaps) {
			/* the device reads and writes a live mapping */
			struct fuzz_map *f = &maps[random() % nmaps];
			unsigned long len = f->size >= 4 * SZ_4K ? 2048 : 256;
			uint64_t src, dst;

			if (f->size < 4 * len)
				continue;
			src = (random() % (f->size / 2 - len)) & ~7ULL;
			dst = f->size / 2 + ((random() % (f->size / 2 - len)) & ~7ULL);
			snprintf(op, sizeof(op), "DMA through iova +%#llx size %#llx",
				 (unsigned long long)(f->iova - win),
				 (unsigned long long)f->size);
			ndma++;
			if (!dma_roundtrip(f->cpu, f->iova, f->size, src, dst, len)) {
				/* the reason is dma_roundtrip()'s */
				info("fuzz: op %lu %s failed", ops, op);
				ok = false;
			}
		}
		if (ok && (vmlck() - lck0 != pages * 4 ||
			   foll_pins_held() - held0 != pages)) {
			why("op %lu %s: VmLck +%ld kB, %lld pins held; the model: %lld pages",
			    ops, op, vmlck() - lck0, foll_pins_held() - held0,
			    pages);
			ok = false;
		}
	}
out:
	unmap_all_quiet();
	for (i = 0; i < ARRAY_SIZE(backs); i++)
		buf_free(&bufs[i]);
	info(
	     "fuzz: %lu operations (%lu MAP_DMA, %lu UNMAP_DMA, %lu refused as the model said, %lu DMA checks), seed %u",
	     ops, nmap, nunmap, nerr, ndma, seed);
	if (ok && (vmlck() != lck0 || foll_pins_held() != held0)) {
		why("after the fuzz: VmLck %ld kB (was %ld), %lld pins (was %lld)",
		    vmlck(), lck0, foll_pins_held(), held0);
		ok = false;
	}
	check(ok,
	      "fuzz of MAP_DMA/UNMAP_DMA against a model (seed %u): results, VmLck and pins agree",
	      seed);
}

/*
 * Lifecycle: the container fd outlives the mm that was charged. A child
 * maps its own memory through the inherited container and exits with the
 * mapping live: its pages stay pinned by the mapping (the device can still
 * write to them), and the parent's UNMAP_DMA unpins them and skips the
 * uncharge of an mm that is gone. The suite's final nr_foll_pin_* balance
 * shows nothing leaked.
 */
static void case_exit_with_pins(void)
{
	const size_t size = SZ_1M;
	uint64_t iova = iova_low, got = 0;
	long lck0 = vmlck();
	int status, ret;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint8_t *q = mmap(NULL, size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (q == MAP_FAILED)
			_exit(2);
		memset(q, 0x5a, size);
		_exit(map_rw(iova, q, size) ? 1 : 0);
	}
	ret = pid > 0 && waitpid(pid, &status, 0) == pid;
	why("child status %#x", status);
	if (!check(ret && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "exit with pins: a child maps 1M through the inherited container and exits"))
		return;
	check(vmlck() == lck0, "exit with pins: the parent's VmLck is not charged");
	ret = edu_dma(iova + SZ_4K, 0, 512, true);
	why("edu DMA: %s", ret ? strerror(-ret) : "success");
	check(!ret, "exit with pins: the device still writes to the dead child's pinned pages");
	ret = dma_unmap(iova, size, 0, &got);
	why("UNMAP_DMA: %s, %llu bytes", ret ? strerror(-ret) : "success",
	    (unsigned long long)got);
	check(!ret && got == size, "exit with pins: the parent unmaps the child's mapping");
}

/*
 * Races: munmap() and mmap(MAP_FIXED) of part of a range while another
 * thread maps and unmaps it for DMA. Each MAP_DMA either succeeds, with
 * the pages that were there, or fails with EFAULT; nothing is left pinned
 * or charged (the suite's final balance).
 */
struct race {
	uint8_t *p;
	size_t size;
	int stop;
	int bad_errno;
	int mapped, faulted;
};

static void *race_remap(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		munmap(r->p + SZ_64K, SZ_64K);
		mmap(r->p + SZ_64K, SZ_64K, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		memset(r->p + SZ_64K, 0x11, SZ_64K);
	}
	return NULL;
}

static void case_munmap_race(void)
{
	struct race r = { .size = SZ_2M };
	uint64_t iova = iova_low, got;
	pthread_t thr;
	int i, ret;

	r.p = mmap(NULL, r.size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r.p == MAP_FAILED) {
		why("mmap: %s", strerror(errno));
		check(false, "munmap racing MAP_DMA");
		return;
	}
	memset(r.p, 0x22, r.size);
	if (pthread_create(&thr, NULL, race_remap, &r)) {
		check(false, "munmap racing MAP_DMA: pthread_create");
		munmap(r.p, r.size);
		return;
	}
	for (i = 0; i < 200; i++) {
		ret = map_rw(iova, r.p, r.size);
		if (!ret) {
			r.mapped++;
			got = 0;
			if (dma_unmap(iova, r.size, 0, &got) || got != r.size)
				r.bad_errno = EIO;
		} else if (ret == -EFAULT) {
			r.faulted++;
		} else {
			r.bad_errno = -ret;
		}
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(thr, NULL);
	why("%d mapped, %d EFAULT, unexpected: %s", r.mapped, r.faulted,
	    r.bad_errno ? strerror(r.bad_errno) : "none");
	check(!r.bad_errno && r.mapped + r.faulted == 200,
	      "munmap racing MAP_DMA: every map succeeds or fails with EFAULT");
	unmap_all_quiet();
	munmap(r.p, r.size);
}

/*
 * Lifecycle: SIGKILL at random points of a MAP_DMA/UNMAP_DMA loop over
 * 256M of 4K pages. A child loops through the inherited container over
 * shared memory the parent faulted in once; the parent kills it after a
 * random delay (within two map+unmap cycles, seed printed), then unmaps
 * whatever the child left mapped. Every kill must land, every cleanup
 * succeed, and the suite's final nr_foll_pin_* balance shows nothing was
 * left pinned by a map or an unmap cut short.
 */
#define KILLS	24

static void case_kill_loop(void)
{
	const size_t size = 256 * SZ_1M;
	unsigned int seed = (unsigned int)time(NULL), k, killed = 0, bad = 0;
	uint64_t iova = iova_fit(iova_low, size), got;
	double t0, cycle;
	int status, ret;
	uint8_t *p;
	pid_t pid;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		why("mmap: %s", strerror(errno));
		check(false, "SIGKILL during MAP_DMA/UNMAP_DMA");
		return;
	}
	memset(p, 0x42, size);
	t0 = now_ms();
	ret = map_rw(iova, p, size);
	if (!ret)
		ret = dma_unmap(iova, size, 0, &got);
	cycle = now_ms() - t0;
	if (!check(!ret, "SIGKILL loop: one MAP_DMA/UNMAP_DMA of 256M takes %.0f ms",
		   cycle))
		goto out;
	if (getenv("UMEM_VFIO_KILL_SEED"))
		seed = strtoul(getenv("UMEM_VFIO_KILL_SEED"), NULL, 0);
	info("SIGKILL loop: seed %u (UMEM_VFIO_KILL_SEED replays it)", seed);
	for (k = 0; k < KILLS; k++) {
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			for (;;)
				if (!map_rw(iova, p, size))
					dma_unmap(iova, size, 0, &got);
		}
		if (pid < 0) {
			bad++;
			break;
		}
		usleep((useconds_t)(rand_r(&seed) % (unsigned int)(2 * cycle + 1)) * 1000);
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGKILL)
			killed++;
		if (dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got))
			bad++;
	}
	why("%u of %u killed, %u failed cleanups", killed, KILLS, bad);
	check(killed == KILLS && !bad,
	      "SIGKILL loop: %u kills at random points of MAP_DMA/UNMAP_DMA, each cleaned up",
	      KILLS);
out:
	unmap_all_quiet();
	munmap(p, size);
}

static void case_map_rules(void)
{
	const uint64_t sizes[3] = { SZ_4K, SZ_64K, SZ_2M };
	uint64_t x = iova_fit(iova_low, SZ_16M), got, total = 0;
	uint8_t *p;
	unsigned int i;
	long lck0;
	int ret;

	p = mmap(NULL, SZ_16M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || x == UINT64_MAX) {
		why("mmap or IOVA space");
		check(false, "map/unmap rules: setup");
		return;
	}
	memset(p, 1, SZ_16M);
	lck0 = vmlck();

	/* one 2M mapping at x + 2M */
	ret = map_rw(x + SZ_2M, p, SZ_2M);
	if (ret)
		why("%s", strerror(-ret));
	if (!check(!ret, "map 2M at %#llx", (unsigned long long)(x + SZ_2M)))
		goto out;

	ret = dma_unmap(x + SZ_2M + SZ_4K, SZ_4K, 0, &got);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "unmap of 4K in the middle of a mapping refused (EINVAL)");
	ret = dma_unmap(x + SZ_2M, SZ_1M, 0, &got);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "unmap of the first half of a mapping refused (EINVAL)");
	ret = dma_unmap(x + SZ_2M + SZ_1M, SZ_2M, 0, &got);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "unmap bisecting a mapping's end refused (EINVAL)");
	ret = dma_unmap(x, SZ_2M + SZ_4K, 0, &got);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "unmap bisecting a mapping's start refused (EINVAL)");
	got = 1;
	ret = dma_unmap(x, SZ_2M, 0, &got);
	why("got %s, %llu bytes", ret ? strerror(-ret) : "success",
	    (unsigned long long)got);
	check(!ret && !got, "unmap of a range with no mapping: success, 0 bytes");

	ret = map_rw(x + SZ_2M, p + 2 * SZ_2M, SZ_2M);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EEXIST, "map of the same range again refused (EEXIST)");
	ret = map_rw(x + SZ_2M + SZ_1M, p, SZ_2M);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EEXIST, "map overlapping a mapping's end refused (EEXIST)");
	ret = map_rw(x + SZ_1M, p, SZ_2M);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EEXIST, "map overlapping a mapping's start refused (EEXIST)");
	ret = map_rw(x, p, 3 * SZ_2M);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EEXIST, "map covering a mapping refused (EEXIST)");
	ret = map_rw(x + SZ_4K + 1, p, SZ_4K);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "map at an unaligned IOVA refused (EINVAL)");
	ret = map_rw(x, p + 1, SZ_4K);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "map of an unaligned vaddr refused (EINVAL)");
	why("VmLck %ld kB, expected %ld", vmlck(), lck0 + 2048);
	check(vmlck() == lck0 + 2048, "refused maps charge nothing");
	if (!iova_valid(0xfee00000ULL, SZ_4K)) {
		ret = map_rw(0xfee00000ULL, p, SZ_4K);
		why("got %s", ret ? strerror(-ret) : "success");
		check(ret == -EINVAL, "map in the reserved MSI window 0xfee00000 refused (EINVAL)");
		if (!ret)
			dma_unmap(0xfee00000ULL, SZ_4K, 0, NULL);
	}

	/* adjacent mappings, then unmap-all returns the total */
	total = SZ_2M;
	for (i = 0; i < 3; i++) {
		uint64_t at = x + (3 + i) * SZ_2M;

		ret = map_rw(at, p + (3 + i) * SZ_2M, sizes[i]);
		if (ret)
			why("%s", strerror(-ret));
		check(!ret, "map %#llx bytes at %#llx", (unsigned long long)sizes[i],
		      (unsigned long long)at);
		if (!ret)
			total += sizes[i];
	}
	ret = map_rw(x + 2 * SZ_2M, p + 2 * SZ_2M, SZ_4K);
	if (ret)
		why("%s", strerror(-ret));
	check(!ret, "map right after a mapping's end (adjacent) succeeds");
	if (!ret)
		total += SZ_4K;
	ret = map_rw(x + SZ_2M - SZ_4K, p + SZ_2M - SZ_4K, SZ_4K);
	if (ret)
		why("%s", strerror(-ret));
	check(!ret, "map right before a mapping's start (adjacent) succeeds");
	if (!ret)
		total += SZ_4K;

	ret = dma_unmap(SZ_4K, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "unmap-all with a non-zero iova refused (EINVAL)");
	got = 0;
	ret = dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got);
	why("%s, %#llx bytes, expected %#llx", ret ? strerror(-ret) : "success",
	    (unsigned long long)got, (unsigned long long)total);
	check(!ret && got == total, "unmap-all after 6 maps returns their total size (%#llx)",
	      (unsigned long long)total);
	why("VmLck %ld kB, was %ld kB", vmlck(), lck0);
	check(vmlck() == lck0, "VmLck back after unmap-all");
	got = 1;
	ret = dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got);
	why("%s, %llu bytes", ret ? strerror(-ret) : "success", (unsigned long long)got);
	check(!ret && !got, "unmap-all of an empty container: success, 0 bytes");

	/* a vaddr range with a hole fails and leaves nothing mapped */
	munmap(p + SZ_1M, SZ_4K);
	ret = map_rw(x, p, SZ_2M);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EFAULT, "map of a vaddr range with an unmapped hole fails (EFAULT)");
	got = 1;
	ret = dma_unmap(x, SZ_2M, 0, &got);
	why("%s, %llu bytes left mapped, VmLck %ld kB (was %ld)",
	    ret ? strerror(-ret) : "success", (unsigned long long)got, vmlck(), lck0);
	check(!ret && !got && vmlck() == lck0, "failed map leaves nothing mapped or charged");
out:
	unmap_all_quiet();
	munmap(p, SZ_16M);
}

/* UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR, then MAP_DMA with ..._FLAG_VADDR */
static void case_vaddr(void)
{
	const size_t size = 4 * SZ_1M;
	uint64_t iova = iova_fit(iova_low, size), got = 0;
	uint8_t *a = MAP_FAILED, *b = MAP_FAILED;
	long lck0;
	int fd, ret;
	bool ok;

	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR) <= 0) {
		check(true, "VFIO_UPDATE_VADDR # SKIP extension not reported");
		return;
	}
	fd = memfd_create("umem_vfio_edu", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, size)) {
		why("memfd: %s", strerror(errno));
		check(false, "vaddr update: memfd");
		goto out;
	}
	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED) {
		why("mmap: %s", strerror(errno));
		check(false, "vaddr update: mmap memfd twice");
		goto out;
	}
	memset(a, 0x11, size);
	lck0 = vmlck();
	ret = map_rw(iova, a, size);
	if (ret)
		why("%s", strerror(-ret));
	if (!check(!ret, "vaddr update: map 4M memfd (first vaddr)"))
		goto out;
	why("VmLck %ld kB -> %ld kB", lck0, vmlck());
	check(vmlck() - lck0 == (long)(size / 1024), "vaddr update: VmLck charged 4096 kB");
	dma_windows(a, iova, size, "vaddr update: first vaddr");

	ret = dma_unmap(iova, size, VFIO_DMA_UNMAP_FLAG_VADDR, &got);
	why("%s, %#llx bytes", ret ? strerror(-ret) : "success", (unsigned long long)got);
	check(!ret && got == size, "UNMAP_DMA(FLAG_VADDR) invalidates the vaddr, returns the size");
	ret = dma_unmap(iova, size, VFIO_DMA_UNMAP_FLAG_VADDR, &got);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "invalidating an invalid vaddr again refused (EINVAL)");
	why("VmLck %ld kB", vmlck());
	check(vmlck() - lck0 == (long)(size / 1024),
	      "VmLck still charged while the vaddr is invalid");
	munmap(a, size);
	a = MAP_FAILED;

	/* the IOMMU mapping stays: the device still reaches the memfd */
	ok = dma_roundtrip(b, iova, size, 2 * SZ_1M, SZ_1M, 512);
	check(ok, "device read and write reach the memfd while the vaddr is invalid");

	ret = dma_map(iova, b, size / 2, VFIO_DMA_MAP_FLAG_VADDR);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "MAP_DMA(FLAG_VADDR) with a different size refused (EINVAL)");
	ret = dma_map(iova, b, size, VFIO_DMA_MAP_FLAG_VADDR | VFIO_DMA_MAP_FLAG_READ);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "MAP_DMA(FLAG_VADDR|READ) refused (EINVAL)");
	ret = dma_map(iova, b, size, VFIO_DMA_MAP_FLAG_VADDR);
	if (ret)
		why("%s", strerror(-ret));
	check(!ret, "MAP_DMA(FLAG_VADDR) sets the new vaddr");
	ret = dma_map(iova, b, size, VFIO_DMA_MAP_FLAG_VADDR);
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "MAP_DMA(FLAG_VADDR) on a valid vaddr refused (EINVAL)");
	why("VmLck %ld kB", vmlck());
	check(vmlck() - lck0 == (long)(size / 1024), "VmLck unchanged by the vaddr update");
	dma_windows(b, iova, size, "vaddr update: second vaddr");
	check(unmap_exact(iova, size), "vaddr update: unmap");
	why("VmLck %ld kB, was %ld", vmlck(), lck0);
	check(vmlck() == lck0, "vaddr update: VmLck uncharged");
out:
	unmap_all_quiet();
	if (a != MAP_FAILED)
		munmap(a, size);
	if (b != MAP_FAILED)
		munmap(b, size);
	if (fd >= 0)
		close(fd);
}

static int dirty_ctl(uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = sizeof(d),
		.flags = flags,
	};

	return ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &d) ? -errno : 0;
}

static int dirty_get(uint64_t iova, uint64_t size, uint64_t pgsize,
		     uint64_t *bitmap, uint64_t bitmap_bytes)
{
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} d;

	memset(&d, 0, sizeof(d));
	d.hdr.argsz = sizeof(d);
	d.hdr.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	d.get.iova = iova;
	d.get.size = size;
	d.get.bitmap.pgsize = pgsize;
	d.get.bitmap.size = bitmap_bytes;
	d.get.bitmap.data = (__u64 *)bitmap;
	return ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &d) ? -errno : 0;
}

static int unmap_dirty(uint64_t iova, uint64_t size, uint64_t *bitmap,
		       uint64_t bitmap_bytes, uint64_t *unmapped)
{
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.u.argsz = sizeof(d);
	d.u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	d.u.iova = iova;
	d.u.size = size;
	d.b.pgsize = SZ_4K;
	d.b.size = bitmap_bytes;
	d.b.data = (__u64 *)bitmap;
	ret = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &d) ? -errno : 0;
	*unmapped = d.u.size;
	return ret;
}

static unsigned int popcount_bits(const uint64_t *bm, unsigned int nbits)
{
	unsigned int i, n = 0;

	for (i = 0; i < nbits; i++)
		n += (bm[i / 64] >> (i % 64)) & 1;
	return n;
}

static bool bit_set(const uint64_t *bm, unsigned int bit)
{
	return (bm[bit / 64] >> (bit % 64)) & 1;
}

static void case_dirty(void)
{
	static const unsigned int pages[] = { 3, 100, 511 };
	const size_t size = SZ_2M;
	const unsigned int npages = size / SZ_4K;
	uint64_t iova = iova_fit(iova_low, size), bm[npages / 64], got;
	unsigned int i, n;
	struct buf m;
	bool ok;
	int ret;

	ret = buf_alloc(BACK_4K, size, &m);
	if (ret) {
		why("%s", strerror(-ret));
		check(false, "dirty tracking: allocate");
		return;
	}
	buf_touch(&m);
	ret = map_rw(iova, m.addr, size);
	if (ret)
		why("%s", strerror(-ret));
	if (!check(!ret, "dirty tracking: map 2M of 4K pages"))
		goto out;

	ret = dirty_get(iova, size, SZ_4K, bm, sizeof(bm));
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "GET_BITMAP before START refused (EINVAL)");
	ret = dirty_ctl(VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
	if (ret)
		why("%s", strerror(-ret));
	if (!check(!ret, "VFIO_IOMMU_DIRTY_PAGES START"))
		goto out;

	ok = true;
	for (i = 0; ok && i < 3; i++)
		ok = dma_roundtrip(m.addr, iova, size, 0, pages[i] * SZ_4K + 512, 1024);
	check(ok, "dirty tracking: device writes pages 3, 100, 511");

	memset(bm, 0, sizeof(bm));
	ret = dirty_get(iova, size, SZ_4K, bm, sizeof(bm));
	if (ret)
		why("%s", strerror(-ret));
	if (check(!ret, "GET_BITMAP (pgsize 4096) of the mapping")) {
		ok = true;
		for (i = 0; i < 3; i++)
			ok &= bit_set(bm, pages[i]);
		n = popcount_bits(bm, npages);
		why("pages 3/100/511 bits %d/%d/%d", bit_set(bm, 3),
		    bit_set(bm, 100), bit_set(bm, 511));
		check(ok, "the pages the device wrote are reported dirty");
		info(
		     "dirty bitmap: %u of %u pages reported dirty (type1 without a dirty-tracking IOMMU reports every pinned page dirty)",
		     n, npages);
	}
	ret = dirty_get(iova, size, 2 * SZ_4K, bm, sizeof(bm));
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "GET_BITMAP with pgsize 8192 refused (EINVAL)");
	ret = dirty_get(iova + SZ_4K, size - SZ_4K, SZ_4K, bm, sizeof(bm));
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "GET_BITMAP bisecting the mapping refused (EINVAL)");

	/* unmap with the bitmap */
	ok = dma_roundtrip(m.addr, iova, size, 0, 7 * SZ_4K, 1024);
	check(ok, "dirty tracking: device writes page 7");
	memset(bm, 0, sizeof(bm));
	ret = unmap_dirty(iova, size, bm, sizeof(bm), &got);
	why("%s, %#llx bytes", ret ? strerror(-ret) : "success", (unsigned long long)got);
	if (check(!ret && got == size, "UNMAP_DMA with GET_DIRTY_BITMAP")) {
		why("page 7 bit clear");
		check(bit_set(bm, 7), "UNMAP_DMA's bitmap reports the written page dirty");
		info("unmap bitmap: %u of %u pages reported dirty",
		     popcount_bits(bm, npages), npages);
	}
	ret = dirty_ctl(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
	if (ret)
		why("%s", strerror(-ret));
	check(!ret, "VFIO_IOMMU_DIRTY_PAGES STOP");
	ret = dirty_get(iova, size, SZ_4K, bm, sizeof(bm));
	why("got %s", ret ? strerror(-ret) : "success");
	check(ret == -EINVAL, "GET_BITMAP after STOP refused (EINVAL)");
out:
	dirty_ctl(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
	unmap_all_quiet();
	buf_free(&m);
}

/* RLIMIT_MEMLOCK as uid 65534 without CAP_IPC_LOCK, in a child */
static void case_rlimit(void)
{
	const size_t size = SZ_16M, small = 512 * 1024;
	uint64_t iova = iova_fit(iova_low, size), got = 1;
	int status, ret;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		why("fork: %s", strerror(errno));
		check(false, "RLIMIT_MEMLOCK: fork");
		return;
	}
	if (!pid) {
		struct rlimit rl = { .rlim_cur = SZ_1M, .rlim_max = SZ_1M };
		uint8_t *p;
		long lck0;

		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		memset(p, 7, size);
		if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
		    setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY)) {
			why("setrlimit/setgroups/setresgid/setresuid: %s", strerror(errno));
			check(false, "RLIMIT_MEMLOCK: become uid %d", NOBODY);
			_exit(1);
		}
		why("CAP_IPC_LOCK still effective");
		check(!have_cap_ipc_lock() && getuid() == NOBODY,
		      "RLIMIT_MEMLOCK: uid %d, no CAP_IPC_LOCK, limit 1M", NOBODY);
		lck0 = vmlck();
		ret = map_rw(iova, p, size);
		why("got %s", ret ? strerror(-ret) : "success");
		check(ret == -ENOMEM,
		      "RLIMIT_MEMLOCK: MAP_DMA of 16M over a 1M limit fails (ENOMEM)");
		why("VmLck %ld kB, was %ld kB", vmlck(), lck0);
		check(vmlck() == lck0, "RLIMIT_MEMLOCK: VmLck unchanged by the failed map");
		ret = dma_unmap(iova, size, 0, &got);
		why("%s, %llu bytes", ret ? strerror(-ret) : "success", (unsigned long long)got);
		check(!ret && !got, "RLIMIT_MEMLOCK: nothing left mapped");
		ret = map_rw(iova, p, small);
		if (ret)
			why("%s", strerror(-ret));
		check(!ret, "RLIMIT_MEMLOCK: MAP_DMA of 512K under the limit succeeds");
		why("VmLck %ld kB, was %ld kB", vmlck(), lck0);
		check(vmlck() - lck0 == (long)(small / 1024),
		      "RLIMIT_MEMLOCK: VmLck charged 512 kB");
		ret = map_rw(iova + SZ_2M, p + SZ_2M, small + SZ_64K);
		why("got %s", ret ? strerror(-ret) : "success");
		check(ret == -ENOMEM,
		      "RLIMIT_MEMLOCK: a second map crossing the limit fails (ENOMEM)");
		check(unmap_exact(iova, small), "RLIMIT_MEMLOCK: unmap the 512K");
		why("VmLck %ld kB, was %ld kB", vmlck(), lck0);
		check(vmlck() == lck0, "RLIMIT_MEMLOCK: VmLck uncharged");
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	why("child status %#x", status);
	check(WIFEXITED(status) && !WEXITSTATUS(status), "RLIMIT_MEMLOCK: child exited cleanly");
	ret = dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got);
	why("%s, %llu bytes", ret ? strerror(-ret) : "success", (unsigned long long)got);
	check(!ret && !got, "RLIMIT_MEMLOCK: container empty after the child");
}

/*
 * RLIMIT_MEMLOCK against runs of adjacent huge pages: an unprivileged
 * MAP_DMA of 4 GiB of 1G hugetlb pages over a 1 GiB limit must fail with
 * ENOMEM having pinned at most the limit plus one batch (512 pages), as the
 * page-at-a-time type1 did, not the whole run. The root parent counts the
 * pins (nr_foll_pin_acquired needs stat_refresh, which needs root) while
 * the child waits with the failed map behind it.
 */
static long hugetlb_1g_pages(void);

static void case_rlimit_1g(void)
{
	const size_t size = 4 * SZ_1G, limit = SZ_1G;
	uint64_t iova = iova_fit(SZ_4G, size);
	int c2p[2], p2c[2], status, ret = 0;
	long long acq0, acq1, most;
	char c = 0;
	pid_t pid;

	if (hugetlb_1g_pages() < 4) {
		check(true, "RLIMIT_MEMLOCK, 1G pages # SKIP needs 4 1G hugetlb pages");
		return;
	}
	if (pipe(c2p) || pipe(p2c)) {
		check(false, "RLIMIT_MEMLOCK, 1G pages: pipe");
		return;
	}
	fflush(stdout);
	vmstat_refresh();
	acq0 = read_vmstat("nr_foll_pin_acquired");
	pid = fork();
	if (pid < 0) {
		check(false, "RLIMIT_MEMLOCK, 1G pages: fork");
		return;
	}
	if (!pid) {
		struct rlimit rl = { .rlim_cur = limit, .rlim_max = limit };
		struct buf m;
		long lck0;

		close(c2p[0]);
		close(p2c[1]);
		if (buf_alloc(BACK_HUGETLB_1G, size, &m))
			_exit(2);
		buf_touch(&m);
		if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
		    setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(3);
		lck0 = vmlck();
		ret = map_rw(iova, m.addr, size);
		why("got %s", ret ? strerror(-ret) : "success");
		check(ret == -ENOMEM,
		      "RLIMIT_MEMLOCK, 1G pages: MAP_DMA of 4G over a 1G limit fails (ENOMEM)");
		why("VmLck %ld kB, was %ld kB", vmlck(), lck0);
		check(vmlck() == lck0, "RLIMIT_MEMLOCK, 1G pages: VmLck unchanged");
		fflush(stdout);
		/* Let the parent count, then go. */
		(void)!write(c2p[1], "m", 1);
		(void)!read(p2c[0], &c, 1);
		if (!ret)
			unmap_all_quiet();
		buf_free(&m);
		_exit(0);
	}
	close(c2p[1]);
	close(p2c[0]);
	if (read(c2p[0], &c, 1) == 1) {
		vmstat_refresh();
		acq1 = read_vmstat("nr_foll_pin_acquired");
		most = limit / SZ_4K + 512;
		why("%lld pages pinned, at most %lld allowed", acq1 - acq0, most);
		check(acq0 >= 0 && acq1 - acq0 <= most,
		      "RLIMIT_MEMLOCK, 1G pages: at most the limit plus one batch pinned");
	}
	(void)!write(p2c[1], "g", 1);
	close(c2p[0]);
	close(p2c[1]);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	why("child status %#x", status);
	check(WIFEXITED(status) && !WEXITSTATUS(status),
	      "RLIMIT_MEMLOCK, 1G pages: child exited cleanly");
}

/* VM_PFNMAP|VM_IO: the device's own BAR0 mmap()ed through vfio-pci, P2P style */
static void case_pfnmap(void)
{
	uint64_t iova = iova_fit(iova_low, bar0_size);
	uint8_t *p;
	long lck0;
	int ret;

	p = mmap(NULL, bar0_size, PROT_READ | PROT_WRITE, MAP_SHARED, device,
		 bar0_offset);
	if (p == MAP_FAILED) {
		why("mmap: %s", strerror(errno));
		check(false, "PFNMAP: mmap BAR0 again");
		return;
	}
	lck0 = vmlck();
	/* not touched first: type1 has to fault the PFN in itself */
	ret = map_rw(iova, p, bar0_size);
	if (ret)
		why("%s", strerror(-ret));
	if (check(!ret, "PFNMAP: MAP_DMA of the BAR0 mmap (%#llx bytes, untouched)",
		  (unsigned long long)bar0_size)) {
		why("VmLck %ld kB, was %ld kB", vmlck(), lck0);
		check(vmlck() == lck0, "PFNMAP: nothing charged to VmLck");
		ret = map_rw(iova, p, bar0_size);
		why("got %s", ret ? strerror(-ret) : "success");
		check(ret == -EEXIST, "PFNMAP: mapping it twice refused (EEXIST)");
		check(unmap_exact(iova, bar0_size), "PFNMAP: UNMAP_DMA returns the size");
	}
	why("id %#x", __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED));
	check(__atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED) == edu_rd32(EDU_REG_ID) &&
	      (edu_rd32(EDU_REG_ID) & 0xffff) == 0xed,
	      "PFNMAP: the BAR mmap still reads the edu id register");
	ret = map_rw(iova, p, bar0_size);
	if (ret)
		why("%s", strerror(-ret));
	check(!ret, "PFNMAP: MAP_DMA of the BAR0 mmap (touched)");
	munmap(p, bar0_size);
	check(unmap_exact(iova, bar0_size), "PFNMAP: UNMAP_DMA after munmap of the BAR mmap");
	unmap_all_quiet();
}

/*
 * Fault injection, after iommufd's fail_nth selftest: fail the Nth
 * fault-injection point (any slab allocation; umem's fail_umem points:
 * each GUP call of the stream, the page of runs) that MAP_DMA reaches in
 * this thread, for N = 1, 2, ... until the call runs through with fewer
 * than N points.  After each injected failure: a clean errno (ENOMEM,
 * EFAULT or EINTR), nothing left mapped at the IOVA, VmLck and the FOLL_PIN
 * balance where they were; then the same MAP_DMA works.  The device moves
 * data through the mapping the sweep ends with.  With dirty tracking on,
 * MAP_DMA also allocates the mapping's bitmap.  umem's points exist only on
 * a kernel with umem: elsewhere the case is skipped.
 */

static void fail_nth_sweep(enum backing b, size_t size, bool dirty)
{
	long long held0 = foll_pins_held();
	uint64_t iova = iova_low, got;
	struct fail_nth f = { .fd = -1 };
	char what[96], tag[112], sz[32];
	long lck0 = vmlck();
	const char *err;
	bool ok = false;
	unsigned int n;
	struct buf m;
	int ret;

	snprintf(what, sizeof(what), "MAP_DMA of %s %s%s",
		 backing_name[b], fmt_size(sz, sizeof(sz), size),
		 dirty ? ", dirty tracking on" : "");
	snprintf(tag, sizeof(tag), "fail-nth %s", what);
	ret = buf_alloc(b, size, &m);
	if (ret) {
		why("mmap/madvise: %s", strerror(-ret));
		goto out;
	}
	buf_touch(&m);
	if (dirty) {
		ret = dirty_ctl(VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
		if (ret) {
			why("DIRTY_PAGES start: %s", strerror(-ret));
			goto out;
		}
	}
	err = fail_nth_begin(&f);
	if (err) {
		why("%s", err);
		goto out;
	}
	for (n = 1; n <= FAILNTH_MAX; n++) {
		int fired;

		if (fail_nth_arm(&f, n)) {
			why("write %u to fail-nth: %s", n, strerror(errno));
			goto out;
		}
		ret = map_rw(iova, m.addr, size);
		fired = fail_nth_fired(&f);
		if (fired < 0) {
			why("read or reset fail-nth: %s", strerror(errno));
			goto out;
		}
		if (!fired) {
			/* fewer than n points: the call ran through */
			if (ret) {
				why("MAP_DMA with no fault injected: %s",
				    strerror(-ret));
				goto out;
			}
			break;
		}
		if (!fail_nth_count(&f, -ret)) {
			why("fault %u: MAP_DMA failed with %s", n, strerror(-ret));
			goto out;
		}
		if (!ret) {
			/* the failure was absorbed (a retry or a fallback) */
			if (!dma_roundtrip(m.addr, iova, size, 100,
					   size - SZ_4K - 100, 1024)) {
				info("fault %u was absorbed, but the mapping does not move data",
				     n);
				goto out;
			}
		} else {
			got = 1;
			if (dma_unmap(iova, size, 0, &got) || got) {
				why("fault %u: %llu bytes mapped after MAP_DMA failed",
				    n, (unsigned long long)got);
				goto out;
			}
		}
		if (!ret && !unmap_exact(iova, size))
			goto out;
		if (vmlck() != lck0 || foll_pins_held() != held0) {
			why("fault %u: VmLck %ld kB (was %ld), %lld pins held (was %lld)",
			    n, vmlck(), lck0, foll_pins_held(), held0);
			goto out;
		}
		ret = map_rw(iova, m.addr, size);
		if (ret) {
			why("fault %u: MAP_DMA after it: %s", n, strerror(-ret));
			goto out;
		}
		if (!unmap_exact(iova, size))
			goto out;
	}
	if (n > FAILNTH_MAX) {
		why("still injecting after %u points", FAILNTH_MAX);
		goto out;
	}
	fail_nth_report(&f, what);
	ok = f.injected > 0 && vmlck() - lck0 == (long)(size / 1024);
	if (!ok)
		why("%u points, VmLck %ld kB over %ld", f.injected, vmlck(), lck0);
	if (ok)
		ok = dma_windows(m.addr, iova, size, tag);
	if (!unmap_exact(iova, size))
		ok = false;
out:
	fail_nth_end(&f);
	if (dirty)
		dirty_ctl(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
	unmap_all_quiet();
	buf_free(&m);
	if (ok && (vmlck() != lck0 || foll_pins_held() != held0)) {
		why("VmLck %ld kB (was %ld), %lld pins held (was %lld)", vmlck(),
		    lck0, foll_pins_held(), held0);
		ok = false;
	}
	check(ok, "%s: clean errno, nothing mapped, charged or pinned left, MAP_DMA works after",
	      tag);
}

static void case_fail_nth(void)
{
	if (!fail_nth_supported()) {
		info("fail-nth MAP_DMA: skipped, no fail_umem or failslab in " UMEM_DEBUGFS);
		return;
	}
	fail_nth_sweep(BACK_4K, SZ_2M, false);
	fail_nth_sweep(BACK_THP, 4 * SZ_1M, false);
	fail_nth_sweep(BACK_HUGETLB, 4 * SZ_1M, false);
	fail_nth_sweep(BACK_THP, 4 * SZ_1M, true);
}

/*
 * One step of the VADDR sweep: @n-th point failed in UNMAP_DMA(FLAG_VADDR)
 * of @iova (@map false) or MAP_DMA(FLAG_VADDR) to @vaddr (@map true).
 * 1 if the point fired and the call failed cleanly (or absorbed it), 0 if
 * the call ran through, -1 on a wrong errno or a broken fail-nth.
 */
static int fail_nth_vaddr_step(struct fail_nth *f, unsigned int n, bool map,
			       uint64_t iova, void *vaddr, uint64_t size)
{
	uint64_t got = 0;
	int fired, ret;

	if (fail_nth_arm(f, n)) {
		why("write %u to fail-nth: %s", n, strerror(errno));
		return -1;
	}
	ret = map ? dma_map(iova, vaddr, size, VFIO_DMA_MAP_FLAG_VADDR) :
		    dma_unmap(iova, size, VFIO_DMA_UNMAP_FLAG_VADDR, &got);
	fired = fail_nth_fired(f);
	if (fired < 0) {
		why("read or reset fail-nth: %s", strerror(errno));
		return -1;
	}
	if (!fired) {
		if (ret) {
			why("%s(FLAG_VADDR) with no fault injected: %s",
			    map ? "MAP_DMA" : "UNMAP_DMA", strerror(-ret));
			return -1;
		}
		return 0;
	}
	if (!fail_nth_count(f, -ret)) {
		why("fault %u: %s(FLAG_VADDR) failed with %s", n,
		    map ? "MAP_DMA" : "UNMAP_DMA", strerror(-ret));
		return -1;
	}
	/* Failed: put the vaddr back as the step found it, for the next n. */
	if (!ret) {
		ret = map ? dma_unmap(iova, size, VFIO_DMA_UNMAP_FLAG_VADDR, &got) :
			    dma_map(iova, vaddr, size, VFIO_DMA_MAP_FLAG_VADDR);
		if (ret) {
			why("fault %u absorbed, undoing the step: %s", n,
			    strerror(-ret));
			return -1;
		}
	}
	return 1;
}

/*
 * The VADDR update (what QEMU's live update does across exec) under fault
 * injection: UNMAP_DMA(FLAG_VADDR) and MAP_DMA(FLAG_VADDR) of a live
 * mapping, each swept N = 1, 2, ... as the MAP_DMA sweeps are. They only
 * swap the mapping's vaddr: type1 pins, charges and allocates nothing for
 * them on either kernel, and umem adds no point, so the sweep reports 0
 * points. What it proves: no umem step sits on the path, the update works
 * with fail-nth armed, and the pins, VmLck and the device's view of the
 * memory are unchanged after it.
 */
static void case_fail_nth_vaddr(void)
{
	const size_t size = 4 * SZ_1M;
	uint64_t iova = iova_fit(iova_low, size);
	uint8_t *a = MAP_FAILED, *b = MAP_FAILED;
	struct fail_nth f = { .fd = -1 };
	long long held0 = -1;
	long lck0 = -1;
	const char *err;
	bool ok = false;
	unsigned int n;
	int fd, ret, step, r;

	if (!fail_nth_supported()) {
		info("fail-nth VADDR update: skipped, no fail_umem or failslab in " UMEM_DEBUGFS);
		return;
	}
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR) <= 0) {
		check(true, "fail-nth VADDR update # SKIP extension not reported");
		return;
	}
	fd = memfd_create("umem_vfio_edu", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, size)) {
		why("memfd: %s", strerror(errno));
		goto out;
	}
	a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED || b == MAP_FAILED) {
		why("mmap: %s", strerror(errno));
		goto out;
	}
	memset(a, 0x5a, size);
	ret = map_rw(iova, a, size);
	if (ret) {
		why("MAP_DMA: %s", strerror(-ret));
		goto out;
	}
	held0 = foll_pins_held();
	lck0 = vmlck();
	err = fail_nth_begin(&f);
	if (err) {
		why("%s", err);
		goto out;
	}
	/* invalidate (to b's turn), set b, invalidate, set a */
	for (step = 0; step < 4; step++) {
		for (n = 1; n <= FAILNTH_MAX; n++) {
			r = fail_nth_vaddr_step(&f, n, step & 1, iova,
						step == 1 ? b : a, size);
			if (r < 0)
				goto out;
			if (!r)
				break;
		}
		if (n > FAILNTH_MAX) {
			why("still injecting after %u points", FAILNTH_MAX);
			goto out;
		}
	}
	fail_nth_report(&f, "VADDR update (UNMAP_DMA and MAP_DMA FLAG_VADDR) of 4K 4M");
	fail_nth_end(&f);
	if (vmlck() != lck0 || foll_pins_held() != held0) {
		why("VmLck %ld kB (was %ld), %lld pins held (was %lld)", vmlck(),
		    lck0, foll_pins_held(), held0);
		goto out;
	}
	ok = dma_roundtrip(b, iova, size, 100, size - SZ_4K - 100, 1024) &&
	     unmap_exact(iova, size) && vmlck() == lck0 - (long)(size / 1024);
out:
	fail_nth_end(&f);
	unmap_all_quiet();
	if (a != MAP_FAILED)
		munmap(a, size);
	if (b != MAP_FAILED)
		munmap(b, size);
	if (fd >= 0)
		close(fd);
	check(ok, "fail-nth VADDR update: clean errno, pins and VmLck kept, DMA works after");
}

/*
 * The same sweep over 1 GiB of 1G hugetlb pages: one PUD leaf, pinned as
 * one run, so the points are the stream's and the mapping's, not per page.
 * Only where the guest has a 1G page reserved (--fail-nth-1g asks for it).
 */
static void case_fail_nth_1g(void)
{
	if (!fail_nth_supported()) {
		info("fail-nth MAP_DMA of 1G pages: skipped, no fail_umem or failslab in "
		     UMEM_DEBUGFS);
		return;
	}
	if (hugetlb_1g_pages() < 1) {
		check(true, "fail-nth MAP_DMA of 1G pages # SKIP needs a 1G hugetlb page");
		return;
	}
	fail_nth_sweep(BACK_HUGETLB_1G, SZ_1G, false);
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

#define DISABLE_HUGEPAGES "/sys/module/vfio_iommu_type1/parameters/disable_hugepages"

/*
 * Map @m (@size bytes at @iova), check it is charged and that the device
 * reaches it, unmap.  Returns the IOMMU page-table growth across MAP_DMA in
 * kB, or LLONG_MIN if the mapping failed.
 */
static long long map_check_unmap(struct buf *m, uint64_t iova, size_t size,
				 const char *what)
{
	struct kmem k0, k1;
	long lck0, lck;
	int ret;

	lck0 = vmlck();
	kmem_read(&k0);
	ret = map_rw(iova, m->addr, size);
	kmem_read(&k1);
	why("MAP_DMA: %s", strerror(-ret));
	if (!check(!ret, "%s: MAP_DMA", what))
		return LLONG_MIN;
	lck = vmlck();
	why("VmLck %ld kB -> %ld kB", lck0, lck);
	check(lck - lck0 == (long)(size / 1024), "%s: VmLck charged %zu kB",
	      what, size / 1024);
	dma_windows(m->addr, iova, size, what);
	check(unmap_exact(iova, size), "%s: UNMAP_DMA returns the size", what);
	lck = vmlck();
	why("VmLck %ld kB, was %ld kB", lck, lck0);
	check(lck == lck0, "%s: VmLck uncharged", what);
	unmap_all_quiet();
	if (k0.iommu_kb < 0 || k1.iommu_kb < 0)
		return LLONG_MIN;
	return k1.iommu_kb - k0.iommu_kb;
}

/*
 * vfio_iommu_type1.disable_hugepages=Y (writable at run time): huge-page
 * backed memory still maps and DMA still works, but the IOMMU is given one
 * 4K page at a time, so 2M mappings need a page-table page per 2M (4 kB
 * per 2 MiB, nr_iommu_pages); with it back to N they need none.
 */
static void case_disable_hugepages(void)
{
	static const enum backing backs[] = { BACK_THP, BACK_HUGETLB };
	const size_t size = SZ_64M;
	const long long pt_4k = size / SZ_2M * 4;	/* kB of PTE pages */
	char old[16] = "N", what[64];
	/* IOVA no earlier case used: no page-table pages there yet */
	uint64_t iova = iova_fit(SZ_4G, size);
	long long pt;
	unsigned int i;
	struct buf m;
	int ret;

	ret = read_file(DISABLE_HUGEPAGES, old, sizeof(old));
	why("%s: %s", DISABLE_HUGEPAGES, strerror(-ret));
	if (!check(!ret, "disable_hugepages: read the type1 module parameter"))
		return;
	old[strcspn(old, "\n")] = 0;
	for (i = 0; i < ARRAY_SIZE(backs); i++) {
		snprintf(what, sizeof(what), "disable_hugepages=Y: %s 64M",
			 backing_name[backs[i]]);
		ret = buf_alloc(backs[i], size, &m);
		why("mmap: %s", strerror(-ret));
		if (!check(!ret, "%s: allocate", what)) {
			buf_free(&m);
			continue;
		}
		buf_touch(&m);
		ret = write_file(DISABLE_HUGEPAGES, "Y");
		why("write Y: %s", strerror(-ret));
		if (!check(!ret, "%s: set the parameter", what)) {
			buf_free(&m);
			break;
		}
		pt = map_check_unmap(&m, iova, size, what);
		why("IOMMU page tables %+lld kB for 64M, expected >= %lld kB",
		    pt, pt_4k);
		check(pt != LLONG_MIN && pt >= pt_4k,
		      "%s: IOMMU mapped in 4K pages (page tables %+lld kB)", what, pt);

		write_file(DISABLE_HUGEPAGES, "N");
		snprintf(what, sizeof(what), "disable_hugepages=N: %s 64M",
			 backing_name[backs[i]]);
		pt = map_check_unmap(&m, iova, size, what);
		if (iommu_pgsizes & SZ_2M) {
			why("IOMMU page tables %+lld kB for 64M, expected < %lld kB",
			    pt, pt_4k / 2);
			check(pt != LLONG_MIN && pt < pt_4k / 2,
			      "%s: IOMMU mapped in 2M pages again (page tables %+lld kB)",
			      what, pt);
		}
		buf_free(&m);
	}
	ret = write_file(DISABLE_HUGEPAGES, old);
	why("restore %s: %s", old, strerror(-ret));
	check(!ret, "disable_hugepages: parameter restored to %s", old);
}

/* mdev of the mtty sample (CONFIG_SAMPLE_VFIO_MDEV_MTTY): an emulated group */
#define MTTY_TYPE	"/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1"
#define MTTY_UUID	"5c3a11e6-8f1c-4f59-9a6e-7d3f0c2b1a01"
#define MDEV_DEV	"/sys/bus/mdev/devices/" MTTY_UUID

/*
 * Replay: MAP_DMA in a container whose only group is an mdev's (emulated
 * IOMMU, no IOMMU domain) records the mappings and pins nothing; attaching
 * edu's group creates the first IOMMU domain and type1 replays every
 * mapping into it: pins, charges, maps.  The device then reaches all of
 * them.  Detaching that last domain while the mdev group stays unpins and
 * uncharges everything but keeps the mappings, which unmap-all then finds.
 */
static void case_replay(const char *bdf)
{
	static const size_t size[] = { SZ_16M, SZ_64M, SZ_64M };
	enum { NR = ARRAY_SIZE(size) };	/* 4K, THP, hugetlb */
	struct buf m[NR] = { 0 };
	uint64_t iova[NR], next = iova_low, got = 0, total = 0;
	char path[PATH_MAX], what[64];
	long long pins0, pins;
	bool mdev = false;
	long lck0, lck;
	int mgroup = -1, ret, b;

	if (access(MDEV_DEV, F_OK)) {
		ret = write_file(MTTY_TYPE "/create", MTTY_UUID);
		why("%s/create: %s (CONFIG_SAMPLE_VFIO_MDEV_MTTY?)", MTTY_TYPE,
		    strerror(-ret));
		if (!check(!ret, "replay: create an mtty mdev"))
			return;
	}
	mdev = true;
	if (!check(container_open(), "replay: new container"))
		goto out;
	mgroup = group_open(MDEV_DEV);
	if (!check(mgroup >= 0, "replay: open the mdev's (emulated) group"))
		goto out;
	why("SET_CONTAINER/SET_IOMMU: %s", strerror(errno));
	if (!check(!ioctl(mgroup, VFIO_GROUP_SET_CONTAINER, &container) &&
		   !ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU),
		   "replay: TYPE1v2 container with only the emulated group"))
		goto out;

	lck0 = vmlck();
	pins0 = foll_pins_held();
	for (b = 0; b < NR; b++) {
		snprintf(what, sizeof(what), "replay: %s %zuM", backing_name[b],
			 size[b] >> 20);
		ret = buf_alloc(b, size[b], &m[b]);
		why("mmap: %s", strerror(-ret));
		if (!check(!ret, "%s: allocate", what))
			goto out;
		buf_touch(&m[b]);
		iova[b] = iova_fit(next, size[b]);
		ret = map_rw(iova[b], m[b].addr, size[b]);
		why("MAP_DMA at %#llx: %s", (unsigned long long)iova[b],
		    strerror(-ret));
		if (!check(!ret, "%s: MAP_DMA without an IOMMU domain", what))
			goto out;
		next = iova[b] + size[b];
		total += size[b];
	}
	lck = vmlck();
	pins = foll_pins_held();
	why("VmLck %ld -> %ld kB, pins outstanding %lld -> %lld", lck0, lck,
	    pins0, pins);
	check(lck == lck0 && pins == pins0,
	      "replay: no IOMMU domain yet: nothing pinned, nothing charged");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	group_fd = group_open(path);
	why("SET_CONTAINER: %s", strerror(errno));
	if (!check(group_fd >= 0 &&
		   !ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container),
		   "replay: attach edu's group: the first IOMMU domain"))
		goto out;
	lck = vmlck();
	pins = foll_pins_held();
	why("VmLck %ld -> %ld kB, pins outstanding %lld -> %lld", lck0, lck,
	    pins0, pins);
	check(lck - lck0 == (long)(total / 1024) &&
	      pins - pins0 == (long long)(total / SZ_4K),
	      "replay: the attach pinned and charged all %llu kB of %d mappings",
	      (unsigned long long)total / 1024, NR);
	if (!check(device_setup(bdf), "replay: edu device fd, BAR0, bus master"))
		goto out;
	for (b = 0; b < NR; b++) {
		snprintf(what, sizeof(what), "replay: %s %zuM", backing_name[b],
			 size[b] >> 20);
		dma_windows(m[b].addr, iova[b], size[b], what);
	}

	munmap((void *)bar0, bar0_size);
	bar0 = NULL;
	close(device);
	device = -1;
	why("VFIO_GROUP_UNSET_CONTAINER: %s", strerror(errno));
	check(!ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER),
	      "replay: detach edu's group (the last IOMMU domain)");
	lck = vmlck();
	pins = foll_pins_held();
	why("VmLck %ld -> %ld kB, pins outstanding %lld -> %lld", lck0, lck,
	    pins0, pins);
	check(lck == lck0 && pins == pins0,
	      "replay: the detach unpinned and uncharged everything");
	ret = dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got);
	why("%s, %#llx bytes, expected %#llx", ret ? strerror(-ret) : "ok",
	    (unsigned long long)got, (unsigned long long)total);
	check(!ret && got == total,
	      "replay: the mappings outlived the domain: unmap-all returns them");
out:
	if (device >= 0)
		close(device);
	device = -1;
	if (bar0)
		munmap((void *)bar0, bar0_size);
	bar0 = NULL;
	if (group_fd >= 0)
		close(group_fd);
	group_fd = -1;
	if (mgroup >= 0)
		close(mgroup);
	if (container >= 0)
		close(container);
	container = -1;
	for (b = 0; b < NR; b++)
		buf_free(&m[b]);
	if (mdev) {
		ret = write_file(MDEV_DEV "/remove", "1");
		why("remove: %s", strerror(-ret));
		check(!ret, "replay: remove the mdev");
	}
}

static long hugetlb_1g_pages(void)
{
	char buf[32] = "";

	if (read_file("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages",
		      buf, sizeof(buf)))
		return 0;
	return strtol(buf, NULL, 10);
}

/*
 * What starting a VM with an assigned device costs: map a guest-sized IOVA
 * space, @size bytes, as a VMM maps guest RAM, then unmap it. The guest RAM
 * is a few GiB of 1G hugetlb pages (2M ones if none are reserved) mapped
 * again and again at consecutive IOVAs, as vfio-huge-guest-test does, so
 * that a few GiB of host memory stand for hundreds of GiB of guest: every
 * MAP_DMA pins and charges its range anew, as for distinct memory.
 */
static void case_vm_start(size_t size)
{
	enum backing b = hugetlb_1g_pages() > 0 ? BACK_HUGETLB_1G : BACK_HUGETLB;
	size_t chunk = b == BACK_HUGETLB_1G ? (size_t)hugetlb_1g_pages() * SZ_1G : SZ_1G;
	char sz[32], what[96];
	double t0, t_map, t_unmap;
	uint64_t iova, got = 0;
	size_t done = 0;
	long lck0, lck;
	struct buf m;
	int ret = 0;

	if (chunk > 4 * SZ_1G)
		chunk = 4 * SZ_1G;
	if (chunk > size)
		chunk = size;
	snprintf(what, sizeof(what), "vm-start %s %s", backing_name[b],
		 fmt_size(sz, sizeof(sz), size));
	iova = iova_fit(SZ_4G, size);
	why("no usable IOVA range of %s (intel-iommu aw-bits?)", sz);
	if (!check(iova != UINT64_MAX && size % chunk == 0, "%s: IOVA space", what))
		return;
	ret = buf_alloc(b, chunk, &m);
	why("mmap of %zu MiB of %s: %s", chunk >> 20, backing_name[b], strerror(-ret));
	if (!check(!ret, "%s: allocate the guest RAM", what)) {
		buf_free(&m);
		return;
	}
	buf_touch(&m);

	lck0 = acct_kb();
	t0 = now_ms();
	for (done = 0; done < size; done += chunk) {
		ret = map_rw(iova + done, m.addr, chunk);
		if (ret)
			break;
	}
	t_map = now_ms() - t0;
	why("MAP_DMA at iova %#llx: %s", (unsigned long long)(iova + done),
	    strerror(-ret));
	check(!ret, "%s: MAP_DMA %zu times %zu MiB", what, size / chunk, chunk >> 20);
	lck = acct_kb();
	why("%s %ld kB -> %ld kB", acct_name(), lck0, lck);
	check(ret || lck - lck0 == (long)(size / 1024), "%s: %s charged %zu kB",
	      what, acct_name(), size / 1024);
	/* The first alias: the device reaches the guest RAM through it. */
	if (!ret)
		dma_windows(m.addr, iova, chunk, what);

	t0 = now_ms();
	ret = dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got);
	t_unmap = now_ms() - t0;
	why("%s, %llu bytes", ret ? strerror(-ret) : "success", (unsigned long long)got);
	check(!ret && got == done, "%s: unmap-all returns what was mapped", what);
	lck = acct_kb();
	why("%s %ld kB, was %ld kB", acct_name(), lck, lck0);
	check(lck == lck0, "%s: %s uncharged", what, acct_name());
	info(
	     "vm-start %-8s %6s  MAP_DMA %10.1f ms  UNMAP_DMA %10.1f ms  (%zu MiB mapped %zu times)",
	     backing_name[b], sz, t_map, t_unmap, chunk >> 20, size / chunk);
	buf_free(&m);
}

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--iommufd] [--big SIZE] [--no-big] [--demo] [--only LIST] [--no-replay] [--verbose]\n"
		"  --iommufd    the device's VFIO cdev and an iommufd IOAS instead of type1;\n"
		"               only the backings (and --vm-start) are run\n"
		"  --demo       only map, DMA-check and unmap --big per backing\n"
		"  --big SIZE   size of the largest mapping per backing (default 1G)\n"
		"  --no-big     skip the largest mappings\n"
		"  --only LIST  backings to map, of 4K,THP,hugetlb,hugetlb-1G (default: all;\n"
		"               hugetlb-1G if 1G pages are reserved, for sizes of whole GiB)\n"
		"  --no-replay  skip the replay case (it needs an mtty mdev)\n"
		"  --rlimit-1g  also map 4G of 1G hugetlb pages over a 1G RLIMIT_MEMLOCK,\n"
		"               unprivileged, and count the pages pinned\n"
		"  --fail-nth-1g  also sweep fail-nth over MAP_DMA of 1G of 1G hugetlb\n"
		"               pages (a kernel with umem's fault injection)\n"
		"  --vm-start SIZE  only map and unmap SIZE of IOVA aliasing a few GiB\n"
		"               of hugetlb pages, as a VMM maps guest RAM, timed\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "big", required_argument, NULL, 'b' },
		{ "no-big", no_argument, NULL, 'n' },
		{ "demo", no_argument, NULL, 'd' },
		{ "only", required_argument, NULL, 'o' },
		{ "no-replay", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "vm-start", required_argument, NULL, 's' },
		{ "rlimit-1g", no_argument, NULL, 'l' },
		{ "fail-nth-1g", no_argument, NULL, 'f' },
		{ "iommufd", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	size_t big = SZ_1G, sizes[4], vm_start = 0;
	bool rlimit_1g = false, fail_nth_1g = false;
	long lck_start, lck_end;
	long long pins_start, pins_end;
	bool no_big = false, demo = false, replay = true;
	/* hugetlb-1G: by default only if the guest has 1G pages reserved */
	bool only[NR_BACKINGS] = { true, true, true, hugetlb_1g_pages() > 0 };
	char *tok;
	double t0;
	char bdf[NAME_MAX + 1];
	uint64_t got = 1;
	int ret;
	unsigned int i;
	int c, b;

	while ((c = getopt_long(argc, argv, "b:ndo:rvs:lfih", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_size(optarg, &big) || big % SZ_2M) {
				fprintf(stderr, "--big: a multiple of 2M\n");
				return 2;
			}
			break;
		case 'n':
			no_big = true;
			break;
		case 'd':
			demo = true;
			break;
		case 'o':
			memset(only, 0, sizeof(only));
			for (tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				for (b = 0; b < NR_BACKINGS; b++)
					if (!strcasecmp(tok, backing_name[b]))
						break;
				if (b == NR_BACKINGS) {
					fprintf(stderr,
						"--only: %s is not 4K, THP, hugetlb or hugetlb-1G\n",
						tok);
					return 2;
				}
				only[b] = true;
			}
			break;
		case 'r':
			replay = false;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'l':
			rlimit_1g = true;
			break;
		case 'f':
			fail_nth_1g = true;
			break;
		case 'i':
			use_iommufd = true;
			break;
		case 's':
			if (parse_size(optarg, &vm_start) || !vm_start ||
			    vm_start % SZ_1G) {
				fprintf(stderr, "--vm-start: a multiple of 1G\n");
				return 2;
			}
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

	lck_start = vmlck();
	pins_start = foll_pins_held();
	why(
	    "no VmLck in /proc/self/status or no nr_foll_pin_* in /proc/vmstat (is /proc mounted?)");
	check(lck_start >= 0 && pins_start != LLONG_MIN,
	      "read VmLck and nr_foll_pin_* from /proc");

	why("no PCI device %04x:%04x", EDU_VENDOR, EDU_DEVICE);
	if (!check(find_edu(bdf, sizeof(bdf)), "find the edu device"))
		goto done;
	if (!check(bind_vfio_pci(bdf), "bind %s to vfio-pci", bdf))
		goto done;
	if (use_iommufd) {
		if (!check(cdev_setup(bdf),
			   "%s: cdev bound to iommufd, IOAS attached, BAR0, bus master",
			   bdf))
			goto done;
		/* The type1 API cases and the replay need a container */
		replay = false;
		rlimit_1g = false;
		fail_nth_1g = false;
	} else if (!check(vfio_setup(bdf),
			  "%s: container, group, TYPE1v2, device fd, BAR0, bus master",
			  bdf)) {
		goto done;
	}
	info("iommu pgsizes %#llx, %u IOVA ranges", (unsigned long long)iommu_pgsizes,
	     nr_iova_ranges);
	for (i = 0; i < nr_iova_ranges; i++)
		info("  iova %#llx-%#llx", (unsigned long long)iova_ranges[i].start,
		     (unsigned long long)iova_ranges[i].end);
	edu_wr32(EDU_REG_LIVE, 0x12345678);
	why("id %#x, liveness %#x", edu_rd32(EDU_REG_ID), edu_rd32(EDU_REG_LIVE));
	if (!check((edu_rd32(EDU_REG_ID) & 0xffff) == 0xed &&
		   edu_rd32(EDU_REG_LIVE) == ~0x12345678u, "edu registers through the BAR0 mmap"))
		goto done;
	ret = dma_unmap(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got);
	why("%s, %llu bytes", ret ? strerror(-ret) : "success", (unsigned long long)got);
	check(!ret && !got, "unmap-all of the new container: success, 0 bytes");
	iova_low = iova_fit(SZ_16M, SZ_2M);

	t0 = now_ms();
	if (rlimit_1g)
		case_rlimit_1g();
	if (fail_nth_1g)
		case_fail_nth_1g();
	if (vm_start) {
		case_vm_start(vm_start);
		replay = false;
		goto close;
	}
	if (demo || use_iommufd)
		goto backings;
	case_map_rules();
	case_unmapped_iova();
	case_vaddr();
	case_dirty();
	case_rlimit();
	case_pfnmap();
	case_fork();
	case_remap_dontneed();
	case_exit_with_pins();
	case_munmap_race();
	case_kill_loop();
	case_disable_hugepages();
	case_fail_nth();
	case_fail_nth_vaddr();
	case_fuzz();
	info("API cases took %.1f s", (now_ms() - t0) / 1e3);
backings:

	sizes[0] = SZ_4K;
	sizes[1] = SZ_2M + 2 * SZ_4K;
	sizes[2] = SZ_64M;
	sizes[3] = big;
	for (b = 0; b < NR_BACKINGS; b++) {
		if (!only[b])
			continue;
		t0 = now_ms();
		for (i = 0; i < 4; i++) {
			/* 1G pages: only sizes of whole pages */
			if (b == BACK_HUGETLB_1G && sizes[i] % SZ_1G)
				continue;
			if ((i < 3 && !demo) || (i == 3 && !no_big))
				case_backing(b, sizes[i], i == 3);
		}
		info("%s cases took %.1f s", backing_name[b], (now_ms() - t0) / 1e3);
	}

close:
	close(device);
	device = -1;
	close(group_fd);
	group_fd = -1;
	close(container);
	container = -1;
	if (iommufd >= 0)
		close(iommufd);
	iommufd = -1;
	if (bar0)
		munmap((void *)bar0, bar0_size);
	bar0 = NULL;
	if (!demo && replay) {
		t0 = now_ms();
		case_replay(bdf);
		info("replay cases took %.1f s", (now_ms() - t0) / 1e3);
	}
done:
	lck_end = vmlck();
	why("VmLck %ld kB, was %ld kB", lck_end, lck_start);
	check(lck_end == lck_start, "VmLck back to its start value (%ld kB)", lck_start);
	pins_end = foll_pins_held();
	why("nr_foll_pin_acquired - released: %lld at start, %lld at end",
	    pins_start, pins_end);
	check(pins_start != LLONG_MIN && pins_end == pins_start,
	      "nr_foll_pin_acquired - nr_foll_pin_released unchanged");
	printf("1..%d\n", counts->n);
	printf("%d passed, %d failed\n", counts->passed, counts->failed);
	return counts->failed ? 1 : 0;
}
