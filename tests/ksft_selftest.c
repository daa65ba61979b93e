// SPDX-License-Identifier: GPL-2.0
/*
 * Cases that misbehave on purpose, for tests/harness.sh: whatever a case
 * does, the harness must print exactly one result line for it, under its
 * name, and put back what it changed.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/ksft.h"
#include "lib/sysstate.h"
#include "lib/util.h"

/* A knob that is safe to change for a moment: how often vmstat folds. */
#define KNOB	"/proc/sys/vm/stat_interval"

static void pass(const struct ksft_case *tc)
{
	(void)tc;
	ksft_case_pass();
}

static void fail(const struct ksft_case *tc)
{
	(void)tc;
	ksft_case_fail("failing on purpose");
}

static void skip(const struct ksft_case *tc)
{
	(void)tc;
	ksft_case_skip("skipping on purpose, with a # in the reason");
}

static void xfail(const struct ksft_case *tc)
{
	(void)tc;
	ksft_case_xfail("documented behaviour");
}

static void crash(const struct ksft_case *tc)
{
	(void)tc;
	raise(SIGSEGV);
}

static void silent(const struct ksft_case *tc)
{
	(void)tc;
}

static void twice(const struct ksft_case *tc)
{
	(void)tc;
	ksft_case_pass();
	ksft_case_skip("second verdict");
}

static void hang(const struct ksft_case *tc)
{
	(void)tc;
	pause();
}

static void orphan(const struct ksft_case *tc)
{
	(void)tc;
	if (!fork()) {
		/* Outlives the case unless the harness reaps the group. */
		setsid();
		pause();
		_exit(0);
	}
	ksft_case_pass();
}

/* Change a knob and die without putting it back: the guardian must. */
static void killed_with_change(const struct ksft_case *tc)
{
	char cur[32];
	int ret;

	(void)tc;
	if (geteuid()) {
		ksft_case_skip("needs root");
		return;
	}
	ret = sysstate_read(KNOB, cur, sizeof(cur));
	if (!ret)
		ret = sysstate_write(KNOB, strcmp(cur, "7") ? "7" : "8");
	if (ret) {
		ksft_case_fail("changing %s: %s", KNOB, strerror(-ret));
		return;
	}
	raise(SIGKILL);
}

/* The next case sees the knob as it was before the killed case. */
static void knob_restored(const struct ksft_case *tc)
{
	char cur[32];

	(void)tc;
	if (geteuid()) {
		ksft_case_skip("needs root");
		return;
	}
	if (sysstate_read(KNOB, cur, sizeof(cur))) {
		ksft_case_fail("reading %s", KNOB);
		return;
	}
	ksft_print_msg("%s is %s\n", KNOB, cur);
	ksft_case_result(strcmp(cur, "7") && strcmp(cur, "8") ? KSFT_PASS : KSFT_FAIL,
			 "%s was not restored", KNOB);
}

static const struct {
	ksft_case_fn fn;
	const char *name;
	unsigned int timeout;
} table[] = {
	{ pass, "harness: a passing case", 0 },
	{ fail, "harness: a failing case", 0 },
	{ skip, "harness: a skipped case", 0 },
	{ xfail, "harness: an expected failure", 0 },
	{ crash, "harness: a case that crashes", 0 },
	{ silent, "harness: a case without a verdict", 0 },
	{ twice, "harness: a case with two verdicts", 0 },
	{ hang, "harness: a case that hangs", 1 },
	{ orphan, "harness: a case that leaves a process behind", 0 },
	{ killed_with_change, "harness: a case killed after changing a knob", 0 },
	{ knob_restored, "harness: the knob is back after the killed case", 0 },
};

static void enumerate(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		ksft_case_add(table[i].fn, NULL, 0, "%s", table[i].name)->timeout =
			table[i].timeout;
}

static const struct ksft_suite suite = {
	.name = "ksft_selftest",
	.summary = "Misbehaving cases that test the pinsuite harness itself.",
	.enumerate = enumerate,
	.timeout = 30,
};

int main(int argc, char **argv)
{
	ksft_main(&suite, argc, argv);
}
