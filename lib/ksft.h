/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP 13 output in the kselftest dialect, and the case runner.
 *
 * The ksft_print_* functions keep the names and the output of
 * tools/testing/selftests/kselftest.h.  On top of them: a registry of
 * named cases and a runner that runs each case in a child process of its
 * own.  The harness knows nothing of what a case tests.  A case writes
 * what it observed into a report area shared with the runner; when the
 * case process has ended - however it ended - the runner hands the report
 * and the way the process ended to the suite's judge, the one function
 * that decides the verdict, and prints exactly one result line.
 *
 * Output is never silently lost: a closed stdout stops the binary before
 * anything runs, and a write error anywhere makes the exit status non-zero
 * with a message on stderr.
 */
#ifndef PINSUITE_KSFT_H
#define PINSUITE_KSFT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_XFAIL	2
#define KSFT_XPASS	3
#define KSFT_SKIP	4
#define KSFT_ERROR	5	/* only as a verdict: printed "not ok ... # error" */

/* Exit status for a command line we do not understand. */
#define KSFT_USAGE	2

/* The kernel's attribute shorthands, as tools/include/linux/compiler.h has them. */
#ifndef __printf
#define __printf(a, b)	__attribute__(\
	(format(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn	__attribute__(\
	(__noreturn__))
#endif

/* kselftest.h compatible layer ------------------------------------------ */
void ksft_print_header(void);
void ksft_set_plan(unsigned int plan);
void ksft_print_msg(const char *fmt, ...) __printf(1, 2);
void ksft_print_cnts(void);
void ksft_exit_fail_msg(const char *fmt, ...) __printf(1, 2) __noreturn;

/* Case registry ---------------------------------------------------------- */
#define KSFT_NAME_MAX	256
#define KSFT_REASON_MAX	512
#define KSFT_TAGS_MAX	4

/* What a case is about, for machine-readable results (all optional). */
struct ksft_meta {
	const char *property;
	const char *mechanism;
	const char *access;		/* "R/O", "R/W" or NULL */
	const char *backing;
	const char *trigger;
	const char *tags[KSFT_TAGS_MAX];	/* upstream commits the case guards */
};

struct ksft_case;
/* Runs in the case process; @report is the zeroed shared report area. */
typedef void (*ksft_case_fn)(const struct ksft_case *tc, void *report);

struct ksft_case {
	char name[KSFT_NAME_MAX];
	ksft_case_fn fn;
	const void *arg;	/* private copy of what ksft_case_add() got */
	unsigned int timeout;	/* seconds; 0: the run's default */
	bool quick;		/* in the --quick profile */
	struct ksft_meta meta;
};

/*
 * Register a case.  @arg (@argsz bytes) is copied; the case function finds
 * the copy in tc->arg.  The name must be unique in the binary; a duplicate
 * or a name containing '#' is a bug and aborts the binary before any output.
 */
struct ksft_case *ksft_case_add(ksft_case_fn fn, const void *arg, size_t argsz,
				const char *fmt, ...) __printf(4, 5);
/* Number of registered cases. */
unsigned int ksft_case_count(void);

/* How the case process ended. */
struct ksft_end {
	bool timed_out;		/* killed by the runner after @timeout seconds */
	unsigned int timeout;
	bool signaled;		/* died of signal @sig */
	int sig;
	int status;		/* exit status when it exited */
	bool in_runner;		/* --no-fork: ran in the runner itself */
	int not_started;	/* errno when the case process could not be forked */
	int pid;		/* the case process, 0 when none */
	unsigned int stuck;	/* its processes that did not die after SIGKILL */
};

/* What the judge decided. */
struct ksft_verdict {
	int code;				/* KSFT_PASS ... KSFT_ERROR */
	char reason[KSFT_REASON_MAX];		/* SKIP/XFAIL: a fixed text per cause */
	char diagnosis[KSFT_REASON_MAX];	/* FAIL/ERROR: one line, after the name */
	char hint[KSFT_REASON_MAX];		/* the upstream fix it points at, or "" */
};

/*
 * The one function that turns a report and the end of the case process
 * into a verdict.  It may print "# " lines (they come just before the
 * result line).
 */
typedef void (*ksft_judge_fn)(const struct ksft_case *tc, const void *report,
			      const struct ksft_end *end, struct ksft_verdict *v);

/* Command line and main loop -------------------------------------------- */
struct option;

/* A way to break a check on purpose: --selftest-break MODE sets *var = value. */
struct ksft_break {
	const char *mode;
	const char *help;
	int *var;
	int value;
};

#define KSFT_BREAK_TABLES 2

struct ksft_suite {
	const char *name;		/* binary name */
	const char *summary;		/* one line for -h */
	const char *usage;		/* extra option lines for -h, or NULL */
	const char *optstring;		/* extra short options, or NULL */
	const struct option *longopts;	/* extra long options, or NULL */
	/*
	 * Handle one extra option: 0, or -1 for bad usage with the reason
	 * (naming the argument) in @why.
	 */
	int (*option)(int opt, const char *arg, char *why, size_t len);
	/* Tables of --selftest-break modes, each ended by an empty entry. */
	const struct ksft_break *breaks[KSFT_BREAK_TABLES];
	/*
	 * After the options, before anything else: check what the options
	 * and the environment ask for; 0, or -1 for bad usage (@why).
	 */
	int (*validate)(char *why, size_t len);
	/* Detect what the system offers and register the cases. */
	void (*enumerate)(void);
	/* Runs in the runner before the first case (not with -l). */
	void (*setup)(void);
	/* Runs in the runner after the last case (not with -l). */
	void (*teardown)(void);
	/*
	 * Optional, in the runner before a case is forked: true when the
	 * report is already complete (an unmet prerequisite), so that the
	 * case needs no process of its own.  Reads only; no side effects.
	 */
	bool (*precheck)(const struct ksft_case *tc, void *report);
	/* Runs in the runner once a case process is gone. */
	void (*reaped)(const struct ksft_end *end);
	/* Writes extra members of the "run" JSON record: ,"key":value ... */
	void (*json_run)(FILE *f);
	ksft_judge_fn judge;
	size_t report_size;		/* bytes of the shared report area */
	unsigned int timeout;		/* default seconds per case */
};

/*
 * Parse the command line (common options plus the suite's), enumerate,
 * then list (-l) or run the cases and exit with the kselftest status:
 * 0 no failure, 1 any failure or lost output, 4 nothing could run,
 * 2 bad usage (also a -t pattern that selects no case).
 */
int ksft_main(const struct ksft_suite *suite, int argc, char **argv) __noreturn;

/* Verbosity requested with -v (diagnostics for passing cases too). */
extern int ksft_verbose;

/* Write @s as a JSON string (with quotes) to @f. */
void ksft_json_str(FILE *f, const char *s);

#endif /* PINSUITE_KSFT_H */
