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
#include <unistd.h>
#ifdef HAVE_LIBNUMA
#include <numaif.h>
#include <sys/syscall.h>
#endif

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
	},
	[TRIG_COLLAPSE] = {
		.id = TRIG_COLLAPSE,
		.name = "MADV_COLLAPSE, then write",
		.all = BKF_THP | BKF_PMD,
		.none = BKF_HUGETLB | BKF_ZERO,
		.need = { .flags = NEED_THP },
	},
	[TRIG_PAGEOUT] = {
		.id = TRIG_PAGEOUT,
		.name = "MADV_PAGEOUT, then write",
		.none = BKF_HUGETLB,
		.need = { .flags = NEED_SWAP },
	},
	[TRIG_MREMAP] = {
		.id = TRIG_MREMAP,
		.name = "mremap() of the pinned range, then write",
	},
	[TRIG_MIGRATE] = {
		.id = TRIG_MIGRATE,
		.name = "migration to another node attempted, then write",
		.need = { .flags = NEED_NUMA2 | NEED_LIBNUMA },
	},
	[TRIG_DONTNEED] = {
		.id = TRIG_DONTNEED,
		.name = "MADV_DONTNEED, then write",
		.all = BKF_PRIVATE,
	},
};

static void note(struct trig_state *ts, const char *fmt, ...) __printf(2, 3);
static void note(struct trig_state *ts, const char *fmt, ...)
{
	size_t used = strlen(ts->note);
	va_list ap;

	if (used && used < sizeof(ts->note) - 2) {
		strcat(ts->note, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(ts->note + used, sizeof(ts->note) - used, fmt, ap);
	va_end(ap);
}

static int failed(char *why, size_t len, const char *what)
{
	snprintf(why, len, "%s: %s", what, strerror(errno));
	return KSFT_FAIL;
}

static int do_mprotect(struct trig_state *ts, char *why, size_t len)
{
	int ret;

	if (mprotect(ts->view, ts->m->size, PROT_READ))
		return failed(why, len, "mprotect(PROT_READ)");
	/*
	 * Clearing the soft-dirty bits keeps mprotect() from mapping the
	 * pages writable again right away (CONFIG_MEM_SOFT_DIRTY).
	 */
	ret = write_file("/proc/self/clear_refs", "4");
	if (ret)
		note(ts, "clear_refs: %s", strerror(-ret));
	else if (!platform()->soft_dirty)
		note(ts, "no CONFIG_MEM_SOFT_DIRTY: mprotect() may map the pages writable again");
	if (mprotect(ts->view, ts->m->size, PROT_READ | PROT_WRITE))
		return failed(why, len, "mprotect(PROT_READ|PROT_WRITE)");
	return KSFT_PASS;
}

static int do_fork(struct trig_state *ts, bool child_writes, char *why, size_t len)
{
	pid_t pid = kid_fork(&ts->kid);

	if (pid < 0)
		return failed(why, len, "fork");
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
			snprintf(why, len, "the child died before it was ready: signal %d (%s)",
				 WTERMSIG(ts->kid.status), strsignal(WTERMSIG(ts->kid.status)));
		else
			snprintf(why, len, "the child died before it was ready");
		return KSFT_FAIL;
	}
	return KSFT_PASS;
}

static int do_ksm(struct trig_state *ts, char *why, size_t len)
{
	int ret;

	ret = ksm_start();
	if (ret) {
		snprintf(why, len, "cannot start ksmd: %s", strerror(-ret));
		return KSFT_SKIP;
	}
	ts->twin = mmap(NULL, ts->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (ts->twin == MAP_FAILED) {
		ts->twin = NULL;
		return failed(why, len, "mmap");
	}
	/* A twin with the same bytes gives KSM something to merge with. */
	memcpy(ts->twin, ts->view, ts->len);
	if (madvise(ts->twin, ts->len, MADV_MERGEABLE) ||
	    madvise(ts->view, ts->len, MADV_MERGEABLE))
		return failed(why, len, "madvise(MADV_MERGEABLE)");
	ret = ksm_wait_scans(3);
	if (ret) {
		snprintf(why, len, "ksmd did not complete 3 scans: %s", strerror(-ret));
		return KSFT_SKIP;
	}
	if (pagemap_pfn(ts->view) && pagemap_pfn(ts->view) == pagemap_pfn(ts->twin))
		note(ts, "KSM merged the pinned page with its twin");
	madvise(ts->view, ts->len, MADV_UNMERGEABLE);
	return KSFT_PASS;
}

static void do_collapse(struct trig_state *ts)
{
	size_t pmd = platform()->pmd_size;
	char *start = (char *)((uintptr_t)ts->view & ~(uintptr_t)(pmd - 1));

	if (madvise(start, pmd, MADV_COLLAPSE))
		note(ts, "MADV_COLLAPSE: %s", strerror(errno));
	else
		note(ts, "MADV_COLLAPSE succeeded");
}

static int do_pageout(struct trig_state *ts, char *why, size_t len)
{
	if (madvise(ts->view, ts->len, MADV_PAGEOUT))
		return failed(why, len, "madvise(MADV_PAGEOUT)");
	note(ts, "after MADV_PAGEOUT the first page is %s",
	     pagemap_swapped(ts->view) ? "swapped out" :
	     pagemap_present(ts->view) ? "still present" : "not mapped");
	return KSFT_PASS;
}

static int do_mremap(struct trig_state *ts, char *why, size_t len)
{
	struct mem *m = ts->m;
	size_t align = m->bk->size ? m->bk->size : page_size();
	char *dst = mem_reserve(m, m->size, align);

	if (!dst)
		return failed(why, len, "mmap");
	if (mremap(ts->view, m->size, m->size, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED)
		return failed(why, len, "mremap");
	ts->view = dst;
	return KSFT_PASS;
}

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

static int do_migrate(struct trig_state *ts, char *why, size_t len)
{
	unsigned long before = pagemap_pfn(ts->view), after;
	size_t ps = page_size(), n = ts->len / ps, i;
	int *nodes, *status, cur, target = -1, moved = 0, busy = 0, node;
	long ret;
	void **pages;

	pages = calloc(n, sizeof(*pages));
	nodes = calloc(n, sizeof(*nodes));
	status = calloc(n, sizeof(*status));
	if (!pages || !nodes || !status) {
		free(pages);
		free(nodes);
		free(status);
		return failed(why, len, "calloc");
	}
	for (i = 0; i < n; i++)
		pages[i] = ts->view + i * ps;
	/* Where is the first page now?  Any other node with memory is the target. */
	if (pin_move_pages(1, pages, NULL, &cur, 0)) {
		free(pages);
		free(nodes);
		free(status);
		return failed(why, len, "move_pages(query)");
	}
	/* No node: not a page that can move (e.g. the shared zeropage). */
	if (cur < 0) {
		note(ts, "move_pages: the first page cannot be migrated (%s)", strerror(-cur));
		free(pages);
		free(nodes);
		free(status);
		return KSFT_PASS;
	}
	for (node = 0; node < 64 && target < 0; node++) {
		char path[96];
		char buf[8];

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
		if (node != cur && !read_file(path, buf, sizeof(buf)))
			target = node;
	}
	/* A page that could not be migrated may get no status at all. */
	for (i = 0; i < n; i++) {
		nodes[i] = target;
		status[i] = INT_MIN;
	}
	ret = pin_move_pages(n, pages, nodes, status, MPOL_MF_MOVE);
	if (ret < 0)
		note(ts, "move_pages: %s", strerror(errno));
	else if (ret > 0)
		note(ts, "move_pages: %ld pages not migrated", ret);
	for (i = 0; i < n; i++) {
		moved += status[i] == target;
		busy += status[i] < 0 && status[i] != INT_MIN;
	}
	after = pagemap_pfn(ts->view);
	note(ts, "move_pages node %d -> %d: %d of %zu pages there, %d refused", cur, target,
	     moved, n, busy);
	if (before)
		note(ts, "first page PFN 0x%lx -> 0x%lx", before, after);
	free(pages);
	free(nodes);
	free(status);
	return KSFT_PASS;
}
#else
static int do_migrate(struct trig_state *ts, char *why, size_t len)
{
	(void)ts;
	snprintf(why, len, "built without libnuma");
	return KSFT_SKIP;
}
#endif

static int do_dontneed(struct trig_state *ts, char *why, size_t len)
{
	size_t n = (ts->m->bk->flags & BKF_HUGETLB) ? ts->m->size : ts->len;

	if (madvise(ts->view, n, MADV_DONTNEED))
		return failed(why, len, "madvise(MADV_DONTNEED)");
	return KSFT_PASS;
}

static int run_event(const struct trigger *t, struct trig_state *ts, char *why, size_t len)
{
	switch (t->id) {
	case TRIG_WRITE:
		return KSFT_PASS;
	case TRIG_MPROTECT:
		return do_mprotect(ts, why, len);
	case TRIG_FORK_PARENT:
		return do_fork(ts, false, why, len);
	case TRIG_FORK_CHILD:
		return do_fork(ts, true, why, len);
	case TRIG_KSM:
		return do_ksm(ts, why, len);
	case TRIG_COLLAPSE:
		do_collapse(ts);
		return KSFT_PASS;
	case TRIG_PAGEOUT:
		return do_pageout(ts, why, len);
	case TRIG_MREMAP:
		return do_mremap(ts, why, len);
	case TRIG_MIGRATE:
		return do_migrate(ts, why, len);
	case TRIG_DONTNEED:
		return do_dontneed(ts, why, len);
	case TRIG_NR:
		break;
	}
	snprintf(why, len, "unknown trigger %d", t->id);
	return KSFT_FAIL;
}

int trigger_run(const struct trigger *t, struct mem *m, size_t len, struct trig_state *ts,
		char *why, size_t whylen)
{
	int ret;

	memset(ts, 0, sizeof(*ts));
	ts->m = m;
	ts->view = m->addr;
	ts->len = len;
	ts->expect = PAT_PARENT;
	ret = run_event(t, ts, why, whylen);
	if (ret)
		return ret;
	if (t->id == TRIG_FORK_CHILD) {
		/* The child wrote; a private mapping keeps what it had. */
		ts->expect = (m->bk->flags & BKF_SHARED) ? PAT_CHILD : m->initial;
		return KSFT_PASS;
	}
	memset(ts->view, PAT_PARENT, len);
	return KSFT_PASS;
}

void trigger_finish(struct trig_state *ts)
{
	if (ts->kid.pid > 0)
		kid_finish(&ts->kid, false);
	if (ts->twin) {
		munmap(ts->twin, ts->len);
		ts->twin = NULL;
	}
}
