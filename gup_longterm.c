// SPDX-License-Identifier: GPL-2.0
/*
 * Must a long-term pin succeed or fail?
 *
 * For MAP_SHARED and MAP_PRIVATE mappings of memfd, a tmpfs file, a file
 * on each disk filesystem available, a file in the working directory
 * (whatever its filesystem) and hugetlbfs memfd of every size: R/W and R/O
 * long-term pins through gup_test (GUP and GUP-fast) and io_uring fixed
 * buffers.  The documented rule (lib/expect.h), judged from fstatfs() and
 * the mapping type: a writable long-term pin of a MAP_SHARED mapping on a
 * filesystem that needs dirty tracking is refused, everything else must
 * work.  As in the kernel's long-term pin selftest, R/O pins are taken
 * while the range is mapped R/O.
 *
 * Every pin that must work is then checked for coherency as well: a write
 * through the mapping must be what the pin reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/case.h"
#include "lib/pincheck.h"
#include "lib/util.h"

/* Writable long-term pins of files with writeback are refused since v6.5. */
static const struct tagsel file_write[] = {
	{ TAG_NO_LONGTERM_FILE_WRITE, BKF_SHARED | BKF_DISK, 0 },
	{ TAG_NONE, 0, 0 },
};

/* ... and io_uring left the file check to GUP then. */
static const struct tagsel uring_file[] = {
	{ TAG_NO_LONGTERM_FILE_WRITE, BKF_SHARED | BKF_DISK, 0 },
	{ TAG_IOURING_FILE_CHECK, BKF_FILE, BKF_SHMEM | BKF_HUGETLB },
	{ TAG_NONE, 0, 0 },
};

/*
 * How the range is pinned; what each kind of case guards.  A row's tags
 * apply to the backings named by their flags.
 */
static const struct mech {
	const char *name;		/* for the outcome cases */
	const char *what;		/* for the reliability cases */
	const struct pin_ops *ops;
	bool writable;
	const struct tagsel *outcome_tags;
	const struct tagsel *reliable_tags;
} mechs[] = {
	{ "R/W GUP pin", "GUP", &pin_gup, true, file_write, NULL },
	{ "R/W GUP-fast pin", "GUP-fast", &pin_gup_fast, true, file_write, NULL },
	{ "R/O GUP pin", "GUP, pinned while mapped R/O", &pin_gup, false, NULL, ro_pin_tags },
	{ "R/O GUP-fast pin", "GUP-fast, pinned while mapped R/O", &pin_gup_fast, false, NULL,
	  ro_pin_tags },
	{ "io_uring fixed buffer", "io_uring fixed buffer", &pin_iouring, true, uring_file, NULL },
};

/* Seconds per case; more for gigantic pages and slow triggers (pcase_add()). */
#define CASE_TIMEOUT	20

/* --selftest-break rule: expect the opposite of the rule. */
static int break_rule;

/* Set up, pin, unpin: the outcome is judged against the rule. */
static void outcome_observe(const struct pcase *c)
{
	bool shared = c->bk->flags & BKF_SHARED;
	struct pin pin;
	struct mem m;
	size_t len;
	int ret;

	if (!mem_setup_obs(&m, c->bk))
		return;
	obs_rule_facts(m.fs_magic, shared);
	if (!c->writable && mprotect(m.addr, m.size, PROT_READ)) {
		obs_error("mprotect(PROT_READ)", errno);
		goto teardown;
	}
	/* A part of a huge page pins all of it: no need to pin more. */
	len = m.size < PINCHECK_WINDOW ? m.size : PINCHECK_WINDOW;
	obs_phase(PH_PIN);
	ret = pin_take(&pin, c->pin, m.addr, len, c->writable);
	ksft_print_msg("%s %s of a %s mapping on %s: %s\n", c->writable ? "R/W" : "R/O",
		       c->pin->name, shared ? "MAP_SHARED" : "MAP_PRIVATE", fs_name(m.fs_magic),
		       ret == PIN_STUCK ? "stuck" : ret ? strerror(-ret) : "pinned");
	obs_pin(c->pin, len, ret);
	if (ret == PIN_STUCK)
		case_abandon();
	obs_phase(PH_RELEASE);
	if (!ret)
		pin_drop(&pin);
teardown:
	mem_teardown(&m);
}

/* The file backings; large shmem folios change nothing here. */
static bool selected(const struct backing *bk)
{
	return backing_is(bk, BKF_FILE, 0) && bk->type != BK_SHMEM_LARGE;
}

/*
 * Pins the rule says must work whatever the filesystem is: R/O pins,
 * private mappings, shmem and hugetlbfs.
 */
static bool always_works(const struct mech *mc, const struct backing *bk)
{
	return !mc->writable || !(bk->flags & BKF_SHARED) || (bk->flags & (BKF_SHMEM | BKF_HUGETLB));
}

/* What the mechanism needs on @bk beyond itself (io_uring: file buffers). */
static struct need mech_need(const struct mech *mc, const struct backing *bk)
{
	struct need none = { 0 };

	return mc->ops == &pin_iouring ? iouring_buffer_need(bk) : none;
}

static void enumerate(void)
{
	const struct backing *const *bks;
	unsigned int i;
	int j, nr;

	bks = backings(&nr);
	for (i = 0; i < ARRAY_SIZE(mechs); i++) {
		for (j = 0; j < nr; j++) {
			struct pcase c = {
				.prop = P_OUTCOME,
				.pin = mechs[i].ops,
				.writable = mechs[i].writable,
				.bk = bks[j],
				.expect = EXP_RULE,
				.invert_rule = break_rule,
				.tags = tags_select(mechs[i].outcome_tags, bks[j]),
				.need = mech_need(&mechs[i], bks[j]),
				.observe = outcome_observe,
			};

			if (!selected(bks[j]))
				continue;
			pcase_add(&c, "%s, %s", mechs[i].name, bks[j]->name);
		}
	}
	for (i = 0; i < ARRAY_SIZE(mechs); i++) {
		for (j = 0; j < nr; j++) {
			struct pcase c = {
				.what = mechs[i].what,
				.pin = mechs[i].ops,
				.writable = mechs[i].writable,
				.bk = bks[j],
				.trig = &triggers[TRIG_WRITE],
				.dir = PC_PIN_READS,
				.prep = mechs[i].writable ? PREP_NONE : PREP_RO_MAPPED,
				.tags = tags_select(mechs[i].reliable_tags, bks[j]),
				.need = mech_need(&mechs[i], bks[j]),
			};

			if (!selected(bks[j]) || !always_works(&mechs[i], bks[j]))
				continue;
			pincheck_add(&c);
		}
	}
}

static const struct ksft_break breaks[] = {
	{ "rule", "expect the opposite outcome of the rule", &break_rule, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct pinsuite suite = {
	.name = "gup_longterm",
	.summary = "Must a long-term pin succeed or fail?  R/W and R/O pins (gup_test GUP and\n"
		   "GUP-fast) and io_uring fixed buffers of shared and private file mappings on\n"
		   "every filesystem at hand, against the documented rule; and every pin that\n"
		   "must work is checked for coherency with the mapping.",
	.breaks = breaks,
	.enumerate = enumerate,
	.timeout = CASE_TIMEOUT,
	/* A private hugetlb mapping: the page cache page and the COW copy. */
	.hugetlb_pages = 3,
};

PINSUITE_MAIN(suite)
