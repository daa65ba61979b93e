// SPDX-License-Identifier: GPL-2.0
/*
 * Cases that misbehave on purpose, for tests/harness.sh: whatever a case
 * does, the runner must print exactly one result line for it, under its
 * name, with the verdict the judge gives the way it ended, and put back
 * what it changed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/sysstate.h"
#include "lib/util.h"

/* A knob that is safe to change for a moment: how often vmstat folds. */
#define KNOB	"/proc/sys/vm/stat_interval"

static void pass(const struct pcase *c)
{
	(void)c;
	obs_held();
}

static void fail(const struct pcase *c)
{
	(void)c;
	obs_broken(SYM_STALE, "failing on purpose");
}

static void skip(const struct pcase *c)
{
	(void)c;
	obs_unmet("skipping on purpose, with a # in the reason", "figures: %d", 42);
}

static void error(const struct pcase *c)
{
	(void)c;
	obs_error("a step that must work", 5);
}

static void crash(const struct pcase *c)
{
	(void)c;
	raise(SIGSEGV);
}

static void silent(const struct pcase *c)
{
	(void)c;
}

static void twice(const struct pcase *c)
{
	(void)c;
	obs_held();
	obs_unmet("second verdict", "%s", "");
}

static void hang(const struct pcase *c)
{
	(void)c;
	pause();
}

/* It held, then the process died while tearing down: not a PASS. */
static void dies_after(const struct pcase *c)
{
	(void)c;
	obs_held();
	obs_phase(PH_RELEASE);
	raise(SIGSEGV);
}

static void orphan(const struct pcase *c)
{
	(void)c;
	if (!fork()) {
		/* Outlives the case unless the harness reaps the group. */
		setsid();
		pause();
		_exit(0);
	}
	obs_held();
}

/* Change a knob and die without putting it back: the guardian must. */
static void killed_with_change(const struct pcase *c)
{
	char cur[32];
	int ret;

	(void)c;
	if (geteuid()) {
		obs_unmet("needs root", "%s", "");
		return;
	}
	ret = sysstate_read(KNOB, cur, sizeof(cur));
	if (!ret)
		ret = sysstate_write(KNOB, strcmp(cur, "97") ? "97" : "98");
	if (ret) {
		obs_error("changing " KNOB, -ret);
		return;
	}
	raise(SIGKILL);
}

/* The next case sees the knob as it was before the killed case. */
static void knob_restored(const struct pcase *c)
{
	char cur[32];

	(void)c;
	if (geteuid()) {
		obs_unmet("needs root", "%s", "");
		return;
	}
	if (sysstate_read(KNOB, cur, sizeof(cur))) {
		obs_error("reading " KNOB, 0);
		return;
	}
	ksft_print_msg("%s is %s\n", KNOB, cur);
	if (strcmp(cur, "97") && strcmp(cur, "98"))
		obs_held();
	else
		obs_broken(SYM_KEPT, "%s was not restored", KNOB);
}

/*
 * Freeze itself in the cgroup v1 freezer group whose cgroup.procs
 * PINSUITE_TEST_FREEZER names (tests/harness.sh sets it up FROZEN): a task
 * in there does not die of SIGKILL until the group is thawed, as a task
 * stuck in the kernel would not.  What it says on stderr is the case's.
 */
static void stuck(const struct pcase *c)
{
	const char *procs = getenv("PINSUITE_TEST_FREEZER");
	char pid[16];
	int ret;

	(void)c;
	if (!procs || !*procs) {
		obs_unmet("no frozen freezer group (PINSUITE_TEST_FREEZER)", "%s", "");
		return;
	}
	fprintf(stderr, "freezing now, said on stderr\n");
	fflush(stderr);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	ret = write_file(procs, pid);
	if (ret) {
		obs_error("joining the frozen group", -ret);
		return;
	}
	pause();
}

/* A mechanism of our own, to feed the judge the outcomes of a pin. */
static const struct pin_ops test_pin = {
	.name = "the test mechanism",
	.charges_memlock = true,
};

/* ENOMEM without any shortage to explain it: the kernel's failure. */
static void enomem(const struct pcase *c)
{
	(void)c;
	obs_pin(&test_pin, 4096, -ENOMEM);
}

/* ENOMEM where RLIMIT_MEMLOCK does not cover the pin: a missing resource. */
static void enomem_limit(const struct pcase *c)
{
	struct kid k;
	int ret;

	(void)c;
	if (kid_fork(&k) < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!k.pid) {
		ret = drop_privileges(64 << 10);
		if (ret)
			obs_error("dropping privileges", -ret);
		else
			obs_pin(&test_pin, 1 << 20, -ENOMEM);
		_exit(0);
	}
	kid_finish(&k, false);
}

static const struct {
	observe_fn fn;
	const char *name;
	unsigned int timeout;
	enum expect expect;
} table[] = {
	{ pass, "a passing case", 0, EXP_HOLDS },
	{ fail, "a failing case", 0, EXP_HOLDS },
	{ skip, "a skipped case", 0, EXP_HOLDS },
	{ fail, "an expected failure", 0, EXP_XFAIL },
	{ crash, "a case that crashes", 0, EXP_HOLDS },
	{ silent, "a case without a verdict", 0, EXP_HOLDS },
	{ twice, "a case with two verdicts", 0, EXP_HOLDS },
	{ hang, "a case that hangs", 1, EXP_HOLDS },
	{ orphan, "a case that leaves a process behind", 0, EXP_HOLDS },
	{ killed_with_change, "a case killed after changing a knob", 0, EXP_HOLDS },
	{ knob_restored, "the knob is back after the killed case", 0, EXP_HOLDS },
	{ dies_after, "a case that dies after it held", 0, EXP_HOLDS },
	{ error, "a case whose step fails", 0, EXP_HOLDS },
	{ enomem, "a pin that fails with ENOMEM, no shortage", 0, EXP_HOLDS },
	{ enomem_limit, "a pin that fails with ENOMEM beyond RLIMIT_MEMLOCK", 0, EXP_HOLDS },
	{ stuck, "a case stuck in the kernel", 1, EXP_HOLDS },
};

static void enumerate(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(table); i++) {
		struct pcase c = {
			.prop = P_RELEASED,
			.what = "harness",
			.observe = table[i].fn,
			.expect = table[i].expect,
			.xfail = "documented behaviour",
		};

		pcase_add(&c, "harness: %s", table[i].name)->timeout = table[i].timeout;
	}
}

static const struct pinsuite suite = {
	.name = "ksft_selftest",
	.summary = "Misbehaving cases that test the pinsuite harness itself.",
	.enumerate = enumerate,
	.timeout = 30,
};

PINSUITE_MAIN(suite)
