/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reliability check every pin mechanism shares:
 *
 *   set up a backing -> pin it -> run a trigger (which writes through the
 *   mapping) -> read the pinned pages through the pin and compare them with
 *   the mapping, or write through the pin and look at the mapping.
 *
 * A pin is reliable when the pinned pages are still the pages mapped:
 * what the pin sees is what the mapping holds, in both directions.
 */
#ifndef PINSUITE_PINCHECK_H
#define PINSUITE_PINCHECK_H

#include <stdbool.h>

#include "backing.h"
#include "ksft.h"
#include "pin.h"
#include "trigger.h"

enum pc_dir {
	PC_PIN_READS,	/* the kernel reads the pinned pages */
	PC_PIN_WRITES,	/* the kernel writes the pinned pages */
	PC_PIN_BOTH,	/* it reads them, then writes them */
};

/* The state of the pages when they are pinned. */
enum pc_prep {
	PREP_NONE,
	PREP_SHARED,		/* COW-shared with a child that stays alive */
	PREP_PREV_SHARED,	/* was COW-shared; the child has exited */
	PREP_RO_EXCLUSIVE,	/* exclusive, but mapped R/O (mprotect round trip) */
	PREP_RO_MAPPED,		/* mapped PROT_READ when pinned, PROT_READ|PROT_WRITE after */
};

struct pincheck {
	const struct pin_ops *pin;
	bool writable;			/* R/W pin (FOLL_WRITE) */
	const struct backing *bk;
	const struct trigger *trig;
	enum pc_dir dir;
	enum pc_prep prep;
};

/* Largest part of a backing that is pinned and compared. */
#define PINCHECK_WINDOW		BACKING_WINDOW

/* Deliberate breakage for the negative self-tests (--selftest-break). */
enum pc_break {
	PC_BREAK_NONE,
	PC_BREAK_DONTNEED,	/* zap the mapping behind the pin before the write */
	PC_BREAK_COMPARE,	/* compare against a stale copy of the mapping */
};
extern int pincheck_break;	/* enum pc_break */

/* The --selftest-break modes of the check engine, for a suite's breaks. */
extern const struct ksft_break pincheck_breaks[];

/* The property a check asserts, as it starts the case name. */
const char *pincheck_property(const struct pincheck *pc);

/*
 * Register @pc as a case named "<property>: <what>, <trigger>, <backing>";
 * returns the case (for its timeout).
 */
struct ksft_case *pincheck_add(const struct pincheck *pc, const char *what);

/* Run the check and report the case verdict. */
void pincheck_run(const struct pincheck *pc);

#endif /* PINSUITE_PINCHECK_H */
