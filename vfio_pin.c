// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins through VFIO and iommufd.
 *
 * VFIO type1 pins the pages of a DMA mapping with FOLL_LONGTERM and adds
 * FOLL_WRITE only when the device may write (VFIO_DMA_MAP_FLAG_WRITE);
 * iommufd does the same for IOMMU_IOAS_MAP without WRITEABLE.  Before
 * 84209e87c696 (v6.2) such a read-only pin of the shared zeropage or of a
 * pagecache page in a MAP_PRIVATE mapping went stale at the next CPU
 * write: the device kept reading the old page.
 *
 * The pins are taken through the type1 container, through the device
 * cdev bound to iommufd, through an iommufd mock domain (no device) and
 * through the type1 ioctls iommufd understands, on every backing of the
 * catalog and after every trigger, and checked by the device's DMA (edu),
 * by the mock IOMMU's page table or, for other devices, by pagemap PFNs.
 * Then: what the kernel refuses (EEXIST, EINVAL, EFAULT, ENOSPC), that a
 * R/O map keeps the device from writing, the RLIMIT_MEMLOCK charge and
 * that every pin is released.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/edu.h"
#include "lib/observe.h"
#include "lib/pin_vfio.h"
#include "lib/pincheck.h"
#include "lib/release.h"
#include "lib/sysstate.h"
#include "lib/util.h"

static const char *opt_device;
static bool opt_allow_rebind;
static int break_memlock, break_leak, break_rowrite;

/* Reliability matrices -------------------------------------------------- */

#define T(id)		(1u << (id))
/* What the seeds are about: writes, fork() both ways, mprotect(). */
#define T_BASIC		(T(TRIG_WRITE) | T(TRIG_MPROTECT) | T(TRIG_FORK_PARENT) | \
			 T(TRIG_FORK_CHILD))
/* ... and the kernel's own reasons to replace a page. */
#define T_ALL		(T_BASIC | T(TRIG_KSM) | T(TRIG_COLLAPSE) | T(TRIG_PAGEOUT) | \
			 T(TRIG_MIGRATE))

static const enum trig_id matrix_triggers[] = {
	TRIG_WRITE, TRIG_MPROTECT, TRIG_FORK_PARENT, TRIG_FORK_CHILD,
	TRIG_KSM, TRIG_COLLAPSE, TRIG_PAGEOUT, TRIG_MIGRATE,
};

enum bk_set {
	BS_ALL,		/* the catalog without set-up variants */
	BS_DEVICE,	/* what device DMA, at 100 ms a transfer, is spent on */
};

/*
 * Each path: what the R/O (READ only) and R/W (READ|WRITE) cases are
 * called, which backings and triggers they get.  Device DMA is slow, so
 * the device paths cover the backings and triggers of the seeds and the
 * mock domain, which costs no DMA, covers the whole catalog.
 */
static const struct matrix {
	enum vfio_path path;
	const char *ro_what;
	const char *rw_what;
	enum pc_dir rw_dir;
	enum bk_set set;
	unsigned int ro_trigs;
	unsigned int rw_trigs;
} matrices[] = {
	{ VP_TYPE1, "VFIO type1 DMA read", "VFIO type1 DMA write", PC_PIN_WRITES,
	  BS_DEVICE, T_ALL, T(TRIG_WRITE) | T(TRIG_FORK_PARENT) },
	{ VP_CDEV, "iommufd (VFIO cdev) DMA read", "iommufd (VFIO cdev) DMA write", PC_PIN_WRITES,
	  BS_DEVICE, T(TRIG_WRITE), T(TRIG_WRITE) },
	{ VP_MOCK, "iommufd mock domain, IOAS_MAP READABLE",
	  "iommufd mock domain, IOAS_MAP READABLE|WRITEABLE", PC_PIN_READS,
	  BS_ALL, T_ALL, T_ALL },
	{ VP_COMPAT, "type1 compat on iommufd mock domain, MAP_DMA READ",
	  "type1 compat on iommufd mock domain, MAP_DMA READ|WRITE", PC_PIN_READS,
	  BS_DEVICE, T_BASIC, T_BASIC },
};

/* The smallest hugetlb size: one pool the device cases draw from. */
static size_t smallest_hugetlb(void)
{
	const struct platform *p = platform();

	return p->nr_hugetlb ? p->hugetlb_sizes[0] : 0;
}

/* The triggers @bk gets in the matrix of @set for @writable pins (0: none). */
static unsigned int in_set(const struct backing *bk, enum bk_set set, bool writable)
{
	if (bk->flags & BKF_VARIANT)
		return 0;
	/*
	 * A writable long-term pin of a MAP_SHARED file on a filesystem with
	 * writeback is refused (gup_longterm checks that rule).
	 */
	if (writable && backing_is(bk, BKF_SHARED | BKF_DISK, 0))
		return 0;
	if (set == BS_ALL)
		return T_ALL;
	/*
	 * The device's set: the seeds' backings with writes, fork() and
	 * mprotect(); anonymous memory and the zeropage also with the
	 * kernel's own reasons to replace a page, which without iommufd
	 * (no mock domain) nothing else covers; a PMD-size shmem THP with a
	 * write.
	 */
	switch (bk->type) {
	case BK_ANON:
	case BK_ZEROPAGE:
	case BK_HUGE_ZEROPAGE:
	case BK_KSM:
		return T_ALL;
	case BK_THP:
		return bk->flags & BKF_PMD ? T_ALL : 0;
	case BK_HUGETLB:
		return bk->size == smallest_hugetlb() ? T_ALL : 0;
	case BK_MEMFD:
		return T_BASIC;
	case BK_SHMEM_LARGE:
		return bk->flags & BKF_PMD ? T(TRIG_WRITE) : 0;
	case BK_DISK_FILE:
		return bk->flags & BKF_PRIVATE ? T_BASIC : 0;
	case BK_MEMFD_HUGETLB:
		return (bk->flags & BKF_PRIVATE) && bk->size == smallest_hugetlb() ? T_BASIC : 0;
	default:
		return 0;
	}
}

/*
 * What the cases guard, whatever the path: R/O maps what a R/O long-term
 * pin guards (ro_pin_tags), R/W maps what fork() of a pinned page guards.
 */
static void add_matrix(const struct matrix *mx)
{
	const struct backing *const *bks;
	struct pcase c = { .pin = pin_vfio_for(mx->path) };
	unsigned int t, trigs;
	int w, i, nr;

	bks = backings(&nr);
	for (w = 0; w < 2; w++) {
		c.writable = w;
		c.what = w ? mx->rw_what : mx->ro_what;
		c.dir = w ? mx->rw_dir : PC_PIN_READS;
		trigs = w ? mx->rw_trigs : mx->ro_trigs;
		for (t = 0; t < ARRAY_SIZE(matrix_triggers); t++) {
			if (!(trigs & T(matrix_triggers[t])))
				continue;
			c.trig = &triggers[matrix_triggers[t]];
			for (i = 0; i < nr; i++) {
				c.bk = bks[i];
				if (!(in_set(c.bk, mx->set, w) & T(c.trig->id)) ||
				    !trigger_applies(c.trig, c.bk))
					continue;
				c.tags = tags_select(w ? fork_tags : ro_pin_tags, c.bk);
				pincheck_add(&c);
			}
		}
	}
}

/* Common helpers ------------------------------------------------------- */

static const char *path_label(enum vfio_path path)
{
	switch (path) {
	case VP_TYPE1:
		return "VFIO type1";
	case VP_CDEV:
		return "iommufd (VFIO cdev)";
	case VP_MOCK:
		return "iommufd mock domain";
	default:
		return "type1 compat on iommufd mock domain";
	}
}

/* The feature probe of each path, as a need. */
static const char *(*const path_check[VP_NR])(void) = {
	[VP_TYPE1] = vfio_type1_unavailable,
	[VP_CDEV] = vfio_cdev_unavailable,
	[VP_MOCK] = iommufd_mock_unavailable,
	[VP_COMPAT] = iommufd_compat_unavailable,
};

/* The memlock figure each path charges: type1 locked_vm, iommufd pinned_vm. */
static const char *charge_field(enum vfio_path path)
{
	return path == VP_TYPE1 ? "VmLck" : "VmPin";
}

/* @n pages of private anon memory, base pages, written (or read) once. */
static char *anon_pages(size_t n, bool write)
{
	size_t len = n * page_size();
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	if (write)
		memset(p, PAT_INITIAL, len);
	else
		touch_read(p, len);
	return p;
}

/* Open a context; a failure is an error of the case (the path was probed). */
static bool open_ctx(struct vfio_ctx *c, enum vfio_path path, bool device)
{
	char why[KSFT_REASON_MAX];
	int ret = vfio_ctx_open(c, path, device, why, sizeof(why));

	if (ret)
		obs_error(why, 0);
	return !ret;
}

static struct pcase path_case(enum vfio_path path, enum property prop, observe_fn fn)
{
	struct pcase c = {
		.prop = prop,
		.what = path_label(path),
		.pin = pin_vfio_for(path),
		.writable = true,
		.observe = fn,
		.param = path,
	};

	c.need.check = path_check[path];
	return c;
}

/* Outcome as expected: what the kernel refuses --------------------------- */

enum conf_kind {
	CONF_OVERLAP,
	CONF_MISALIGNED,
	CONF_RW_PROT_READ,
	CONF_RO_PROT_READ,
	CONF_ENTRY_LIMIT,
};

#define DMA_ENTRY_LIMIT	"/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"
#define ENTRY_LIMIT	4

/* type1 refuses a mapping beyond dma_entry_limit with ENOSPC. */
static void conf_entry_limit(void)
{
	char *p = anon_pages(ENTRY_LIMIT + 1, true);
	size_t ps = page_size();
	struct vfio_ctx c;
	int ret = 0, i, n = 0;
	long avail;

	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	ret = sysstate_write(DMA_ENTRY_LIMIT, "4");
	if (ret) {
		obs_unmet("cannot lower vfio_iommu_type1's dma_entry_limit", "%s: %s",
			  DMA_ENTRY_LIMIT, strerror(-ret));
		return;
	}
	/* The limit is read when the container is opened; put it back at once. */
	if (!open_ctx(&c, VP_TYPE1, false)) {
		sysstate_restore(DMA_ENTRY_LIMIT);
		return;
	}
	sysstate_restore(DMA_ENTRY_LIMIT);
	avail = vfio_ctx_dma_avail(&c);
	for (i = 0; i <= ENTRY_LIMIT; i++) {
		ret = vfio_ctx_map(&c, p + i * ps, VFIO_IOVA_SPARE + i * ps, ps, true);
		if (ret)
			break;
		n++;
	}
	ksft_print_msg("dma_entry_limit %d: DMA_AVAIL %ld after open; %d one-page maps worked\n",
		       ENTRY_LIMIT, avail, n);
	if (n < ENTRY_LIMIT)
		obs_broken(SYM_REFUSED, "map %d of %d within dma_entry_limit failed: %s", n + 1,
			   ENTRY_LIMIT, strerror(-ret));
	else
		obs_call("map beyond dma_entry_limit", ret, false, ps);
	vfio_ctx_close(&c);
}

static void conf_observe(const struct pcase *pc)
{
	enum vfio_path path = (enum vfio_path)(pc->param & 0xff);
	enum conf_kind kind = (enum conf_kind)(pc->param >> 8);
	size_t ps = page_size(), len = 4 * ps;
	struct vfio_ctx c;
	char *p;
	int ret;

	if (kind == CONF_ENTRY_LIMIT) {
		conf_entry_limit();
		return;
	}
	p = anon_pages(4, true);
	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	if (!open_ctx(&c, path, false))
		return;
	obs_phase(PH_PIN);
	switch (kind) {
	case CONF_OVERLAP:
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, true);
		if (ret) {
			obs_error("the first map", -ret);
			break;
		}
		/* Half on the first mapping, half beyond it. */
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE + len / 2, len, true);
		obs_call("map overlapping an existing mapping", ret, true, len);
		break;
	case CONF_MISALIGNED:
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE + 512, len, true);
		obs_call("map at an IOVA 512 bytes off alignment", ret, true, len);
		break;
	case CONF_RW_PROT_READ:
	case CONF_RO_PROT_READ:
		if (mprotect(p, len, PROT_READ)) {
			obs_error("mprotect", errno);
			break;
		}
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, kind == CONF_RW_PROT_READ);
		obs_call(kind == CONF_RW_PROT_READ ? "R/W map of a PROT_READ mapping" :
			 "R/O map of a PROT_READ mapping", ret, true, len);
		break;
	default:
		break;
	}
	vfio_ctx_close(&c);
	munmap(p, len);
}

static void add_conformance(void)
{
	static const struct {
		enum conf_kind kind;
		int err;
		const char *what;
	} kinds[] = {
		{ CONF_OVERLAP, EEXIST, "map overlapping an existing mapping fails with EEXIST" },
		{ CONF_MISALIGNED, EINVAL, "map at a misaligned IOVA fails with EINVAL" },
		{ CONF_RW_PROT_READ, EFAULT, "R/W map of a PROT_READ mapping fails with EFAULT" },
		{ CONF_RO_PROT_READ, 0, "R/O map of a PROT_READ mapping works" },
		{ CONF_ENTRY_LIMIT, ENOSPC, "map beyond dma_entry_limit fails with ENOSPC" },
	};
	unsigned int k;
	int path;

	for (path = 0; path < VP_NR; path++) {
		for (k = 0; k < ARRAY_SIZE(kinds); k++) {
			struct pcase c = path_case(path, P_OUTCOME, conf_observe);

			/* dma_entry_limit is a knob of vfio_iommu_type1 alone. */
			if (kinds[k].kind == CONF_ENTRY_LIMIT && path != VP_TYPE1)
				continue;
			c.param = path | (kinds[k].kind << 8);
			c.expect = EXP_ERRNO;
			c.want_err = kinds[k].err;
			c.writable = kinds[k].kind != CONF_RO_PROT_READ;
			pcase_add(&c, "%s %s", path_label(path), kinds[k].what);
		}
	}
}

/* A R/O map keeps the device from writing --------------------------------- */

static const char *edu_unavailable(void)
{
	return vfio_device_is_edu() ? NULL :
	       "needs a device that can be made to DMA (a QEMU edu device)";
}

static void rowrite_observe(const struct pcase *pc)
{
	enum vfio_path path = (enum vfio_path)pc->param;
	bool mapped = false, bmapped = false;
	size_t ps = page_size(), cnt = 2048;
	char *bounce = NULL;
	struct vfio_ctx c;
	struct mem m;
	ssize_t off;
	int ret;

	if (!mem_setup_obs(&m, pc->bk))
		return;
	if (!open_ctx(&c, path, true))
		goto teardown;
	bounce = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bounce == MAP_FAILED) {
		bounce = NULL;
		obs_error("mmap", errno);
		goto close;
	}
	memset(bounce, PAT_DEVICE, ps);
	ret = vfio_ctx_map(&c, bounce, VFIO_IOVA_BOUNCE, ps, true);
	if (ret) {
		obs_error("mapping the bounce page R/W", -ret);
		goto close;
	}
	bmapped = true;
	obs_phase(PH_PIN);
	ret = vfio_ctx_map(&c, m.addr, VFIO_IOVA_PIN, ps, break_rowrite);
	if (ret) {
		obs_call("the R/O map", ret, true, ps);
		goto close;
	}
	mapped = true;
	if (break_rowrite)
		ksft_print_msg("selftest break: the range is mapped READ|WRITE\n");
	/* The device's buffer gets PAT_DEVICE, then goes to the R/O IOVA. */
	obs_phase(PH_CHECK);
	ret = edu_dma_from_ram(&c.edu, VFIO_IOVA_BOUNCE, 0, cnt);
	if (!ret)
		ret = edu_dma_to_ram(&c.edu, 0, VFIO_IOVA_PIN, cnt);
	if (ret) {
		obs_error("edu DMA", -ret);
		goto close;
	}
	off = first_not(m.addr, m.initial, cnt);
	if (off < 0 && m.ro)
		off = first_not(m.ro, m.initial, cnt);
	if (off >= 0) {
		obs_broken(SYM_STALE, "a READ-only DMA mapping let the device write: byte 0x%zx holds 0x%02x, expected 0x%02x",
			   (size_t)off, (unsigned char)m.addr[off], m.initial);
		goto close;
	}
	/* The same transfer to the R/W bounce page must land. */
	memset(bounce, PAT_OTHER, ps);
	ret = edu_dma_to_ram(&c.edu, 0, VFIO_IOVA_BOUNCE, cnt);
	off = ret ? 0 : first_not(bounce, PAT_DEVICE, cnt);
	if (ret || off >= 0) {
		obs_error("control: the device's write to the R/W bounce page did not land",
			  ret ? -ret : 0);
		goto close;
	}
	ksft_print_msg("device write to the R/O IOVA dropped (the IOMMU logs a DMA write fault), the same write to a R/W IOVA landed\n");
	obs_held();
close:
	obs_phase(PH_RELEASE);
	if (mapped)
		vfio_ctx_unmap(&c, VFIO_IOVA_PIN, ps, NULL);
	if (bmapped)
		vfio_ctx_unmap(&c, VFIO_IOVA_BOUNCE, ps, NULL);
	vfio_ctx_close(&c);
	if (bounce)
		munmap(bounce, ps);
teardown:
	mem_teardown(&m);
}

static void add_rowrite(void)
{
	const struct backing *const *bks;
	int path, i, nr;

	bks = backings(&nr);
	for (path = VP_TYPE1; path <= VP_CDEV; path++) {
		for (i = 0; i < nr; i++) {
			struct pcase c = path_case(path, P_OUTCOME, rowrite_observe);

			if (bks[i]->type != BK_ANON && bks[i]->type != BK_ZEROPAGE &&
			    !(bks[i]->type == BK_MEMFD && (bks[i]->flags & BKF_PRIVATE)))
				continue;
			c.bk = bks[i];
			c.writable = false;
			c.need.check = edu_unavailable;
			c.tags = tags_select(ro_pin_tags, c.bk);
			pcase_add(&c, "%s R/O map keeps the device from writing, %s", path_label(path),
				  c.bk->name);
		}
	}
}

/* Memlock charge ------------------------------------------------------ */

#define CHARGE_PAGES	16
#define MEMLOCK_LIMIT	(64UL << 10)

enum charge_kind {
	CHARGE_RW,		/* R/W map of written anon pages */
	CHARGE_RO,		/* R/O map of written anon pages */
	CHARGE_ZERO,		/* R/O map of read-faulted pages: the shared zeropage */
	CHARGE_LIMIT,		/* unprivileged, beyond RLIMIT_MEMLOCK */
};

static void charge_observe(const struct pcase *pc)
{
	enum vfio_path path = (enum vfio_path)(pc->param & 0xff);
	enum charge_kind kind = (enum charge_kind)(pc->param >> 8);
	const char *field = charge_field(path);
	size_t ps = page_size(), len = CHARGE_PAGES * ps;
	long base, mapped, after, kb = (long)(len >> 10);
	struct vfio_ctx c;
	uint64_t unmapped;
	char *p;
	int ret;

	p = anon_pages(CHARGE_PAGES, kind != CHARGE_ZERO);
	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	if (!open_ctx(&c, path, false))
		return;
	base = proc_status_kb(field);
	obs_phase(PH_PIN);
	ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, kind == CHARGE_RW);
	mapped = proc_status_kb(field);
	if (ret) {
		obs_call("the map", ret, true, len);
		goto close;
	}
	obs_phase(PH_RELEASE);
	ret = vfio_ctx_unmap(&c, VFIO_IOVA_SPARE, len, &unmapped);
	after = proc_status_kb(field);
	ksft_print_msg("%s %s map of %d %s pages (%ld kB): %s %ld -> %ld -> %ld kB after unmap (VmLck %ld kB, VmPin %ld kB now)\n",
		       path_label(path), kind == CHARGE_RW ? "R/W" : "R/O", CHARGE_PAGES,
		       kind == CHARGE_ZERO ? "read-faulted (shared zeropage)" : "written anon",
		       kb, field, base, mapped, after, proc_status_kb("VmLck"),
		       proc_status_kb("VmPin"));
	if (ret || unmapped != len)
		obs_error("unmap", ret ? -ret : EIO);
	else if (after != base)
		obs_broken(SYM_KEPT, "%s did not return to its value before the map: %+ld kB",
			   field, after - base);
	else if (kind == CHARGE_ZERO && (mapped - base < 0 || mapped - base > kb))
		obs_broken(SYM_KEPT, "%s grew by %+ld kB for %ld kB mapped", field, mapped - base, kb);
	else if (kind != CHARGE_ZERO && mapped - base != kb)
		obs_broken(SYM_KEPT, "%s grew by %+ld kB, expected the mapped %ld kB", field,
			   mapped - base, kb);
	else
		obs_held();
	if (kind == CHARGE_ZERO)
		ksft_print_msg("measured: %ld pages of the former zeropage charged %+ld kB in all, %.1f kB each (0 = the zeropage itself was pinned, uncharged; %zu = unshared into anon pages)\n",
			       (long)CHARGE_PAGES, mapped - base,
			       (double)(mapped - base) / CHARGE_PAGES, ps >> 10);
close:
	vfio_ctx_close(&c);
	munmap(p, len);
}

/*
 * In a child: open as root, drop to an unprivileged user without
 * CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK, map 16 times the limit;
 * the child records what happened (the report is shared).
 */
static void charge_beyond_limit(enum vfio_path path)
{
	unsigned long limit = break_memlock ? 64UL << 20 : MEMLOCK_LIMIT;
	const char *field = charge_field(path);
	size_t len = 16 * MEMLOCK_LIMIT;
	long base, after, lck0, lck1;
	struct vfio_ctx c;
	char *p;
	int ret;

	p = anon_pages(len / page_size(), true);
	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	if (!open_ctx(&c, path, false))
		return;
	ret = drop_privileges(limit);
	if (ret) {
		obs_error("dropping privileges", -ret);
		return;
	}
	base = proc_status_kb(field);
	lck0 = proc_status_kb("VmLck");
	obs_phase(PH_PIN);
	ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, true);
	after = proc_status_kb(field);
	lck1 = proc_status_kb("VmLck");
	ksft_print_msg("uid %d, no CAP_IPC_LOCK, RLIMIT_MEMLOCK %lu kB: mapping %zu kB: %s; %s %ld -> %ld kB%s\n",
		       (int)getuid(), limit >> 10, len >> 10, ret ? strerror(-ret) : "mapped",
		       field, base, after, path == VP_TYPE1 ? "" : lck1 == lck0 ?
		       ", VmLck unchanged" : ", VmLck changed");
	if (ret && (after != base || lck1 != lck0))
		obs_broken(SYM_KEPT, "the refused map left %s %+ld kB, VmLck %+ld kB", field,
			   after - base, lck1 - lck0);
	else
		obs_call("a map beyond RLIMIT_MEMLOCK", ret, true, len);
	if (!ret)
		vfio_ctx_unmap(&c, VFIO_IOVA_SPARE, len, NULL);
	vfio_ctx_close(&c);
}

static void charge_limit_observe(const struct pcase *pc)
{
	struct kid k;
	pid_t pid = kid_fork(&k);

	if (pid < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!pid) {
		charge_beyond_limit((enum vfio_path)(pc->param & 0xff));
		fflush(stdout);
		_exit(0);
	}
	if (kid_finish(&k, false) && !obs_recorded())
		obs_error("the unprivileged child", ECHILD);
}

/* All pins released ------------------------------------------------------ */

#define RELEASE_PAGES	64

/* In a child: map and exit without unmapping (with break=leak keep a holder). */
static int map_and_exit(enum vfio_path path, char *p)
{
	char why[KSFT_REASON_MAX];
	struct vfio_ctx c;

	if (vfio_ctx_open(&c, path, false, why, sizeof(why)))
		return 1;
	if (vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, RELEASE_PAGES * page_size(), true))
		return 1;
	/* A grandchild holding the fds keeps everything pinned. */
	if (break_leak && fork() == 0) {
		pause();
		_exit(0);
	}
	return 0;
}

static void release_observe(const struct pcase *pc)
{
	enum vfio_path path = (enum vfio_path)(pc->param & 0xff);
	bool on_exit = pc->param >> 8;
	size_t len = RELEASE_PAGES * page_size();
	struct release r;
	struct vfio_ctx c;
	struct kid k;
	char *p;
	int ret;

	p = anon_pages(RELEASE_PAGES, true);
	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	if (on_exit) {
		/* The child's charge goes with it: the machine's count is the witness. */
		release_before(&r, NULL, NULL, len);
		obs_phase(PH_PIN);
		if (kid_fork(&k) < 0) {
			obs_error("fork", errno);
			return;
		}
		if (!k.pid)
			_exit(map_and_exit(path, p));
		obs_phase(PH_RELEASE);
		ret = kid_finish(&k, false);
		if (ret) {
			obs_error("the child could not map its pages", 0);
			return;
		}
		release_after(&r, "after the mapping process exited");
		return;
	}
	if (!open_ctx(&c, path, false))
		return;
	release_before(&r, charge_field(path), p, len);
	obs_phase(PH_PIN);
	ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, true);
	if (ret) {
		obs_call("the map", ret, true, len);
		vfio_ctx_close(&c);
		return;
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (!break_leak)
		vfio_ctx_unmap(&c, VFIO_IOVA_SPARE, len, NULL);
	release_after(&r, "after unmap");
	vfio_ctx_close(&c);
}

static void add_accounting(void)
{
	static const struct {
		enum charge_kind kind;
		const char *what;
	} kinds[] = {
		{ CHARGE_RW, "R/W map of anon pages, %s grows by the mapped size and drops back after unmap" },
		{ CHARGE_RO, "R/O map of anon pages, %s grows by the mapped size and drops back after unmap" },
		{ CHARGE_ZERO, "R/O map of the shared zeropage, %s charge measured, drops back after unmap" },
		{ CHARGE_LIMIT, "map beyond RLIMIT_MEMLOCK fails with ENOMEM and charges nothing, unprivileged" },
	};
	char what[160];
	unsigned int k;
	int path;

	for (path = 0; path < VP_NR; path++) {
		for (k = 0; k < ARRAY_SIZE(kinds); k++) {
			struct pcase c = path_case(path, P_MEMLOCK, charge_observe);

			c.param = path | (kinds[k].kind << 8);
			c.writable = kinds[k].kind == CHARGE_RW || kinds[k].kind == CHARGE_LIMIT;
			if (kinds[k].kind == CHARGE_LIMIT) {
				c.observe = charge_limit_observe;
				c.expect = EXP_ERRNO;
				c.want_err = ENOMEM;
			}
			snprintf(what, sizeof(what), kinds[k].what, charge_field(path));
			pcase_add(&c, "%s %s", path_label(path), what);
		}
		for (k = 0; k < 2; k++) {
			struct pcase c = path_case(path, P_RELEASED, release_observe);

			c.param = path | (k << 8);
			pcase_add(&c, "%s, pins gone %s", path_label(path),
				  k ? "after the process exits" : "after unmap");
		}
	}
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(matrices); i++)
		add_matrix(&matrices[i]);
	add_rowrite();
	add_conformance();
	add_accounting();
}

static int validate(char *why, size_t len)
{
	return vfio_device_select(opt_device, opt_allow_rebind, why, len);
}

static void setup(void)
{
	vfio_prepare();
}

enum { OPT_DEVICE = 0x2000, OPT_ALLOW_REBIND, OPT_EDU_POLL };

static const struct option longopts[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "allow-rebind", no_argument, NULL, OPT_ALLOW_REBIND },
	{ "edu-poll", no_argument, NULL, OPT_EDU_POLL },
	{ NULL, 0, NULL, 0 },
};

static int vfio_option(int opt, const char *arg, char *why, size_t len)
{
	switch (opt) {
	case OPT_DEVICE:
		opt_device = arg;
		return 0;
	case OPT_ALLOW_REBIND:
		opt_allow_rebind = true;
		return 0;
	case OPT_EDU_POLL:
		vfio_edu_poll = true;
		return 0;
	}
	snprintf(why, len, "unknown option");
	return -1;
}

static const struct ksft_break breaks[] = {
	{ "rowrite", "map R/W where a R/O map is tested", &break_rowrite, 1 },
	{ "memlock", "raise RLIMIT_MEMLOCK above the map", &break_memlock, 1 },
	{ "leak", "keep the pins when the release is checked", &break_leak, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct pinsuite suite = {
	.name = "vfio_pin",
	.summary = "Long-term pins through VFIO type1, the VFIO cdev with iommufd, an iommufd\n"
		   "mock domain and iommufd's type1 compat ioctls: device DMA (QEMU edu), the\n"
		   "mock IOMMU page table or pagemap PFNs against the mapping after writes, fork,\n"
		   "mprotect, KSM, collapse, pageout and migration; what a map must refuse; that\n"
		   "a R/O map keeps the device from writing; memlock charge; pin release.",
	.usage = "      --device BDF        the VFIO device to use (also PINSUITE_VFIO_DEVICE);\n"
		 "                          inside the suite's VM (PINSUITE_IN_VM=1) the edu\n"
		 "                          device is used by default\n"
		 "      --allow-rebind      bind the device to vfio-pci if it is bound elsewhere\n"
		 "                          (put back when the run ends, also if it is killed)\n"
		 "      --edu-poll          wait for edu DMA by polling instead of its MSI\n",
	.longopts = longopts,
	.option = vfio_option,
	.validate = validate,
	.breaks = breaks,
	.enumerate = enumerate,
	.setup = setup,
	/* A case takes seconds; a stuck one should not hold the run for long. */
	.timeout = 30,
	/* A private hugetlb pin, its COW copy and a child's copy. */
	.hugetlb_pages = 4,
};

int main(int argc, char **argv)
{
	pinsuite_main(&suite, argc, argv);
}
