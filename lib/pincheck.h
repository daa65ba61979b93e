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
 * dir, tags filled) as "<property>: <c->what>, <trigger>, <backing>",
 * observed by c->observe, by default pincheck_observe().
 */
struct ksft_case *pincheck_add(const struct pcase *c);

/* Matrices: every backing and trigger for one pin path -------------- */

#define TRIG_BIT(id)	(1u << (id))
/* What the seeds are about: writes, fork() both ways, mprotect(). */
#define TRIGS_BASIC	(TRIG_BIT(TRIG_WRITE) | TRIG_BIT(TRIG_MPROTECT) | \
			 TRIG_BIT(TRIG_FORK_PARENT) | TRIG_BIT(TRIG_FORK_CHILD))
/* ... and the kernel's own reasons to replace or move a page. */
#define TRIGS_ALL	(TRIGS_BASIC | TRIG_BIT(TRIG_KSM) | TRIG_BIT(TRIG_COLLAPSE) | \
			 TRIG_BIT(TRIG_PAGEOUT) | TRIG_BIT(TRIG_MREMAP) | TRIG_BIT(TRIG_MIGRATE))

/*
 * One pin path's reliability matrix: R/O and R/W pins x the triggers x
 * the catalog's backings.  Set-up variants are left to cow.c, and R/W
 * pins of MAP_SHARED files on writeback filesystems, which the
 * FOLL_LONGTERM rule refuses, to the paths' outcome cases.  Every case
 * guards the commits of its trigger (mprotect(): the reuse of an exclusive
 * page; fork(): early COW) and, R/O, those of a R/O long-term pin.
 */
struct pin_matrix {
	const struct pin_ops *pin;
	const char *ro_what;		/* the R/O cases, NULL: none */
	const char *rw_what;		/* the R/W cases, NULL: none */
	enum pc_dir rw_dir;		/* what R/W cases move (R/O ones read) */
	unsigned int ro_trigs;		/* TRIG_BIT()s of the R/O cases; 0: TRIGS_ALL */
	unsigned int rw_trigs;		/* ... of the R/W cases */
	/* Of those, the ones @bk gets with a @writable pin; NULL: all. */
	unsigned int (*bk_trigs)(const struct backing *bk, bool writable);
	/* What a case on @bk needs beyond the mechanism; NULL: nothing. */
	struct need (*need)(const struct backing *bk);
	const struct tagsel *tags;	/* what the cases guard besides, or NULL */
	/* A backing of the path's own after the catalog (bk_trigs() alone decides). */
	const struct backing *extra;
	/* The cases' observer; NULL: pincheck_observe(). */
	observe_fn observe;
};

void pincheck_add_matrix(const struct pin_matrix *m);

/* The observer of reliability cases. */
void pincheck_observe(const struct pcase *c);

/*
 * How a mechanism that pins what lies behind a mapping (udmabuf: the
 * memfd's folios) differs: what the pin is compared with, as diagnosed,
 * and how --selftest-break dontneed drops the pages behind the pin.
 */
struct pincheck_via {
	const char *mapping;				/* "the mapping" */
	void (*zap)(const struct mem *m, size_t len);	/* the first @len bytes */
};

/*
 * pincheck_observe() on @m, which the caller set up (and tears down
 * afterwards): prepare, pin, trigger, compare, unpin, and whether the
 * trigger's event happens unpinned.  @via NULL: a plain mapping.
 */
void pincheck_observe_mem(const struct pcase *c, struct mem *m, const struct pincheck_via *via);

#endif /* PINSUITE_PINCHECK_H */
