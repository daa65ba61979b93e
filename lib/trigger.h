/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Triggers: the events a pinned range lives through before it is checked.
 * Each one ends with a CPU write through the mapping (or a child's write),
 * which is where a pin that drifted away from the mapping shows.
 *
 * Four of them are the kernel's own reasons to replace a page - KSM
 * merging, THP collapse, reclaim, migration - and for a pinned page the
 * kernel promises not to: a pinned page is not merged, not collapsed, not
 * swapped out or reclaimed, not migrated.  Those triggers check the
 * promise on the pinned pages (the page mapped stays the page it was).
 * Whether the event could have happened at all is asked afterwards, of
 * the same pages once the pin is gone (trigger_control()): when it cannot
 * happen here, a case that otherwise held is a SKIP that says so, not a
 * PASS - and a failure stays a failure.
 */
#ifndef PINSUITE_TRIGGER_H
#define PINSUITE_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>

#include "backing.h"
#include "need.h"
#include "util.h"

enum trig_id {
	TRIG_WRITE,		/* write through the mapping */
	TRIG_MPROTECT,		/* mprotect(R), clear soft-dirty, mprotect(RW), write */
	TRIG_FORK_PARENT,	/* fork(), child stays alive, parent writes */
	TRIG_FORK_CHILD,	/* fork(), the child writes its copy */
	TRIG_KSM,		/* offer the page to KSM next to identical ones, write */
	TRIG_COLLAPSE,		/* MADV_COLLAPSE over the range, write */
	TRIG_PAGEOUT,		/* MADV_PAGEOUT the range, write */
	TRIG_MREMAP,		/* move the mapping, write at the new address */
	TRIG_MIGRATE,		/* move_pages() to another node, write */
	TRIG_DONTNEED,		/* negative self-test: zap the mapping, write */
	TRIG_NR
};

struct trigger {
	enum trig_id id;
	const char *name;	/* for case names */
	unsigned int all;	/* backing flags required ... */
	unsigned int none;	/* ... and excluded */
	struct need need;
	/* The kernel's promise for a pinned page, or NULL: no event of its own. */
	const char *promise;
	/* SKIP reason when the event does not happen even to unpinned pages. */
	const char *missed;
	/* Seconds the event may take beyond a case's time (ksmd's scans). */
	unsigned int slow;
};

/* The trigger table (index by enum trig_id). */
extern const struct trigger triggers[TRIG_NR];

static inline bool trigger_applies(const struct trigger *t, const struct backing *bk)
{
	return backing_is(bk, t->all, t->none);
}

struct trig_state {
	const struct trigger *t;
	struct mem *m;
	char *view;		/* where the range is mapped now */
	size_t len;		/* bytes of the range that are checked */
	int expect;		/* the byte the mapping must hold afterwards */
	struct kid kid;		/* the child of the fork triggers */
	char *twin;		/* KSM's identical pages */
	size_t twin_len;
	unsigned long pfn;	/* PFN of the first page before the event (root) */
	int node;		/* its NUMA node before the event, or -1 */
};

/*
 * Run @t on the first @len bytes of @m, which are pinned: the event, the
 * promise for pinned pages, the write.  0 to go on; -1 when an
 * observation was recorded (the promise broken, a step failed).
 */
int trigger_run(const struct trigger *t, struct mem *m, size_t len, struct trig_state *ts);

/*
 * Once the pin is dropped: does the event happen to the same pages now?
 * True when it does or @t has no event of its own; false with OBS_MISSED
 * recorded.
 */
bool trigger_control(struct trig_state *ts);

/* Let a forked child go, unmap what the trigger mapped. */
void trigger_finish(struct trig_state *ts);

#endif /* PINSUITE_TRIGGER_H */
