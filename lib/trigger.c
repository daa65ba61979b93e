// SPDX-License-Identifier: GPL-2.0
/*
 * The trigger table and what each trigger does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBNUMA
#include <numaif.h>
#include <sys/syscall.h>
#endif

#include "case.h"
#include "ksft.h"
#include "observe.h"
#include "sysstate.h"
#include "trigger.h"

const struct trigger triggers[TRIG_NR] = {
	[TRIG_WRITE] = {
		.id = TRIG_WRITE,
		.name = "write after pin",
	},
	[TRIG_MPROTECT] = {
		.id = TRIG_MPROTECT,
		.name = "mprotect() R/O and back, then write",
	},
	[TRIG_FORK_PARENT] = {
		.id = TRIG_FORK_PARENT,
		.name = "fork() with child alive, parent writes",
	},
	[TRIG_FORK_CHILD] = {
		.id = TRIG_FORK_CHILD,
		.name = "fork(), child writes",
	},
	[TRIG_KSM] = {
		.id = TRIG_KSM,
		.name = "KSM merge attempt, then write",
		.all = BKF_PRIVATE,
		.none = BKF_HUGETLB,
		.need = { .flags = NEED_KSM | NEED_ROOT },
		.promise = "KSM does not merge a pinned page",
		.missed = "KSM did not merge these pages even unpinned",
		/* Full scans cover other processes' memory too. */
		.slow = 300,
	},
	[TRIG_COLLAPSE] = {
		.id = TRIG_COLLAPSE,
		.name = "MADV_COLLAPSE, then write",
		.all = BKF_THP | BKF_PMD | BKF_PTEMAP,
		.none = BKF_HUGETLB | BKF_ZERO,
		.need = { .flags = NEED_THP },
		.promise = "MADV_COLLAPSE does not replace a pinned page",
		.missed = "MADV_COLLAPSE did not collapse these pages even unpinned",
	},
	[TRIG_PAGEOUT] = {
		.id = TRIG_PAGEOUT,
		.name = "MADV_PAGEOUT, then write",
		.none = BKF_HUGETLB,
		.need = { .flags = NEED_SWAP },
		.promise = "reclaim does not swap out or drop a pinned page",
		.missed = "MADV_PAGEOUT did not reclaim these pages even unpinned",
	},
	[TRIG_MREMAP] = {
		.id = TRIG_MREMAP,
		.name = "mremap() of the pinned range, then write",
	},
	[TRIG_MIGRATE] = {
		.id = TRIG_MIGRATE,
		.name = "migration to another node attempted, then write",
		.need = { .flags = NEED_NUMA2 | NEED_LIBNUMA },
		.promise = "migration does not move a pinned page",
		.missed = "move_pages() did not migrate these pages even unpinned",
	},
	[TRIG_DONTNEED] = {
		.id = TRIG_DONTNEED,
		.name = "MADV_DONTNEED, then write",
		.all = BKF_PRIVATE,
	},
};

static int step_failed(const char *call)
{
	obs_error(call, errno ? errno : EIO);
	return -1;
}

/* The promise for pinned pages was broken: the page mapped is another one. */
static int moved(struct trig_state *ts, const char *how)
{
	unsigned long now = pagemap_pfn(ts->view);

	obs_broken(SYM_MOVED, "%s: %s (first page PFN 0x%lx before, 0x%lx now)", ts->t->promise,
		   how, ts->pfn, now);
	return -1;
}

/* With root, PFNs show whether the page mapped is still the pinned one. */
static bool pfn_changed(const struct trig_state *ts)
{
	unsigned long now = pagemap_pfn(ts->view);

	return ts->pfn && now && now != ts->pfn;
}

static int do_mprotect(struct trig_state *ts)
{
	int ret;

	if (mprotect(ts->view, ts->m->size, PROT_READ))
		return step_failed("mprotect(PROT_READ)");
	/*
	 * Clearing the soft-dirty bits keeps mprotect() from mapping the
	 * pages writable again right away (CONFIG_MEM_SOFT_DIRTY).
	 */
	ret = write_file("/proc/self/clear_refs", "4");
	if (ret)
		ksft_print_msg("clear_refs: %s\n", strerror(-ret));
	else if (!platform()->soft_dirty)
		ksft_print_msg("no CONFIG_MEM_SOFT_DIRTY: mprotect() may map the pages writable again\n");
	if (mprotect(ts->view, ts->m->size, PROT_READ | PROT_WRITE))
		return step_failed("mprotect(PROT_READ|PROT_WRITE)");
	return 0;
}

static int do_fork(struct trig_state *ts, bool child_writes)
{
	const struct backing *bk = ts->m->bk;
	pid_t pid;

	/* fork() copies a pinned hugetlb page for the child: it needs a free one. */
	if ((bk->flags & BKF_HUGETLB) && hugetlb_settled(bk->size, 1) < 1) {
		obs_unmet("no free hugetlb page for fork()'s copy of the pinned page",
			  "%zu kB hugetlb pages: %ld free", bk->size >> 10, hugetlb_free(bk->size));
		return -1;
	}
	pid = kid_fork(&ts->kid);
	if (pid < 0)
		return step_failed("fork");
	if (!pid) {
		if (child_writes)
			memset(ts->view, PAT_CHILD, ts->len);
		kid_tell_parent(&ts->kid, 'r');
		kid_wait_parent(&ts->kid);
		_exit(0);
	}
	if (kid_wait_child(&ts->kid) < 0) {
		kid_finish(&ts->kid, true);
		if (WIFSIGNALED(ts->kid.status))
			obs_broken(SYM_STALE, "the fork()ed child died of signal %d (%s) before it was ready",
				   WTERMSIG(ts->kid.status), strsignal(WTERMSIG(ts->kid.status)));
		else
			obs_broken(SYM_STALE, "the fork()ed child died before it was ready");
		return -1;
	}
	return 0;
}

/* KSM -------------------------------------------------------------------- */

/*
 * The pinned range next to an identical unpinned copy, both mergeable, for
 * long enough that ksmd went over them: the pinned page must not have been
 * merged.  (Whichever of the two ksmd sees first, it offers the other one
 * for merging.)
 */
static int do_ksm(struct trig_state *ts)
{
	int ret;

	ret = ksm_start();
	if (ret) {
		obs_unmet("cannot start ksmd", "writing /sys/kernel/mm/ksm: %s", strerror(-ret));
		return -1;
	}
	ts->twin_len = ts->len;
	ts->twin = mmap(NULL, ts->twin_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (ts->twin == MAP_FAILED) {
		ts->twin = NULL;
		return step_failed("mmap");
	}
	madvise(ts->twin, ts->twin_len, MADV_NOHUGEPAGE);
	memcpy(ts->twin, ts->view, ts->len);
	if (madvise(ts->twin, ts->twin_len, MADV_MERGEABLE) ||
	    madvise(ts->view, ts->len, MADV_MERGEABLE))
		return step_failed("madvise(MADV_MERGEABLE)");
	ret = ksm_wait_scans(KSM_PASSES);
	if (ret) {
		obs_unmet("ksmd did not complete its scans", "waiting for %d full scans: %s",
			  KSM_PASSES, ret == -ETIMEDOUT ? "timed out" : strerror(-ret));
		return -1;
	}
	/* Merged with a copy, or with another page of the range. */
	if (ksm_merged(ts->view, ts->pfn, ts->twin, ts->len / page_size()) ||
	    ksm_merged(ts->view, ts->pfn, ts->view, ts->len / page_size()))
		return moved(ts, "the pinned page was merged");
	madvise(ts->view, ts->len, MADV_UNMERGEABLE);
	return 0;
}

/*
 * Once unpinned, the same pages must merge with an identical copy.  Each
 * page gets content of its own first, so that page i merges with copy i.
 */
static bool ksm_control(struct trig_state *ts)
{
	size_t ps = page_size(), i;
	bool merged;

	if (!ts->twin)
		return false;
	madvise(ts->twin, ts->twin_len, MADV_UNMERGEABLE);
	for (i = 0; i < ts->len / ps; i++)
		snprintf(ts->view + i * ps, 48, "pinsuite page %zu", i);
	memcpy(ts->twin, ts->view, ts->len);
	if (madvise(ts->twin, ts->twin_len, MADV_MERGEABLE) ||
	    madvise(ts->view, ts->len, MADV_MERGEABLE))
		return false;
	merged = !ksm_wait_merged(ts->view, ts->twin, 1, KSM_SCANS);
	ksft_print_msg("KSM once unpinned: %s\n", merged ? "merged" : "not merged");
	madvise(ts->view, ts->len, MADV_UNMERGEABLE);
	return merged;
}

/* THP collapse ----------------------------------------------------------- */

static char *pmd_start(const struct trig_state *ts)
{
	size_t pmd = platform()->pmd_size;

	return (char *)((uintptr_t)ts->view & ~(uintptr_t)(pmd - 1));
}

static int do_collapse(struct trig_state *ts)
{
	int ret = madvise(pmd_start(ts), platform()->pmd_size, MADV_COLLAPSE);

	ksft_print_msg("MADV_COLLAPSE of the pinned range: %s\n", ret ? strerror(errno) : "done");
	if (pfn_changed(ts))
		return moved(ts, "the pinned page was replaced");
	return 0;
}

static bool collapse_control(struct trig_state *ts)
{
	int ret = madvise(pmd_start(ts), platform()->pmd_size, MADV_COLLAPSE);

	ksft_print_msg("MADV_COLLAPSE once unpinned: %s\n", ret ? strerror(errno) : "done");
	return !ret;
}

/* Reclaim ---------------------------------------------------------------- */

/*
 * MADV_PAGEOUT leaves alone a page mapped more than once: the read-only
 * view of a file backing maps it too, so zap that view first (the page
 * cache keeps the page).
 */
static void map_once(struct trig_state *ts)
{
	if (ts->m->ro)
		madvise(ts->m->ro, ts->m->size, MADV_DONTNEED);
}

static int do_pageout(struct trig_state *ts)
{
	uint64_t ent;

	map_once(ts);
	if (madvise(ts->view, ts->len, MADV_PAGEOUT))
		return step_failed("madvise(MADV_PAGEOUT)");
	ent = pagemap_entry(ts->view);
	ksft_print_msg("after MADV_PAGEOUT the first pinned page is %s\n",
		       (ent & PM_SWAP) ? "swapped out" : (ent & PM_PRESENT) ? "still mapped" :
		       "unmapped");
	if (ent & PM_SWAP)
		return moved(ts, "the pinned page was swapped out");
	/*
	 * Reclaim may unmap a pinned page-cache page but must keep it: the
	 * next fault maps the same page.
	 */
	touch_read(ts->view, ts->len);
	if (pfn_changed(ts))
		return moved(ts, "the pinned page was reclaimed");
	return 0;
}

/*
 * A page that was just unpinned may still sit in a per-CPU LRU batch,
 * where reclaim cannot isolate it: give the control three tries.
 */
static bool pageout_control(struct trig_state *ts)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	uint64_t ent = 0;
	int i;

	map_once(ts);
	for (i = 0; i < 3; i++) {
		if (madvise(ts->view, ts->len, MADV_PAGEOUT))
			return false;
		ent = pagemap_entry(ts->view);
		if (!(ent & PM_PRESENT))
			break;
		nanosleep(&pause, NULL);
	}
	ksft_print_msg("MADV_PAGEOUT once unpinned: the first page is %s\n",
		       (ent & PM_SWAP) ? "swapped out" : (ent & PM_PRESENT) ? "still mapped" :
		       "unmapped");
	return !(ent & PM_PRESENT);
}

/* Migration --------------------------------------------------------------- */

#ifdef HAVE_LIBNUMA
/*
 * move_pages(2) as libnuma declares it, called directly: linking libnuma
 * statically drags in its resolver code, which glibc warns about.
 */
static long pin_move_pages(unsigned long count, void **pages, const int *nodes, int *status,
			   int flags)
{
	return syscall(SYS_move_pages, 0, count, pages, nodes, status, flags);
}

/* The node of the page at @p, or -errno. */
static int page_node(char *p)
{
	void *page = p;
	int st = INT_MIN;

	if (pin_move_pages(1, &page, NULL, &st, 0))
		return -errno;
	return st;
}

static int other_node(int cur)
{
	char path[96], buf[8];
	int node;

	for (node = 0; node < 64; node++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
		if (node != cur && !read_file(path, buf, sizeof(buf)))
			return node;
	}
	return -1;
}

/* The node of each of the @n pages at @pages, or -errno, into @where. */
static void pages_nodes(size_t n, void **pages, int *where)
{
	size_t i;

	for (i = 0; i < n; i++)
		where[i] = INT_MIN;
	if (pin_move_pages(n, pages, NULL, where, 0))
		for (i = 0; i < n; i++)
			where[i] = -errno;
}

/*
 * Ask for every page of the range on another node; how many pages changed
 * their node (not how many are there: some may have been there before).
 */
static long migrate_range(struct trig_state *ts, int *from, int *to)
{
	size_t ps = page_size(), n = ts->len / ps, i;
	int *nodes, *status, *before;
	void **pages;
	long changed = -1;

	/*
	 * MPOL_MF_MOVE moves only pages mapped once: drop the read-only view,
	 * and where CAP_SYS_NICE allows, ask for shared pages too.
	 */
	map_once(ts);
	*from = page_node(ts->view);
	*to = *from >= 0 ? other_node(*from) : -1;
	if (*to < 0)
		return -1;
	pages = calloc(n, sizeof(*pages));
	nodes = calloc(n, sizeof(*nodes));
	status = calloc(n, sizeof(*status));
	before = calloc(n, sizeof(*before));
	if (pages && nodes && status && before) {
		for (i = 0; i < n; i++) {
			pages[i] = ts->view + i * ps;
			nodes[i] = *to;
			/* A page that could not be migrated may get no status at all. */
			status[i] = INT_MIN;
		}
		pages_nodes(n, pages, before);
		if (pin_move_pages(n, pages, nodes, status, MPOL_MF_MOVE_ALL) && errno == EPERM)
			pin_move_pages(n, pages, nodes, status, MPOL_MF_MOVE);
		pages_nodes(n, pages, status);
		for (i = 0, changed = 0; i < n; i++)
			changed += before[i] >= 0 && status[i] >= 0 && status[i] != before[i];
	}
	free(pages);
	free(nodes);
	free(status);
	free(before);
	return changed;
}

static int do_migrate(struct trig_state *ts)
{
	int from, to;
	long there = migrate_range(ts, &from, &to);

	ts->node = from;
	if (from < 0) {
		ksft_print_msg("move_pages: the first pinned page has no node (%s)\n",
			       strerror(-from));
		return 0;
	}
	ksft_print_msg("move_pages node %d -> %d: %ld of %zu pinned pages moved\n", from, to,
		       there, ts->len / page_size());
	if (there > 0 || pfn_changed(ts))
		return moved(ts, "a pinned page was migrated");
	return 0;
}

static bool migrate_control(struct trig_state *ts)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	int from, to, i;
	long there = migrate_range(ts, &from, &to);

	/* As for reclaim: a page just unpinned may not be isolated at once. */
	for (i = 0; i < 2 && there == 0; i++) {
		nanosleep(&pause, NULL);
		there = migrate_range(ts, &from, &to);
	}

	ksft_print_msg("move_pages once unpinned, node %d -> %d: %ld of %zu pages moved\n", from,
		       to, there, ts->len / page_size());
	return there > 0;
}
#else
static int do_migrate(struct trig_state *ts)
{
	(void)ts;
	obs_unmet("built without libnuma (install libnuma-dev and rebuild)", "%s", "");
	return -1;
}

static bool migrate_control(struct trig_state *ts)
{
	(void)ts;
	return false;
}
#endif

static int do_mremap(struct trig_state *ts)
{
	struct mem *m = ts->m;
	size_t align = m->bk->size ? m->bk->size : page_size();
	char *dst = mem_reserve(m, m->size, align);

	if (!dst)
		return step_failed("mmap");
	if (mremap(ts->view, m->size, m->size, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED)
		return step_failed("mremap");
	ts->view = dst;
	return 0;
}

static int do_dontneed(struct trig_state *ts)
{
	size_t n = (ts->m->bk->flags & BKF_HUGETLB) ? ts->m->size : ts->len;

	if (madvise(ts->view, n, MADV_DONTNEED))
		return step_failed("madvise(MADV_DONTNEED)");
	return 0;
}

static int run_event(struct trig_state *ts)
{
	switch (ts->t->id) {
	case TRIG_WRITE:
		return 0;
	case TRIG_MPROTECT:
		return do_mprotect(ts);
	case TRIG_FORK_PARENT:
		return do_fork(ts, false);
	case TRIG_FORK_CHILD:
		return do_fork(ts, true);
	case TRIG_KSM:
		return do_ksm(ts);
	case TRIG_COLLAPSE:
		return do_collapse(ts);
	case TRIG_PAGEOUT:
		return do_pageout(ts);
	case TRIG_MREMAP:
		return do_mremap(ts);
	case TRIG_MIGRATE:
		return do_migrate(ts);
	case TRIG_DONTNEED:
		return do_dontneed(ts);
	case TRIG_NR:
		break;
	}
	errno = EINVAL;
	return step_failed("unknown trigger");
}

int trigger_run(const struct trigger *t, struct mem *m, size_t len, struct trig_state *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->t = t;
	ts->m = m;
	ts->view = m->addr;
	ts->len = len;
	ts->expect = PAT_PARENT;
	ts->node = -1;
	ts->pfn = pagemap_pfn(ts->view);
	obs_phase(PH_TRIGGER);
	if (run_event(ts))
		return -1;
	if (t->id == TRIG_FORK_CHILD) {
		/* The child wrote; a private mapping keeps what it had. */
		ts->expect = (m->bk->flags & BKF_SHARED) ? PAT_CHILD : m->initial;
		return 0;
	}
	memset(ts->view, PAT_PARENT, len);
	return 0;
}

bool trigger_control(struct trig_state *ts)
{
	bool happened;

	if (!ts->t->promise)
		return true;
	switch (ts->t->id) {
	case TRIG_KSM:
		happened = ksm_control(ts);
		break;
	case TRIG_COLLAPSE:
		happened = collapse_control(ts);
		break;
	case TRIG_PAGEOUT:
		happened = pageout_control(ts);
		break;
	case TRIG_MIGRATE:
		happened = migrate_control(ts);
		break;
	default:
		happened = true;
		break;
	}
	if (!happened)
		obs_missed(ts->t->missed, "so the promise \"%s\" was not put to the test here",
			   ts->t->promise);
	return happened;
}

void trigger_finish(struct trig_state *ts)
{
	if (ts->kid.pid > 0)
		kid_finish(&ts->kid, false);
	if (ts->twin) {
		munmap(ts->twin, ts->twin_len);
		ts->twin = NULL;
	}
}
