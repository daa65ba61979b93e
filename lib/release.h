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

#endif /* PINSUITE_RELEASE_H */
