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
 * work.  As in the kernel's long-term pin selftest, R/O pins are
 * taken while the range is mapped R/O.
 *
 * Every pin that must work is then checked for coherency as well: a write
 * through the mapping must be what the pin reads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/backing.h"
#include "lib/expect.h"
#include "lib/hints.h"
#include "lib/ksft.h"
#include "lib/pin.h"
#include "lib/pincheck.h"
#include "lib/trigger.h"
#include "lib/util.h"

/* How the range is pinned. */
static const struct mech {
	const char *name;		/* for the outcome cases */
	const char *what;		/* for the reliability cases */
	const struct pin_ops *ops;
	bool writable;
} mechs[] = {
	{ "R/W GUP pin", "GUP", &pin_gup, true },
	{ "R/W GUP-fast pin", "GUP-fast", &pin_gup_fast, true },
	{ "R/O GUP pin", "GUP, pinned while mapped R/O", &pin_gup, false },
	{ "R/O GUP-fast pin", "GUP-fast, pinned while mapped R/O", &pin_gup_fast, false },
	{ "io_uring fixed buffer", "io_uring fixed buffer", &pin_iouring, true },
};

/* Seconds per case; more for gigantic pages (backing_timeout()). */
#define CASE_TIMEOUT	20

/* --selftest-break rule: expect the opposite of the rule. */
static int break_rule;

struct outcome_case {
	const struct mech *mech;
	const struct backing *bk;
};

static bool is_shared(const struct backing *bk)
{
	return bk->flags & BKF_SHARED;
}

static enum pin_expect expectation(const struct mem *m, const struct mech *mc)
{
	enum pin_expect e = longterm_pin_expect(m->fs_magic, is_shared(m->bk), mc->writable);

	if (!break_rule || e == EXPECT_UNKNOWN)
		return e;
	return e == EXPECT_WORKS ? EXPECT_REFUSED : EXPECT_WORKS;
}

static void judge(const struct outcome_case *oc, const struct mem *m, enum pin_expect expect,
		  int ret)
{
	const struct mech *mc = oc->mech;
	const struct pin_attempt a = {
		.what = mc->name,
		.iouring = mc->ops == &pin_iouring,
		.unsupported = mc->ops->unsupported,
		.shared = is_shared(m->bk),
		.fs = fs_name(m->fs_magic),
	};

	ksft_print_msg("%s of a %s mapping on %s: %s\n", a.what,
		       a.shared ? "MAP_SHARED" : "MAP_PRIVATE", a.fs,
		       ret ? strerror(-ret) : "pinned");
	longterm_pin_judge(&a, expect, ret);
}

/* Set up, pin, unpin, and judge the outcome against the rule. */
static void outcome_case(const struct ksft_case *tc)
{
	const struct outcome_case *oc = tc->arg;
	const struct mech *mc = oc->mech;
	const struct need *needs[] = { &mc->ops->need, &oc->bk->need };
	enum pin_expect expect;
	struct pin pin;
	struct mem m;
	int ret;

	if (!mem_setup_case(&m, oc->bk, needs, ARRAY_SIZE(needs)))
		return;
	expect = expectation(&m, mc);
	if (expect == EXPECT_UNKNOWN) {
		ksft_case_skip("unknown filesystem (%s): no rule for writable long-term pins of its MAP_SHARED mappings",
			       fs_name(m.fs_magic));
		goto teardown;
	}
	if (!mc->writable && mprotect(m.addr, m.size, PROT_READ)) {
		ksft_case_fail("mprotect(PROT_READ): %s", strerror(errno));
		goto teardown;
	}
	/* A part of a huge page pins all of it: no need to pin more. */
	ret = pin_take(&pin, mc->ops, m.addr, m.size < PINCHECK_WINDOW ? m.size : PINCHECK_WINDOW,
		       mc->writable);
	if (!ret)
		pin_drop(&pin);
	judge(oc, &m, expect, ret);
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
	return !mc->writable || !is_shared(bk) || (bk->flags & (BKF_SHMEM | BKF_HUGETLB));
}

static void add_reliability(const struct mech *mc, const struct backing *bk)
{
	struct pincheck pc = {
		.pin = mc->ops,
		.writable = mc->writable,
		.bk = bk,
		.trig = &triggers[TRIG_WRITE],
		.dir = PC_PIN_READS,
		.prep = mc->writable ? PREP_NONE : PREP_RO_MAPPED,
	};

	if (always_works(mc, bk))
		pincheck_add(&pc, mc->what)->timeout = backing_timeout(bk, CASE_TIMEOUT);
}

static void enumerate(void)
{
	const struct backing *const *bks;
	struct outcome_case oc;
	struct ksft_case *tc;
	unsigned int i;
	int j, nr;

	bks = backings(&nr);
	for (i = 0; i < ARRAY_SIZE(mechs); i++) {
		for (j = 0; j < nr; j++) {
			if (!selected(bks[j]))
				continue;
			oc.mech = &mechs[i];
			oc.bk = bks[j];
			tc = ksft_case_add(outcome_case, &oc, sizeof(oc),
					   "Longterm pin outcome as expected: %s, %s",
					   mechs[i].name, bks[j]->name);
			tc->timeout = backing_timeout(bks[j], CASE_TIMEOUT);
		}
	}
	for (i = 0; i < ARRAY_SIZE(mechs); i++)
		for (j = 0; j < nr; j++)
			if (selected(bks[j]))
				add_reliability(&mechs[i], bks[j]);
}

static void setup(void)
{
	gup_test_prepare();
	gup_test_unavailable();
	iouring_unavailable();
	/* A private hugetlb mapping: the page cache page and the COW copy. */
	hugetlb_reserve_all(3);
}

static const struct ksft_break breaks[] = {
	{ "rule", "expect the opposite outcome of the rule", &break_rule, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct ksft_suite suite = {
	.name = "gup_longterm",
	.summary = "Must a long-term pin succeed or fail?  R/W and R/O pins (gup_test GUP and\n"
		   "GUP-fast) and io_uring fixed buffers of shared and private file mappings on\n"
		   "every filesystem at hand, against the documented rule; and every pin that\n"
		   "must work is checked for coherency with the mapping.",
	.breaks = { pincheck_breaks, breaks },
	.enumerate = enumerate,
	.setup = setup,
	.timeout = CASE_TIMEOUT,
};

int main(int argc, char **argv)
{
	ksft_main(&suite, argc, argv);
}
