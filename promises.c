// SPDX-License-Identifier: GPL-2.0
/*
 * FOLL_LONGTERM's other promises, through every pin mechanism.
 *
 * Besides coherence (the other binaries), a long-term pin promises:
 *
 *   placement  no pinned page stays in ZONE_MOVABLE or CMA: GUP migrates
 *              such folios away before it pins them, so that memory
 *              offlining and CMA allocations keep working;
 *   release    every pin goes away again: after unpinning, when the
 *              process exits with pins held, and on every path where the
 *              request fails (a hole, a PROT_NONE page, a file the rule
 *              refuses, RLIMIT_MEMLOCK, an allocation failure injected at
 *              each step) - nothing stays pinned, nothing stays charged;
 *   refusal    memory that must never be pinned is refused: memfd_secret()
 *              memory (also by GUP-fast, whose page tables show it), a
 *              PROT_NONE range, a PFNMAP/VM_IO mapping of a device BAR.
 *
 * And short-term FOLL_PIN users (O_DIRECT, gup_test without LONGTERM) pin
 * the shared zeropage as it is: they must work and read zeros, and the
 * zeropage must not be miscounted (c8070b787519, v6.5).
 *
 * The mechanisms are rows of one table (mechs[]); the families say which
 * rows they take.  A new pin_ops (udmabuf, RDMA, AF_XDP) is a new row.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/expect.h"
#include "lib/failnth.h"
#include "lib/leftover.h"
#include "lib/memlock.h"
#include "lib/observe.h"
#include "lib/pin_rdma.h"
#include "lib/pin_udmabuf.h"
#include "lib/pin_vfio.h"
#include "lib/pin_xdp.h"
#include "lib/pinreq.h"
#include "lib/placement.h"
#include "lib/release.h"
#include "lib/sysstate.h"
#include "lib/util.h"

#ifndef SYS_memfd_secret
#define SYS_memfd_secret	447
#endif

static int break_placed, break_leftover, break_refuse, break_zero;

/* The mechanisms ---------------------------------------------------------- */

/* The families, for the rows to say which they take part in. */
#define F_PLACE		(1u << 0)	/* placement: ZONE_MOVABLE and CMA */
#define F_RELEASE	(1u << 1)	/* released after unpinning, per backing */
#define F_EXIT		(1u << 2)	/* released when the process exits */
#define F_FAILPATH	(1u << 3)	/* a hole / PROT_NONE page in the range */
#define F_FILE		(1u << 4)	/* a file the rule refuses (R/W pins only) */
#define F_FAILNTH	(1u << 5)	/* fault injection at every step */
#define F_MEMLOCK	(1u << 6)	/* beyond RLIMIT_MEMLOCK (charging mechanisms) */
#define F_SECRET	(1u << 7)	/* memfd_secret memory refused */
#define F_PROTNONE	(1u << 8)	/* a PROT_NONE range refused */
#define F_PFNMAP	(1u << 9)	/* a PFNMAP mapping of a BAR refused */
#define F_ALL		(F_PLACE | F_RELEASE | F_EXIT | F_FAILPATH | F_FAILNTH | F_SECRET | \
			 F_PROTNONE | F_PFNMAP)

/*
 * One row per way of pinning.  @pin takes the pin in one step (pin_ops,
 * which can also read the pinned pages); @req does it in stages for the
 * checks of the request itself.  VFIO rows name their path: the pin_ops
 * depends on the device (edu DMA, or a PFN proxy).  A mechanism that pins
 * a file rather than an address range (udmabuf) has @bind: its cases take
 * memfd backings only, sealed against shrinking, bound before the pin.
 */
static const struct mech {
	const char *name;
	const struct pin_ops *pin;
	const struct pinreq_ops *req;
	int vfio;			/* enum vfio_path, or -1 */
	bool writable;
	unsigned int fams;
	uint64_t tags;			/* what every case of the row guards, too */
	void (*bind)(const struct mem *m);
} mechs[] = {
	{ "GUP R/O", &pin_gup, &pinreq_gup, -1, false, F_ALL, 0, NULL },
	{ "GUP R/W", &pin_gup, &pinreq_gup, -1, true, F_ALL | F_FILE, 0, NULL },
	{ "GUP-fast R/O", &pin_gup_fast, &pinreq_gup_fast, -1, false, F_ALL, 0, NULL },
	{ "GUP-fast R/W", &pin_gup_fast, &pinreq_gup_fast, -1, true, F_ALL | F_FILE, 0, NULL },
	{ "io_uring fixed buffer", &pin_iouring, &pinreq_iouring, -1, true,
	  F_ALL | F_FILE | F_MEMLOCK, 0, NULL },
	/* type1 maps PFNMAP ranges of MMIO on purpose (peer-to-peer DMA). */
	{ "VFIO type1 R/O", NULL, NULL, VP_TYPE1, false, F_ALL & ~F_PFNMAP, 0, NULL },
	{ "VFIO type1 R/W", NULL, NULL, VP_TYPE1, true,
	  (F_ALL & ~F_PFNMAP) | F_FILE | F_MEMLOCK, 0, NULL },
	{ "iommufd (VFIO cdev) R/O", NULL, NULL, VP_CDEV, false, F_ALL, 0, NULL },
	{ "iommufd (VFIO cdev) R/W", NULL, NULL, VP_CDEV, true, F_ALL | F_FILE | F_MEMLOCK, 0, NULL },
	{ "iommufd mock domain R/O", NULL, NULL, VP_MOCK, false, F_ALL, 0, NULL },
	{ "iommufd mock domain R/W", NULL, NULL, VP_MOCK, true, F_ALL | F_FILE | F_MEMLOCK, 0, NULL },
	{ "type1 compat on iommufd mock domain R/O", NULL, NULL, VP_COMPAT, false, F_ALL, 0, NULL },
	{ "type1 compat on iommufd mock domain R/W", NULL, NULL, VP_COMPAT, true,
	  F_ALL | F_FILE | F_MEMLOCK, 0, NULL },
	/* Before v6.2 a R/O MR was taken with FOLL_FORCE: even PROT_NONE memory. */
	{ "RDMA MR R/O", &pin_rdma, &pinreq_rdma, -1, false, F_ALL,
	  TAGBIT(TAG_RDMA_RO_PIN), NULL },
	{ "RDMA MR R/W", &pin_rdma, &pinreq_rdma, -1, true, F_ALL | F_FILE | F_MEMLOCK, 0, NULL },
	/* A umem is always pinned writable. */
	{ "AF_XDP umem", &pin_xdp, &pinreq_xdp, -1, true, F_ALL | F_FILE | F_MEMLOCK, 0, NULL },
	/* udmabuf_pin has its release, refusal and hugetlb accounting cases. */
	{ "udmabuf", &pin_udmabuf, NULL, -1, true, F_PLACE, 0, udmabuf_bind },
};

static const struct pin_ops *mech_pin(const struct mech *m)
{
	return m->vfio >= 0 ? pin_vfio_for((enum vfio_path)m->vfio) : m->pin;
}

static const struct pinreq_ops *mech_req(const struct mech *m)
{
	return m->vfio >= 0 ? pinreq_vfio((enum vfio_path)m->vfio) : m->req;
}

static const struct mech *case_mech(const struct pcase *c)
{
	return c->ext;
}

/* A MAP_SHARED memfd backing, which a mechanism that pins a file can take. */
static bool backing_shared_memfd(const struct backing *bk)
{
	return backing_is_memfd(bk) && !(bk->flags & BKF_PRIVATE);
}

/* The case's backing, as its mechanism takes it (a sealed memfd for udmabuf). */
static int case_mem_setup(const struct pcase *c, struct mem *m)
{
	if (case_mech(c)->bind)
		return mem_setup_memfd(m, c->bk, F_SEAL_SHRINK);
	return mem_setup(m, c->bk);
}

/* A mechanism that pins a file learns which memfd is behind @m. */
static void case_bind(const struct pcase *c, const struct mem *m)
{
	if (case_mech(c)->bind)
		case_mech(c)->bind(m);
}

/* Helpers ----------------------------------------------------------------- */

/* The part of a backing that is pinned and looked at. */
static size_t window(const struct mem *m)
{
	return m->size < BACKING_WINDOW ? m->size : BACKING_WINDOW;
}

/* Take the pin of @c on @addr; on failure record it and return false. */
static bool take(const struct pcase *c, struct pin *p, char *addr, size_t len)
{
	int ret;

	obs_phase(PH_PIN);
	ret = pin_take(p, c->pin, addr, len, c->writable);
	if (!ret)
		return true;
	obs_pin(c->pin, len, ret);
	if (ret == PIN_STUCK)
		case_abandon();
	return false;
}

/*
 * Does the pin see what the mapping holds?  0 yes, 1 no (what, in @what),
 * -1 when it could not be asked (recorded).
 */
static int pin_sees_mapping(struct pin *p, const char *view, size_t len, char *what,
			    size_t wlen)
{
	struct pin_extent ext[PIN_MAX_EXTENTS];
	ssize_t off = -1;
	char *buf;
	int i, n, ret;

	if (p->ops->check) {
		ret = p->ops->check(p, view, what, wlen);
		if (ret < 0)
			obs_error(p->ops->reader, -ret);
		return ret < 0 ? -1 : ret;
	}
	if (!p->ops->read)
		return 0;
	buf = malloc(len);
	if (!buf) {
		obs_error("malloc", ENOMEM);
		return -1;
	}
	ret = p->ops->read(p, buf);
	if (ret) {
		obs_error(p->ops->reader, -ret);
		free(buf);
		return -1;
	}
	n = pin_extents(p, ext);
	for (i = 0; i < n && off < 0; i++) {
		off = first_diff(buf + ext[i].off, view + ext[i].off, ext[i].len);
		if (off >= 0)
			off += (ssize_t)ext[i].off;
	}
	if (off >= 0)
		snprintf(what, wlen, "%s: at offset 0x%zx the pin reads 0x%02x, the mapping holds 0x%02x",
			 p->ops->reader, (size_t)off, (unsigned char)buf[off],
			 (unsigned char)view[off]);
	free(buf);
	return off >= 0;
}

/* Placement ----------------------------------------------------------------- */

/* Instances of a backing to try until one lies in the area. */
#define HUNT_MAX	32
/* Seconds an offline of a memory block may take. */
#define OFFLINE_SECONDS	30

static const char *place_unmet_reason(unsigned int area)
{
	return area == AREA_CMA ? "the pages were not faulted into CMA" :
	       "the pages were not faulted into ZONE_MOVABLE";
}

/*
 * Set up @bk until an instance has its first page in @area: keep the
 * misses mapped meanwhile, so that each try gets other pages.  True with
 * @m ready; false with the reason recorded.
 */
static bool hunt(const struct pcase *c, struct mem *m, unsigned int area)
{
	static struct mem tries[HUNT_MAX];
	unsigned long pfn = 0, first_pfn = 0;
	int i, n = 0, found = -1;
	ssize_t first;
	size_t in = 0;

	for (i = 0; i < HUNT_MAX && found < 0; i++, n++) {
		if (case_mem_setup(c, &tries[i])) {
			/* The first try says why; later ones ran out of pages. */
			if (!i) {
				if (tries[i].why.code == KSFT_SKIP)
					obs_unmet(tries[i].why.reason, "%s", tries[i].why.figures);
				else
					obs_error(tries[i].why.reason, tries[i].why.err);
			}
			mem_teardown(&tries[i]);
			break;
		}
		if (!i)
			first_pfn = pagemap_pfn(tries[i].addr);
		in = range_in_area(tries[i].addr, window(&tries[i]), area, &first, &pfn);
		if (in && !first)
			found = i;
	}
	for (i = 0; i < n; i++)
		if (i != found)
			mem_teardown(&tries[i]);
	if (found < 0) {
		if (!obs_recorded())
			obs_unmet(place_unmet_reason(area),
				  "%d instances of %s tried, none began in %s (the first at PFN 0x%lx)",
				  n, c->bk->name, area_name(area), first_pfn);
		return false;
	}
	*m = tries[found];
	ksft_print_msg("before the pin: %zu of %zu pages in %s, the first at PFN 0x%lx (memory block %ld; try %d)\n",
		       in, window(m) / page_size(), area_name(area), pfn, memory_block_of(pfn),
		       found + 1);
	return true;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Offline the block the pages came from, while they are pinned.  Other
 * pages can keep a block from going offline too (a reserved or an
 * isolated page: the kernel log says "unmovable page"), so a refusal
 * counts only when the same block goes offline once the pin is dropped.
 */
static void offline_check(struct pin *p, long block)
{
	const char *why = memory_block_unusable(block);
	double t0 = seconds();
	int ret, again;

	if (why) {
		ksft_print_msg("memory block %ld not offlined: %s\n", block, why);
		obs_held();
		return;
	}
	ret = memory_block_offline(block, OFFLINE_SECONDS);
	if (ret == -EBUSY) {
		/* Folio batches and isolation races come and go. */
		usleep(500 * 1000);
		ret = memory_block_offline(block, OFFLINE_SECONDS);
	}
	if (!ret) {
		ksft_print_msg("memory block %ld offlined and onlined again while pinned (%.1f s)\n",
			       block, seconds() - t0);
		obs_held();
		return;
	}
	ksft_print_msg("offlining memory block %ld while pinned: %s\n", block,
		       ret == -EINTR ? "no progress in 30 s" : strerror(-ret));
	obs_phase(PH_RELEASE);
	pin_drop(p);
	again = memory_block_offline(block, OFFLINE_SECONDS);
	if (!again) {
		obs_broken(SYM_PLACED, "memory block %ld, where the pages were, goes offline once they are unpinned, but not while they are pinned (%s)",
			   block, ret == -EINTR ? "no progress in 30 s" : strerror(-ret));
		return;
	}
	ksft_print_msg("memory block %ld does not go offline unpinned either (%s): something else in it is unmovable, the offline check says nothing here\n",
		       block, strerror(-again));
	obs_held();
}

static void place_observe(const struct pcase *c)
{
	unsigned int area = (unsigned int)c->param;
	char fig[KSFT_REASON_MAX], what[KSFT_REASON_MAX];
	unsigned long pfn, before;
	struct pin p = { .fd = -1 };
	int node = area_node(area), ret;
	ssize_t first;
	size_t len, in;
	struct mem m;

	obs_phase(PH_SETUP);
	placement_describe();
	ret = mempolicy_node(node, area == AREA_CMA);
	if (ret) {
		obs_error("set_mempolicy", -ret);
		return;
	}
	if (area == AREA_CMA) {
		ret = placement_fill_until_cma(node, fig, sizeof(fig));
		if (ret == -EAGAIN || ret == -ENOENT) {
			obs_unmet(ret == -ENOENT ? "no hugetlb size to fill memory with" :
				  "the allocator did not hand out CMA pages", "%s", fig);
			return;
		}
		if (ret) {
			obs_error("filling memory up to the CMA area", -ret);
			return;
		}
		ksft_print_msg("%s\n", fig);
	}
	/* A pool page from before may lie anywhere: make a fresh one. */
	if (area == AREA_MOVABLE && c->bk->type == BK_HUGETLB)
		placement_fresh_hugetlb(node, c->bk->size);
	ret = hunt(c, &m, area) ? 0 : -1;
	/* The pin's migration needs the memory back, anywhere. */
	placement_fill_undo();
	mempolicy_node(-1, false);
	if (ret)
		return;
	len = window(&m);
	before = pagemap_pfn(m.addr);
	case_bind(c, &m);
	ret = take(c, &p, m.addr, len) ? 0 : -1;
	case_bind(c, NULL);
	if (ret)
		goto teardown;
	obs_phase(PH_CHECK);
	/* --selftest-break placed: look where the pages were, not where they are. */
	if (break_placed) {
		ksft_print_msg("selftest break: checking the PFNs from before the pin\n");
		in = pfn_area(before) & area ? 1 : 0;
		first = 0;
		pfn = before;
	} else {
		in = range_in_area(m.addr, len, area, &first, &pfn);
	}
	if (in) {
		obs_broken(SYM_PLACED, "%zu of %zu pinned pages are still in %s: the first at offset 0x%zx, PFN 0x%lx (0x%lx before the pin)",
			   in, len / page_size(), area_name(area), (size_t)first, pfn, before);
		goto release;
	}
	ksft_print_msg("pinned: the first page moved from PFN 0x%lx to 0x%lx\n", before,
		       pagemap_pfn(m.addr));
	first = first_not(m.addr, m.initial, len);
	if (first >= 0) {
		obs_broken(SYM_STALE, "the moved pages lost their data: offset 0x%zx holds 0x%02x, expected 0x%02x",
			   (size_t)first, (unsigned char)m.addr[first], m.initial);
		goto release;
	}
	ret = pin_sees_mapping(&p, m.addr, len, what, sizeof(what));
	if (ret > 0)
		obs_broken(SYM_STALE, "the pin is not on the pages the mapping shows: %s", what);
	if (ret)
		goto release;
	if (area == AREA_MOVABLE)
		offline_check(&p, memory_block_of(before));
	else
		obs_held();
release:
	obs_phase(PH_RELEASE);
	pin_drop(&p);
teardown:
	obs_phase(PH_TEARDOWN);
	mem_teardown(&m);
}

/* Release after unpinning, per backing -------------------------------------- */

static void release_observe(const struct pcase *c)
{
	release_unpin(c, mech_req(case_mech(c)), NULL, "after unpinning");
}

/* Release when the process exits with its pins ----------------------------- */

/*
 * Not release_exit(): the child pins the case's backing, the machine's
 * count must be quiet before and must have seen the child's pin, and what
 * is left is judged by leftover.h, which waits longer for late releases.
 */
static void exit_observe(const struct pcase *c)
{
	char what[KSFT_REASON_MAX];
	struct leftover l;
	long held = 0;
	struct kid k;
	pid_t pid;
	int ret;

	leftover_before(&l, NULL, NULL);
	if (!l.sys_quiet) {
		obs_unmet("no witness of this pin's release (FOLL_PIN counters unreadable or busy)",
			  "%s", "");
		return;
	}
	obs_phase(PH_PIN);
	pid = kid_fork(&k);
	if (pid < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!pid) {
		struct pin p;
		struct mem m;

		/* The child's own memory, pinned, and never unpinned. */
		if (mem_setup(&m, c->bk) || pin_take(&p, c->pin, m.addr, window(&m), c->writable))
			_exit(1);
		if (release_break_leak && fork() == 0) {
			/* A grandchild keeps the files (and the pins) open. */
			pause();
			_exit(0);
		}
		kid_tell_parent(&k, 'p');
		kid_wait_parent(&k);
		_exit(0);
	}
	if (kid_wait_child(&k) < 0) {
		kid_finish(&k, true);
		obs_error("the child could not pin its pages", 0);
		return;
	}
	/* The witness must see the child's pin while it is there. */
	pins_outstanding(&held);
	obs_phase(PH_RELEASE);
	ret = kid_finish(&k, false);
	if (held <= l.sys_base) {
		obs_unmet("no witness of this pin's release (FOLL_PIN counters unreadable or busy)",
			  "FOLL_PIN pins outstanding: %ld before, %ld with the child's pin", l.sys_base,
			  held);
		return;
	}
	if (ret) {
		obs_error("the pinning child", ECHILD);
		return;
	}
	ret = leftover_after(&l, 5000, what, sizeof(what));
	ksft_print_msg("FOLL_PIN pins outstanding: %ld before, %ld while the child held its pin\n",
		       l.sys_base, held);
	if (ret > 0)
		obs_broken(SYM_KEPT, "after the pinning process exited: %s", what);
	else if (ret < 0)
		obs_unmet("no witness of this pin's release (FOLL_PIN counters unreadable or busy)",
			  "%s", "");
	else
		obs_held();
}

/* Failure paths ---------------------------------------------------------- */

enum failpath {
	FP_HOLE,	/* a page in the middle is unmapped */
	FP_PROTNONE,	/* a page in the middle is PROT_NONE */
	FP_FILE,	/* the second half is a MAP_SHARED file the rule refuses */
};

#define FP_PAGES	8
#define FP_BAD		4	/* the first page that cannot be pinned */

/*
 * @n written anonymous pages far below where mmap() puts things: a hole
 * punched into them stays a hole while the mechanism maps its rings and
 * buffers (top-down, into the highest gap that fits).
 */
static char *low_pages(size_t n)
{
	size_t len = n * page_size();
	uintptr_t hint;
	char *p;

	for (hint = 1UL << 33; hint < 1UL << 40; hint += 1UL << 30) {
		p = mmap((void *)hint, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED && errno == EEXIST)
			continue;
		if (p == MAP_FAILED)
			return NULL;
		if (p != (char *)hint) {
			/* A kernel without MAP_FIXED_NOREPLACE took it as a hint. */
			munmap(p, len);
			continue;
		}
		madvise(p, len, MADV_NOHUGEPAGE);
		memset(p, PAT_INITIAL, len);
		return p;
	}
	/* All taken (a sanitizer's shadow memory): anywhere, then. */
	return anon_pages(len, true);
}

/* A file on a filesystem where writable long-term pins are refused. */
static const char *refused_file_dir(unsigned long *magic)
{
	static const unsigned long fs[] = { EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC,
					    BTRFS_SUPER_MAGIC };
	const char *dir;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fs); i++) {
		dir = backing_dir_of(fs[i]);
		if (dir && longterm_pin_expect(fs[i], true, true) == EXPECT_REFUSED) {
			*magic = fs[i];
			return dir;
		}
	}
	return NULL;
}

static const char *refused_file_unavailable(void)
{
	unsigned long magic;

	return refused_file_dir(&magic) ? NULL :
	       "no writable ext4, xfs or btrfs directory (use --disk-dir or PINSUITE_DISK_DIRS)";
}

/*
 * The range of a failure path: FP_PAGES pages, written; the ones before
 * FP_BAD get pinned before the request meets the bad one.  NULL on error
 * (recorded).
 */
static char *failpath_range(enum failpath fp, int *fd)
{
	size_t ps = page_size(), len = FP_PAGES * ps;
	unsigned long magic;
	const char *dir;
	char *p, *buf;

	*fd = -1;
	p = low_pages(FP_PAGES);
	if (!p) {
		obs_error("mmap", errno);
		return NULL;
	}
	switch (fp) {
	case FP_HOLE:
		if (munmap(p + FP_BAD * ps, ps))
			goto failed;
		break;
	case FP_PROTNONE:
		if (mprotect(p + FP_BAD * ps, ps, PROT_NONE))
			goto failed;
		break;
	case FP_FILE:
		dir = refused_file_dir(&magic);
		*fd = dir ? backing_tmpfile(dir) : -1;
		buf = malloc(len / 2);
		if (*fd < 0 || !buf || (memset(buf, PAT_INITIAL, len / 2),
					pwrite_full(*fd, buf, len / 2, 0))) {
			free(buf);
			goto failed;
		}
		free(buf);
		ksft_print_msg("file in %s (%s)\n", dir, fs_name(magic));
		if (mmap(p + FP_BAD * ps, len / 2, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 *fd, 0) == MAP_FAILED)
			goto failed;
		touch_write(p + FP_BAD * ps, len / 2);
		break;
	}
	return p;
failed:
	obs_error("setting up the range", errno ? errno : EIO);
	munmap(p, len);
	if (*fd >= 0)
		close(*fd);
	return NULL;
}

static const char *const failpath_what[] = {
	[FP_HOLE] = "a hole in the range",
	[FP_PROTNONE] = "a PROT_NONE page in the range",
	[FP_FILE] = "a MAP_SHARED file the rule refuses in the range",
};

/*
 * --selftest-break leftover: pin another page through @c's mechanism and
 * keep it while the witnesses look.
 */
static void leftover_break(const struct pcase *c, struct pin *extra, char **page)
{
	if (!break_leftover)
		return;
	ksft_print_msg("selftest break: a pin of another page is kept\n");
	*page = anon_pages(page_size(), true);
	if (!*page || pin_take(extra, c->pin, *page, page_size(), c->writable))
		ksft_print_msg("selftest break: that pin did not work\n");
}

/* Judge what a refused request left; @what the request. */
static void after_refusal(const struct pcase *c, struct leftover *l, char *addr, int err,
		    const char *what)
{
	struct pin extra = { .fd = -1 };
	char left[KSFT_REASON_MAX], *page = NULL;
	int ret;

	(void)addr;
	obs_phase(PH_CHECK);
	leftover_break(c, &extra, &page);
	ret = leftover_after(l, 2000, left, sizeof(left));
	pin_drop(&extra);
	if (page)
		munmap(page, page_size());
	ksft_print_msg("%s refused with %s\n", what, strerror(err));
	if (ret > 0)
		obs_broken(SYM_KEPT, "the refused request left %s", left);
	else if (ret < 0)
		obs_unmet("no witness of what the refused request left (no charge, no anonymous pages, FOLL_PIN counters unreadable or busy)",
			  "%s", "");
	else
		obs_held();
}

static void failpath_observe(const struct pcase *c)
{
	enum failpath fp = (enum failpath)c->param;
	size_t ps = page_size(), len = FP_PAGES * ps;
	struct pin p = { .fd = -1 };
	struct leftover l;
	char *addr;
	int fd, ret;

	addr = failpath_range(fp, &fd);
	if (!addr)
		return;
	/* The pages before the bad one are the ones pinned first. */
	leftover_before(&l, addr, addr + (FP_BAD - 1) * ps);
	obs_phase(PH_PIN);
	ret = pin_take(&p, c->pin, addr, len, c->writable);
	if (ret == PIN_STUCK)
		case_abandon();
	if (!ret) {
		obs_broken(SYM_ALLOWED, "pinning %s worked", failpath_what[fp]);
		pin_drop(&p);
	} else {
		after_refusal(c, &l, addr, -ret, "pinning with a bad page");
	}
	munmap(addr, len);
	if (fd >= 0)
		close(fd);
}

/* Fault injection at every step of one request ----------------------------- */

#define NTH_PAGES	16
#define NTH_MAX		2000

static void failnth_observe(const struct pcase *c)
{
	const struct pinreq_ops *ops = mech_req(case_mech(c));
	size_t ps = page_size(), len = NTH_PAGES * ps;
	unsigned int n, failed = 0, worked = 0, replied = 0;
	char why[KSFT_REASON_MAX], left[KSFT_REASON_MAX];
	struct pin extra = { .fd = -1 };
	char *addr, *page = NULL;
	struct leftover l;
	struct pinreq r;
	bool fired;
	int ret, lret = 0;

	addr = anon_pages(len, true);
	if (!addr) {
		obs_error("mmap", errno);
		return;
	}
	ret = failnth_prepare();
	if (ret) {
		obs_unmet("cannot let sleeping allocations fail (failslab, fail_page_alloc)",
			  "%s", strerror(-ret));
		return;
	}
	ret = pinreq_open(&r, ops, c->writable, why, sizeof(why));
	if (ret) {
		obs_error(why, 0);
		return;
	}
	leftover_before(&l, addr, addr + len / 2 - ps);
	for (n = 1; n <= NTH_MAX; n++) {
		/*
		 * The second half is faulted in by the request itself: page
		 * allocations fail in the middle of pinning, after the first
		 * half was pinned.
		 */
		madvise(addr + len / 2, len / 2, MADV_DONTNEED);
		obs_phase(PH_PIN);
		failnth_arm(n);
		ret = pinreq_request(&r, addr, len);
		fired = failnth_disarm();
		if (!fired)
			break;	/* the request passed all its injection points */
		obs_phase(PH_CHECK);
		if (ret) {
			failed++;
			leftover_break(c, &extra, &page);
			/* A failed request has let go by the time it returns. */
			lret = leftover_after(&l, 1000, left, sizeof(left));
			pin_drop(&extra);
			if (page)
				munmap(page, ps);
			page = NULL;
			/*
			 * A request that did its work and failed only in writing
			 * its result back (a user copy made to fail) leaves a
			 * mapping the caller can still undo, as upstream's
			 * iommufd_fail_nth expects.  Anything else left is a leak.
			 */
			if (lret > 0 && ops->replies && ret == -EFAULT && !pinreq_undo(&r) &&
			    !leftover_after(&l, 2000, left, sizeof(left))) {
				if (!replied++)
					ksft_print_msg("%s failed with %s at injection point %u after it had mapped the range: undone by the caller, nothing left\n",
						       ops->call, strerror(-ret), n);
				lret = 0;
			}
		} else {
			worked++;
			pinreq_undo(&r);
			lret = leftover_after(&l, 2000, left, sizeof(left));
		}
		if (lret)
			break;
	}
	obs_phase(PH_RELEASE);
	pinreq_close(&r);
	if (lret > 0)
		obs_broken(SYM_KEPT, "%s with injection point %u failing %s %s, and left %s",
			   ops->call, n, ret ? "failed with" : "worked",
			   ret ? strerror(-ret) : "anyway", left);
	else if (lret < 0)
		obs_unmet("no witness of what the failed request left (no charge, no anonymous pages, FOLL_PIN counters unreadable or busy)",
			  "%s", "");
	else if (n > NTH_MAX)
		obs_error("the request still meets injection points after 2000 of them", 0);
	else if (ret)
		obs_call(ops->call, ret, ops->charge != NULL, len);
	else {
		ksft_print_msg("%s of %zu kB: %u injection points, each made to fail once: %u failed requests (%u of them after mapping the range), %u worked anyway; none left a pin or a charge\n",
			       ops->call, len >> 10, n - 1, failed, replied, worked);
		obs_held();
	}
	munmap(addr, len);
}

/* Beyond RLIMIT_MEMLOCK ------------------------------------------------------- */

#define MEMLOCK_LIMIT	(64UL << 10)

/*
 * In a child: set up, give up privileges, request 16 times the limit.
 * Unlike memlock_observe()'s cases (their charge goes up and back), this
 * judges what the refused request left, by every witness of leftover.h.
 */
static void memlock_child(const struct pcase *c)
{
	const struct pinreq_ops *ops = mech_req(case_mech(c));
	unsigned long limit = memlock_limit(MEMLOCK_LIMIT);
	size_t len = 16 * MEMLOCK_LIMIT, ps = page_size();
	struct leftover l;
	struct pinreq r;
	char *addr;
	int ret;

	addr = anon_pages(len, true);
	if (!addr) {
		obs_error("mmap", errno);
		return;
	}
	if (!memlock_prepare(ops, c->writable, limit, &r, 1))
		return;
	leftover_before(&l, addr, addr + len - ps);
	obs_phase(PH_PIN);
	ret = pinreq_request(&r, addr, len);
	ksft_print_msg("uid %d, no CAP_IPC_LOCK, RLIMIT_MEMLOCK %lu kB: %s of %zu kB: %s\n",
		       (int)getuid(), limit >> 10, ops->call, len >> 10,
		       ret ? strerror(-ret) : "worked");
	if (!ret) {
		obs_broken(SYM_ALLOWED, "%s of %zu kB worked beyond RLIMIT_MEMLOCK (%lu kB)",
			   ops->call, len >> 10, limit >> 10);
		pinreq_close(&r);
		return;
	}
	after_refusal(c, &l, addr, -ret, ops->call);
	pinreq_close(&r);
}

static void memlock_refused_observe(const struct pcase *c)
{
	observe_in_child(c, memlock_child);
}

/* Refusal ---------------------------------------------------------------------- */

enum refusal {
	RF_SECRET,	/* memfd_secret() memory, faulted in */
	RF_PROTNONE,	/* a PROT_NONE range, populated first */
	RF_PFNMAP,	/* a PFNMAP mapping of a PCI BAR */
};

#define RF_PAGES	4

static const char *secretmem_unavailable(void)
{
	static char why[160];
	static int probed;
	int fd;

	if (probed)
		return *why ? why : NULL;
	probed = 1;
	fd = (int)syscall(SYS_memfd_secret, 0);
	if (fd >= 0) {
		close(fd);
		return NULL;
	}
	/* No such system call: CONFIG_SECRETMEM off, or secretmem.enable=0. */
	snprintf(why, sizeof(why), "memfd_secret() unavailable: %s (%s, secretmem.enable)",
		 strerror(errno), kconfig_why("CONFIG_SECRETMEM"));
	return why;
}

/* The sysfs file of the chosen device's first memory BAR. */
static const char *bar_path(void)
{
	static char path[160];
	const char *bdf = vfio_device();

	if (!bdf)
		return NULL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	return path;
}

static const char *bar_unavailable(void)
{
	const char *path = bar_path();
	static char why[200];
	void *p;
	int fd;

	if (!path)
		return "no device to map a BAR of (use --device BDF)";
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot open the BAR of %s: %s", vfio_device(),
			 strerror(errno));
		return why;
	}
	p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(why, sizeof(why), "cannot map the BAR of %s: %s", vfio_device(),
			 strerror(errno));
		return why;
	}
	munmap(p, page_size());
	return NULL;
}

static const char *const refusal_what[] = {
	[RF_SECRET] = "memfd_secret memory",
	[RF_PROTNONE] = "a PROT_NONE range",
	[RF_PFNMAP] = "a PFNMAP mapping of a PCI BAR",
};

/* The memory of @rf; NULL on error (recorded). */
static char *refusal_range(enum refusal rf, size_t len)
{
	char *p = MAP_FAILED;
	int fd = -1;

	/* --selftest-break refuse: ordinary memory instead. */
	if (break_refuse) {
		ksft_print_msg("selftest break: pinning anonymous memory instead\n");
		return anon_pages(len, true);
	}
	switch (rf) {
	case RF_SECRET:
		fd = (int)syscall(SYS_memfd_secret, 0);
		if (fd < 0 || ftruncate(fd, (off_t)len))
			break;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		/* Faulted in: GUP-fast sees present PTEs. */
		if (p != MAP_FAILED)
			memset(p, PAT_INITIAL, len);
		break;
	case RF_PROTNONE:
		p = anon_pages(len, true);
		if (p && mprotect(p, len, PROT_NONE)) {
			munmap(p, len);
			p = MAP_FAILED;
		}
		if (!p)
			p = MAP_FAILED;
		break;
	case RF_PFNMAP:
		fd = open(bar_path(), O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		break;
	}
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED) {
		if (rf == RF_SECRET && (errno == ENOMEM || errno == EAGAIN))
			obs_unmet("cannot map memfd_secret memory (RLIMIT_MEMLOCK?)", "%s",
				  strerror(errno));
		else
			obs_error("setting up the memory", errno ? errno : EIO);
		return NULL;
	}
	return p;
}

static void refusal_observe(const struct pcase *c)
{
	enum refusal rf = (enum refusal)c->param;
	size_t len = (rf == RF_PFNMAP ? 1 : RF_PAGES) * page_size();
	struct pin p = { .fd = -1 };
	struct leftover l;
	char *addr;
	int ret;

	obs_phase(PH_SETUP);
	addr = refusal_range(rf, len);
	if (!addr)
		return;
	leftover_before(&l, NULL, NULL);
	obs_phase(PH_PIN);
	/* Nothing is read through a pin of secret memory: it is not in the direct map. */
	ret = pin_take(&p, c->pin, addr, len, c->writable);
	if (ret == PIN_STUCK)
		case_abandon();
	if (!ret) {
		obs_broken(SYM_ALLOWED, "%s pinned %s", c->pin->name, refusal_what[rf]);
		pin_drop(&p);
	} else {
		after_refusal(c, &l, addr, -ret, "the pin");
	}
	munmap(addr, len);
}

static void vmsplice_observe(const struct pcase *c)
{
	size_t len = RF_PAGES * page_size();
	struct iovec iov;
	int pfd[2];
	ssize_t n;
	char *addr;

	(void)c;
	obs_phase(PH_SETUP);
	addr = refusal_range(RF_SECRET, len);
	if (!addr)
		return;
	if (pipe(pfd)) {
		obs_error("pipe", errno);
		munmap(addr, len);
		return;
	}
	obs_phase(PH_PIN);
	iov.iov_base = addr;
	iov.iov_len = len;
	n = vmsplice(pfd[1], &iov, 1, 0);
	if (n > 0)
		obs_broken(SYM_ALLOWED, "vmsplice() took references on %zd bytes of memfd_secret memory",
			   n);
	else if (n < 0 && errno != EFAULT)
		obs_broken(SYM_ALLOWED, "vmsplice() failed with %s, expected EFAULT", strerror(errno));
	else
		obs_held();
	if (n < 0)
		ksft_print_msg("vmsplice() of memfd_secret memory: %s\n", strerror(errno));
	close(pfd[0]);
	close(pfd[1]);
	munmap(addr, len);
}

/* Short-term pins of the zeropage ------------------------------------------- */

enum zero_src {
	ZS_UNTOUCHED,	/* never touched: the pin faults the zeropage in */
	ZS_READ,	/* read-faulted: the shared zeropage is mapped */
	ZS_HUGE,	/* the huge zeropage */
};

#define ZERO_LEN	(64UL << 10)

/* gup_test's short-term pin: DUMP_USER_PAGES_TEST with the USE_PIN flag. */
struct gup_test_args {
	__u64 get_delta_usec;
	__u64 put_delta_usec;
	__u64 addr;
	__u64 size;
	__u32 nr_pages_per_call;
	__u32 gup_flags;
	__u32 test_flags;
	__u32 which_pages[8];
};

#define DUMP_USER_PAGES_TEST	_IOWR('g', 6, struct gup_test_args)
#define DUMP_PAGES_USE_PIN	0x1

static const struct backing *huge_zero(void)
{
	return backing_find(BK_HUGE_ZEROPAGE, 0, 0, 0);
}

static const char *ext4_unavailable(void)
{
	return backing_dir_of(EXT4_SUPER_MAGIC) ? NULL :
	       "no writable ext4 directory (use --disk-dir or PINSUITE_DISK_DIRS)";
}

static const char *xfs_unavailable(void)
{
	return backing_dir_of(XFS_SUPER_MAGIC) ? NULL :
	       "no writable xfs directory (use --disk-dir or PINSUITE_DISK_DIRS)";
}

/* The source buffer; in @m when it comes from the catalog.  NULL on error. */
static char *zero_source(enum zero_src zs, struct mem *m, size_t *len)
{
	unsigned long a, b;
	char *p;

	m->addr = NULL;
	m->fd = -1;
	if (zs == ZS_HUGE) {
		if (!mem_setup_obs(m, huge_zero()))
			return NULL;
		*len = m->size;
		return m->addr;
	}
	*len = ZERO_LEN;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		obs_error("mmap", errno);
		return NULL;
	}
	madvise(p, *len, MADV_NOHUGEPAGE);
	if (zs == ZS_UNTOUCHED)
		return p;
	touch_read(p, *len);
	/* As root: every page is the one shared zeropage. */
	a = pagemap_pfn(p);
	b = pagemap_pfn(p + *len - page_size());
	if (a != b) {
		obs_unmet("the read-faulted buffer is not the shared zeropage", "PFN 0x%lx and 0x%lx",
			  a, b);
		munmap(p, *len);
		return NULL;
	}
	return p;
}

static void zero_release(enum zero_src zs, struct mem *m, char *p, size_t len)
{
	if (p && p != m->addr)
		munmap(p, len);
	if (m->addr)
		mem_teardown(m);
	(void)zs;
}

/* O_DIRECT write from the zeropage to a file on @c->param's filesystem. */
static void odirect_observe(const struct pcase *c)
{
	enum zero_src zs = (enum zero_src)(c->param & 0xff);
	unsigned long magic = (unsigned long)c->param >> 8;
	char left[KSFT_REASON_MAX], *src, *buf = NULL;
	const char *dir = backing_dir_of(magic);
	struct leftover l;
	struct mem m;
	size_t len = 0;
	ssize_t n, off;
	int fd, ret;

	obs_phase(PH_SETUP);
	fd = dir ? backing_tmpfile(dir) : -1;
	if (fd < 0) {
		obs_error("creating a file", errno ? errno : ENOENT);
		return;
	}
	src = zero_source(zs, &m, &len);
	if (!src)
		goto close_fd;
	ksft_print_msg("file in %s (%s), %zu kB written with O_DIRECT\n", dir, fs_name(magic),
		       len >> 10);
	if (posix_memalign((void **)&buf, page_size(), len)) {
		obs_error("posix_memalign", ENOMEM);
		goto release;
	}
	memset(buf, PAT_INITIAL, len);
	if (pwrite_full(fd, buf, len, 0) || fsync(fd) || fcntl(fd, F_SETFL, O_DIRECT)) {
		obs_error("preparing the file for O_DIRECT", errno ? errno : EIO);
		goto release;
	}
	if (break_zero) {
		ksft_print_msg("selftest break: the buffer is written before the O_DIRECT write\n");
		memset(src, PAT_OTHER, len);
	}
	leftover_before(&l, NULL, NULL);
	obs_phase(PH_PIN);
	n = pwrite(fd, src, len, 0);
	if (n < 0) {
		obs_call("the O_DIRECT write", -errno, false, len);
		goto release;
	}
	obs_phase(PH_CHECK);
	if ((size_t)n != len) {
		obs_broken(SYM_REFUSED, "the O_DIRECT write wrote %zd of %zu bytes", n, len);
		goto release;
	}
	ret = pread_full(fd, buf, len, 0);
	if (ret) {
		obs_error("reading the file back", -ret);
		goto release;
	}
	off = first_not(buf, 0, len);
	if (off >= 0) {
		obs_broken(SYM_STALE, "the file holds 0x%02x at offset 0x%zx, expected the zeros of the buffer",
			   (unsigned char)buf[off], (size_t)off);
		goto release;
	}
	ret = leftover_after(&l, 1000, left, sizeof(left));
	if (ret > 0)
		obs_broken(SYM_KEPT, "after the O_DIRECT write: %s", left);
	else
		obs_held();
	if (ret < 0)
		ksft_print_msg("pin balance not looked at: FOLL_PIN counters unreadable or busy\n");
release:
	free(buf);
	zero_release(zs, &m, src, len);
close_fd:
	close(fd);
}

/* gup_test's short-term R/O pin (pin_user_pages() without FOLL_LONGTERM). */
static void gup_short_observe(const struct pcase *c)
{
	enum zero_src zs = (enum zero_src)c->param;
	struct gup_test_args args = { 0 };
	char left[KSFT_REASON_MAX], *src;
	struct leftover l;
	struct mem m;
	size_t len = 0;
	int fd, ret;

	obs_phase(PH_SETUP);
	src = zero_source(zs, &m, &len);
	if (!src)
		return;
	fd = open("/sys/kernel/debug/gup_test", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		obs_error("/sys/kernel/debug/gup_test", errno);
		goto release;
	}
	leftover_before(&l, NULL, NULL);
	args.addr = (uintptr_t)src;
	args.size = len;
	args.nr_pages_per_call = (__u32)(len / page_size());
	args.test_flags = DUMP_PAGES_USE_PIN;
	obs_phase(PH_PIN);
	ret = ioctl(fd, DUMP_USER_PAGES_TEST, &args) ? -errno : 0;
	close(fd);
	if (ret) {
		obs_call("DUMP_USER_PAGES_TEST (pin_user_pages)", ret, false, len);
		goto release;
	}
	obs_phase(PH_CHECK);
	if (args.size != len) {
		obs_broken(SYM_REFUSED, "pin_user_pages() pinned %llu of %zu bytes",
			   (unsigned long long)args.size, len);
		goto release;
	}
	if (first_not(src, 0, len) >= 0) {
		obs_broken(SYM_STALE, "the zeropage mapping does not read zeros");
		goto release;
	}
	ret = leftover_after(&l, 1000, left, sizeof(left));
	if (ret > 0)
		obs_broken(SYM_KEPT, "after the short-term pin: %s", left);
	else
		obs_held();
release:
	zero_release(zs, &m, src, len);
}

/* The tables -------------------------------------------------------------------- */

/* What a case on @bk guards, by family. */
static uint64_t place_tags(unsigned int area)
{
	return TAGBIT(area == AREA_CMA ? TAG_LONGTERM_CMA : TAG_LONGTERM_MOVABLE) |
	       TAGBIT(TAG_LONGTERM_MIGRATE_REF) | TAGBIT(TAG_GUP_GRAB_LONGTERM);
}

static struct pcase mech_case(const struct mech *m, enum property prop, observe_fn fn)
{
	struct pcase c = {
		.prop = prop,
		.what = m->name,
		.pin = mech_pin(m),
		.writable = m->writable,
		.observe = fn,
		.ext = m,
		.tags = m->tags,
	};

	return c;
}

/* The backings of a family, from the catalog (absent ones are left out). */
static int family_backings(const struct backing **out, bool release)
{
	const struct platform *p = platform();
	size_t small_thp = 0, huge_tlb = 0, pmd_tlb = 0;
	int i, n = 0;

	for (i = 0; i < p->nr_thp; i++)
		if (p->thp_sizes[i] != p->pmd_size && !small_thp)
			small_thp = p->thp_sizes[i];
	for (i = 0; i < p->nr_hugetlb; i++) {
		if (p->hugetlb_sizes[i] == p->pmd_size)
			pmd_tlb = p->hugetlb_sizes[i];
		else if (p->hugetlb_sizes[i] > p->pmd_size)
			huge_tlb = p->hugetlb_sizes[i];
	}
	out[n++] = backing_find(BK_ANON, 0, 0, 0);
	out[n++] = p->pmd_size ? backing_find(BK_THP, BKF_PMD, 0, p->pmd_size) : NULL;
	out[n++] = small_thp ? backing_find(BK_THP, 0, 0, small_thp) : NULL;
	out[n++] = pmd_tlb ? backing_find(BK_HUGETLB, 0, 0, pmd_tlb) : NULL;
	if (release) {
		out[n++] = huge_tlb ? backing_find(BK_HUGETLB, 0, 0, huge_tlb) : NULL;
		out[n++] = backing_find(BK_MEMFD, BKF_SHARED, 0, 0);
		/* Pinned after COW (R/W) or unshare (R/O): anonymous copies. */
		out[n++] = backing_find(BK_MEMFD, BKF_PRIVATE, 0, 0);
		out[n++] = backing_find(BK_ZEROPAGE, 0, 0, 0);
		out[n++] = huge_zero();
	} else {
		out[n++] = backing_find(BK_MEMFD, BKF_SHARED, 0, 0);
		out[n++] = backing_find(BK_TMPFS_FILE, BKF_SHARED, 0, 0);
		out[n++] = p->pmd_size ? backing_find(BK_SHMEM_LARGE, BKF_SHARED | BKF_PMD, 0, 0) :
			   NULL;
	}
	return n;
}

/*
 * ZONE_MOVABLE (@a 0) or CMA (@a 1).  The CMA cases fill the memory
 * around the area each time and leave it fragmented: they come last.
 */
static void add_placement(unsigned int a)
{
	const struct backing *bks[16];
	unsigned int i;
	int b, nr;

	nr = family_backings(bks, false);
	{
		unsigned int area = a ? AREA_CMA : AREA_MOVABLE;

		for (i = 0; i < ARRAY_SIZE(mechs); i++) {
			if (!(mechs[i].fams & F_PLACE))
				continue;
			for (b = 0; b < nr; b++) {
				struct pcase c = mech_case(&mechs[i], a ? P_NO_CMA : P_NO_MOVABLE,
							   place_observe);

				if (!bks[b] || (mechs[i].bind && !backing_shared_memfd(bks[b])))
					continue;
				/* CMA costs a fill per case: the base page, THP, shmem. */
				if ((a && bks[b]->type != BK_ANON &&
						bks[b]->type != BK_MEMFD &&
						!(bks[b]->type == BK_THP && (bks[b]->flags & BKF_PMD))))
					continue;
				c.bk = bks[b];
				c.param = area;
				c.tags |= place_tags(area);
				c.need.flags = NEED_ROOT;
				c.need.check = a ? cma_area_unavailable : movable_zone_unavailable;
				pcase_add(&c, "%s, %s", mechs[i].name, c.bk->name);
			}
		}
	}
}

static void add_release(void)
{
	static const struct tagsel zero[] = {
		{ TAG_ZERO_PAGE_NOT_PINNED, BKF_ZERO, 0 },
		/* Slow GUP refused hugetlb pages it should have migrated. */
		{ TAG_GUP_GRAB_LONGTERM, BKF_HUGETLB, 0 },
		{ TAG_NONE, 0, 0 },
	};
	const struct backing *bks[16];
	unsigned int i;
	int b, nr;

	nr = family_backings(bks, true);
	for (i = 0; i < ARRAY_SIZE(mechs); i++) {
		if (mechs[i].fams & F_RELEASE) {
			for (b = 0; b < nr; b++) {
				struct pcase c = mech_case(&mechs[i], P_RELEASED, release_observe);

				if (!bks[b])
					continue;
				c.bk = bks[b];
				c.tags |= tags_select(zero, c.bk);
				pcase_add(&c, "%s, after unpinning, %s", mechs[i].name, c.bk->name);
			}
		}
		if (mechs[i].fams & F_EXIT) {
			struct pcase c = mech_case(&mechs[i], P_RELEASED, exit_observe);

			c.bk = bks[0];
			c.need.flags = NEED_ROOT;
			pcase_add(&c, "%s, the process exits with the pin held, %s", mechs[i].name,
				  c.bk->name);
		}
	}
}

static void add_failure_paths(void)
{
	static const enum failpath fps[] = { FP_HOLE, FP_PROTNONE, FP_FILE };
	unsigned int i, f;

	for (i = 0; i < ARRAY_SIZE(mechs); i++) {
		for (f = 0; f < ARRAY_SIZE(fps); f++) {
			struct pcase c = mech_case(&mechs[i], P_RELEASED, failpath_observe);

			if (!(mechs[i].fams & (fps[f] == FP_FILE ? F_FILE : F_FAILPATH)))
				continue;
			c.param = fps[f];
			if (fps[f] == FP_FILE) {
				c.need.check = refused_file_unavailable;
				c.tags |= TAGBIT(TAG_NO_LONGTERM_FILE_WRITE);
			}
			pcase_add(&c, "%s, refused for %s, anon pages before it", mechs[i].name,
				  failpath_what[fps[f]]);
		}
		if (mechs[i].fams & F_FAILNTH && mech_req(&mechs[i])) {
			struct pcase c = mech_case(&mechs[i], P_RELEASED, failnth_observe);

			c.need.check = failnth_unavailable;
			pcase_add(&c, "%s, an allocation failure injected at each step of %s", mechs[i].name,
				  mech_req(&mechs[i])->call);
		}
		if (mechs[i].fams & F_MEMLOCK && mech_req(&mechs[i])) {
			struct pcase c = mech_case(&mechs[i], P_RELEASED, memlock_refused_observe);

			c.need.flags = NEED_ROOT;
			pcase_add(&c, "%s, refused beyond RLIMIT_MEMLOCK, unprivileged", mechs[i].name);
		}
	}
}

static void add_refusal(void)
{
	static const struct {
		enum refusal rf;
		unsigned int fam;
		const char *(*check)(void);
		const char *what;
	} rfs[] = {
		{ RF_SECRET, F_SECRET, secretmem_unavailable, "memfd_secret memory, faulted in" },
		{ RF_PROTNONE, F_PROTNONE, NULL, "PROT_NONE range, populated before" },
		{ RF_PFNMAP, F_PFNMAP, bar_unavailable, "PFNMAP mapping of a PCI BAR" },
	};
	struct pcase v = {
		.prop = P_REFUSED,
		.what = "vmsplice",
		.observe = vmsplice_observe,
		.tags = TAGBIT(TAG_SECRETMEM_GUP_FAST),
	};
	unsigned int i, r;

	for (r = 0; r < ARRAY_SIZE(rfs); r++) {
		for (i = 0; i < ARRAY_SIZE(mechs); i++) {
			struct pcase c = mech_case(&mechs[i], P_REFUSED, refusal_observe);

			if (!(mechs[i].fams & rfs[r].fam))
				continue;
			c.param = rfs[r].rf;
			c.need.check = rfs[r].check;
			if (rfs[r].rf == RF_SECRET)
				c.tags |= TAGBIT(TAG_SECRETMEM_GUP_FAST);
			pcase_add(&c, "%s, %s", mechs[i].name, rfs[r].what);
		}
	}
	v.need.check = secretmem_unavailable;
	pcase_add(&v, "vmsplice, memfd_secret memory, faulted in");
}

static void add_zeropage(void)
{
	static const struct {
		unsigned long magic;
		const char *name;
		const char *(*check)(void);
	} fss[] = {
		{ EXT4_SUPER_MAGIC, "ext4", ext4_unavailable },
		{ XFS_SUPER_MAGIC, "xfs", xfs_unavailable },
	};
	static const char *const src[] = {
		[ZS_UNTOUCHED] = "a never-touched buffer (the pin faults in the shared zeropage)",
		[ZS_READ] = "a read-faulted buffer (the shared zeropage)",
		[ZS_HUGE] = "the huge zeropage",
	};
	const struct backing *hz = huge_zero();
	unsigned int f, s;

	for (f = 0; f < ARRAY_SIZE(fss); f++) {
		for (s = 0; s < ARRAY_SIZE(src); s++) {
			struct pcase c = {
				.prop = P_ZEROPAGE_SHORT,
				.what = "O_DIRECT write",
				.observe = odirect_observe,
				.param = (long)(s | (fss[f].magic << 8)),
				.tags = TAGBIT(TAG_ZERO_PAGE_NOT_PINNED),
			};

			if (s == ZS_HUGE && !hz)
				continue;
			c.need.check = fss[f].check;
			if (s == ZS_HUGE)
				c.need.flags = NEED_THP | NEED_HUGE_ZEROPAGE;
			pcase_add(&c, "O_DIRECT write from %s, %s", src[s], fss[f].name);
		}
	}
	for (s = ZS_READ; s <= ZS_HUGE; s++) {
		struct pcase c = {
			.prop = P_ZEROPAGE_SHORT,
			.what = "gup_test pin_user_pages()",
			.observe = gup_short_observe,
			.param = s,
			.tags = TAGBIT(TAG_ZERO_PAGE_NOT_PINNED),
		};

		if (s == ZS_HUGE && !hz)
			continue;
		c.need.check = gup_test_unavailable;
		if (s == ZS_HUGE)
			c.need.flags = NEED_THP | NEED_HUGE_ZEROPAGE;
		pcase_add(&c, "gup_test R/O pin_user_pages() without FOLL_LONGTERM, %s", src[s]);
	}
}

/* Main ----------------------------------------------------------------------- */

static void enumerate(void)
{
	add_placement(0);
	add_release();
	add_failure_paths();
	add_refusal();
	add_zeropage();
	add_placement(1);
}

static const struct ksft_break breaks[] = {
	{ "placed", "judge placement by the PFNs from before the pin", &break_placed, 1 },
	{ "leak", "keep the pin when the release is checked", &release_break_leak, 1 },
	{ "leftover", "keep a pin of the first page after a refused request", &break_leftover,
	  1 },
	{ "refuse", "pin ordinary memory where a refusal is tested", &break_refuse, 1 },
	{ "memlock", "raise RLIMIT_MEMLOCK above the request", &memlock_break, 1 },
	{ "zero", "write the buffer before the O_DIRECT write from the zeropage", &break_zero,
	  1 },
	{ NULL, NULL, NULL, 0 },
};

/* What the mechanisms set up once, before the cases fork. */
static void setup(void)
{
	vfio_prepare();
	rdma_setup();
	if (platform()->root)
		xdp_unavailable();
}

static const struct pinsuite suite = {
	.name = "promises",
	.summary = "FOLL_LONGTERM's other promises through every pin mechanism: no pinned page\n"
		   "left in ZONE_MOVABLE or CMA; every pin released after unpinning, at exit and\n"
		   "on every failure path (holes, PROT_NONE, refused files, RLIMIT_MEMLOCK,\n"
		   "fail-nth); memfd_secret, PROT_NONE and PFNMAP memory refused; short-term\n"
		   "pins of the shared and huge zeropage work.",
	.options = &vfio_suite_options,
	.breaks = breaks,
	.enumerate = enumerate,
	.setup = setup,
	.timeout = 120,
	/* A private hugetlb pin and its copy; the CMA fill grows the pool itself. */
	.hugetlb_pages = 4,
};

PINSUITE_MAIN(suite)
