/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pinsuite case: a declared record, an observation, one judge.
 *
 *   record       what the case checks: the property, the pin mechanism and
 *                access, the backing, the trigger, the preparation, what it
 *                needs, what outcome is expected and which upstream commits
 *                it guards (struct pcase, filled from a binary's tables);
 *   observation  what the case process saw, recorded with the obs_*()
 *                calls by lib's observers (struct obs, in memory the runner
 *                shares with the case process) - never a verdict;
 *   judge        pcase_judge() in lib/verdict.c, run by the runner once the
 *                case process is gone: record + observation + the way the
 *                process ended -> PASS, FAIL, SKIP, XFAIL or error.
 *
 * "Not supported by this kernel" is a need of the record (a feature probe
 * run before the case), never the errno of the call under test.
 */
#ifndef PINSUITE_CASE_H
#define PINSUITE_CASE_H

#include <stdbool.h>
#include <stddef.h>

#include "backing.h"
#include "ksft.h"
#include "need.h"
#include "pin.h"
#include "tags.h"
#include "trigger.h"

/* The promise a case asserts; its text starts the case name. */
enum property {
	P_RO_RELIABLE,		/* Longterm R/O pin is reliable */
	P_RW_RELIABLE,		/* Longterm R/W pin is reliable */
	P_NO_LEAK_TO_CHILD,	/* No leak from parent into child */
	P_NO_LEAK_TO_PARENT,	/* No leak from child into parent */
	P_OTHER_MAPPING,	/* Other mapping not modified */
	P_OUTCOME,		/* Longterm pin outcome as expected */
	P_MEMLOCK,		/* Memlock charge as expected */
	P_RELEASED,		/* All pins released */
	P_SHORT_RELIABLE,	/* Short-term pin is reliable */
	P_NO_MOVABLE,		/* Longterm pin leaves no page in ZONE_MOVABLE */
	P_NO_CMA,		/* Longterm pin leaves no page in CMA */
	P_REFUSED,		/* Pin refused */
	P_ZEROPAGE_SHORT,	/* Short-term pin of the zeropage works */
	P_NR
};

const char *property_name(enum property p);

/* What outcome the record expects. */
enum expect {
	EXP_HOLDS,	/* the observed promise holds; every pin taken must work */
	EXP_RULE,	/* a long-term pin works or is refused as lib/expect.h's rule says */
	EXP_ERRNO,	/* the call under test fails with want_err (0: it works) */
	EXP_XFAIL,	/* upstream documents the broken behaviour as intended */
};

/* The state of the pages when they are pinned (reliability cases). */
enum pc_prep {
	PREP_NONE,
	PREP_SHARED,		/* COW-shared with a child that stays alive */
	PREP_PREV_SHARED,	/* was COW-shared; the child has exited */
	PREP_RO_EXCLUSIVE,	/* exclusive, but mapped R/O (mprotect round trip) */
	PREP_RO_MAPPED,		/* mapped PROT_READ when pinned, PROT_READ|PROT_WRITE after */
};

/* Which way the kernel's side moves data in a reliability case. */
enum pc_dir {
	PC_PIN_READS,	/* the kernel reads the pinned pages */
	PC_PIN_WRITES,	/* the kernel writes the pinned pages */
	PC_PIN_BOTH,	/* it reads them, then writes them */
};

struct pcase;
/* A family's observer: runs in the case process, records with obs_*(). */
typedef void (*observe_fn)(const struct pcase *c);

struct pcase {
	enum property prop;
	const char *what;		/* mechanism or scenario, for the name */
	const struct pin_ops *pin;	/* NULL: no pin */
	bool writable;			/* R/W pin (FOLL_WRITE) */
	const struct backing *bk;	/* NULL: the family sets up its own memory */
	const struct trigger *trig;	/* NULL: none */
	const char *event;		/* without a trigger: what happens, or NULL */
	enum pc_prep prep;
	enum pc_dir dir;
	enum expect expect;
	bool invert_rule;		/* EXP_RULE upside down (--selftest-break rule) */
	int want_err;			/* EXP_ERRNO */
	const char *xfail;		/* EXP_XFAIL: the documented reason */
	uint64_t tags;			/* upstream commits the case guards */
	struct need need;		/* the family's own prerequisites */
	observe_fn observe;
	long param;			/* the family's own parameter */
	const void *ext;		/* ... and a pointer into its static tables */
};

/* A tag of a table row, for the backings that have all of @all and none of @none. */
struct tagsel {
	enum tag_id id;
	unsigned int all;
	unsigned int none;
};

/* The tags of @sel (ended by a zero id; NULL: none) that apply to @bk. */
uint64_t tags_select(const struct tagsel *sel, const struct backing *bk);

/* What a R/O long-term pin of a backing guards, by the kind of page pinned. */
extern const struct tagsel ro_pin_tags[];
/* What fork() of a pinned private page guards. */
extern const struct tagsel fork_tags[];

/*
 * Register @c under the name "<property>: <fmt...>"; returns the harness's
 * case (its timeout may be changed).
 */
struct ksft_case *pcase_add(const struct pcase *c, const char *fmt, ...) __printf(2, 3);

/* Observations --------------------------------------------------------- */

enum phase {
	PH_START, PH_SETUP, PH_PREPARE, PH_PIN, PH_TRIGGER, PH_CHECK, PH_RELEASE, PH_TEARDOWN,
	PH_NR
};

enum obs_kind {
	OBS_NONE,	/* nothing recorded */
	OBS_HELD,	/* the promise was observed to hold */
	OBS_BROKEN,	/* the promise was observed broken (text: what differs) */
	OBS_UNMET,	/* a prerequisite is missing (text: the fixed reason) */
	OBS_MISSED,	/* the trigger's event cannot be produced here (fixed reason) */
	OBS_ERROR,	/* a step that must work failed (call, err) */
	OBS_PIN_OK,	/* the pin (or call) under test worked */
	OBS_PIN_ERR,	/* ... failed with err */
	OBS_PIN_STUCK,	/* ... never returned: the kernel keeps faulting */
};

struct obs {
	enum obs_kind kind;
	enum phase phase;
	int err;
	unsigned int symptom;		/* OBS_BROKEN: enum symptom */
	unsigned long fs_magic;		/* EXP_RULE: the file's filesystem */
	bool shared;			/* EXP_RULE: MAP_SHARED */
	bool twice;			/* a second observation was attempted */
	char call[96];			/* the call that failed or was judged */
	char text[320];			/* one line */
	char shortage[200];		/* OBS_PIN_ERR with ENOMEM: the shortage seen */
};

void obs_phase(enum phase ph);
void obs_held(void);
void obs_broken(unsigned int symptom, const char *fmt, ...) __printf(2, 3);
/* @reason is fixed per cause; figures that vary go to a "# " line first. */
void obs_unmet(const char *reason, const char *figures, ...) __printf(2, 3);
void obs_missed(const char *reason, const char *figures, ...) __printf(2, 3);
/* @err 0: @call says it all. */
void obs_error(const char *call, int err);
/*
 * The outcome of the pin under test: @ret is 0, -errno or PIN_STUCK.
 * With -ENOMEM, a resource check (RLIMIT_MEMLOCK for mechanisms that
 * charge it, available memory) records whether a shortage explains it.
 */
void obs_pin(const struct pin_ops *ops, size_t len, int ret);
/* The same for a call that is not a pin_ops (a VFIO map, a registration). */
void obs_call(const char *call, int ret, bool charges_memlock, size_t len);
/* The facts the documented pin rule is judged on (EXP_RULE). */
void obs_rule_facts(unsigned long fs_magic, bool shared);
/* True once something was recorded. */
bool obs_recorded(void);

/*
 * End the case process now, without tearing anything down: a pinning
 * thread is stuck in the kernel and holds the mmap lock.
 */
void case_abandon(void) __noreturn;

/* The one judge (lib/verdict.c). */
void pcase_judge(const struct ksft_case *tc, const void *report, const struct ksft_end *end,
		 struct ksft_verdict *v);

/* A binary ------------------------------------------------------------- */

/* A binary's own options: their usage lines, the parser, the check. */
struct pinsuite_options {
	const char *usage;
	const struct option *longopts;
	int (*option)(int opt, const char *arg, char *why, size_t len);
	int (*validate)(char *why, size_t len);
};

struct pinsuite {
	const char *name;
	const char *summary;
	const struct pinsuite_options *options;	/* the binary's own, or NULL */
	const struct ksft_break *breaks;	/* the binary's own modes, or NULL */
	void (*enumerate)(void);
	void (*setup)(void);			/* after the run's own set-up */
	unsigned int timeout;			/* default seconds per case */
	unsigned int hugetlb_pages;		/* free pages per hugetlb size wanted */
};

int pinsuite_main(const struct pinsuite *ps, int argc, char **argv) __noreturn;

/* A binary's main(): run @suite. */
#define PINSUITE_MAIN(suite)				\
int main(int argc, char **argv)				\
{							\
	pinsuite_main(&(suite), argc, argv);		\
}

#endif /* PINSUITE_CASE_H */
