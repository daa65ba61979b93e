/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP 13 output in the kselftest dialect, plus a case registry.
 *
 * The ksft_* printing functions keep the names and the output of
 * tools/testing/selftests/kselftest.h, so that a reader who knows the
 * kselftests is at home.  On top of them sits a registry of named cases:
 * a binary registers every case it plans (the plan is the number of
 * registered cases), and ksft_run() runs each one in a child process of
 * its own, which must report exactly one result.  Whatever a case does -
 * return without a verdict, crash, hang - the parent prints exactly one
 * result line for it, with the same name.
 */
#ifndef PINSUITE_KSFT_H
#define PINSUITE_KSFT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_XFAIL	2
#define KSFT_XPASS	3
#define KSFT_SKIP	4

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
unsigned int ksft_test_num(void);
void ksft_print_msg(const char *fmt, ...) __printf(1, 2);
void ksft_perror(const char *msg);
void ksft_test_result_pass(const char *fmt, ...) __printf(1, 2);
void ksft_test_result_fail(const char *fmt, ...) __printf(1, 2);
void ksft_test_result_skip(const char *fmt, ...) __printf(1, 2);
void ksft_test_result_xfail(const char *fmt, ...) __printf(1, 2);
void ksft_test_result_code(int code, const char *name, const char *fmt, ...)
	__printf(3, 4);
void ksft_print_cnts(void);
unsigned int ksft_get_fail_cnt(void);
void ksft_exit_pass(void) __noreturn;
void ksft_exit_fail(void) __noreturn;
void ksft_exit_skip(const char *fmt, ...) __printf(1, 2) __noreturn;
void ksft_exit_fail_msg(const char *fmt, ...) __printf(1, 2) __noreturn;
void ksft_finished(void) __noreturn;

/* Case registry ---------------------------------------------------------- */
#define KSFT_NAME_MAX	256
#define KSFT_REASON_MAX	512

struct ksft_case;
typedef void (*ksft_case_fn)(const struct ksft_case *tc);

struct ksft_case {
	char name[KSFT_NAME_MAX];
	ksft_case_fn fn;
	const void *arg;	/* private copy of what ksft_case_add() got */
	unsigned int timeout;	/* seconds; 0: the run's default */
	/*
	 * Optional: called in the runner before the case is forked; a
	 * non-NULL return is the SKIP reason and the case is not run.  For
	 * cheap checks only (no side effects on the runner).
	 */
	const char *(*precheck)(const struct ksft_case *tc);
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

/*
 * Report the verdict of the running case.  Only the first report counts.
 * For SKIP and XFAIL @fmt is the reason printed after the directive; for
 * FAIL it is printed as a diagnostic line; for PASS it may be NULL.
 */
void ksft_case_result(int code, const char *fmt, ...) __printf(2, 3);
#define ksft_case_pass()		ksft_case_result(KSFT_PASS, NULL)
#define ksft_case_fail(...)		ksft_case_result(KSFT_FAIL, __VA_ARGS__)
#define ksft_case_skip(...)		ksft_case_result(KSFT_SKIP, __VA_ARGS__)
#define ksft_case_xfail(...)		ksft_case_result(KSFT_XFAIL, __VA_ARGS__)
/* True once the running case has reported. */
bool ksft_case_reported(void);

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
	/* Handle one extra option; return 0, or -1 for bad usage. */
	int (*option)(int opt, const char *arg);
	/* Tables of --selftest-break modes, each ended by an empty entry. */
	const struct ksft_break *breaks[KSFT_BREAK_TABLES];
	/* Detect what the system offers and register the cases. */
	void (*enumerate)(void);
	/* Runs in the parent before the first case (not with -l). */
	void (*setup)(void);
	/* Runs in the parent after the last case (not with -l). */
	void (*teardown)(void);
	unsigned int timeout;		/* default seconds per case */
};

/*
 * Parse the command line (common options plus the suite's), enumerate,
 * then list (-l) or run the cases and exit with the kselftest status:
 * 0 no failure, 1 any failure, 4 nothing could run, 2 bad usage.
 */
int ksft_main(const struct ksft_suite *suite, int argc, char **argv)
	__noreturn;

/* Verbosity requested with -v (diagnostics for passing cases too). */
extern int ksft_verbose;

#endif /* PINSUITE_KSFT_H */
