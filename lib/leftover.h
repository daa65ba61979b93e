/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a pin request that failed (or was refused) left behind: nothing may
 * stay pinned and nothing charged.  The witnesses, each used only where it
 * can see this request:
 *
 *   the charge       VmPin and VmLck of the process, back at their values
 *                    before the request (io_uring, VFIO, iommufd charge);
 *   the pages        private anonymous pages of the range that fork() would
 *                    have to copy if they were pinned (anon_page_pinned());
 *   the machine      nr_foll_pin_acquired - nr_foll_pin_released back where
 *                    it was, when nothing else on the machine pins (root).
 *
 * lib/release.h does the same for pins that were taken and then released.
 */
#ifndef PINSUITE_LEFTOVER_H
#define PINSUITE_LEFTOVER_H

#include <stdbool.h>
#include <stddef.h>

struct leftover {
	long vmpin, vmlck;
	bool sys_quiet;
	long sys_base;
	char *pages[2];		/* anonymous pages to ask fork() about, or NULL */
};

/* Before the request; @pages: up to two private anonymous pages of the range. */
void leftover_before(struct leftover *l, char *page0, char *page1);

/*
 * After it: 0 when no witness saw anything left, 1 when one did (what, in
 * @what), -1 when no witness could look.  A witness that sees something
 * is asked again for up to @wait_ms (a ring, container or socket torn down
 * asynchronously).
 */
int leftover_after(struct leftover *l, unsigned int wait_ms, char *what, size_t len);

#endif /* PINSUITE_LEFTOVER_H */
