// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "observe.h"
#include "pinreq.h"
#include "release.h"
#include "util.h"

int release_break_leak;

static void pause_20ms(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

void release_before(struct release *r, const char *field, char *pages, size_t len)
{
	r->field = field;
	r->field_base = field ? proc_status_kb(field) : -1;
	r->pages = pages;
	r->len = len;
	r->pages_seen = false;
	r->sys_quiet = pins_quiet(&r->sys_base);
}

/* How many of the first and the last page of @len at @pages are pinned, or -1. */
static int probe_pages(char *pages, size_t len)
{
	int a = anon_page_pinned(pages);
	int b = anon_page_pinned(pages + len - page_size());

	if (a < 0 || b < 0)
		return -1;
	return a + b;
}

void release_pinned(struct release *r)
{
	r->field_pinned = r->field ? proc_status_kb(r->field) : -1;
	/* The probe counts only if it sees the pin while it is there. */
	r->pages_seen = r->pages && probe_pages(r->pages, r->len) == 2;
}

/* The machine's count back at its base, waiting a moment for late releases. */
static bool sys_back(struct release *r, long *now)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (!pins_outstanding(now))
			return false;
		if (*now == r->sys_base)
			return true;
		pause_20ms();
	}
	return false;
}

void release_after(struct release *r, const char *how)
{
	long field = r->field ? proc_status_kb(r->field) : -1, sys = 0;
	int witnesses = 0, pages = -1;
	bool sys_ok = false;
	char what[256] = "";

	if (r->field && r->field_base >= 0 && r->field_pinned > r->field_base) {
		witnesses++;
		ksft_print_msg("%s %ld -> %ld -> %ld kB %s\n", r->field, r->field_base,
			       r->field_pinned, field, how);
		if (field != r->field_base)
			snprintf(what, sizeof(what), "%s stays %+ld kB above its value before the pin %s",
				 r->field, field - r->field_base, how);
	}
	if (r->pages_seen) {
		witnesses++;
		pages = probe_pages(r->pages, r->len);
		ksft_print_msg("pages still pinned by fork()'s test %s: %d of 2\n", how,
			       pages < 0 ? 0 : pages);
		if (pages != 0 && !*what)
			snprintf(what, sizeof(what), "fork() still copies the pinned pages for a child %s: they are still pinned",
				 how);
	}
	if (r->sys_quiet) {
		sys_ok = sys_back(r, &sys);
		/* Counted only when nothing else moved the count meanwhile. */
		if (sys_ok || pins_quiet(&sys)) {
			witnesses++;
			ksft_print_msg("FOLL_PIN pins outstanding on the machine: %ld before, %ld %s\n",
				       r->sys_base, sys, how);
			if (!sys_ok && !*what)
				snprintf(what, sizeof(what), "%ld FOLL_PIN pins more are outstanding on the otherwise quiet machine %s",
					 sys - r->sys_base, how);
		}
	}
	if (*what)
		obs_broken(SYM_KEPT, "%s", what);
	else if (!witnesses)
		obs_unmet("no witness of this pin's release (no charge, no private anonymous pages, FOLL_PIN counters unreadable or busy)",
			  "%s", "");
	else
		obs_held();
}

/* The observers ---------------------------------------------------------- */

/* A released case's pin: taken with pin_take(), or in stages. */
struct hold {
	const struct pinreq_ops *staged;	/* NULL: pin_take() */
	struct pin pin;
	struct pinreq req;
};

static int hold_open(struct hold *h, const struct pcase *c, bool record)
{
	char why[KSFT_REASON_MAX];
	int ret;

	if (!h->staged)
		return 0;
	ret = pinreq_open(&h->req, h->staged, c->writable, why, sizeof(why));
	if (ret && record)
		obs_error(why, 0);
	return ret;
}

/* Pin @len bytes at @addr; on failure the hold is closed (and with @record, recorded). */
static int hold_pin(struct hold *h, const struct pcase *c, char *addr, size_t len, bool record)
{
	int ret;

	if (!h->staged) {
		ret = pin_take(&h->pin, c->pin, addr, len, c->writable);
		if (ret && record) {
			obs_pin(c->pin, len, ret);
			if (ret == PIN_STUCK)
				case_abandon();
		}
		return ret;
	}
	ret = pinreq_request(&h->req, addr, len);
	if (ret) {
		if (record)
			obs_call(h->staged->call, ret, c->pin->charges_memlock, len);
		pinreq_close(&h->req);
	}
	return ret;
}

/* Let go of the pin (the release under test). */
static void hold_unpin(struct hold *h)
{
	if (h->staged)
		pinreq_undo(&h->req);
	else
		pin_drop(&h->pin);
}

static void hold_close(struct hold *h)
{
	if (h->staged)
		pinreq_close(&h->req);
	else
		pin_drop(&h->pin);
}

/*
 * A mechanism whose worker unpins late: let the machine's count settle
 * from earlier cases before taking its base (root).
 */
static void settle(const struct pinreq_ops *staged)
{
	long n;
	int i;

	for (i = 0; i < 50 && staged && staged->unpinned_late && platform()->root &&
	     !pins_quiet(&n); i++)
		pause_20ms();
}

/*
 * ... and wait for the worker to unpin @p's pages after the release, as
 * long as fork()'s test can tell (@p: the private anonymous pages that
 * release_before() probes, or NULL).  Without it, release_after()'s wait
 * for the machine's count is the only one.
 */
static void wait_unpinned(const struct pinreq_ops *staged, char *p, size_t len)
{
	int i;

	for (i = 0; i < 100 && p && staged && staged->unpinned_late; i++) {
		if (probe_pages(p, len) <= 0)
			return;
		pause_20ms();
	}
}

void release_unpin(const struct pcase *c, const struct pinreq_ops *req,
		   const struct pinreq_ops *staged, const char *how)
{
	/* The staged request, or else @req, says whether a worker unpins late. */
	const struct pinreq_ops *late = staged ? staged : req;
	struct hold h = { .staged = staged };
	size_t len = RELEASE_PAGES * page_size();
	char *addr, *pages;
	struct release r;
	struct mem m;

	if (c->bk) {
		if (!mem_setup_obs(&m, c->bk))
			return;
		addr = m.addr;
		len = m.size < BACKING_WINDOW ? m.size : BACKING_WINDOW;
		/*
		 * fork() can tell whether private anonymous pages are pinned -
		 * but not cheaply for gigantic ones, whose copy for the child
		 * takes a page of the pool and seconds under emulation.
		 */
		pages = backing_is(c->bk, BKF_PRIVATE | BKF_ANON, 0) &&
			c->bk->size <= platform()->pmd_size ? addr : NULL;
	} else {
		addr = anon_pages(len, true);
		if (!addr) {
			obs_error("mmap", errno);
			return;
		}
		pages = addr;
	}
	if (hold_open(&h, c, true))
		goto teardown;
	settle(late);
	release_before(&r, req ? req->charge : NULL, pages, len);
	obs_phase(PH_PIN);
	if (hold_pin(&h, c, addr, len, true))
		goto teardown;
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (!release_break_leak) {
		hold_unpin(&h);
		wait_unpinned(late, pages, len);
	} else {
		ksft_print_msg("selftest break: the pin is kept\n");
	}
	release_after(&r, how);
	hold_close(&h);
teardown:
	if (c->bk)
		mem_teardown(&m);
	else
		munmap(addr, len);
}

void release_exit(const struct pcase *c, const struct pinreq_ops *staged)
{
	struct hold h = { .staged = staged };
	size_t len = RELEASE_PAGES * page_size();
	struct release r;
	struct kid k;
	pid_t pid;
	char *p;

	settle(staged);
	release_before(&r, NULL, NULL, 0);
	pid = kid_fork(&k);
	if (pid < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!pid) {
		/* Pinned, and never let go of. */
		p = anon_pages(len, true);
		kid_tell_parent(&k, p && !hold_open(&h, c, false) &&
				!hold_pin(&h, c, p, len, false) ? 'p' : 'e');
		kid_wait_parent(&k);
		_exit(0);
	}
	obs_phase(PH_PIN);
	if (kid_wait_child(&k) != 'p') {
		kid_finish(&k, true);
		obs_error("pinning in the child", EIO);
		return;
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (release_break_leak) {
		ksft_print_msg("selftest break: looking before the child exits\n");
		release_after(&r, "while the child still holds its pin");
		kid_finish(&k, false);
		return;
	}
	kid_finish(&k, false);
	release_after(&r, "after the pinning process exited");
}

void release_unpin_observe(const struct pcase *c)
{
	const struct pin_account *a = c->ext;

	release_unpin(c, a->req, a->staged ? a->req : NULL, a->unpinned);
}

void release_exit_observe(const struct pcase *c)
{
	const struct pin_account *a = c->ext;

	release_exit(c, a->staged ? a->req : NULL);
}

void release_add(const struct pin_account *a)
{
	struct pcase c = {
		.prop = P_RELEASED,
		.pin = a->pin,
		.writable = true,
		.observe = release_unpin_observe,
		.ext = a,
	};

	if (a->unpinned)
		pcase_add(&c, "%s, pins gone %s", a->what, a->unpinned);
	if (!a->on_exit)
		return;
	c.observe = release_exit_observe;
	pcase_add(&c, "%s, pins gone when the registering process exits", a->what);
}
