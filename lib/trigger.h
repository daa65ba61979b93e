/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Triggers: the events a pinned range lives through before it is checked.
 * Each one ends with a CPU write through the mapping (or a child's write),
 * which is where a pin that drifted away from the mapping shows.
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
	TRIG_KSM,		/* offer the page to KSM next to a twin, write */
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
};

/* The trigger table (index by enum trig_id). */
extern const struct trigger triggers[TRIG_NR];

static inline bool trigger_applies(const struct trigger *t, const struct backing *bk)
{
	return backing_is(bk, t->all, t->none);
}

struct trig_state {
	struct mem *m;
	char *view;		/* where the range is mapped now */
	size_t len;		/* bytes of the range that are checked */
	int expect;		/* the byte the mapping must hold afterwards */
	struct kid kid;		/* the child of the fork triggers */
	char *twin;		/* KSM's twin page(s) */
	char note[256];		/* what happened, for the diagnostics */
};

/*
 * Run @t on the first @len bytes of @m.  KSFT_PASS with @ts filled, or
 * KSFT_SKIP / KSFT_FAIL with the reason in @why.
 */
int trigger_run(const struct trigger *t, struct mem *m, size_t len, struct trig_state *ts,
		char *why, size_t whylen);
/* Let a forked child go, unmap what the trigger mapped. */
void trigger_finish(struct trig_state *ts);

#endif /* PINSUITE_TRIGGER_H */
