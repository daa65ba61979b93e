// SPDX-License-Identifier: GPL-2.0
/*
 * TAP 13 printing (kselftest dialect) and the case runner.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksft.h"
#include "backing.h"
#include "sysstate.h"
#include "util.h"

int ksft_verbose;

static struct {
	unsigned int pass, fail, xfail, xpass, skip, error;
} cnt;
static unsigned int plan;

/* kselftest.h compatible layer ------------------------------------------ */

void ksft_print_header(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!getenv("KSFT_TAP_LEVEL"))
		printf("TAP version 13\n");
}

void ksft_set_plan(unsigned int n)
{
	plan = n;
	printf("1..%u\n", n);
}

unsigned int ksft_test_num(void)
{
	return cnt.pass + cnt.fail + cnt.xfail + cnt.xpass + cnt.skip + cnt.error;
}

unsigned int ksft_get_fail_cnt(void)
{
	return cnt.fail;
}

static void vmsg(const char *fmt, va_list ap)
{
	int saved = errno;

	printf("# ");
	errno = saved;
	vprintf(fmt, ap);
}

void ksft_print_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void ksft_perror(const char *msg)
{
	int e = errno;

	ksft_print_msg("%s: %s (%d)\n", msg, strerror(e), e);
}

static void result_line(const char *tap, const char *directive,
			const char *fmt, va_list ap)
{
	printf("%s %u%s", tap, ksft_test_num(), directive);
	vprintf(fmt, ap);
}

void ksft_test_result_pass(const char *fmt, ...)
{
	va_list ap;

	cnt.pass++;
	va_start(ap, fmt);
	result_line("ok", " ", fmt, ap);
	va_end(ap);
}

void ksft_test_result_fail(const char *fmt, ...)
{
	va_list ap;

	cnt.fail++;
	va_start(ap, fmt);
	result_line("not ok", " ", fmt, ap);
	va_end(ap);
}

void ksft_test_result_skip(const char *fmt, ...)
{
	va_list ap;

	cnt.skip++;
	va_start(ap, fmt);
	result_line("ok", " # SKIP ", fmt, ap);
	va_end(ap);
}

void ksft_test_result_xfail(const char *fmt, ...)
{
	va_list ap;

	cnt.xfail++;
	va_start(ap, fmt);
	result_line("ok", " # XFAIL ", fmt, ap);
	va_end(ap);
}

/*
 * The form our cases use: the name first, then the directive, so that a
 * case has the same name whatever its outcome.  Unlike the other printers
 * this one ends the line itself.
 */
void ksft_test_result_code(int code, const char *name, const char *fmt, ...)
{
	const char *tap = "ok", *directive = "";
	va_list ap;

	switch (code) {
	case KSFT_PASS:
		cnt.pass++;
		break;
	case KSFT_FAIL:
		cnt.fail++;
		tap = "not ok";
		break;
	case KSFT_XFAIL:
		cnt.xfail++;
		directive = " # XFAIL ";
		break;
	case KSFT_XPASS:
		cnt.xpass++;
		directive = " # XPASS ";
		break;
	case KSFT_SKIP:
		cnt.skip++;
		directive = " # SKIP ";
		break;
	default:
		cnt.error++;
		tap = "not ok";
		directive = " # error ";
		break;
	}
	printf("%s %u %s%s", tap, ksft_test_num(), name, directive);
	if (fmt && *directive) {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
}

void ksft_print_cnts(void)
{
	if (plan != ksft_test_num())
		printf("# Planned tests != run tests (%u != %u)\n", plan, ksft_test_num());
	printf("# Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:%u\n",
	       cnt.pass, cnt.fail, cnt.xfail, cnt.xpass, cnt.skip, cnt.error);
}

void ksft_exit_pass(void)
{
	ksft_print_cnts();
	exit(KSFT_PASS);
}

void ksft_exit_fail(void)
{
	ksft_print_cnts();
	exit(KSFT_FAIL);
}

void ksft_exit_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!ksft_test_num() && !plan) {
		printf("1..0 # SKIP ");
		vprintf(fmt, ap);
	} else {
		cnt.skip++;
		result_line("ok", " # SKIP ", fmt, ap);
		ksft_print_cnts();
	}
	va_end(ap);
	exit(KSFT_SKIP);
}

void ksft_exit_fail_msg(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	ksft_print_cnts();
	exit(KSFT_FAIL);
}

/*
 * Our exit rule: any failure, error or XPASS, or a plan that was not met,
 * is a failure; nothing but skips is KSFT_SKIP; anything else passed.
 */
void ksft_finished(void)
{
	ksft_print_cnts();
	if (cnt.fail || cnt.error || cnt.xpass || plan != ksft_test_num())
		exit(KSFT_FAIL);
	if (!cnt.pass && !cnt.xfail)
		exit(KSFT_SKIP);
	exit(KSFT_PASS);
}

/* Case registry ---------------------------------------------------------- */

static struct ksft_case **cases;
static unsigned int nr_cases, cap_cases;

static void die(const char *fmt, ...) __printf(1, 2) __noreturn;
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pinsuite: internal error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	exit(KSFT_FAIL);
}

static void check_name(const char *name)
{
	unsigned int i;

	if (!*name || strchr(name, '#') || strchr(name, '\n'))
		die("bad case name '%s'\n", name);
	for (i = 0; i < nr_cases; i++)
		if (!strcmp(cases[i]->name, name))
			die("duplicate case name '%s'\n", name);
}

struct ksft_case *ksft_case_add(ksft_case_fn fn, const void *arg, size_t argsz,
				const char *fmt, ...)
{
	struct ksft_case *tc;
	void *copy = NULL;
	va_list ap;
	int n;

	tc = calloc(1, sizeof(*tc));
	if (argsz)
		copy = malloc(argsz);
	if (!tc || (argsz && !copy))
		die("out of memory\n");
	if (argsz)
		memcpy(copy, arg, argsz);
	va_start(ap, fmt);
	n = vsnprintf(tc->name, sizeof(tc->name), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tc->name))
		die("case name too long: '%s'\n", tc->name);
	check_name(tc->name);
	tc->fn = fn;
	tc->arg = copy;
	if (nr_cases == cap_cases) {
		cap_cases = cap_cases ? 2 * cap_cases : 256;
		cases = realloc(cases, cap_cases * sizeof(*cases));
		if (!cases)
			die("out of memory\n");
	}
	cases[nr_cases++] = tc;
	return tc;
}

unsigned int ksft_case_count(void)
{
	return nr_cases;
}

/* What a case reports, in memory shared between the runner and the case. */
struct case_report {
	int reported;
	int twice;
	int code;
	char reason[KSFT_REASON_MAX];
};

static struct case_report *report;

void ksft_case_result(int code, const char *fmt, ...)
{
	char buf[KSFT_REASON_MAX] = "";
	va_list ap;
	char *nl;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
	}
	while ((nl = strchr(buf, '\n')))
		*nl = ' ';
	if (report->reported) {
		ksft_print_msg("BUG: second verdict for one case ignored: %d %s\n", code, buf);
		report->twice = 1;
		return;
	}
	if (code == KSFT_FAIL && *buf)
		ksft_print_msg("%s\n", buf);
	/* The '#' would start a directive; keep reasons plain. */
	for (nl = buf; *nl; nl++)
		if (*nl == '#')
			*nl = '_';
	report->code = code;
	memcpy(report->reason, buf, sizeof(buf));
	report->reported = 1;
}

bool ksft_case_reported(void)
{
	return report && report->reported;
}

/* Running cases ------------------------------------------------------- */

static bool no_fork;
static unsigned int timeout_secs;
static char **filters;
static unsigned int nr_filters;
static sigset_t chld_mask, old_mask;

static bool selected(const char *name)
{
	unsigned int i;

	if (!nr_filters)
		return true;
	for (i = 0; i < nr_filters; i++) {
		if (strpbrk(filters[i], "*?[")) {
			if (!fnmatch(filters[i], name, 0))
				return true;
		} else if (strstr(name, filters[i])) {
			return true;
		}
	}
	return false;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for @pid until @timeout seconds have passed; false on timeout. */
static bool wait_case(pid_t pid, int *status, unsigned int timeout)
{
	double deadline = now() + timeout;
	struct timespec ts;
	double left;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR)
			die("waitpid: %s\n", strerror(errno));
		left = deadline - now();
		if (left <= 0)
			return false;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		sigtimedwait(&chld_mask, NULL, &ts);
	}
}

/*
 * Kill and reap whatever the case left behind: its process group, and any
 * orphan that left the group and was reparented to us (we are a child
 * subreaper).
 */
static void reap_leftovers(pid_t pgid)
{
	char path[64], buf[4096], *p, *end;
	int status;
	long pid;

	kill(-pgid, SIGKILL);
	while (waitpid(-pgid, &status, 0) > 0 || errno == EINTR)
		;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	if (read_file(path, buf, sizeof(buf)))
		return;
	for (p = buf; (pid = strtol(p, &end, 10)) > 0; p = end) {
		kill((pid_t)pid, SIGKILL);
		waitpid((pid_t)pid, &status, 0);
	}
}

static void run_in_child(const struct ksft_case *tc)
{
	unsigned int timeout = tc->timeout ? tc->timeout : timeout_secs;
	bool done;
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ksft_perror("fork");
		return;
	}
	if (!pid) {
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		tc->fn(tc);
		sysstate_restore_all();
		fflush(stdout);
		_exit(0);
	}
	setpgid(pid, pid);
	done = wait_case(pid, &status, timeout);
	reap_leftovers(pid);
	if (!done) {
		ksft_print_msg("TIMEOUT: case still running after %u s, killed\n", timeout);
		report->reported = 0;
	} else if (WIFSIGNALED(status) && !report->reported) {
		ksft_print_msg("case process died: signal %d (%s)\n",
			       WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else if (!report->reported) {
		ksft_print_msg("case ended without a verdict (exit status %d)\n",
			       WEXITSTATUS(status));
	}
	/* Whatever the case changed and did not put back, put back now. */
	if (!done || !WIFEXITED(status))
		sysstate_guardian_restore(pid);
}

static void run_case(const struct ksft_case *tc)
{
	const char *why = tc->precheck ? tc->precheck(tc) : NULL;

	memset(report, 0, sizeof(*report));
	printf("# [RUN] %s\n", tc->name);
	if (why) {
		ksft_test_result_code(KSFT_SKIP, tc->name, "%s", why);
		return;
	}
	if (no_fork)
		tc->fn(tc);
	else
		run_in_child(tc);

	if (!report->reported) {
		ksft_test_result_code(KSFT_FAIL, tc->name, NULL);
		return;
	}
	if (report->twice) {
		ksft_print_msg("BUG: the case reported more than one verdict\n");
		ksft_test_result_code(KSFT_FAIL, tc->name, NULL);
		return;
	}
	ksft_test_result_code(report->code, tc->name, "%s", report->reason);
}

/* Command line ----------------------------------------------------------- */

static const char common_usage[] =
	"  -h, --help            show this help and exit\n"
	"  -l, --list            list the case names this system would run, then exit\n"
	"  -t, --test PATTERN    run only cases whose name contains PATTERN (or matches\n"
	"                        it as a glob when it has * ? [); may be repeated\n"
	"  -T, --timeout SECS    kill a case that runs longer (default %u)\n"
	"  -n, --no-fork         run cases in the main process (for debuggers)\n"
	"  -v, --verbose         more diagnostics, also for passing cases\n"
	"      --disk-dir DIR    a directory on a disk filesystem (ext4, xfs, btrfs) for\n"
	"                        file backings; may be repeated (also PINSUITE_DISK_DIRS,\n"
	"                        colon separated)\n";

static void print_breaks(const struct ksft_suite *s, FILE *f)
{
	const struct ksft_break *b;
	size_t i;

	if (!s->breaks[0])
		return;
	fputs("      --selftest-break MODE  break a check on purpose, to show it can fail:\n", f);
	for (i = 0; i < KSFT_BREAK_TABLES; i++)
		for (b = s->breaks[i]; b && b->mode; b++)
			fprintf(f, "                        %-9s %s\n", b->mode, b->help);
}

static int set_break(const struct ksft_suite *s, const char *mode)
{
	const struct ksft_break *b;
	size_t i;

	for (i = 0; i < KSFT_BREAK_TABLES; i++) {
		for (b = s->breaks[i]; b && b->mode; b++) {
			if (!strcmp(b->mode, mode)) {
				*b->var = b->value;
				return 0;
			}
		}
	}
	return -1;
}

static void print_usage(const struct ksft_suite *s, FILE *f)
{
	fprintf(f, "Usage: %s [OPTION]...\n%s\n\nOptions:\n", s->name, s->summary);
	fprintf(f, common_usage, s->timeout);
	if (s->usage)
		fputs(s->usage, f);
	print_breaks(s, f);
	fprintf(f, "\nExit status: 0 no failure, 1 a failure, 4 everything skipped, 2 bad usage.\n");
}

enum { OPT_DISK_DIR = 0x1000, OPT_SELFTEST_BREAK };

static const struct option common_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "list", no_argument, NULL, 'l' },
	{ "test", required_argument, NULL, 't' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "no-fork", no_argument, NULL, 'n' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "disk-dir", required_argument, NULL, OPT_DISK_DIR },
	{ "selftest-break", required_argument, NULL, OPT_SELFTEST_BREAK },
};

#define NR_COMMON_LONGOPTS ARRAY_SIZE(common_longopts)

static struct option *merge_longopts(const struct ksft_suite *s)
{
	size_t n = 0, i;
	struct option *all;

	while (s->longopts && s->longopts[n].name)
		n++;
	all = calloc(NR_COMMON_LONGOPTS + n + 1, sizeof(*all));
	if (!all)
		die("out of memory\n");
	memcpy(all, common_longopts, sizeof(common_longopts));
	for (i = 0; i < n; i++)
		all[NR_COMMON_LONGOPTS + i] = s->longopts[i];
	return all;
}

static int parse_uint(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || !v || v > 86400)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static void bad_usage(const struct ksft_suite *s, const char *what) __noreturn;
static void bad_usage(const struct ksft_suite *s, const char *what)
{
	if (what)
		fprintf(stderr, "%s: %s\n", s->name, what);
	print_usage(s, stderr);
	exit(KSFT_USAGE);
}

static bool parse_args(const struct ksft_suite *s, int argc, char **argv)
{
	char optstring[64] = "+hlt:T:nv";
	struct option *longopts = merge_longopts(s);
	bool list = false;
	int opt;

	if (s->optstring)
		strncat(optstring, s->optstring, sizeof(optstring) - strlen(optstring) - 1);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			print_usage(s, stdout);
			exit(0);
		case 'l':
			list = true;
			break;
		case 't':
			filters = realloc(filters, (nr_filters + 1) * sizeof(*filters));
			if (!filters)
				die("out of memory\n");
			filters[nr_filters++] = optarg;
			break;
		case 'T':
			if (parse_uint(optarg, &timeout_secs))
				bad_usage(s, "bad --timeout value");
			break;
		case 'n':
			no_fork = true;
			break;
		case 'v':
			ksft_verbose++;
			break;
		case OPT_DISK_DIR:
			backing_add_disk_dir(optarg);
			break;
		case OPT_SELFTEST_BREAK:
			if (set_break(s, optarg))
				bad_usage(s, "unknown --selftest-break mode");
			break;
		case '?':
			bad_usage(s, "unknown option or missing argument");
			break;
		default:
			if (!s->option || s->option(opt, optarg))
				bad_usage(s, NULL);
		}
	}
	if (optind < argc)
		bad_usage(s, "unexpected argument");
	free(longopts);
	return list;
}

static void print_system(const struct ksft_suite *s)
{
	struct utsname u;

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	ksft_print_msg("pinsuite %s on Linux %s %s (%s), uid %d\n", s->name, u.release,
		       u.version, u.machine, (int)geteuid());
}

int ksft_main(const struct ksft_suite *s, int argc, char **argv)
{
	unsigned int i, n = 0;
	bool list;
	const char *env = getenv("PINSUITE_CASE_TIMEOUT");

	timeout_secs = s->timeout ? s->timeout : 120;
	if (env && parse_uint(env, &timeout_secs))
		bad_usage(s, "bad PINSUITE_CASE_TIMEOUT");
	list = parse_args(s, argc, argv);
	s->enumerate();

	if (list) {
		for (i = 0; i < nr_cases; i++)
			if (selected(cases[i]->name))
				printf("%s\n", cases[i]->name);
		exit(0);
	}

	for (i = 0; i < nr_cases; i++)
		n += selected(cases[i]->name);

	ksft_print_header();
	print_system(s);
	ksft_set_plan(n);

	/* A dead helper's pipe must give EPIPE, not kill the case. */
	signal(SIGPIPE, SIG_IGN);
	report = mmap(NULL, sizeof(*report), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (report == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	if (sysstate_init())
		ksft_print_msg("no guardian for system settings: %s\n", strerror(errno));
	sigemptyset(&chld_mask);
	sigaddset(&chld_mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld_mask, &old_mask);
	/* Orphans of a case become ours, so that reap_group() finds them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	if (s->setup)
		s->setup();
	for (i = 0; i < nr_cases; i++)
		if (selected(cases[i]->name))
			run_case(cases[i]);
	if (s->teardown)
		s->teardown();
	sysstate_restore_all();
	ksft_finished();
}
