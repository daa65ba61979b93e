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
 *
 * The iommufd emulated access - an in-kernel user of an IOAS, as mdev
 * drivers are - pins through the same IOAS: on every backing and after
 * every trigger the pages it holds must be the pages mapped; unmapping the
 * IOVA while it holds them must tell it to unpin; a mapping made by a
 * child process is pinned in the child's memory, stays readable when the
 * child exits, and cannot be pinned once it is gone.  And a type1 mapping
 * kept across exec() and unmapped by the new image must leave the locked
 * memory of both images right (046eca5018f8).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/edu.h"
#include "lib/memlock.h"
#include "lib/observe.h"
#include "lib/pin_vfio.h"
#include "lib/pincheck.h"
#include "lib/pinreq.h"
#include "lib/release.h"
#include "lib/sysstate.h"
#include "lib/util.h"

static int break_rowrite, break_exited, break_exec;

/* Reliability matrices -------------------------------------------------- */

#define T(id)		TRIG_BIT(id)
/* Writes, fork() both ways, mprotect(); and the kernel's reasons to move a page. */
#define T_BASIC		TRIGS_BASIC
#define T_ALL		(TRIGS_BASIC | T(TRIG_KSM) | T(TRIG_COLLAPSE) | T(TRIG_PAGEOUT) | \
			 T(TRIG_MIGRATE))

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
	bool device_set;
	unsigned int ro_trigs;
	unsigned int rw_trigs;
} matrices[] = {
	{ VP_TYPE1, "VFIO type1 DMA read", "VFIO type1 DMA write", PC_PIN_WRITES,
	  true, T_ALL, T(TRIG_WRITE) | T(TRIG_FORK_PARENT) },
	{ VP_CDEV, "iommufd (VFIO cdev) DMA read", "iommufd (VFIO cdev) DMA write", PC_PIN_WRITES,
	  true, T(TRIG_WRITE), T(TRIG_WRITE) },
	{ VP_MOCK, "iommufd mock domain, IOAS_MAP READABLE",
	  "iommufd mock domain, IOAS_MAP READABLE|WRITEABLE", PC_PIN_READS,
	  false, TRIGS_ALL, TRIGS_ALL },
	{ VP_COMPAT, "type1 compat on iommufd mock domain, MAP_DMA READ",
	  "type1 compat on iommufd mock domain, MAP_DMA READ|WRITE", PC_PIN_READS,
	  true, T_BASIC, T_BASIC },
};

/* The smallest hugetlb size: one pool the device cases draw from. */
static size_t smallest_hugetlb(void)
{
	const struct platform *p = platform();

	return p->nr_hugetlb ? p->hugetlb_sizes[0] : 0;
}

/*
 * The device's set: the seeds' backings with writes, fork() and
 * mprotect(); anonymous memory and the zeropage also with the kernel's
 * own reasons to replace a page, which without iommufd (no mock domain)
 * nothing else covers; a PMD-size shmem THP with a write.
 */
static unsigned int device_set(const struct backing *bk, bool writable)
{
	(void)writable;
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

static void add_matrix(const struct matrix *mx)
{
	struct pin_matrix m = {
		.pin = pin_vfio_for(mx->path),
		.ro_what = mx->ro_what,
		.rw_what = mx->rw_what,
		.rw_dir = mx->rw_dir,
		.ro_trigs = mx->ro_trigs,
		.rw_trigs = mx->rw_trigs,
		.bk_trigs = mx->device_set ? device_set : NULL,
	};

	pincheck_add_matrix(&m);
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
	char *p = anon_pages((ENTRY_LIMIT + 1) * page_size(), true);
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
	p = anon_pages(4 * page_size(), true);
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
	CHARGE_LIMIT,		/* unprivileged, beyond RLIMIT_MEMLOCK (lib/memlock.h) */
};

static void charge_observe(const struct pcase *pc)
{
	enum vfio_path path = (enum vfio_path)(pc->param & 0xff);
	enum charge_kind kind = (enum charge_kind)(pc->param >> 8);
	const char *field = pinreq_vfio(path)->charge;
	size_t ps = page_size(), len = CHARGE_PAGES * ps;
	long base, mapped, after, kb = (long)(len >> 10);
	struct vfio_ctx c;
	uint64_t unmapped;
	char *p;
	int ret;

	p = anon_pages(len, kind != CHARGE_ZERO);
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
	static struct pin_account acct[VP_NR];
	char what[160];
	unsigned int k;
	int path;

	for (path = 0; path < VP_NR; path++) {
		/* The map is made on a container or IOAS opened as root. */
		acct[path] = (struct pin_account){
			.what = path_label(path),
			.pin = pin_vfio_for(path),
			.req = pinreq_vfio(path),
			.limit = MEMLOCK_LIMIT,
			.beyond = 16 * MEMLOCK_LIMIT,
			.vmlck_too = true,
			.unpinned = "after unmap",
			.staged = true,
		};
		for (k = 0; k < ARRAY_SIZE(kinds); k++) {
			struct pcase c = path_case(path, P_MEMLOCK, charge_observe);

			c.param = path | (kinds[k].kind << 8);
			c.writable = kinds[k].kind == CHARGE_RW || kinds[k].kind == CHARGE_LIMIT;
			if (kinds[k].kind == CHARGE_LIMIT) {
				c.observe = memlock_observe;
				c.ext = &acct[path];
				c.expect = EXP_ERRNO;
				c.want_err = ENOMEM;
			}
			snprintf(what, sizeof(what), kinds[k].what, acct[path].req->charge);
			pcase_add(&c, "%s %s", path_label(path), what);
		}
		for (k = 0; k < 2; k++) {
			struct pcase c = path_case(path, P_RELEASED,
						   k ? release_exit_observe : release_unpin_observe);

			c.param = path | (k << 8);
			c.ext = &acct[path];
			pcase_add(&c, "%s, pins gone %s", path_label(path),
				  k ? "after the process exits" : "after unmap");
		}
	}
}

/* The iommufd emulated access: the matrix --------------------------------- */

/*
 * The access alone is what mdev drivers use: every trigger on the device's
 * set of backings.  Beside a mock domain (a boot with intel_iommu=off) the
 * access takes its pages from the domain, where unpinning with an access
 * present went wrong before v6.3: the seeds' triggers.
 */
static void add_access_matrices(void)
{
	/* Beside a domain, the unpin went wrong for THP and hugetlb. */
	static const struct tagsel beside_domain[] = {
		{ TAG_IOMMUFD_ACCESS_UNPIN, BKF_THP, 0 },
		{ TAG_IOMMUFD_ACCESS_UNPIN, BKF_HUGETLB, 0 },
		{ TAG_NONE, 0, 0 },
	};
	static const struct pin_matrix alone = {
		.pin = &pin_iommufd_access,
		.ro_what = "iommufd emulated access, IOAS_MAP READABLE",
		.rw_what = "iommufd emulated access, IOAS_MAP READABLE|WRITEABLE",
		.rw_dir = PC_PIN_BOTH,
		.ro_trigs = T_ALL,
		.rw_trigs = T_ALL,
		.bk_trigs = device_set,
	};
	static const struct pin_matrix mock = {
		.pin = &pin_iommufd_access_mock,
		.ro_what = "iommufd emulated access beside a mock domain, IOAS_MAP READABLE",
		.rw_what = "iommufd emulated access beside a mock domain, IOAS_MAP READABLE|WRITEABLE",
		.rw_dir = PC_PIN_BOTH,
		.ro_trigs = T_BASIC,
		.rw_trigs = T_BASIC,
		.bk_trigs = device_set,
		.tags = beside_domain,
	};

	pincheck_add_matrix(&alone);
	pincheck_add_matrix(&mock);
}

/* The access is told to unpin ------------------------------------------- */

/*
 * IOAS_UNMAP of a range an access holds: the kernel calls the access's
 * unmap callback, the access unpins, then the unmap completes.  Seen from
 * here: the unmap returns the whole length, the access no longer has the
 * range (DESTROY_ACCESS_PAGES: ENOENT) and every pin is gone.
 */
static void access_unmap_observe(const struct pcase *pc)
{
	size_t len = RELEASE_PAGES * page_size();
	char why[KSFT_REASON_MAX];
	struct iommufd_access a;
	uint64_t unmapped = 0;
	struct release r;
	uint32_t id;
	char *p;
	int ret;

	p = anon_pages(RELEASE_PAGES * page_size(), true);
	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	if (iommufd_access_open(&a, pc->param, why, sizeof(why))) {
		obs_error(why, 0);
		goto unmap;
	}
	release_before(&r, "VmPin", p, len);
	obs_phase(PH_PIN);
	ret = vfio_ctx_map(&a.c, p, VFIO_IOVA_SPARE, len, true);
	if (!ret)
		ret = iommufd_access_pages(&a, VFIO_IOVA_SPARE, len, p, true, &id);
	if (ret) {
		obs_call("IOAS_MAP and ACCESS_PAGES", ret, true, len);
		goto close;
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (release_break_leak) {
		ksft_print_msg("selftest break: the range stays mapped and pinned\n");
		release_after(&r, "without IOAS_UNMAP");
		goto close;
	}
	ret = vfio_ctx_unmap(&a.c, VFIO_IOVA_SPARE, len, &unmapped);
	ksft_print_msg("IOAS_UNMAP of the range the access holds: %s, %" PRIu64 " of %zu bytes unmapped\n",
		       ret ? strerror(-ret) : "done", unmapped, len);
	if (ret || unmapped != len) {
		obs_broken(SYM_KEPT, "IOAS_UNMAP of a range an emulated access holds did not complete: %s, %" PRIu64 " of %zu bytes",
			   ret ? strerror(-ret) : "no error", unmapped, len);
		goto close;
	}
	ret = iommufd_access_unpin(&a, id);
	ksft_print_msg("DESTROY_ACCESS_PAGES of that range afterwards: %s\n",
		       ret ? strerror(-ret) : "it was still held");
	if (ret != -ENOENT) {
		obs_broken(SYM_KEPT, "after IOAS_UNMAP the access still held the range (DESTROY_ACCESS_PAGES: %s): it was not told to unpin",
			   ret ? strerror(-ret) : "success");
		goto close;
	}
	release_after(&r, "after IOAS_UNMAP");
close:
	iommufd_access_close(&a);
unmap:
	munmap(p, len);
}

/* A mapping made by another process -------------------------------------- */

/*
 * The IOAS mapping is made by a child (its mm is the source of the pages),
 * the access is the case process's: the pin goes into the child's memory
 * (pin_user_pages_remote()), upstream's fork_present / fork_gone.
 */
enum fork_kind {
	FK_PRESENT,		/* the child writes after the pin; read and write through it */
	FK_EXITS,		/* the child exits while the access holds its pages */
	FK_RELEASE_PRESENT,	/* unpinned while the child lives: its VmPin, its pages */
	FK_RELEASE_EXITED,	/* the child has exited; the access lets go */
	FK_GONE,		/* the child exited before any pin: EFAULT */
	FK_GONE_DOMAIN,		/* ... but a mock domain pinned at IOAS_MAP in the child */
};

#define FORK_PAGES	16

/* The child's side: map its pages into the IOAS, then follow the parent. */
static int fork_child(const struct pcase *pc, struct iommufd_access *a, struct kid *k)
{
	enum fork_kind kind = (enum fork_kind)(pc->param & 0xff);
	size_t len = FORK_PAGES * page_size();
	char *buf = anon_pages(FORK_PAGES * page_size(), true);
	struct release r;
	ssize_t off;
	int ret, byte;

	memset(&r, 0, sizeof(r));
	if (!buf)
		return 1;
	ret = vfio_ctx_map(&a->c, buf, VFIO_IOVA_SPARE, len, true);
	if (ret) {
		obs_call("IOAS_MAP in the child", ret, true, len);
		return 1;
	}
	if (kind == FK_GONE_DOMAIN)
		memset(buf, PAT_CHILD, len);
	if (kind == FK_RELEASE_PRESENT)
		release_before(&r, "VmPin", buf, len);
	if (kid_tell_parent(k, 'm') || kind == FK_GONE_DOMAIN)
		return 0;
	if (kind == FK_GONE) {
		kid_wait_parent(k);
		return 0;
	}
	/* 'p': the access pinned the pages. */
	if (kid_wait_parent(k) != 'p')
		return 0;
	if (kind == FK_RELEASE_PRESENT)
		release_pinned(&r);
	memset(buf, PAT_CHILD, len);
	kid_tell_parent(k, 'w');
	/* 'c': check what the access wrote; 'u': the access unpinned; else exit. */
	switch (kid_wait_parent(k)) {
	case 'c':
		byte = pincheck_break == PC_BREAK_COMPARE ? PAT_INITIAL : PAT_DEVICE;
		off = first_not(buf, byte, len);
		if (off >= 0 && obs_recorded())
			ksft_print_msg("the child's mapping holds 0x%02x at offset 0x%zx where the access wrote 0x%02x\n",
				       (unsigned char)buf[off], (size_t)off, byte);
		else if (off >= 0)
			obs_broken(SYM_STALE, "the child's mapping holds 0x%02x at offset 0x%zx where the access wrote 0x%02x",
				   (unsigned char)buf[off], (size_t)off, byte);
		break;
	case 'u':
		release_after(&r, "in the child, after the access unpinned its range");
		break;
	default:
		return 0;
	}
	kid_tell_parent(k, 'd');
	kid_wait_parent(k);
	return 0;
}

/* Read the child's range through the access: all @byte? 1 not (recorded). */
static int fork_read(struct iommufd_access *a, int byte, const char *when)
{
	size_t len = FORK_PAGES * page_size();
	char *buf = malloc(len);
	ssize_t off;
	int ret;

	if (!buf) {
		obs_error("malloc", ENOMEM);
		return -1;
	}
	ret = iommufd_access_rw(a, VFIO_IOVA_SPARE, buf, len, false);
	if (pincheck_break == PC_BREAK_COMPARE) {
		ksft_print_msg("selftest break: compared with what the child's pages held before\n");
		byte = PAT_INITIAL;
	}
	off = ret ? -1 : first_not(buf, byte, len);
	if (ret)
		obs_error("IOMMU_TEST_OP_ACCESS_RW", -ret);
	else if (off >= 0)
		obs_broken(SYM_STALE, "%s the access reads 0x%02x at offset 0x%zx, the child wrote 0x%02x",
			   when, (unsigned char)buf[off], (size_t)off, byte);
	free(buf);
	return ret ? -1 : off >= 0;
}

static void fork_observe(const struct pcase *pc)
{
	enum fork_kind kind = (enum fork_kind)(pc->param & 0xff);
	size_t len = FORK_PAGES * page_size();
	bool held = false, exited = false;
	char why[KSFT_REASON_MAX];
	struct iommufd_access a;
	struct release r;
	uint32_t id = 0;
	struct kid k;
	char *buf;
	int ret;

	if (iommufd_access_open(&a, kind == FK_GONE_DOMAIN, why, sizeof(why))) {
		obs_error(why, 0);
		return;
	}
	release_before(&r, NULL, NULL, 0);
	if (kid_fork(&k) < 0) {
		obs_error("fork", errno);
		goto close;
	}
	if (!k.pid)
		_exit(fork_child(pc, &a, &k));
	if (kid_wait_child(&k) != 'm') {
		kid_finish(&k, false);
		if (!obs_recorded())
			obs_error("the child could not map its pages", 0);
		goto close;
	}
	if (kind == FK_GONE && break_exited) {
		ksft_print_msg("selftest break: the child stays alive\n");
	} else if (kind == FK_GONE || kind == FK_GONE_DOMAIN) {
		kid_finish(&k, false);
		exited = true;
	}
	obs_phase(PH_PIN);
	ret = iommufd_access_pages(&a, VFIO_IOVA_SPARE, len, NULL, true, &id);
	held = !ret;
	if (kind == FK_GONE || ret) {
		obs_call(kind == FK_GONE ? "ACCESS_PAGES of a range mapped by a process that has exited" :
			 "ACCESS_PAGES of a range mapped by another process", ret, true, len);
		goto finish;
	}
	if (kind == FK_GONE_DOMAIN) {
		obs_phase(PH_CHECK);
		if (!fork_read(&a, PAT_CHILD, "after the child exited,"))
			obs_held();
		goto finish;
	}
	kid_tell_child(&k, 'p');
	if (kid_wait_child(&k) != 'w') {
		obs_error("the child did not write its pages", 0);
		goto finish;
	}
	release_pinned(&r);
	obs_phase(PH_CHECK);
	/* The write through the access is looked at even when the read differed. */
	ret = fork_read(&a, PAT_CHILD, "after the child's write");
	if (ret < 0 || (ret && kind != FK_PRESENT))
		goto finish;
	switch (kind) {
	case FK_PRESENT:
		buf = malloc(len);
		if (!buf) {
			obs_error("malloc", ENOMEM);
			goto finish;
		}
		memset(buf, PAT_DEVICE, len);
		ret = iommufd_access_rw(&a, VFIO_IOVA_SPARE, buf, len, true);
		free(buf);
		if (ret && obs_recorded()) {
			ksft_print_msg("IOMMU_TEST_OP_ACCESS_RW write: %s\n", strerror(-ret));
			goto finish;
		} else if (ret) {
			obs_error("IOMMU_TEST_OP_ACCESS_RW write", -ret);
			goto finish;
		}
		kid_tell_child(&k, 'c');
		kid_wait_child(&k);
		if (!obs_recorded())
			obs_held();
		break;
	case FK_EXITS:
	case FK_RELEASE_EXITED:
		kid_finish(&k, false);
		exited = true;
		if (fork_read(&a, PAT_CHILD, "after the child exited,"))
			break;
		if (kind == FK_EXITS) {
			obs_held();
			break;
		}
		obs_phase(PH_RELEASE);
		if (!release_break_leak) {
			iommufd_access_unpin(&a, id);
			held = false;
		}
		release_after(&r, "after the access let go of the exited child's pages");
		break;
	case FK_RELEASE_PRESENT:
		obs_phase(PH_RELEASE);
		if (release_break_leak) {
			ksft_print_msg("selftest break: the access keeps the range\n");
		} else {
			iommufd_access_unpin(&a, id);
			held = false;
		}
		kid_tell_child(&k, 'u');
		kid_wait_child(&k);
		break;
	default:
		break;
	}
finish:
	if (held)
		iommufd_access_unpin(&a, id);
	if (!exited)
		kid_finish(&k, false);
close:
	iommufd_access_close(&a);
}

static void add_access(void)
{
	static const struct {
		enum fork_kind kind;
		enum property prop;
		int want_err;
		const char *what;
	} forks[] = {
		{ FK_PRESENT, P_RW_RELIABLE, 0,
		  "iommufd emulated access to a child's mapping, the child writes after the pin" },
		{ FK_EXITS, P_RW_RELIABLE, 0,
		  "iommufd emulated access to a child's mapping, the child exits while its pages are held" },
		{ FK_RELEASE_PRESENT, P_RELEASED, 0,
		  "iommufd emulated access to a child's mapping, unpinned while the child lives" },
		{ FK_RELEASE_EXITED, P_RELEASED, 0,
		  "iommufd emulated access to a child's mapping, unpinned after the child exited" },
		{ FK_GONE, P_OUTCOME, EFAULT,
		  "iommufd emulated access to the mapping of a child that has exited fails with EFAULT" },
		{ FK_GONE_DOMAIN, P_RW_RELIABLE, 0,
		  "iommufd mock domain pins made by a child that has exited, read through an emulated access" },
	};
	unsigned int i;
	int mock;

	for (mock = 0; mock < 2; mock++) {
		struct pcase c = {
			.prop = P_RELEASED,
			.what = "iommufd emulated access",
			.pin = mock ? &pin_iommufd_access_mock : &pin_iommufd_access,
			.writable = true,
			.observe = access_unmap_observe,
			.param = mock,
			.tags = mock ? TAGBIT(TAG_IOMMUFD_ACCESS_UNPIN) : 0,
		};

		pcase_add(&c, "%s, IOAS_UNMAP of the range it holds, the access is told to unpin",
			  c.pin->name);
	}
	for (i = 0; i < ARRAY_SIZE(forks); i++) {
		struct pcase c = {
			.prop = forks[i].prop,
			.what = "iommufd emulated access",
			.pin = forks[i].kind == FK_GONE_DOMAIN ? &pin_iommufd_access_mock :
							     &pin_iommufd_access,
			.writable = true,
			.expect = forks[i].want_err ? EXP_ERRNO : EXP_HOLDS,
			.want_err = forks[i].want_err,
			.observe = fork_observe,
			.param = forks[i].kind,
		};

		pcase_add(&c, "%s", forks[i].what);
	}
}

/* VFIO type1 across exec() ---------------------------------------------- */

/*
 * A type1 mapping made by one process image and unmapped by the next one,
 * after an exec() that kept the container: the unpin must be taken off
 * the locked memory of the image that was charged (gone with it), not off
 * the new one's - before 046eca5018f8 (v6.2) the new image's locked_vm
 * underflowed (a WARN), and with it RLIMIT_MEMLOCK refused the next map.
 * The helper that runs in the new image is this binary, re-executed with
 * the hidden option EXEC_HELPER; it reports on a pipe.
 */
#define EXEC_HELPER	"--vfio-exec-helper"
#define EXEC_PAGES	16
/* --selftest-break: the helper keeps the mapping; it mlock()s a page. */
#define EXEC_HELPER_LEAK	1
#define EXEC_HELPER_MLOCK	2

enum exec_kind {
	EX_CHARGE,	/* root: VmLck of both images */
	EX_NEXT_MAP,	/* unprivileged: the next map within RLIMIT_MEMLOCK */
	EX_RELEASE,	/* the pins go at the unmap from the new image */
};

/* "VmLck:" of /proc/self/status as printed (unsigned), ULONG_MAX when absent. */
static unsigned long vmlck_kb(void)
{
	char buf[4096], *p;

	if (read_file("/proc/self/status", buf, sizeof(buf)))
		return ULONG_MAX;
	p = strstr(buf, "VmLck:");
	return p ? strtoul(p + 6, NULL, 10) : ULONG_MAX;
}

static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < len) {
		r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * The new image: argv = EXEC_HELPER container group iova len result-fd
 * go-fd leak.  Unmap, report; wait; map again and unmap, report.
 */
static int exec_helper(int argc, char **argv)
{
	struct vfio_ctx c = { .path = VP_TYPE1, .device = -1 };
	unsigned long m0, m1, m2, m3;
	uint64_t iova, unmapped = 0;
	int res, go, ret, ret2, mode;
	size_t len;
	char b;
	char *p;

	if (argc != 9)
		return 2;
	mode = atoi(argv[8]);
	c.container = atoi(argv[2]);
	c.group = atoi(argv[3]);
	iova = strtoull(argv[4], NULL, 0);
	len = strtoul(argv[5], NULL, 0);
	res = atoi(argv[6]);
	go = atoi(argv[7]);
	m0 = vmlck_kb();
	ret = mode & EXEC_HELPER_LEAK ? 0 : vfio_ctx_unmap(&c, iova, len, &unmapped);
	if (mode & EXEC_HELPER_MLOCK)
		mlock(anon_pages(page_size(), true), page_size());
	m1 = vmlck_kb();
	dprintf(res, "%d %" PRIu64 " %lu %lu\n", ret, unmapped, m0, m1);
	if (read(go, &b, 1) != 1 || b != 'g')
		return 0;
	p = anon_pages(len, true);
	if (!p)
		return 1;
	ret2 = vfio_ctx_map(&c, p, iova, len, true);
	m2 = vmlck_kb();
	if (!ret2)
		vfio_ctx_unmap(&c, iova, len, NULL);
	m3 = vmlck_kb();
	dprintf(res, "%d %lu %lu\n", ret2, m2, m3);
	return 0;
}

/* The old image: map, then become the helper keeping the container. */
static int exec_child(enum exec_kind kind, struct kid *k)
{
	size_t len = EXEC_PAGES * page_size();
	char exe[4096], a[6][32], mode[16], *argv[10];
	unsigned long l0, l1;
	struct vfio_ctx c;
	ssize_t n;
	char *p;
	int ret;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	p = anon_pages(EXEC_PAGES * page_size(), true);
	if (n < 0 || !p || !open_ctx(&c, VP_TYPE1, false))
		return 1;
	exe[n] = '\0';
	l0 = vmlck_kb();
	ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, true);
	l1 = vmlck_kb();
	if (ret) {
		obs_call("VFIO_IOMMU_MAP_DMA before exec()", ret, true, len);
		return 1;
	}
	ksft_print_msg("old image: VmLck %lu -> %lu kB for a %zu kB R/W map\n", l0, l1, len >> 10);
	if (l1 - l0 != len >> 10) {
		obs_broken(SYM_KEPT, "the old image's VmLck grew by %ld kB for %zu kB mapped",
			   (long)(l1 - l0), len >> 10);
		return 1;
	}
	ret = kind == EX_NEXT_MAP ? drop_privileges(2 * len) : 0;
	if (ret) {
		obs_error("dropping privileges", -ret);
		return 1;
	}
	/* The container and its group (without it the domain goes) cross exec(). */
	if (fcntl(c.container, F_SETFD, 0) || fcntl(c.group, F_SETFD, 0) ||
	    fcntl(k->to_parent[1], F_SETFD, 0) || fcntl(k->to_child[0], F_SETFD, 0)) {
		obs_error("fcntl(F_SETFD)", errno);
		return 1;
	}
	snprintf(a[0], sizeof(a[0]), "%d", c.container);
	snprintf(a[1], sizeof(a[1]), "%d", c.group);
	snprintf(a[2], sizeof(a[2]), "%#lx", VFIO_IOVA_SPARE);
	snprintf(a[3], sizeof(a[3]), "%zu", len);
	snprintf(a[4], sizeof(a[4]), "%d", k->to_parent[1]);
	snprintf(a[5], sizeof(a[5]), "%d", k->to_child[0]);
	argv[0] = "vfio_pin";
	argv[1] = EXEC_HELPER;
	for (n = 0; n < 6; n++)
		argv[n + 2] = a[n];
	snprintf(mode, sizeof(mode), "%d", (kind == EX_RELEASE && release_break_leak ? EXEC_HELPER_LEAK : 0) |
		 (kind != EX_RELEASE && break_exec ? EXEC_HELPER_MLOCK : 0));
	argv[8] = mode;
	argv[9] = NULL;
	fflush(stdout);
	execv(exe, argv);
	obs_error("execv of the helper", errno);
	return 1;
}

static void exec_observe(const struct pcase *pc)
{
	enum exec_kind kind = (enum exec_kind)pc->param;
	size_t len = EXEC_PAGES * page_size();
	unsigned long m0, m1, m2, m3;
	uint64_t unmapped;
	struct release r;
	char line[160];
	int ret, ret2;
	struct kid k;

	release_before(&r, NULL, NULL, 0);
	obs_phase(PH_PIN);
	if (kid_fork(&k) < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!k.pid)
		_exit(exec_child(kind, &k));
	if (read_line(k.to_parent[0], line, sizeof(line)) ||
	    sscanf(line, "%d %" SCNu64 " %lu %lu", &ret, &unmapped, &m0, &m1) != 4) {
		kid_finish(&k, false);
		if (!obs_recorded())
			obs_error("the helper in the new image did not report", 0);
		return;
	}
	obs_phase(PH_RELEASE);
	ksft_print_msg("new image: unmap of the old image's mapping: %s, %" PRIu64 " of %zu bytes; VmLck %lu -> %lu kB\n",
		       ret ? strerror(-ret) : "done", unmapped, len, m0, m1);
	if (kind == EX_RELEASE) {
		release_after(&r, "after the unmap from the new image");
		goto finish;
	}
	if (ret || unmapped != len) {
		obs_broken(SYM_KEPT, "VFIO_IOMMU_UNMAP_DMA from the new image: %s, %" PRIu64 " of %zu bytes unmapped",
			   ret ? strerror(-ret) : "no error", unmapped, len);
		goto finish;
	}
	if (m1 != m0) {
		obs_broken(SYM_KEPT, "the new image's VmLck went %lu -> %lu kB at the unmap of %zu kB the old image had mapped and was charged for",
			   m0, m1, len >> 10);
		goto finish;
	}
	kid_tell_child(&k, 'g');
	if (read_line(k.to_parent[0], line, sizeof(line)) ||
	    sscanf(line, "%d %lu %lu", &ret2, &m2, &m3) != 3) {
		obs_error("the helper in the new image did not report its next map", 0);
		goto finish;
	}
	ksft_print_msg("new image%s: next map of %zu kB: %s; VmLck %lu -> %lu -> %lu kB\n",
		       kind == EX_NEXT_MAP ? ", unprivileged" : "", len >> 10,
		       ret2 ? strerror(-ret2) : "mapped", m1, m2, m3);
	if (kind == EX_NEXT_MAP)
		obs_call("the next map from the new image", ret2, true, len);
	else if (ret2)
		obs_error("the next map from the new image", -ret2);
	else if (m2 - m1 != len >> 10 || m3 != m1)
		obs_broken(SYM_KEPT, "the new image's own map and unmap moved VmLck %lu -> %lu -> %lu kB for %zu kB",
			   m1, m2, m3, len >> 10);
	else
		obs_held();
finish:
	kid_finish(&k, false);
}

static void add_exec(void)
{
	static const struct {
		enum exec_kind kind;
		enum property prop;
		const char *what;
	} rows[] = {
		{ EX_CHARGE, P_MEMLOCK,
		  "VFIO type1 map, exec() keeping the container, unmap from the new image, VmLck of both images right" },
		{ EX_NEXT_MAP, P_OUTCOME,
		  "VFIO type1 map, exec() keeping the container, unmap from the new image, the next map within RLIMIT_MEMLOCK works, unprivileged" },
		{ EX_RELEASE, P_RELEASED,
		  "VFIO type1 map, exec() keeping the container, pins gone at the unmap from the new image" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct pcase c = path_case(VP_TYPE1, rows[i].prop, exec_observe);

		c.param = rows[i].kind;
		c.tags = TAGBIT(TAG_VFIO_EXEC_LOCKED_VM);
		c.expect = rows[i].kind == EX_NEXT_MAP ? EXP_ERRNO : EXP_HOLDS;
		pcase_add(&c, "%s", rows[i].what);
	}
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(matrices); i++)
		add_matrix(&matrices[i]);
	add_access_matrices();
	add_rowrite();
	add_conformance();
	add_accounting();
	add_access();
	add_exec();
}

static const struct ksft_break breaks[] = {
	{ "rowrite", "map R/W where a R/O map is tested", &break_rowrite, 1 },
	{ "memlock", "raise RLIMIT_MEMLOCK above the map", &memlock_break, 1 },
	{ "leak", "keep the pins when the release is checked", &release_break_leak, 1 },
	{ "exited", "keep alive the child whose exit is tested", &break_exited, 1 },
	{ "exec", "mlock() a page in the new image across the exec() check", &break_exec, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct pinsuite suite = {
	.name = "vfio_pin",
	.summary = "Long-term pins through VFIO type1, the VFIO cdev with iommufd, an iommufd\n"
		   "mock domain and iommufd's type1 compat ioctls: device DMA (QEMU edu), the\n"
		   "mock IOMMU page table or pagemap PFNs against the mapping after writes, fork,\n"
		   "mprotect, KSM, collapse, pageout and migration; what a map must refuse; that\n"
		   "a R/O map keeps the device from writing; memlock charge; pin release.",
	.options = &vfio_suite_options,
	.breaks = breaks,
	.enumerate = enumerate,
	.setup = vfio_prepare,
	/* A case takes seconds; a stuck one should not hold the run for long. */
	.timeout = 30,
	/* A private hugetlb pin, its COW copy and a child's copy. */
	.hugetlb_pages = 4,
};

int main(int argc, char **argv)
{
	/* The new image of the exec() cases: not an option for users. */
	if (argc > 1 && !strcmp(argv[1], EXEC_HELPER))
		return exec_helper(argc, argv);
	pinsuite_main(&suite, argc, argv);
}
