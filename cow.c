// SPDX-License-Identifier: GPL-2.0
/*
 * COW semantics with pins, for every backing of the catalog.
 *
 * Anonymous memory (base pages, THP of every size in every mapping state
 * the catalog knows, hugetlb): COW after fork(), with and without the
 * mprotect() write-upgrade; vmsplice() (a short-term R/O pin) on either
 * side of fork(); io_uring fixed buffers (R/W long-term pins) mapped R/O
 * and across fork(); R/O long-term pins through gup_test on R/O-mapped
 * shared, previously-shared and exclusive pages; MADV_COLLAPSE around
 * fork().
 *
 * Non-anonymous pages in private mappings (the shared zeropage, the huge
 * zeropage, shmem, tmpfs and disk files, hugetlbfs): the other mapping of
 * the page does not see a write, and a R/O long-term pin sees it.
 *
 * These are the scenarios of the kernel's COW selftest (selftests/mm).  Beyond
 * them: the moved half of a partially mremap()'ed THP, pins of only the
 * tail pages of a partially shared THP, KSM-merged pages, and R/O pins
 * that live through fork(), KSM, MADV_PAGEOUT, mremap() and NUMA
 * migration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/pincheck.h"
#include "lib/util.h"

/* COW scenarios without a long-term pin ------------------------------ */

enum cow_kind {
	CK_FORK,
	CK_FORK_MPROTECT,
	CK_VMSPLICE_CHILD,
	CK_VMSPLICE_CHILD_MPROTECT,
	CK_VMSPLICE_BEFORE_FORK,
	CK_VMSPLICE_AFTER_FORK,
	CK_COLLAPSE_UNSHARED,
	CK_COLLAPSE_FULLY,
	CK_COLLAPSE_LOWER,
	CK_COLLAPSE_UPPER,
	CK_OTHER_MAPPING,
	CK_NR
};

static const struct {
	enum property prop;
	const char *what;
} kinds[CK_NR] = {
	[CK_FORK] = { P_NO_LEAK_TO_CHILD, "fork(), parent writes" },
	[CK_FORK_MPROTECT] = { P_NO_LEAK_TO_CHILD,
		"fork(), parent mprotect()s R/O and back, then writes" },
	[CK_VMSPLICE_CHILD] = { P_NO_LEAK_TO_CHILD,
		"vmsplice() + unmap in child, parent writes" },
	[CK_VMSPLICE_CHILD_MPROTECT] = { P_NO_LEAK_TO_CHILD,
		"vmsplice() + unmap in child, parent mprotect()s R/O and back, then writes" },
	[CK_VMSPLICE_BEFORE_FORK] = { P_NO_LEAK_TO_PARENT,
		"vmsplice() before fork(), unmap in parent, child writes" },
	[CK_VMSPLICE_AFTER_FORK] = { P_NO_LEAK_TO_PARENT,
		"vmsplice() after fork(), unmap in parent, child writes" },
	[CK_COLLAPSE_UNSHARED] = { P_NO_LEAK_TO_CHILD,
		"MADV_COLLAPSE before fork(), parent writes" },
	[CK_COLLAPSE_FULLY] = { P_NO_LEAK_TO_CHILD,
		"MADV_COLLAPSE after fork() (fully shared), parent writes" },
	[CK_COLLAPSE_LOWER] = { P_NO_LEAK_TO_CHILD,
		"MADV_COLLAPSE after fork() (lower half shared), parent writes" },
	[CK_COLLAPSE_UPPER] = { P_NO_LEAK_TO_CHILD,
		"MADV_COLLAPSE after fork() (upper half shared), parent writes" },
	[CK_OTHER_MAPPING] = { P_OTHER_MAPPING, "write to the private mapping" },
};

/* What a scenario observed. */
enum outcome {
	OUT_OK,
	OUT_LEAK,	/* the other side's write showed */
	OUT_SKIP,
	OUT_ERROR,	/* a step that should not fail failed */
};

static bool is_vmsplice(enum cow_kind kind)
{
	return kind >= CK_VMSPLICE_CHILD && kind <= CK_VMSPLICE_AFTER_FORK;
}

static int step_failed(char *why, size_t len, const char *what)
{
	snprintf(why, len, "%s: %s", what, strerror(errno));
	return OUT_ERROR;
}

static bool is_collapse(enum cow_kind kind)
{
	return kind >= CK_COLLAPSE_UNSHARED && kind <= CK_COLLAPSE_UPPER;
}

/* The part of the region written and compared. */
static size_t window(const struct mem *m)
{
	return m->size < PINCHECK_WINDOW ? m->size : PINCHECK_WINDOW;
}

/*
 * A copy of @len bytes at @p to compare with later.  With
 * --selftest-break compare it holds @wrong instead, so that the comparison
 * fails.
 */
static char *backup(const char *p, size_t len, int wrong)
{
	char *copy = malloc(len);

	if (!copy)
		return NULL;
	memcpy(copy, p, len);
	if (pincheck_break == PC_BREAK_COMPARE)
		memset(copy, wrong, len);
	return copy;
}

/* 0 if @seen holds @old, else 1 with the first difference printed. */
static int compare(const char *where, const char *seen, const char *old, size_t len)
{
	ssize_t off = first_diff(seen, old, len);

	if (off < 0)
		return 0;
	ksft_print_msg("%s holds 0x%02x at offset 0x%zx, 0x%02x before the other side wrote\n",
		       where, (unsigned char)seen[off], (size_t)off, (unsigned char)old[off]);
	return 1;
}

static int read_pipe(int fd, char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * vmsplice() @len bytes at @p into a new pipe: a short-term R/O pin of the
 * pages.  Returns the number of bytes the pipe took, or -errno.
 */
static ssize_t splice_to_pipe(char *p, size_t len, int fds[2])
{
	struct iovec iov = { .iov_base = p, .iov_len = len };
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	/* Room for the whole window where allowed; else what fits. */
	fcntl(fds[1], F_SETPIPE_SZ, (int)len);
	n = vmsplice(fds[1], &iov, 1, 0);
	if (n < 0)
		return -errno;
	return n ? n : -EIO;
}

static void close_pipe(int fds[2])
{
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

/* The range the child shares with the parent. */
static void shared_range(enum cow_kind kind, struct mem *m, char **p, size_t *len)
{
	*p = m->addr;
	*len = window(m);
	if (kind == CK_COLLAPSE_LOWER || kind == CK_COLLAPSE_UPPER)
		*len = m->size / 2;
	if (kind == CK_COLLAPSE_UPPER)
		*p = m->addr + m->size / 2;
}

/*
 * Child of the vmsplice() "parent writes" scenarios: vmsplice() the range,
 * unmap it, tell the parent, wait for its write; the pipe must still hold
 * what the range held.  Exit status 0 no leak, 1 leak, 2 error.
 */
static int child_splice(struct mem *m, char *p, size_t len, struct kid *k)
{
	char *old = backup(p, len, PAT_PARENT), *seen = malloc(len);
	int fds[2] = { -1, -1 };
	ssize_t n;

	if (!old || !seen)
		return 2;
	n = splice_to_pipe(p, len, fds);
	if (n < 0 || munmap(m->addr, m->size))
		return 2;
	kid_tell_parent(k, 'r');
	if (kid_wait_parent(k) < 0 || read_pipe(fds[0], seen, n))
		return 2;
	return compare("the child's pipe", seen, old, n);
}

/* Child of the other "parent writes" scenarios: its mapping must not change. */
static int child_look(struct mem *m, char *p, size_t len, struct kid *k)
{
	char *old = backup(p, len, PAT_PARENT);

	if (!old)
		return 2;
	kid_tell_parent(k, 'r');
	if (kid_wait_parent(k) < 0)
		return 2;
	if (pincheck_break == PC_BREAK_DONTNEED)
		madvise(p, (m->bk->flags & BKF_HUGETLB) ? m->size : len, MADV_DONTNEED);
	return compare("the child's mapping", p, old, len);
}

static int child_observe(enum cow_kind kind, struct mem *m, struct kid *k)
{
	size_t len;
	char *p;

	shared_range(kind, m, &p, &len);
	if (is_vmsplice(kind))
		return child_splice(m, p, len, k);
	return child_look(m, p, len, k);
}

static int collapse(struct mem *m, char *why, size_t len)
{
	if (!madvise(m->addr, m->size, MADV_COLLAPSE))
		return OUT_OK;
	snprintf(why, len, "MADV_COLLAPSE failed: %s", strerror(errno));
	return OUT_SKIP;
}

/* What the parent does before fork(). */
static int before_fork(enum cow_kind kind, struct mem *m, char *why, size_t len)
{
	size_t half = m->size / 2;

	switch (kind) {
	case CK_COLLAPSE_UNSHARED:
		return collapse(m, why, len);
	case CK_COLLAPSE_LOWER:
		if (madvise(m->addr + half, half, MADV_DONTFORK))
			return step_failed(why, len, "madvise(MADV_DONTFORK)");
		return OUT_OK;
	case CK_COLLAPSE_UPPER:
		if (madvise(m->addr, half, MADV_DONTFORK))
			return step_failed(why, len, "madvise(MADV_DONTFORK)");
		return OUT_OK;
	default:
		return OUT_OK;
	}
}

/* What the parent does once the child is ready, before its write. */
static int before_write(enum cow_kind kind, struct mem *m, char *why, size_t len)
{
	switch (kind) {
	case CK_FORK_MPROTECT:
	case CK_VMSPLICE_CHILD_MPROTECT:
		/* mprotect() may map exclusive pages writable right away. */
		if (mprotect(m->addr, m->size, PROT_READ) ||
		    mprotect(m->addr, m->size, PROT_READ | PROT_WRITE))
			return step_failed(why, len, "mprotect");
		return OUT_OK;
	case CK_COLLAPSE_LOWER:
	case CK_COLLAPSE_UPPER:
		/* One VMA again, so that the whole THP can be collapsed. */
		if (madvise(m->addr, m->size, MADV_DOFORK))
			return step_failed(why, len, "madvise(MADV_DOFORK)");
		return collapse(m, why, len);
	case CK_COLLAPSE_FULLY:
		return collapse(m, why, len);
	default:
		return OUT_OK;
	}
}

static int child_verdict(int status, char *why, size_t len)
{
	if (status == 0)
		return OUT_OK;
	if (status == 1) {
		snprintf(why, len, "the parent's write leaked into the child");
		return OUT_LEAK;
	}
	snprintf(why, len, "the child failed (exit status %d)", status);
	return OUT_ERROR;
}

/* fork(); the parent writes; the child must not see it. */
static int parent_writes(enum cow_kind kind, struct mem *m, char *why, size_t len)
{
	struct kid k;
	pid_t pid;
	int ret;

	ret = before_fork(kind, m, why, len);
	if (ret)
		return ret;
	pid = kid_fork(&k);
	if (pid < 0)
		return step_failed(why, len, "fork");
	if (!pid)
		_exit(child_observe(kind, m, &k));
	if (kid_wait_child(&k) < 0) {
		snprintf(why, len, "the child died before it was ready (exit status %d)",
			 kid_finish(&k, true));
		return OUT_ERROR;
	}
	ret = before_write(kind, m, why, len);
	if (ret) {
		kid_finish(&k, true);
		return ret;
	}
	/* After a collapse, all of the THP; else what the child compares. */
	memset(m->addr, PAT_PARENT, is_collapse(kind) ? m->size : window(m));
	return child_verdict(kid_finish(&k, false), why, len);
}

/*
 * The parent vmsplice()s the range (before or after fork()) and unmaps
 * it; the child writes; the pipe must still hold what the parent had.
 */
static int child_writes(enum cow_kind kind, struct mem *m, char *why, size_t len)
{
	bool before = kind == CK_VMSPLICE_BEFORE_FORK;
	size_t win = window(m);
	int fds[2] = { -1, -1 }, ret = OUT_ERROR, status;
	char *old = backup(m->addr, win, PAT_CHILD), *seen = malloc(win);
	ssize_t n = 0;
	struct kid k;
	pid_t pid;

	if (!old || !seen) {
		step_failed(why, len, "malloc");
		goto free;
	}
	if (before) {
		n = splice_to_pipe(m->addr, win, fds);
		if (n < 0) {
			errno = -n;
			step_failed(why, len, "vmsplice");
			goto close_pipe;
		}
	}
	pid = kid_fork(&k);
	if (pid < 0) {
		step_failed(why, len, "fork");
		goto close_pipe;
	}
	if (!pid) {
		kid_tell_parent(&k, 'r');
		if (kid_wait_parent(&k) < 0)
			_exit(2);
		memset(m->addr, PAT_CHILD, win);
		_exit(0);
	}
	if (!before) {
		n = splice_to_pipe(m->addr, win, fds);
		if (n < 0) {
			errno = -n;
			step_failed(why, len, "vmsplice");
			goto kill_child;
		}
	}
	if (kid_wait_child(&k) < 0) {
		snprintf(why, len, "the child died before it was ready");
		goto kill_child;
	}
	if (munmap(m->addr, m->size)) {
		step_failed(why, len, "munmap");
		goto kill_child;
	}
	status = kid_finish(&k, false);
	if (status) {
		snprintf(why, len, "the child failed (exit status %d)", status);
		goto close_pipe;
	}
	if (read_pipe(fds[0], seen, n)) {
		step_failed(why, len, "reading the pipe");
		goto close_pipe;
	}
	ret = compare("the parent's pipe", seen, old, n) ? OUT_LEAK : OUT_OK;
	if (ret)
		snprintf(why, len, "the child's write leaked into the parent's pipe");
	goto close_pipe;

kill_child:
	kid_finish(&k, true);
close_pipe:
	close_pipe(fds);
free:
	free(seen);
	free(old);
	return ret;
}

/* A write through the private mapping must not show in the other one. */
static int other_mapping(struct mem *m, char *why, size_t len)
{
	size_t win = window(m);
	char *old = backup(m->ro, win, PAT_PARENT);
	int ret;

	if (!old)
		return step_failed(why, len, "malloc");
	memset(m->addr, PAT_PARENT, win);
	ret = compare("the other mapping", m->ro, old, win) ? OUT_LEAK : OUT_OK;
	if (ret)
		snprintf(why, len, "the write to the private mapping shows in the other mapping");
	free(old);
	return ret;
}

static int run_kind(enum cow_kind kind, struct mem *m, char *why, size_t len)
{
	switch (kind) {
	case CK_VMSPLICE_BEFORE_FORK:
	case CK_VMSPLICE_AFTER_FORK:
		return child_writes(kind, m, why, len);
	case CK_OTHER_MAPPING:
		return other_mapping(m, why, len);
	case CK_NR:
		break;
	default:
		return parent_writes(kind, m, why, len);
	}
	snprintf(why, len, "unknown scenario %d", kind);
	return OUT_ERROR;
}

/* What the scenario saw, as an observation. */
static void record(int out, const char *why)
{
	switch (out) {
	case OUT_OK:
		obs_held();
		break;
	case OUT_LEAK:
		obs_broken(SYM_STALE, "%s", why);
		break;
	case OUT_SKIP:
		obs_missed("MADV_COLLAPSE did not collapse the THP", "%s", why);
		break;
	default:
		obs_error(why, 0);
		break;
	}
}

static void cow_observe(const struct pcase *c)
{
	char why[KSFT_REASON_MAX] = "";
	struct mem m;

	if (!mem_setup_obs(&m, c->bk))
		return;
	obs_phase(PH_CHECK);
	record(run_kind((enum cow_kind)c->param, &m, why, sizeof(why)), why);
	obs_phase(PH_TEARDOWN);
	mem_teardown(&m);
}

/* Seconds per case; more for gigantic pages and slow triggers (pcase_add()). */
#define CASE_TIMEOUT	20

/* The case tables ---------------------------------------------------- */

/*
 * A scenario: a COW scenario above (@kind), or with @pin a reliability
 * case; the upstream commits it guards, for the backings the flags name.
 */
struct scenario {
	enum cow_kind kind;
	const struct pin_ops *pin;
	bool writable;
	enum trig_id trig;
	enum pc_prep prep;
	const char *what;
	const struct tagsel *tags;
};

#define COW(k, t)	{ .kind = (k), .tags = (t) }
#define PIN(p, w, t, pr, wh, tg) \
	{ .pin = (p), .writable = (w), .trig = (t), .prep = (pr), .what = (wh), .tags = (tg) }

/* The upstream commits the rows below guard. */
static const struct tagsel cow_ref[] = { { TAG_COW_REFCOUNT, 0, 0 }, { TAG_NONE, 0, 0 } };
static const struct tagsel excl[] = { { TAG_ANON_EXCLUSIVE, 0, 0 }, { TAG_NONE, 0, 0 } };
static const struct tagsel ro_anon[] = { { TAG_RO_PIN_ANON, 0, 0 }, { TAG_NONE, 0, 0 } };
static const struct tagsel ro_anon_excl[] = {
	{ TAG_RO_PIN_ANON, 0, 0 }, { TAG_ANON_EXCLUSIVE, 0, 0 }, { TAG_NONE, 0, 0 }
};
static const struct tagsel ro_cow[] = { { TAG_RO_PIN_COW, 0, 0 }, { TAG_NONE, 0, 0 } };

/* Anonymous memory in private mappings, in the order of the upstream COW selftest. */
static const struct scenario anon_scenarios[] = {
	COW(CK_FORK, NULL),
	COW(CK_FORK_MPROTECT, excl),
	/* CVE-2020-29374: the child's vmsplice() must not see the parent's write. */
	COW(CK_VMSPLICE_CHILD, cow_ref),
	COW(CK_VMSPLICE_CHILD_MPROTECT, cow_ref),
	COW(CK_VMSPLICE_BEFORE_FORK, cow_ref),
	COW(CK_VMSPLICE_AFTER_FORK, cow_ref),
	/* A R/W long-term pin, then a write fault on a R/O PTE. */
	PIN(&pin_iouring, true, TRIG_MPROTECT, PREP_NONE, "io_uring fixed buffer", excl),
	/* The pinned page must not be COW-shared with the child. */
	PIN(&pin_iouring, true, TRIG_FORK_PARENT, PREP_NONE, "io_uring fixed buffer", fork_tags),
	/* A R/O long-term pin must unshare what may be shared. */
	PIN(&pin_gup, false, TRIG_WRITE, PREP_SHARED, "GUP of R/O-mapped shared page", ro_anon),
	PIN(&pin_gup_fast, false, TRIG_WRITE, PREP_SHARED, "GUP-fast of R/O-mapped shared page",
	    ro_anon),
	PIN(&pin_gup, false, TRIG_WRITE, PREP_PREV_SHARED,
	    "GUP of R/O-mapped previously-shared page", ro_anon_excl),
	PIN(&pin_gup_fast, false, TRIG_WRITE, PREP_PREV_SHARED,
	    "GUP-fast of R/O-mapped previously-shared page", ro_anon_excl),
	PIN(&pin_gup, false, TRIG_WRITE, PREP_RO_EXCLUSIVE, "GUP of R/O-mapped exclusive page",
	    excl),
	PIN(&pin_gup_fast, false, TRIG_WRITE, PREP_RO_EXCLUSIVE,
	    "GUP-fast of R/O-mapped exclusive page", excl),
};

/* PTE-mapped PMD-size THP collapsed around fork(). */
static const struct scenario collapse_scenarios[] = {
	COW(CK_COLLAPSE_UNSHARED, NULL),
	COW(CK_COLLAPSE_FULLY, NULL),
	COW(CK_COLLAPSE_LOWER, NULL),
	COW(CK_COLLAPSE_UPPER, NULL),
};

/* Non-anonymous pages in private mappings. */
static const struct scenario nonanon_scenarios[] = {
	COW(CK_OTHER_MAPPING, ro_cow),
	/* Before 84209e87c696 (v6.2) the pin kept the page cache page. */
	PIN(&pin_gup, false, TRIG_WRITE, PREP_NONE, "GUP", ro_pin_tags),
	PIN(&pin_gup_fast, false, TRIG_WRITE, PREP_NONE, "GUP-fast", ro_pin_tags),
};

/* KSM-merged pages are never exclusive: a R/O pin must unshare them. */
static const struct scenario ksm_scenarios[] = {
	PIN(&pin_gup, false, TRIG_WRITE, PREP_NONE, "GUP", ro_pin_tags),
	PIN(&pin_gup_fast, false, TRIG_WRITE, PREP_NONE, "GUP-fast", ro_pin_tags),
};

/* What a R/O-pinned page lives through; the pinned page must stay mapped. */
static const struct scenario event_scenarios[] = {
	PIN(&pin_gup, false, TRIG_FORK_PARENT, PREP_NONE, "GUP", ro_pin_tags),
	PIN(&pin_gup, false, TRIG_KSM, PREP_NONE, "GUP", ro_pin_tags),
	PIN(&pin_gup, false, TRIG_PAGEOUT, PREP_NONE, "GUP", ro_pin_tags),
	PIN(&pin_gup, false, TRIG_MREMAP, PREP_NONE, "GUP", ro_pin_tags),
	PIN(&pin_gup, false, TRIG_MIGRATE, PREP_NONE, "GUP", ro_pin_tags),
};

#define VMSPLICE_HUGETLB \
	"vmsplice() takes a short-term reference and hugetlb COW reuses pages by mapcount: documented as won't fix (upstream COW selftest)"

/* Behaviour upstream documents as intended: a leak seen here is an XFAIL. */
static const struct {
	enum cow_kind kind;
	unsigned int flags;	/* backing flags that must all be set */
	const char *reason;
} xfails[] = {
	{ CK_VMSPLICE_CHILD, BKF_HUGETLB, VMSPLICE_HUGETLB },
	{ CK_VMSPLICE_CHILD_MPROTECT, BKF_HUGETLB, VMSPLICE_HUGETLB },
	{ CK_VMSPLICE_BEFORE_FORK, BKF_HUGETLB, VMSPLICE_HUGETLB },
	{ CK_VMSPLICE_AFTER_FORK, BKF_HUGETLB, VMSPLICE_HUGETLB },
};

static const char *xfail_reason(enum cow_kind kind, const struct backing *bk)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xfails); i++)
		if (xfails[i].kind == kind && backing_is(bk, xfails[i].flags, 0))
			return xfails[i].reason;
	return NULL;
}

static void add_scenario(const struct scenario *sc, const struct backing *bk)
{
	struct pcase c = {
		.pin = sc->pin,
		.writable = sc->writable,
		.bk = bk,
		.tags = tags_select(sc->tags, bk),
	};
	if (sc->pin) {
		c.what = sc->what;
		c.trig = &triggers[sc->trig];
		c.dir = PC_PIN_READS;
		c.prep = sc->prep;
		if (!trigger_applies(c.trig, bk))
			return;
		pincheck_add(&c);
	} else {
		c.prop = kinds[sc->kind].prop;
		c.what = "COW, no long-term pin";
		c.event = kinds[sc->kind].what;
		c.param = sc->kind;
		c.observe = cow_observe;
		c.xfail = xfail_reason(sc->kind, bk);
		c.expect = c.xfail ? EXP_XFAIL : EXP_HOLDS;
		pcase_add(&c, "%s, %s", kinds[sc->kind].what, bk->name);
	}
}
typedef bool (*select_fn)(const struct backing *bk);

static void add_table(const struct scenario *table, size_t n, select_fn select)
{
	const struct backing *const *bks;
	size_t s;
	int i, nr;

	bks = backings(&nr);
	for (s = 0; s < n; s++)
		for (i = 0; i < nr; i++)
			if (select(bks[i]))
				add_scenario(&table[s], bks[i]);
}

/* Every anonymous backing in every state; KSM has its own cases. */
static bool sel_anon(const struct backing *bk)
{
	return backing_is(bk, BKF_PRIVATE | BKF_ANON, BKF_KSM);
}

static bool sel_collapse(const struct backing *bk)
{
	return bk->type == BK_THP_PTE && (bk->flags & BKF_PMD);
}

/* Large shmem folios: one size is enough here, the PMD size. */
static bool plain_file(const struct backing *bk)
{
	if (bk->type == BK_SHMEM_LARGE)
		return bk->flags & BKF_PMD;
	return bk->type != BK_CWD_FILE;
}

static bool sel_nonanon(const struct backing *bk)
{
	return backing_cow_nonanon(bk) && plain_file(bk);
}

static bool sel_ksm(const struct backing *bk)
{
	return bk->type == BK_KSM;
}

/*
 * The plain private backings, anonymous or not.  Without large shmem
 * folios: a R/O pin unshares them into small anonymous pages.
 */
static bool sel_events(const struct backing *bk)
{
	return backing_is(bk, BKF_PRIVATE, BKF_VARIANT) && plain_file(bk) &&
	       bk->type != BK_SHMEM_LARGE;
}

#define ADD_TABLE(t, s)	add_table(t, ARRAY_SIZE(t), s)

static void enumerate(void)
{
	ADD_TABLE(anon_scenarios, sel_anon);
	ADD_TABLE(collapse_scenarios, sel_collapse);
	ADD_TABLE(nonanon_scenarios, sel_nonanon);
	ADD_TABLE(ksm_scenarios, sel_ksm);
	ADD_TABLE(event_scenarios, sel_events);
}

static const struct pinsuite suite = {
	.name = "cow",
	.summary = "COW semantics with pins: fork(), vmsplice(), io_uring fixed buffers and R/O\n"
		   "long-term pins (gup_test) on anonymous memory of every kind, and on the\n"
		   "zeropages, page cache and hugetlb pages in private mappings.",
	.enumerate = enumerate,
	.timeout = CASE_TIMEOUT,
	/* A private hugetlb page, its COW copy and a child's copy. */
	.hugetlb_pages = 3,
};

PINSUITE_MAIN(suite)
