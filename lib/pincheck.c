// SPDX-License-Identifier: GPL-2.0
/*
 * The shared pin reliability check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hints.h"
#include "ksft.h"
#include "observe.h"
#include "pincheck.h"

int pincheck_break;

const struct ksft_break pincheck_breaks[] = {
	{ "dontneed", "zap the mapping behind the pin", &pincheck_break, PC_BREAK_DONTNEED },
	{ "compare", "compare with a stale copy of the mapping", &pincheck_break,
	  PC_BREAK_COMPARE },
	{ NULL, NULL, NULL, 0 },
};

const char *pincheck_property(const struct pincheck *pc)
{
	if (pc->trig->id == TRIG_FORK_CHILD && (pc->bk->flags & BKF_PRIVATE))
		return "No leak from child into parent";
	return pc->writable ? "Longterm R/W pin is reliable" : "Longterm R/O pin is reliable";
}

static void pincheck_case(const struct ksft_case *tc)
{
	pincheck_run(tc->arg);
}

struct ksft_case *pincheck_add(const struct pincheck *pc, const char *what)
{
	return ksft_case_add(pincheck_case, pc, sizeof(*pc), "%s: %s, %s, %s",
			     pincheck_property(pc), what, pc->trig->name, pc->bk->name);
}

/* Which upstream fix a failure of @pc points at. */
static enum hint_id pick_hint(const struct pincheck *pc)
{
	const struct backing *bk = pc->bk;
	enum trig_id t = pc->trig->id;
	bool fork = t == TRIG_FORK_PARENT || t == TRIG_FORK_CHILD;

	if (!pc->writable && backing_cow_nonanon(bk))
		return HINT_RO_PIN_COW;
	if (pc->pin == &pin_iouring && (bk->flags & BKF_PARTIAL))
		return HINT_IOURING_COALESCE;
	if (fork && (bk->flags & BKF_HUGETLB))
		return HINT_FORK_EARLY_COW_HUGETLB;
	if (fork)
		return HINT_FORK_EARLY_COW;
	if (!pc->writable && (bk->flags & BKF_ANON))
		return HINT_RO_PIN_ANON;
	if (t == TRIG_MPROTECT && (bk->flags & BKF_ANON))
		return HINT_ANON_EXCLUSIVE;
	return HINT_NONE;
}

static void diag_pfns(const struct pin *p, const char *view)
{
	unsigned long now = pagemap_pfn(view);

	if (p->pfn || now)
		ksft_print_msg("PFN of the first page: 0x%lx when pinned, 0x%lx mapped now%s\n",
			       p->pfn, now, p->pfn == now ? "" : " (different page)");
}

static int report_diff(const struct pincheck *pc, const struct pin *p, const char *seen,
		       const char *view, ssize_t off, const char *how)
{
	bool wrote = how == p->ops->writer;

	ksft_print_msg("%s: at offset 0x%zx the pin %s 0x%02x, the mapping holds 0x%02x\n",
		       how, (size_t)off, wrote ? "wrote" : "reads",
		       (unsigned char)seen[off], (unsigned char)view[off]);
	diag_pfns(p, view);
	hint_print(pick_hint(pc));
	return KSFT_FAIL;
}

/* First difference of @a and @b within the parts of @p that were moved, or -1. */
static ssize_t extent_diff(const struct pin *p, const char *a, const char *b)
{
	struct pin_extent ext[PIN_MAX_EXTENTS];
	int i, n = pin_extents(p, ext);
	ssize_t off;

	for (i = 0; i < n; i++) {
		off = first_diff(a + ext[i].off, b + ext[i].off, ext[i].len);
		if (off >= 0)
			return (ssize_t)ext[i].off + off;
	}
	return -1;
}

/* A mechanism that sees pages, not bytes: are the pinned pages the mapped ones? */
static int compare_pages(const struct pincheck *pc, struct pin *p, const char *view)
{
	char diag[KSFT_REASON_MAX] = "";
	int ret = p->ops->check(p, view, diag, sizeof(diag));

	if (ret < 0) {
		ksft_print_msg("checking the pin (%s) failed: %s\n", p->ops->reader,
			       strerror(-ret));
		return KSFT_FAIL;
	}
	if (!ret)
		return KSFT_PASS;
	ksft_print_msg("%s: %s\n", p->ops->reader, diag);
	diag_pfns(p, view);
	hint_print(pick_hint(pc));
	return KSFT_FAIL;
}

/*
 * Read through the pin and compare with what the mapping holds, or write
 * through the pin and look for the bytes in the mapping.
 */
static int compare_dir(const struct pincheck *pc, struct pin *p, struct trig_state *ts,
		       const char *stale, bool write)
{
	const char *view = pincheck_break == PC_BREAK_COMPARE ? stale : ts->view;
	const char *how = write ? p->ops->writer : p->ops->reader;
	char *buf;
	ssize_t off;
	int ret;

	if (p->ops->check)
		return compare_pages(pc, p, view);
	buf = malloc(ts->len);
	if (!buf) {
		ksft_print_msg("malloc failed\n");
		return KSFT_FAIL;
	}
	if (write) {
		memset(buf, PAT_DEVICE, ts->len);
		ret = p->ops->write(p, buf);
	} else {
		ret = p->ops->read(p, buf);
	}
	if (ret) {
		ksft_print_msg("%s through the pin (%s) failed: %s\n",
			       write ? "writing" : "reading", how, strerror(-ret));
		free(buf);
		return KSFT_FAIL;
	}
	off = extent_diff(p, buf, view);
	ret = off < 0 ? KSFT_PASS : report_diff(pc, p, buf, view, off, how);
	free(buf);
	return ret;
}

/* The mapping must hold what the trigger left in it. */
static int check_mapping(const struct pincheck *pc, struct trig_state *ts)
{
	ssize_t off = first_not(ts->view, ts->expect, ts->len);

	if (off < 0)
		return KSFT_PASS;
	if (pc->trig->id == TRIG_FORK_CHILD && ts->expect != PAT_CHILD &&
	    (unsigned char)ts->view[off] == PAT_CHILD)
		ksft_print_msg("the child's write leaked into the parent at offset 0x%zx\n",
			       (size_t)off);
	else
		ksft_print_msg("the mapping holds 0x%02x at offset 0x%zx, expected 0x%02x\n",
			       (unsigned char)ts->view[off], (size_t)off, ts->expect);
	hint_print(pick_hint(pc));
	return KSFT_FAIL;
}

static int pin_failed(const struct pincheck *pc, int err)
{
	if (err == -ENOMEM)
		ksft_case_skip("%s pin failed with ENOMEM (RLIMIT_MEMLOCK? memory?)",
			       pc->pin->name);
	else if (pc->pin->unsupported && err == -pc->pin->unsupported)
		ksft_case_skip("%s pin failed with %s: not supported by this kernel",
			       pc->pin->name, strerror(-err));
	else
		ksft_case_fail("pinning through %s failed: %s", pc->pin->name, strerror(-err));
	return -1;
}

/* Bring the pages into the state @pc->prep asks for, before the pin. */
static int prepare(const struct pincheck *pc, struct mem *m, struct kid *k)
{
	pid_t pid;

	if (pc->prep == PREP_NONE)
		return 0;
	if (pc->prep == PREP_RO_MAPPED)
		return mprotect(m->addr, m->size, PROT_READ) ? -errno : 0;
	if (pc->prep == PREP_RO_EXCLUSIVE) {
		/* Soft-dirty tracking keeps mprotect() from upgrading the PTEs. */
		if (mprotect(m->addr, m->size, PROT_READ) ||
		    write_file("/proc/self/clear_refs", "4") ||
		    mprotect(m->addr, m->size, PROT_READ | PROT_WRITE))
			return -errno;
		return 0;
	}
	pid = kid_fork(k);
	if (pid < 0)
		return -errno;
	if (!pid) {
		kid_tell_parent(k, 'r');
		kid_wait_parent(k);
		_exit(0);
	}
	if (kid_wait_child(k) < 0)
		return -ECHILD;
	if (pc->prep == PREP_PREV_SHARED && kid_finish(k, false))
		return -ECHILD;
	return 0;
}

static int checked(const struct pincheck *pc, struct mem *m, struct pin *p)
{
	char why[KSFT_REASON_MAX], *stale = NULL;
	size_t len = m->size < PINCHECK_WINDOW ? m->size : PINCHECK_WINDOW;
	struct kid prep_kid = { .pid = 0 };
	struct trig_state ts;
	int ret;

	ret = prepare(pc, m, &prep_kid);
	if (ret) {
		ksft_case_fail("preparing the pages: %s", strerror(-ret));
		return -1;
	}
	ret = pin_take(p, pc->pin, m->addr, len, pc->writable);
	if (ret) {
		pin_failed(pc, ret);
		goto release;
	}
	if (pc->prep == PREP_RO_MAPPED &&
	    mprotect(m->addr, m->size, PROT_READ | PROT_WRITE)) {
		ksft_case_fail("mprotect(PROT_READ|PROT_WRITE) after the pin: %s", strerror(errno));
		goto release;
	}
	if (pincheck_break == PC_BREAK_COMPARE) {
		/* Page aligned: page-checking mechanisms look at its pages. */
		if (posix_memalign((void **)&stale, page_size(), len))
			stale = NULL;
		if (stale)
			memcpy(stale, m->addr, len);
	}
	if (pincheck_break == PC_BREAK_DONTNEED &&
	    madvise(m->addr, (m->bk->flags & BKF_HUGETLB) ? m->size : len, MADV_DONTNEED))
		ksft_print_msg("selftest break: MADV_DONTNEED: %s\n", strerror(errno));
	ret = trigger_run(pc->trig, m, len, &ts, why, sizeof(why));
	if (ret) {
		ksft_case_result(ret, "%s", why);
		goto finish;
	}
	if (*ts.note)
		ksft_print_msg("%s\n", ts.note);
	ret = check_mapping(pc, &ts);
	if (!ret && pc->dir != PC_PIN_WRITES)
		ret = compare_dir(pc, p, &ts, stale ? stale : ts.view, false);
	/* Both directions are looked at, even when the first one failed. */
	if (pc->dir != PC_PIN_READS && (!ret || pc->dir == PC_PIN_BOTH))
		ret |= compare_dir(pc, p, &ts, stale ? stale : ts.view, true);
	ksft_case_result(ret ? KSFT_FAIL : KSFT_PASS, NULL);
finish:
	trigger_finish(&ts);
	free(stale);
release:
	if (prep_kid.pid > 0)
		kid_finish(&prep_kid, false);
	return 0;
}

void pincheck_run(const struct pincheck *pc)
{
	const struct need *needs[] = { &pc->pin->need, &pc->bk->need, &pc->trig->need };
	struct pin p = { .fd = -1 };
	struct mem m;

	if (!mem_setup_case(&m, pc->bk, needs, ARRAY_SIZE(needs)))
		return;
	checked(pc, &m, &p);
	pin_drop(&p);
	mem_teardown(&m);
}
