/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reliability observation every pin mechanism shares:
 *
 *   set up a backing -> prepare the pages -> pin them -> run a trigger
 *   (which writes through the mapping) -> read the pinned pages through
 *   the pin and compare them with the mapping, and write through the pin
 *   and look at the mapping -> unpin -> does the trigger's event happen
 *   to the same pages now that they are unpinned?
 *
 * A pin is reliable when the pinned pages are still the pages mapped:
 * what the pin sees is what the mapping holds, in both directions.  The
 * observer records what it saw; lib/verdict.c judges.
 */
#ifndef PINSUITE_PINCHECK_H
#define PINSUITE_PINCHECK_H

#include "case.h"

/* Largest part of a backing that is pinned and compared. */
#define PINCHECK_WINDOW		BACKING_WINDOW

/* Deliberate breakage for the negative self-tests (--selftest-break). */
enum pc_break {
	PC_BREAK_NONE,
	PC_BREAK_DONTNEED,	/* zap the mapping behind the pin before the write */
	PC_BREAK_COMPARE,	/* compare against a stale copy of the mapping */
	PC_BREAK_UNPIN,		/* drop the pin before a trigger with a promise */
};
extern int pincheck_break;	/* enum pc_break */

/* The --selftest-break modes of the check engine. */
extern const struct ksft_break pincheck_breaks[];

/* The property a reliability case asserts. */
enum property pincheck_property(const struct pcase *c);

/*
 * Register the reliability case @c (pin, access, backing, trigger, prep,
 * dir, tags filled) as "<property>: <c->what>, <trigger>, <backing>".
 */
struct ksft_case *pincheck_add(const struct pcase *c);

/* The observer of reliability cases. */
void pincheck_observe(const struct pcase *c);

#endif /* PINSUITE_PINCHECK_H */
