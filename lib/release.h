/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Are the pins a case took released?  Judged from what the case itself
 * pinned, by every witness at hand:
 *
 *   the mechanism's own charge   VmPin (io_uring, iommufd) or VmLck (VFIO
 *                                type1) of the process back at its value
 *                                before the pin;
 *   the pages themselves         private anonymous pages that fork() had
 *                                to copy while pinned are shared again
 *                                (anon_page_pinned());
 *   the machine's counters       nr_foll_pin_* back where they were - only
 *                                as root and only while nothing else on the
 *                                machine pins or unpins (pins_quiet()).
 *
 * A witness that cannot see this pin is left out; with none left the case
 * cannot be judged (SKIP); any witness that sees a pin still held is a
 * failure.
 */
#ifndef PINSUITE_RELEASE_H
#define PINSUITE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

struct release {
	const char *field;	/* "VmPin", "VmLck" or NULL */
	long field_base;
	long field_pinned;
	char *pages;		/* private anonymous pages that get pinned, or NULL */
	size_t len;
	bool pages_seen;	/* the page probe saw them pinned */
	bool sys_quiet;
	long sys_base;
};

/* Before the pin. */
void release_before(struct release *r, const char *field, char *pages, size_t len);
/* While pinned: do the witnesses see the pin? */
void release_pinned(struct release *r);
/* After the release: record OBS_HELD, OBS_BROKEN or OBS_UNMET. */
void release_after(struct release *r, const char *how);

/* The observers ---------------------------------------------------------- */

struct pcase;
struct pinreq_ops;
struct pin_account;

/* Pages a released case pins when its record names no backing. */
#define RELEASE_PAGES	64

/* --selftest-break leak: the binaries' break tables point here. */
extern int release_break_leak;

/*
 * Pins gone after unpinning: the pin of @c on its backing (the first
 * BACKING_WINDOW bytes) or, without one, on RELEASE_PAGES anonymous base
 * pages, then let go of; @how is said of the witnesses ("after
 * unpinning").  The pin is taken with pin_take() and the record's pin_ops,
 * or with @staged, in stages: opened first, undone for the release, closed
 * after the witnesses looked.  @req's charge is the charge witness.
 */
void release_unpin(const struct pcase *c, const struct pinreq_ops *req,
		   const struct pinreq_ops *staged, const char *how);

/*
 * Pins gone when the pinning process exits: a child pins RELEASE_PAGES
 * pages (as above) and exits holding them.  Only the machine's FOLL_PIN
 * counters see another process's pins.
 */
void release_exit(const struct pcase *c, const struct pinreq_ops *staged);

/* The observers of release_add()'s cases (pcase.ext: struct pin_account). */
void release_unpin_observe(const struct pcase *c);
void release_exit_observe(const struct pcase *c);

/*
 * Register "<what>, pins gone <unpinned>" and, with @a->on_exit, "<what>,
 * pins gone when the registering process exits".
 */
void release_add(const struct pin_account *a);

#endif /* PINSUITE_RELEASE_H */
