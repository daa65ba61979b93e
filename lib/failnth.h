/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection at every step of one call, as upstream's
 * iommufd_fail_nth does: /proc/thread-self/fail-nth = N makes the N-th
 * fault injection point the calling thread passes fail (a slab or page
 * allocation with FAILSLAB / FAIL_PAGE_ALLOC, a user copy with
 * FAULT_INJECTION_USERCOPY), once.  Run the call with N = 1, 2, ... until
 * it passes all its points without the fault firing.
 *
 * By default failslab and fail_page_alloc ignore allocations that may
 * sleep, which are most of them; failnth_prepare() lets them fail too
 * (debugfs attributes, through sysstate).
 */
#ifndef PINSUITE_FAILNTH_H
#define PINSUITE_FAILNTH_H

#include <stdbool.h>

/* need.check: why fail-nth cannot be used here, or NULL. */
const char *failnth_unavailable(void);

/* Let sleeping allocations fail.  0 or -errno. */
int failnth_prepare(void);

/* Fail the @n-th injection point from now on, in this thread.  0 or -errno. */
int failnth_arm(unsigned int n);

/*
 * Stop injecting; true when the fault fired (the call met its @n-th
 * point), false when the call passed fewer points.
 */
bool failnth_disarm(void);

#endif /* PINSUITE_FAILNTH_H */
