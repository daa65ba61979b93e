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

#include "lib/backing.h"
#include "lib/edu.h"
#include "lib/hints.h"
#include "lib/ksft.h"
#include "lib/observe.h"
#include "lib/pin.h"
#include "lib/pin_vfio.h"
#include "lib/pincheck.h"
#include "lib/sysstate.h"
#include "lib/trigger.h"
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

/* The triggers @bk gets in the matrix of @path and @set (0: not there). */
static unsigned int in_set(const struct backing *bk, enum vfio_path path, enum bk_set set,
			   bool writable)
{
	if (bk->flags & BKF_VARIANT)
		return 0;
	/*
	 * A writable long-term pin of a MAP_SHARED file on a filesystem with
	 * writeback is refused (gup_longterm checks that rule).
	 */
	if (writable && backing_is(bk, BKF_SHARED | BKF_DISK, 0))
		return 0;
	/*
	 * Where the fix for it is missing, a R/O pin of a PMD-mapped file THP
	 * in a COW mapping never returns (HINT_UNSHARE_PMD_LOOP), before any
	 * trigger runs: one trigger says it all.
	 */
	if (!writable && bk->type == BK_SHMEM_LARGE && backing_is(bk, BKF_PRIVATE | BKF_PMD, 0))
		return path == VP_TYPE1 || set == BS_ALL ? T(TRIG_WRITE) : 0;
	if (set == BS_ALL)
		return T_ALL;
	/*
	 * The device's set: the seeds' backings with writes, fork() and
	 * mprotect(); anonymous memory and the zeropage also with the
	 * kernel's own reasons to replace a page, which without iommufd
	 * (no mock domain) nothing else covers.
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
	case BK_DISK_FILE:
		return bk->flags & BKF_PRIVATE ? T_BASIC : 0;
	case BK_MEMFD_HUGETLB:
		return (bk->flags & BKF_PRIVATE) && bk->size == smallest_hugetlb() ? T_BASIC : 0;
	default:
		return 0;
	}
}

/* In the runner: skip a case whose path is unavailable without forking it. */
static const char *precheck_path(const struct ksft_case *tc)
{
	/* Every argument of this binary's own cases starts with the path. */
	return vfio_path_unavailable(*(const enum vfio_path *)tc->arg);
}

static const char *precheck_pin(const struct ksft_case *tc)
{
	const struct pincheck *pc = tc->arg;

	return pc->pin->need.check ? pc->pin->need.check() : NULL;
}

static void add_matrix(const struct matrix *mx)
{
	const struct backing *const *bks;
	struct pincheck pc = { .pin = pin_vfio_for(mx->path) };
	unsigned int t, trigs;
	int w, i, nr;

	bks = backings(&nr);
	for (w = 0; w < 2; w++) {
		pc.writable = w;
		pc.dir = w ? mx->rw_dir : PC_PIN_READS;
		trigs = w ? mx->rw_trigs : mx->ro_trigs;
		for (t = 0; t < ARRAY_SIZE(matrix_triggers); t++) {
			if (!(trigs & T(matrix_triggers[t])))
				continue;
			pc.trig = &triggers[matrix_triggers[t]];
			for (i = 0; i < nr; i++) {
				pc.bk = bks[i];
				if ((in_set(pc.bk, mx->path, mx->set, w) & T(pc.trig->id)) &&
				    trigger_applies(pc.trig, pc.bk))
					pincheck_add(&pc, w ? mx->rw_what : mx->ro_what)->precheck =
						precheck_pin;
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

/* The memlock figure each path charges: type1 locked_vm, iommufd pinned_vm. */
static const char *charge_field(enum vfio_path path)
{
	return path == VP_TYPE1 ? "VmLck" : "VmPin";
}

static bool skip_unavailable(enum vfio_path path)
{
	const char *why = vfio_path_unavailable(path);

	if (why)
		ksft_case_skip("%s", why);
	return why;
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

static bool open_ctx(struct vfio_ctx *c, enum vfio_path path, bool device)
{
	char why[KSFT_REASON_MAX];
	int ret = vfio_ctx_open(c, path, device, why, sizeof(why));

	if (ret)
		ksft_case_fail("%s", why);
	return !ret;
}

/* Outcome as expected: what the kernel refuses --------------------------- */

enum conf_kind {
	CONF_OVERLAP,
	CONF_MISALIGNED,
	CONF_RW_PROT_READ,
	CONF_RO_PROT_READ,
	CONF_ENTRY_LIMIT,
};

struct conf_arg {
	enum vfio_path path;
	enum conf_kind kind;
};

static const char *errname(int err)
{
	switch (err) {
	case 0:
		return "success";
	case EEXIST:
		return "EEXIST";
	case EINVAL:
		return "EINVAL";
	case EFAULT:
		return "EFAULT";
	case ENOSPC:
		return "ENOSPC";
	case ENOMEM:
		return "ENOMEM";
	default:
		return strerror(err);
	}
}

static void conf_result(const char *what, int got, int want)
{
	ksft_print_msg("%s: %s (expected %s)\n", what, errname(-got), errname(want));
	ksft_case_result(-got == want ? KSFT_PASS : KSFT_FAIL, "%s: got %s, expected %s", what,
			 errname(-got), errname(want));
}

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
		ksft_case_fail("mmap: %s", strerror(errno));
		return;
	}
	ret = sysstate_write(DMA_ENTRY_LIMIT, "4");
	if (ret) {
		ksft_case_skip("cannot lower %s: %s", DMA_ENTRY_LIMIT, strerror(-ret));
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
		ksft_case_fail("map %d of %d within the limit failed: %s", n + 1, ENTRY_LIMIT,
			       strerror(-ret));
	else
		conf_result("map beyond dma_entry_limit", ret, ENOSPC);
	vfio_ctx_close(&c);
}

static void conf_case(const struct ksft_case *tc)
{
	const struct conf_arg *a = tc->arg;
	size_t ps = page_size(), len = 4 * ps;
	struct vfio_ctx c;
	char *p;
	int ret;

	if (skip_unavailable(a->path))
		return;
	if (a->kind == CONF_ENTRY_LIMIT) {
		conf_entry_limit();
		return;
	}
	p = anon_pages(4, true);
	if (!p) {
		ksft_case_fail("mmap: %s", strerror(errno));
		return;
	}
	if (!open_ctx(&c, a->path, false))
		return;
	switch (a->kind) {
	case CONF_OVERLAP:
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, true);
		if (ret) {
			ksft_case_fail("the first map failed: %s", strerror(-ret));
			break;
		}
		/* Half on the first mapping, half beyond it. */
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE + len / 2, len, true);
		conf_result("map overlapping an existing mapping", ret, EEXIST);
		break;
	case CONF_MISALIGNED:
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE + 512, len, true);
		conf_result("map at an IOVA 512 bytes off alignment", ret, EINVAL);
		break;
	case CONF_RW_PROT_READ:
	case CONF_RO_PROT_READ:
		if (mprotect(p, len, PROT_READ)) {
			ksft_case_fail("mprotect: %s", strerror(errno));
			break;
		}
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, a->kind == CONF_RW_PROT_READ);
		if (a->kind == CONF_RW_PROT_READ)
			conf_result("R/W map of a PROT_READ mapping", ret, EFAULT);
		else
			conf_result("R/O map of a PROT_READ mapping", ret, 0);
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
		const char *what;
	} kinds[] = {
		{ CONF_OVERLAP, "map overlapping an existing mapping fails with EEXIST" },
		{ CONF_MISALIGNED, "map at a misaligned IOVA fails with EINVAL" },
		{ CONF_RW_PROT_READ, "R/W map of a PROT_READ mapping fails with EFAULT" },
		{ CONF_RO_PROT_READ, "R/O map of a PROT_READ mapping works" },
		{ CONF_ENTRY_LIMIT, "map beyond dma_entry_limit fails with ENOSPC" },
	};
	struct conf_arg a;
	unsigned int k;

	for (a.path = 0; a.path < VP_NR; a.path++) {
		for (k = 0; k < ARRAY_SIZE(kinds); k++) {
			a.kind = kinds[k].kind;
			/* dma_entry_limit is a knob of vfio_iommu_type1 alone. */
			if (a.kind == CONF_ENTRY_LIMIT && a.path != VP_TYPE1)
				continue;
			ksft_case_add(conf_case, &a, sizeof(a),
				      "Longterm pin outcome as expected: %s %s",
				      path_label(a.path), kinds[k].what)->precheck = precheck_path;
		}
	}
}

/* A R/O map keeps the device from writing --------------------------------- */

struct rowrite_arg {
	enum vfio_path path;
	const struct backing *bk;
};

static void rowrite_case(const struct ksft_case *tc)
{
	const struct rowrite_arg *a = tc->arg;
	const struct need *needs[] = { &a->bk->need };
	char *bounce = NULL;
	size_t ps = page_size(), cnt = 2048;
	bool mapped = false, bmapped = false;
	struct vfio_ctx c;
	struct mem m;
	ssize_t off;
	int ret;

	if (skip_unavailable(a->path))
		return;
	if (!vfio_device_is_edu()) {
		ksft_case_skip("needs a device that can be made to DMA (edu); %s is not one",
			       vfio_device());
		return;
	}
	if (!mem_setup_case(&m, a->bk, needs, ARRAY_SIZE(needs)))
		return;
	if (!open_ctx(&c, a->path, true))
		goto teardown;
	bounce = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bounce == MAP_FAILED) {
		bounce = NULL;
		ksft_case_fail("mmap: %s", strerror(errno));
		goto close;
	}
	memset(bounce, PAT_DEVICE, ps);
	ret = vfio_ctx_map(&c, bounce, VFIO_IOVA_BOUNCE, ps, true);
	if (ret) {
		ksft_case_fail("mapping the bounce page R/W: %s", strerror(-ret));
		goto close;
	}
	bmapped = true;
	ret = vfio_ctx_map(&c, m.addr, VFIO_IOVA_PIN, ps, break_rowrite);
	if (ret) {
		ksft_case_fail("mapping the %s R/O: %s", a->bk->name, strerror(-ret));
		goto close;
	}
	mapped = true;
	if (break_rowrite)
		ksft_print_msg("selftest break: the range is mapped READ|WRITE\n");
	/* The device's buffer gets PAT_DEVICE, then goes to the R/O IOVA. */
	ret = edu_dma_from_ram(&c.edu, VFIO_IOVA_BOUNCE, 0, cnt);
	if (!ret)
		ret = edu_dma_to_ram(&c.edu, 0, VFIO_IOVA_PIN, cnt);
	if (ret) {
		ksft_case_fail("edu DMA: %s", strerror(-ret));
		goto close;
	}
	off = first_not(m.addr, m.initial, cnt);
	if (off < 0 && m.ro)
		off = first_not(m.ro, m.initial, cnt);
	if (off >= 0) {
		ksft_print_msg("the device wrote through the R/O map: byte 0x%zx holds 0x%02x, expected 0x%02x\n",
			       (size_t)off, (unsigned char)m.addr[off], m.initial);
		ksft_case_fail("a READ-only DMA mapping let the device write");
		goto close;
	}
	/* The same transfer to the R/W bounce page must land. */
	memset(bounce, PAT_OTHER, ps);
	ret = edu_dma_to_ram(&c.edu, 0, VFIO_IOVA_BOUNCE, cnt);
	off = ret ? 0 : first_not(bounce, PAT_DEVICE, cnt);
	if (ret || off >= 0) {
		ksft_case_fail("control: the device's write to the R/W bounce page did not land (%s)",
			       ret ? strerror(-ret) : "bytes differ");
		goto close;
	}
	ksft_print_msg("device write to the R/O IOVA dropped (the IOMMU logs a DMA write fault), the same write to a R/W IOVA landed\n");
	ksft_case_pass();
close:
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
	struct rowrite_arg a;
	int i, nr;

	bks = backings(&nr);
	for (a.path = VP_TYPE1; a.path <= VP_CDEV; a.path++) {
		for (i = 0; i < nr; i++) {
			a.bk = bks[i];
			if (a.bk->type != BK_ANON && a.bk->type != BK_ZEROPAGE &&
			    !(a.bk->type == BK_MEMFD && (a.bk->flags & BKF_PRIVATE)))
				continue;
			ksft_case_add(rowrite_case, &a, sizeof(a),
				      "Longterm pin outcome as expected: %s R/O map keeps the device from writing, %s",
				      path_label(a.path), a.bk->name)->precheck = precheck_path;
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

struct charge_arg {
	enum vfio_path path;
	enum charge_kind kind;
};

static void charge_case(const struct ksft_case *tc)
{
	const struct charge_arg *a = tc->arg;
	const char *field = charge_field(a->path);
	size_t ps = page_size(), len = CHARGE_PAGES * ps;
	long base, mapped, after, kb = (long)(len >> 10);
	struct vfio_ctx c;
	uint64_t unmapped;
	char *p;
	int ret;

	if (skip_unavailable(a->path))
		return;
	p = anon_pages(CHARGE_PAGES, a->kind != CHARGE_ZERO);
	if (!p) {
		ksft_case_fail("mmap: %s", strerror(errno));
		return;
	}
	if (!open_ctx(&c, a->path, false))
		return;
	base = proc_status_kb(field);
	ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, a->kind == CHARGE_RW);
	mapped = proc_status_kb(field);
	if (ret) {
		ksft_case_fail("mapping %ld kB: %s", kb, strerror(-ret));
		goto close;
	}
	ret = vfio_ctx_unmap(&c, VFIO_IOVA_SPARE, len, &unmapped);
	after = proc_status_kb(field);
	ksft_print_msg("%s %s map of %d %s pages (%ld kB): %s %ld -> %ld -> %ld kB after unmap (VmLck %ld kB, VmPin %ld kB now)\n",
		       path_label(a->path), a->kind == CHARGE_RW ? "R/W" : "R/O", CHARGE_PAGES,
		       a->kind == CHARGE_ZERO ? "read-faulted (shared zeropage)" : "written anon",
		       kb, field, base, mapped, after, proc_status_kb("VmLck"),
		       proc_status_kb("VmPin"));
	if (ret || unmapped != len) {
		ksft_case_fail("unmap: %s, %llu of %zu bytes", strerror(-ret),
			       (unsigned long long)unmapped, len);
	} else if (after != base) {
		ksft_case_fail("%s did not return to its baseline after unmap: %+ld kB", field,
			       after - base);
	} else if (a->kind == CHARGE_ZERO) {
		ksft_print_msg("measured: %ld pages of the former zeropage charged %+ld kB in all, %.1f kB each (0 = the zeropage itself was pinned, uncharged; %zu = unshared into anon pages)\n",
			       (long)CHARGE_PAGES, mapped - base,
			       (double)(mapped - base) / CHARGE_PAGES, ps >> 10);
		ksft_case_result(mapped - base >= 0 && mapped - base <= kb ? KSFT_PASS : KSFT_FAIL,
				 "%s grew by %+ld kB for %ld kB mapped", field, mapped - base, kb);
	} else {
		ksft_case_result(mapped - base == kb ? KSFT_PASS : KSFT_FAIL,
				 "%s grew by %+ld kB, expected the mapped %ld kB", field,
				 mapped - base, kb);
	}
close:
	vfio_ctx_close(&c);
	munmap(p, len);
}

/*
 * In a child: open as root, drop to an unprivileged user without
 * CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK, map 16 times the limit.
 * Exit status: 0 refused with ENOMEM and nothing charged, 1 not.
 */
static int charge_beyond_limit(enum vfio_path path)
{
	unsigned long limit = break_memlock ? 64UL << 20 : MEMLOCK_LIMIT;
	const char *field = charge_field(path);
	size_t len = 16 * MEMLOCK_LIMIT;
	long base, after, lck0, lck1;
	char why[KSFT_REASON_MAX];
	struct vfio_ctx c;
	char *p;
	int ret;

	p = anon_pages(len / page_size(), true);
	if (!p)
		return 1;
	ret = vfio_ctx_open(&c, path, false, why, sizeof(why));
	if (ret) {
		ksft_print_msg("%s\n", why);
		return 1;
	}
	ret = drop_privileges(limit);
	if (ret) {
		ksft_print_msg("dropping privileges: %s\n", strerror(-ret));
		return 1;
	}
	base = proc_status_kb(field);
	lck0 = proc_status_kb("VmLck");
	ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, true);
	after = proc_status_kb(field);
	lck1 = proc_status_kb("VmLck");
	ksft_print_msg("uid %d, no CAP_IPC_LOCK, RLIMIT_MEMLOCK %lu kB: mapping %zu kB: %s; %s %ld -> %ld kB%s\n",
		       (int)getuid(), limit >> 10, len >> 10, ret ? strerror(-ret) : "mapped",
		       field, base, after, path == VP_TYPE1 ? "" : lck1 == lck0 ?
		       ", VmLck unchanged" : ", VmLck changed");
	if (!ret)
		vfio_ctx_unmap(&c, VFIO_IOVA_SPARE, len, NULL);
	vfio_ctx_close(&c);
	return ret == -ENOMEM && after == base && lck1 == lck0 ? 0 : 1;
}

static void charge_limit_case(const struct ksft_case *tc)
{
	const struct charge_arg *a = tc->arg;
	struct kid k;
	pid_t pid;

	if (skip_unavailable(a->path))
		return;
	pid = kid_fork(&k);
	if (pid < 0) {
		ksft_case_fail("fork: %s", strerror(errno));
		return;
	}
	if (!pid) {
		int ret = charge_beyond_limit(a->path);

		fflush(stdout);
		_exit(ret);
	}
	ksft_case_result(kid_finish(&k, false) == 0 ? KSFT_PASS : KSFT_FAIL,
			 "a map beyond RLIMIT_MEMLOCK must fail with ENOMEM and charge nothing");
}

/* All pins released ------------------------------------------------------ */

#define RELEASE_PAGES	64

/* Wait a moment for the counters to balance; the last reading in @c. */
static bool balanced(const struct pin_counters *c0, struct pin_counters *c)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 50; i++) {
		pin_counters_read(c);
		if (c->acquired - c0->acquired == c->released - c0->released)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* In a child: map and exit without unmapping (with break=leak keep a holder). */
static int map_and_exit(enum vfio_path path)
{
	char why[KSFT_REASON_MAX], *p = anon_pages(RELEASE_PAGES, true);
	struct vfio_ctx c;

	if (!p || vfio_ctx_open(&c, path, false, why, sizeof(why)))
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

static void release_case(const struct ksft_case *tc)
{
	const struct charge_arg *a = tc->arg;
	bool on_exit = a->kind != 0;
	size_t len = RELEASE_PAGES * page_size();
	struct pin_counters c0, c1 = { 0 }, c2;
	struct vfio_ctx c;
	char *p = NULL;
	int ret = 0;

	if (skip_unavailable(a->path))
		return;
	if (!pin_counters_read(&c0)) {
		ksft_case_skip("no nr_foll_pin_acquired in /proc/vmstat (kernel before 5.7)");
		return;
	}
	if (on_exit) {
		struct kid k;
		pid_t pid = kid_fork(&k);

		if (pid < 0) {
			ksft_case_fail("fork: %s", strerror(errno));
			return;
		}
		if (!pid)
			_exit(map_and_exit(a->path));
		ret = kid_finish(&k, false);
		if (ret) {
			ksft_case_fail("the child could not map %zu kB", len >> 10);
			return;
		}
	} else {
		p = anon_pages(RELEASE_PAGES, true);
		if (!p) {
			ksft_case_fail("mmap: %s", strerror(errno));
			return;
		}
		if (!open_ctx(&c, a->path, false))
			return;
		ret = vfio_ctx_map(&c, p, VFIO_IOVA_SPARE, len, true);
		pin_counters_read(&c1);
		if (!ret && !break_leak)
			vfio_ctx_unmap(&c, VFIO_IOVA_SPARE, len, NULL);
		if (ret) {
			ksft_case_fail("mapping %zu kB: %s", len >> 10, strerror(-ret));
			vfio_ctx_close(&c);
			return;
		}
		if (c1.acquired - c0.acquired < RELEASE_PAGES) {
			ksft_case_fail("the map counted %lu pins for %d pages",
				       c1.acquired - c0.acquired, RELEASE_PAGES);
			vfio_ctx_close(&c);
			return;
		}
	}
	ret = balanced(&c0, &c2);
	ksft_print_msg("%s: nr_foll_pin_acquired +%lu, nr_foll_pin_released +%lu%s\n",
		       path_label(a->path), c2.acquired - c0.acquired, c2.released - c0.released,
		       on_exit ? " after the mapping process exited" : " after unmap");
	if (on_exit && c2.acquired - c0.acquired < RELEASE_PAGES)
		ksft_case_fail("the child's map counted only %lu pins for %d pages",
			       c2.acquired - c0.acquired, RELEASE_PAGES);
	else
		ksft_case_result(ret ? KSFT_PASS : KSFT_FAIL,
				 "acquired and released FOLL_PIN counts must balance");
	if (!on_exit)
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
	struct charge_arg a;
	char what[160];
	unsigned int k;

	for (a.path = 0; a.path < VP_NR; a.path++) {
		for (k = 0; k < ARRAY_SIZE(kinds); k++) {
			a.kind = kinds[k].kind;
			snprintf(what, sizeof(what), kinds[k].what, charge_field(a.path));
			ksft_case_add(a.kind == CHARGE_LIMIT ? charge_limit_case : charge_case,
				      &a, sizeof(a), "Memlock charge as expected: %s %s",
				      path_label(a.path), what)->precheck = precheck_path;
		}
		a.kind = 0;
		ksft_case_add(release_case, &a, sizeof(a),
			      "All pins released: %s, FOLL_PIN counters balance after unmap",
			      path_label(a.path))->precheck = precheck_path;
		a.kind = 1;
		ksft_case_add(release_case, &a, sizeof(a),
			      "All pins released: %s, FOLL_PIN counters balance after the process exits",
			      path_label(a.path))->precheck = precheck_path;
	}
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	unsigned int i;

	vfio_device_select(opt_device, opt_allow_rebind);
	for (i = 0; i < ARRAY_SIZE(matrices); i++)
		add_matrix(&matrices[i]);
	add_rowrite();
	add_conformance();
	add_accounting();
}

static void setup(void)
{
	vfio_prepare();
	/* A private hugetlb pin, its COW copy and a child's copy. */
	hugetlb_reserve_all(4);
}

enum { OPT_DEVICE = 0x2000, OPT_ALLOW_REBIND, OPT_EDU_POLL };

static const struct option longopts[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "allow-rebind", no_argument, NULL, OPT_ALLOW_REBIND },
	{ "edu-poll", no_argument, NULL, OPT_EDU_POLL },
	{ NULL, 0, NULL, 0 },
};

static int option(int opt, const char *arg)
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
	return -1;
}

static const struct ksft_break breaks[] = {
	{ "rowrite", "map R/W where a R/O map is tested", &break_rowrite, 1 },
	{ "memlock", "raise RLIMIT_MEMLOCK above the map", &break_memlock, 1 },
	{ "leak", "keep the pins when the counters are read", &break_leak, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct ksft_suite suite = {
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
	.option = option,
	.breaks = { pincheck_breaks, breaks },
	.enumerate = enumerate,
	.setup = setup,
	/* A case takes seconds; a stuck one should not hold the run for long. */
	.timeout = 30,
};

int main(int argc, char **argv)
{
	ksft_main(&suite, argc, argv);
}
