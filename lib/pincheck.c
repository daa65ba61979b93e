// SPDX-License-Identifier: GPL-2.0
/*
 * The shared pin reliability observation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ksft.h"
#include "observe.h"
#include "pincheck.h"

int pincheck_break;

const struct ksft_break pincheck_breaks[] = {
	{ "dontneed", "zap the mapping behind the pin", &pincheck_break, PC_BREAK_DONTNEED },
	{ "compare", "compare with a stale copy of the mapping", &pincheck_break,
	  PC_BREAK_COMPARE },
	{ "unpin", "unpin before KSM, collapse, reclaim, migration: the page must move",
	  &pincheck_break, PC_BREAK_UNPIN },
	{ NULL, NULL, NULL, 0 },
};

enum property pincheck_property(const struct pcase *c)
{
	if (c->trig->id == TRIG_FORK_CHILD && (c->bk->flags & BKF_PRIVATE))
		return P_NO_LEAK_TO_PARENT;
	return c->writable ? P_RW_RELIABLE : P_RO_RELIABLE;
}

struct ksft_case *pincheck_add(const struct pcase *c)
{
	struct pcase pc = *c;

	pc.prop = pincheck_property(c);
	if (!pc.observe)
		pc.observe = pincheck_observe;
	return pcase_add(&pc, "%s, %s, %s", c->what, c->trig->name, c->bk->name);
}

/* A write fault on a R/O-mapped exclusive page must reuse it (v5.19). */
static const struct tagsel exclusive_tags[] = {
	{ TAG_ANON_EXCLUSIVE, BKF_PRIVATE | BKF_ANON, 0 },
	{ TAG_NONE, 0, 0 },
};

static const struct tagsel *trigger_tags(enum trig_id id)
{
	switch (id) {
	case TRIG_MPROTECT:
		return exclusive_tags;
	case TRIG_FORK_PARENT:
	case TRIG_FORK_CHILD:
		return fork_tags;
	default:
		return NULL;
	}
}

static void matrix_add_one(const struct pin_matrix *m, struct pcase *c)
{
	const struct backing *bk = c->bk;
	unsigned int trigs = c->writable ? m->rw_trigs : m->ro_trigs;

	if (bk != m->extra) {
		if ((bk->flags & BKF_VARIANT) || !trigger_applies(c->trig, bk))
			return;
		if (c->writable && backing_is(bk, BKF_SHARED | BKF_DISK, 0))
			return;
	}
	if (!trigs)
		trigs = TRIGS_ALL;
	if (m->bk_trigs)
		trigs &= m->bk_trigs(bk, c->writable);
	if (!(trigs & TRIG_BIT(c->trig->id)))
		return;
	c->tags = tags_select(m->tags, bk) | tags_select(trigger_tags(c->trig->id), bk);
	if (!c->writable)
		c->tags |= tags_select(ro_pin_tags, bk);
	c->need = m->need ? m->need(bk) : (struct need){ 0 };
	c->observe = m->observe;
	pincheck_add(c);
}

void pincheck_add_matrix(const struct pin_matrix *m)
{
	const struct backing *const *bks;
	struct pcase c = { .pin = m->pin };
	int w, t, i, nr;

	bks = backings(&nr);
	for (w = 0; w < 2; w++) {
		c.writable = w;
		c.what = w ? m->rw_what : m->ro_what;
		c.dir = w ? m->rw_dir : PC_PIN_READS;
		if (!c.what)
			continue;
		for (t = 0; t < TRIG_NR; t++) {
			if (!(TRIGS_ALL & TRIG_BIT(t)))
				continue;
			c.trig = &triggers[t];
			for (i = 0; i < nr; i++) {
				c.bk = bks[i];
				matrix_add_one(m, &c);
			}
			if (m->extra) {
				c.bk = m->extra;
				matrix_add_one(m, &c);
			}
		}
	}
}

static void diag_pfns(const struct pin *p, const char *view)
{
	unsigned long now = pagemap_pfn(view);

	if (p->pfn || now)
		ksft_print_msg("PFN of the first page: 0x%lx when pinned, 0x%lx mapped now%s\n",
			       p->pfn, now, p->pfn == now ? "" : " (different page)");
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

/*
 * Read through the pin and compare with what the mapping holds, or write
 * through the pin and look for the bytes in the mapping.  0 when they
 * agree, 1 when they do not (what differs in @what), -1 when a step
 * failed (recorded).
 */
static int compare_dir(struct pin *p, const char *view, size_t len, bool write,
		       const char *mapping, char *what, size_t wlen)
{
	const char *how = write ? p->ops->writer : p->ops->reader;
	char *buf;
	ssize_t off;
	int ret;

	if (p->ops->check) {
		ret = p->ops->check(p, view, what, wlen);
		if (ret < 0) {
			obs_error(p->ops->reader, -ret);
			return -1;
		}
		return ret;
	}
	buf = malloc(len);
	if (!buf) {
		obs_error("malloc", ENOMEM);
		return -1;
	}
	if (write) {
		memset(buf, PAT_DEVICE, len);
		ret = p->ops->write(p, buf);
	} else {
		ret = p->ops->read(p, buf);
	}
	if (ret) {
		obs_error(how, -ret);
		free(buf);
		return -1;
	}
	off = extent_diff(p, buf, view);
	if (off >= 0)
		snprintf(what, wlen, "%s: at offset 0x%zx the pin %s 0x%02x, %s holds 0x%02x",
			 how, (size_t)off, write ? "wrote" : "reads", (unsigned char)buf[off], mapping,
			 (unsigned char)view[off]);
	free(buf);
	return off >= 0;
}

/* The mapping must hold what the trigger left in it; 1 with @what if not. */
static int check_mapping(const struct pcase *c, const struct trig_state *ts, const char *mapping,
			 char *what, size_t wlen)
{
	ssize_t off = first_not(ts->view, ts->expect, ts->len);

	if (off < 0)
		return 0;
	if (c->trig->id == TRIG_FORK_CHILD && ts->expect != PAT_CHILD &&
	    (unsigned char)ts->view[off] == PAT_CHILD)
		snprintf(what, wlen, "the child's write leaked into the parent at offset 0x%zx",
			 (size_t)off);
	else
		snprintf(what, wlen, "%s holds 0x%02x at offset 0x%zx, expected 0x%02x", mapping,
			 (unsigned char)ts->view[off], (size_t)off, ts->expect);
	return 1;
}

/* Bring the pages into the state @c->prep asks for, before the pin. */
static int prepare(const struct pcase *c, struct mem *m, struct kid *k)
{
	pid_t pid;

	obs_phase(PH_PREPARE);
	switch (c->prep) {
	case PREP_NONE:
		return 0;
	case PREP_RO_MAPPED:
		if (mprotect(m->addr, m->size, PROT_READ))
			goto failed;
		return 0;
	case PREP_RO_EXCLUSIVE:
		/* Soft-dirty tracking keeps mprotect() from upgrading the PTEs. */
		if (mprotect(m->addr, m->size, PROT_READ) ||
		    write_file("/proc/self/clear_refs", "4") ||
		    mprotect(m->addr, m->size, PROT_READ | PROT_WRITE))
			goto failed;
		return 0;
	case PREP_SHARED:
	case PREP_PREV_SHARED:
		break;
	}
	pid = kid_fork(k);
	if (pid < 0)
		goto failed;
	if (!pid) {
		kid_tell_parent(k, 'r');
		kid_wait_parent(k);
		_exit(0);
	}
	if (kid_wait_child(k) < 0 || (c->prep == PREP_PREV_SHARED && kid_finish(k, false))) {
		errno = ECHILD;
		goto failed;
	}
	return 0;
failed:
	obs_error("preparing the pages", errno ? errno : EIO);
	return -1;
}

/*
 * Compare in the directions the case asks for; both are looked at even
 * when the first one differs.  Records OBS_BROKEN, or an error.
 */
static void compare(const struct pcase *c, struct pin *p, const struct trig_state *ts,
		    const char *view, const char *mapping)
{
	char what[2][KSFT_REASON_MAX] = { "", "" };
	int r = 0, w = 0;

	obs_phase(PH_CHECK);
	if (check_mapping(c, ts, mapping, what[0], sizeof(what[0]))) {
		obs_broken(SYM_STALE, "%s", what[0]);
		return;
	}
	if (c->dir != PC_PIN_WRITES) {
		r = compare_dir(p, view, ts->len, false, mapping, what[0], sizeof(what[0]));
		if (r < 0)
			return;
	}
	if (c->dir != PC_PIN_READS && !p->ops->check && (!r || c->dir == PC_PIN_BOTH)) {
		w = compare_dir(p, view, ts->len, true, mapping, what[1], sizeof(what[1]));
		if (w < 0)
			return;
	}
	if (!r && !w)
		return;
	obs_broken(SYM_STALE, "%s", r ? what[0] : what[1]);
	if (r && w)
		ksft_print_msg("%s\n", what[1]);
	diag_pfns(p, ts->view);
}

/* --selftest-break dontneed on a plain mapping. */
static void zap_mapping(const struct mem *m, size_t len)
{
	if (madvise(m->addr, len, MADV_DONTNEED))
		ksft_print_msg("selftest break: MADV_DONTNEED: %s\n", strerror(errno));
}

static const struct pincheck_via plain = {
	.mapping = "the mapping",
	.zap = zap_mapping,
};

void pincheck_observe_mem(const struct pcase *c, struct mem *m, const struct pincheck_via *via)
{
	struct kid prep_kid = { .pid = 0 };
	struct pin p = { .fd = -1 };
	struct trig_state ts;
	char *stale = NULL;
	bool triggered = false;
	size_t len;
	int ret;

	if (!via)
		via = &plain;
	len = m->size < PINCHECK_WINDOW ? m->size : PINCHECK_WINDOW;
	if (prepare(c, m, &prep_kid))
		goto release;
	obs_phase(PH_PIN);
	ret = pin_take(&p, c->pin, m->addr, len, c->writable);
	if (ret) {
		obs_pin(c->pin, len, ret);
		if (ret == PIN_STUCK)
			case_abandon();
		goto release;
	}
	if (c->prep == PREP_RO_MAPPED && mprotect(m->addr, m->size, PROT_READ | PROT_WRITE)) {
		obs_error("mprotect(PROT_READ|PROT_WRITE) after the pin", errno);
		goto release;
	}
	if (pincheck_break == PC_BREAK_COMPARE) {
		/* Page aligned: page-checking mechanisms look at its pages. */
		if (posix_memalign((void **)&stale, page_size(), len))
			stale = NULL;
		if (stale)
			memcpy(stale, m->addr, len);
	}
	if (pincheck_break == PC_BREAK_DONTNEED)
		via->zap(m, (m->bk->flags & BKF_HUGETLB) ? m->size : len);
	if (pincheck_break == PC_BREAK_UNPIN && c->trig->promise) {
		ksft_print_msg("selftest break: unpinned before the trigger\n");
		pin_drop(&p);
	}
	triggered = true;
	/* With the pin dropped by the break there is nothing to compare through. */
	if (!trigger_run(c->trig, m, len, &ts) && p.pinned)
		compare(c, &p, &ts, stale ? stale : ts.view, via->mapping);
release:
	obs_phase(PH_RELEASE);
	pin_drop(&p);
	/* It held: could the trigger's event have happened to these pages at all? */
	if (triggered && !obs_recorded() && trigger_control(&ts))
		obs_held();
	if (triggered)
		trigger_finish(&ts);
	free(stale);
	if (prep_kid.pid > 0)
		kid_finish(&prep_kid, false);
}

void pincheck_observe(const struct pcase *c)
{
	struct mem m;

	if (!mem_setup_obs(&m, c->bk))
		return;
	pincheck_observe_mem(c, &m, NULL);
	obs_phase(PH_TEARDOWN);
	mem_teardown(&m);
}
