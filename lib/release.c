// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <time.h>

#include "case.h"
#include "observe.h"
#include "release.h"
#include "util.h"

void release_before(struct release *r, const char *field, char *pages, size_t len)
{
	r->field = field;
	r->field_base = field ? proc_status_kb(field) : -1;
	r->pages = pages;
	r->len = len;
	r->pages_seen = false;
	r->sys_quiet = pins_quiet(&r->sys_base);
}

/* The first and the last page are the ones the probe asks about. */
static int probe_pages(struct release *r)
{
	int a = anon_page_pinned(r->pages);
	int b = anon_page_pinned(r->pages + r->len - page_size());

	if (a < 0 || b < 0)
		return -1;
	return a + b;
}

void release_pinned(struct release *r)
{
	r->field_pinned = r->field ? proc_status_kb(r->field) : -1;
	/* The probe counts only if it sees the pin while it is there. */
	r->pages_seen = r->pages && probe_pages(r) == 2;
}

/* The machine's count back at its base, waiting a moment for late releases. */
static bool sys_back(struct release *r, long *now)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 50; i++) {
		if (!pins_outstanding(now))
			return false;
		if (*now == r->sys_base)
			return true;
		nanosleep(&ts, NULL);
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
		pages = probe_pages(r);
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
