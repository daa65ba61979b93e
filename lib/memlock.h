/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RLIMIT_MEMLOCK and what a pin mechanism charges, checked as an
 * unprivileged user (a uid of our own without CAP_IPC_LOCK, see
 * drop_privileges()) in a child of the case process.
 *
 * A mechanism is described by its pin in stages (struct pinreq_ops): what
 * it charges (VmPin, VmLck, or nothing of the process: the user's locked
 * memory), whether its set-up is made after giving up privileges, the
 * errno beyond the limit and whether a worker takes the charge off late.
 *
 *   beyond the limit   the request fails with that errno and leaves no
 *                      charge behind;
 *   within the limit   the charge goes up by the request and back at its
 *                      undo; for a mechanism that charges the user, not
 *                      the process: a second request that fits the limit
 *                      only without the first fails while the first is
 *                      held and works once it is gone.
 */
#ifndef PINSUITE_MEMLOCK_H
#define PINSUITE_MEMLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "case.h"
#include "pinreq.h"

/* --selftest-break memlock: the binaries' break tables point here. */
extern int memlock_break;

/*
 * The RLIMIT_MEMLOCK an unprivileged case runs under: @limit, or with
 * the break 64 MiB (the hard limit if that is lower).
 */
unsigned long memlock_limit(unsigned long limit);

/*
 * Run @child in a process of its own, which may give up its privileges
 * for good, and wait for it; the report is shared with it.
 */
void observe_in_child(const struct pcase *c, observe_fn child);

/*
 * In that child: open @n requests of @ops and give up privileges with
 * RLIMIT_MEMLOCK at @limit, in the order the mechanism wants.  True when
 * done; else recorded.  The requests may be closed either way.
 */
bool memlock_prepare(const struct pinreq_ops *ops, bool writable, unsigned long limit,
		     struct pinreq *r, int n);

/*
 * pinreq_request(), retried for a moment while a mechanism that uncharges
 * late refuses @len bytes that fit @limit.
 */
int memlock_request(struct pinreq *r, char *addr, size_t len, unsigned long limit);

/* The observer of memlock_add()'s cases (pcase.ext: struct pin_account). */
void memlock_observe(const struct pcase *c);

/*
 * Register "<what> beyond RLIMIT_MEMLOCK fails with <errno>, unprivileged"
 * and, with @a->within, "<what> within RLIMIT_MEMLOCK, <charge> up and back
 * to baseline, unprivileged" - or for a mechanism that charges the user
 * "..., charged to the user's locked memory, not VmPin, unprivileged".
 */
void memlock_add(const struct pin_account *a);

#endif /* PINSUITE_MEMLOCK_H */
