// SPDX-License-Identifier: GPL-2.0
/*
 * TAP 13 printing (kselftest dialect) and the case runner.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <poll.h>
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

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

int ksft_verbose;

static struct {
	unsigned int pass, fail, xfail, xpass, skip, error;
} cnt;
static unsigned int plan;
static const struct ksft_suite *suite;

/* Output ---------------------------------------------------------------- */

/* The first write error on stdout or the JSON file, or 0. */
static int lost_errno;
static const char *lost_where;

static void note_lost(FILE *f, const char *where)
{
	if (!lost_errno && ferror(f)) {
		lost_errno = errno ? errno : EIO;
		lost_where = where;
	}
}

/* The log of the running case (its "# " lines), for the JSON record. */
static char *caselog;
static size_t log_len, log_cap;
static bool logging;

#define CASE_LOG_MAX	(64 << 10)

static void log_line(const char *line, size_t len)
{
	if (!logging || log_len + len + 2 > CASE_LOG_MAX)
		return;
	if (log_len + len + 2 > log_cap) {
		size_t cap = log_cap ? log_cap : 4096;
		char *p;

		while (cap < log_len + len + 2)
			cap *= 2;
		p = realloc(caselog, cap);
		if (!p)
			return;
		caselog = p;
		log_cap = cap;
	}
	memcpy(caselog + log_len, line, len);
	log_len += len;
	caselog[log_len++] = '\n';
	caselog[log_len] = '\0';
}

/* Print one diagnostic line (without its "# " and newline) and log it. */
static void diag_line(const char *text, size_t len)
{
	printf("# %.*s\n", (int)len, text);
	note_lost(stdout, "stdout");
	log_line(text, len);
}

void ksft_print_header(void)
{
	if (!getenv("KSFT_TAP_LEVEL"))
		printf("TAP version 13\n");
}

void ksft_set_plan(unsigned int n)
{
	plan = n;
	printf("1..%u\n", n);
}

static unsigned int test_num(void)
{
	return cnt.pass + cnt.fail + cnt.xfail + cnt.xpass + cnt.skip + cnt.error;
}

void ksft_print_msg(const char *fmt, ...)
{
	char buf[4096], *line, *nl;
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	errno = saved;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (line = buf; *line; line = nl + 1) {
		nl = strchrnul(line, '\n');
		diag_line(line, nl - line);
		if (!*nl)
			break;
	}
	fflush(stdout);
	note_lost(stdout, "stdout");
	errno = saved;
}

void ksft_print_cnts(void)
{
	if (plan != test_num())
		printf("# Planned tests != run tests (%u != %u)\n", plan, test_num());
	printf("# Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:%u\n",
	       cnt.pass, cnt.fail, cnt.xfail, cnt.xpass, cnt.skip, cnt.error);
}

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

/* JSON ------------------------------------------------------------------ */

static FILE *json;

void ksft_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_member(const char *key, const char *val)
{
	fprintf(json, ",\"%s\":", key);
	ksft_json_str(json, val);
}

static void json_end(void)
{
	fputs("}\n", json);
	fflush(json);
	note_lost(json, "the JSON file");
}

static void json_run(int argc, char **argv)
{
	struct utsname u;
	char when[32];
	time_t t = time(NULL);
	int i;

	if (!json)
		return;
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fputs("{\"type\":\"run\"", json);
	json_member("binary", suite->name);
	json_member("kernel", u.release);
	json_member("kernel_version", u.version);
	json_member("machine", u.machine);
	fprintf(json, ",\"uid\":%d,\"args\":[", (int)geteuid());
	for (i = 1; i < argc; i++) {
		if (i > 1)
			fputc(',', json);
		ksft_json_str(json, argv[i]);
	}
	fputc(']', json);
	json_member("time", when);
	if (suite->json_run)
		suite->json_run(json);
	json_end();
}

static const char *const verdict_names[] = {
	[KSFT_PASS] = "pass", [KSFT_FAIL] = "fail", [KSFT_XFAIL] = "xfail",
	[KSFT_XPASS] = "xpass", [KSFT_SKIP] = "skip", [KSFT_ERROR] = "error",
};

static void json_case(const struct ksft_case *tc, const struct ksft_verdict *v, double secs)
{
	const struct ksft_meta *m = &tc->meta;
	const char *line, *nl;
	int i;

	if (!json)
		return;
	fputs("{\"type\":\"case\"", json);
	json_member("binary", suite->name);
	fprintf(json, ",\"num\":%u", test_num());
	json_member("name", tc->name);
	json_member("property", m->property);
	json_member("mechanism", m->mechanism);
	json_member("access", m->access);
	json_member("backing", m->backing);
	json_member("trigger", m->trigger);
	json_member("verdict", verdict_names[v->code]);
	json_member("reason", v->reason);
	json_member("diagnosis", v->diagnosis);
	json_member("hint", v->hint);
	fputs(",\"tags\":[", json);
	for (i = 0; i < KSFT_TAGS_MAX && m->tags[i]; i++) {
		if (i)
			fputc(',', json);
		ksft_json_str(json, m->tags[i]);
	}
	fprintf(json, "],\"duration_s\":%.3f,\"log\":[", secs);
	for (line = caselog; line && *line; line = nl + 1) {
		char one[1024];

		nl = strchrnul(line, '\n');
		snprintf(one, sizeof(one), "%.*s", (int)(nl - line), line);
		if (line != caselog)
			fputc(',', json);
		ksft_json_str(json, one);
		if (!*nl)
			break;
	}
	fputc(']', json);
	json_end();
}

static void json_totals(int code)
{
	if (!json)
		return;
	fputs("{\"type\":\"totals\"", json);
	json_member("binary", suite->name);
	fprintf(json, ",\"pass\":%u,\"fail\":%u,\"xfail\":%u,\"xpass\":%u,\"skip\":%u,\"error\":%u,\"exit\":%d",
		cnt.pass, cnt.fail, cnt.xfail, cnt.xpass, cnt.skip, cnt.error, code);
	json_end();
}

/* Results --------------------------------------------------------------- */

/* How many cases skipped for each reason, for the summary at the end. */
static struct skip_count {
	char *reason;
	unsigned int n;
} *skips;
static unsigned int nr_skips;

static void count_skip(const char *reason)
{
	unsigned int i;
	void *p;

	for (i = 0; i < nr_skips; i++) {
		if (!strcmp(skips[i].reason, reason)) {
			skips[i].n++;
			return;
		}
	}
	p = realloc(skips, (nr_skips + 1) * sizeof(*skips));
	if (!p)
		return;
	skips = p;
	skips[nr_skips].reason = strdup(reason);
	skips[nr_skips].n = skips[nr_skips].reason ? 1 : 0;
	nr_skips += skips[nr_skips].reason != NULL;
}

static int by_count(const void *a, const void *b)
{
	const struct skip_count *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->reason, y->reason);
}

/* Why cases were skipped, most frequent first (run_tests.sh adds them up). */
static void print_skips(void)
{
	unsigned int i;

	if (!nr_skips)
		return;
	qsort(skips, nr_skips, sizeof(*skips), by_count);
	printf("# Skipped cases by reason (%u):\n", cnt.skip);
	for (i = 0; i < nr_skips; i++)
		printf("#   %u %s\n", skips[i].n, skips[i].reason);
}

/* '#' would start a directive and a newline a new line: keep texts plain. */
static void plain(char *s)
{
	for (; *s; s++)
		if (*s == '#' || *s == '\n' || *s == '\r')
			*s = *s == '#' ? '_' : ' ';
}

static void result_line(const struct ksft_case *tc, struct ksft_verdict *v)
{
	const char *tap = "ok", *directive = "", *text = "";
	char failed[2 * KSFT_REASON_MAX + 8];

	plain(v->reason);
	plain(v->diagnosis);
	switch (v->code) {
	case KSFT_PASS:
		cnt.pass++;
		break;
	case KSFT_FAIL:
		cnt.fail++;
		tap = "not ok";
		plain(v->hint);
		snprintf(failed, sizeof(failed), "%s%s%s", v->diagnosis, *v->hint ? "; " : "",
			 v->hint);
		text = failed;
		break;
	case KSFT_XFAIL:
		cnt.xfail++;
		directive = "XFAIL ";
		text = v->reason;
		break;
	case KSFT_XPASS:
		cnt.xpass++;
		directive = "XPASS ";
		text = v->reason;
		break;
	case KSFT_SKIP:
		cnt.skip++;
		directive = "SKIP ";
		text = v->reason;
		count_skip(v->reason);
		break;
	default:
		v->code = KSFT_ERROR;
		cnt.error++;
		tap = "not ok";
		directive = "error ";
		text = v->diagnosis;
		break;
	}
	/*
	 * For a failure the one-line diagnosis follows the name: parsers that
	 * keep the text after a result line for that case (LKFT's) see it first.
	 */
	if (*directive || *text)
		printf("%s %u %s # %s%s\n", tap, test_num(), tc->name, directive, text);
	else
		printf("%s %u %s\n", tap, test_num(), tc->name);
	/* ... which runs into the next line there unless this one is empty. */
	if (*tap == 'n')
		printf("#\n");
	fflush(stdout);
	note_lost(stdout, "stdout");
}

/* Registry ------------------------------------------------------------- */

static struct ksft_case **cases;
static unsigned int nr_cases, cap_cases;

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

/* Running cases ------------------------------------------------------- */

static bool no_fork;
static unsigned int timeout_secs;
static char **filters;
static unsigned int nr_filters;
static sigset_t chld_mask, old_mask;
static void *report;

static int parse_uint(const char *s, unsigned int *out);
static void bad_usage(const char *fmt, ...) __printf(1, 2) __noreturn;

/* The case process running now, for the run's own deadline. */
static pid_t running_case;

/*
 * PINSUITE_RUN_TIMEOUT: the whole binary's time is up (run_tests.sh's
 * timeout= from settings).  Stop the running case and end with 124, as
 * timeout(1) would; the plan is not met, which says it all.
 */
static void run_timed_out(int sig)
{
	static const char msg[] = "Bail out! the run's time (PINSUITE_RUN_TIMEOUT) is up\n";

	(void)sig;
	if (running_case > 0)
		kill(-running_case, SIGKILL);
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(124);
	_exit(124);
}

static void arm_run_timeout(void)
{
	const char *env = getenv("PINSUITE_RUN_TIMEOUT");
	unsigned int secs;

	if (!env || !*env)
		return;
	if (parse_uint(env, &secs))
		bad_usage("bad PINSUITE_RUN_TIMEOUT '%s' (seconds, 1 to 86400)", env);
	signal(SIGALRM, run_timed_out);
	alarm(secs);
}

static bool quick;

static bool selected(const struct ksft_case *tc)
{
	const char *name = tc->name;
	unsigned int i;

	if (quick && !tc->quick)
		return false;
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

/*
 * The case's output, line by line: every line becomes a diagnostic of
 * the case (a line the case printed without "# " gets it here).
 */
struct pipe_reader {
	int fd;
	char buf[8192];
	size_t len;
};

/* SIGCHLD only has to interrupt ppoll(). */
static void on_sigchld(int sig)
{
	(void)sig;
}

static void emit_child_line(char *line, size_t len)
{
	if (len >= 2 && line[0] == '#' && line[1] == ' ')
		diag_line(line + 2, len - 2);
	else if (len == 1 && line[0] == '#')
		diag_line("", 0);
	else
		diag_line(line, len);
}

/* Read what is there; false at end of file. */
static bool pipe_drain(struct pipe_reader *r)
{
	char *nl;
	ssize_t n;

	for (;;) {
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->len += n;
		while ((nl = memchr(r->buf, '\n', r->len))) {
			emit_child_line(r->buf, nl - r->buf);
			r->len -= nl + 1 - r->buf;
			memmove(r->buf, nl + 1, r->len);
		}
		if (r->len == sizeof(r->buf)) {
			emit_child_line(r->buf, r->len);
			r->len = 0;
		}
	}
	if (n == 0 && r->len) {
		emit_child_line(r->buf, r->len);
		r->len = 0;
	}
	fflush(stdout);
	return n != 0;
}

/*
 * How long a killed case may take to die: as long as it was allowed to
 * run, up to this.  Tearing down a process with gigantic pages under TCG
 * takes seconds; one that is still there after this is stuck in the
 * kernel, and waiting for it would hang the run.
 */
#define KILL_GRACE_SECS 30

static double kill_deadline(unsigned int timeout)
{
	return now() + (timeout < KILL_GRACE_SECS ? timeout : KILL_GRACE_SECS);
}

/* Reap @pid (a process, or -pgid for a group) until @deadline; false if some did not die. */
static bool reap_until(pid_t pid, int *status, double deadline)
{
	const struct timespec tick = { .tv_nsec = 20 * 1000 * 1000 };
	pid_t got;

	for (;;) {
		got = waitpid(pid, status, WNOHANG);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return true;	/* nothing left to wait for */
		if (got > 0) {
			if (pid > 0)
				return true;
			continue;
		}
		if (now() >= deadline)
			return false;
		nanosleep(&tick, NULL);
	}
}

/* The first line of a /proc file, without its newline, or "?". */
static void proc_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	snprintf(buf, size, "?");
	if (f) {
		if (fgets(buf, size, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

/* Where each thread of @pid sleeps in the kernel (its stack needs root). */
static void describe_stuck_process(long pid, const char *comm, char state)
{
	char path[96], wchan[128], line[256];
	struct dirent *de;
	DIR *tasks;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%ld/wchan", pid);
	proc_line(path, wchan, sizeof(wchan));
	ksft_print_msg("process %ld %s does not die after SIGKILL: state %c, waiting in %s\n",
		       pid, comm, state, wchan);
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	tasks = opendir(path);
	while (tasks && (de = readdir(tasks))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%.16s/stack", pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		ksft_print_msg("  kernel stack of thread %s:\n", de->d_name);
		for (n = 0; n < 16 && fgets(line, sizeof(line), f); n++)
			ksft_print_msg("    %s", line);
		fclose(f);
	}
	if (tasks)
		closedir(tasks);
}

/* Say which processes of group @pgid are still there; how many. */
static unsigned int describe_stuck(pid_t pgid)
{
	char path[64], buf[512], comm[64], state, *paren, *open_paren;
	unsigned int stuck = 0;
	long pid, grp;
	struct dirent *de;
	DIR *proc;

	proc = opendir("/proc");
	while (proc && (de = readdir(proc))) {
		pid = strtol(de->d_name, NULL, 10);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		proc_line(path, buf, sizeof(buf));
		paren = strrchr(buf, ')');
		if (!paren || sscanf(paren + 1, " %c %*d %ld", &state, &grp) != 2)
			continue;
		if (grp != pgid || state == 'Z')
			continue;
		open_paren = strchr(buf, '(');
		snprintf(comm, sizeof(comm), "%.*s",
			 open_paren ? (int)(paren - open_paren + 1) : 1, open_paren ? open_paren : "?");
		describe_stuck_process(pid, comm, state);
		stuck++;
	}
	if (proc)
		closedir(proc);
	return stuck;
}

/*
 * Kill and reap whatever the case left behind: its process group, and any
 * orphan that left the group and was reparented to us (we are a child
 * subreaper).  A process that does not die is described and left behind;
 * returns how many there are.
 */
static unsigned int reap_leftovers(pid_t pgid, double deadline)
{
	char path[64], buf[4096], *p, *end;
	unsigned int stuck = 0;
	int status, fd;
	ssize_t n;
	long pid;

	kill(-pgid, SIGKILL);
	if (!reap_until(-pgid, &status, deadline))
		stuck = describe_stuck(pgid);
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return stuck;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return stuck;
	buf[n] = '\0';
	for (p = buf; (pid = strtol(p, &end, 10)) > 0; p = end) {
		if (getpgid((pid_t)pid) == pgid)
			continue;	/* one of the group, said above */
		kill((pid_t)pid, SIGKILL);
		if (!reap_until((pid_t)pid, &status, deadline)) {
			ksft_print_msg("process %ld left the case's group and does not die after SIGKILL\n",
				       pid);
			stuck++;
		}
	}
	return stuck;
}

static void run_in_child(const struct ksft_case *tc, struct ksft_end *end)
{
	unsigned int timeout = tc->timeout ? tc->timeout : timeout_secs;
	struct pipe_reader r = { .fd = -1 };
	double deadline = now() + timeout;
	bool exited = false, open_pipe = true;
	int status = 0, fds[2];
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe2(fds, O_CLOEXEC))
		die("pipe: %s\n", strerror(errno));
	pid = fork();
	if (pid < 0) {
		end->not_started = errno;
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (!pid) {
		setpgid(0, 0);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/*
		 * stderr too: a case process that never dies must not keep
		 * the runner's output open, and what it says there is then a
		 * diagnostic of the case.
		 */
		if (dup2(fds[1], STDOUT_FILENO) < 0 || dup2(fds[1], STDERR_FILENO) < 0)
			_exit(125);
		close(fds[0]);
		setvbuf(stdout, NULL, _IOLBF, 0);
		tc->fn(tc, report);
		fflush(stdout);
		_exit(0);
	}
	setpgid(pid, pid);
	end->pid = pid;
	running_case = pid;
	close(fds[1]);
	r.fd = fds[0];
	fcntl(r.fd, F_SETFL, O_NONBLOCK);
	while (!exited || open_pipe) {
		struct pollfd pfd = { .fd = r.fd, .events = POLLIN };
		double left = deadline - now();
		struct timespec ts;

		if (!exited && waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
		if (exited) {
			/* What the case's leftovers still write is not waited for. */
			end->stuck = reap_leftovers(pid, kill_deadline(timeout));
			open_pipe = pipe_drain(&r);
			break;
		}
		if (left <= 0) {
			end->timed_out = true;
			break;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		/* SIGCHLD, blocked otherwise, ends the wait as the case ends. */
		if (ppoll(&pfd, open_pipe ? 1 : 0, &ts, &old_mask) > 0)
			open_pipe = pipe_drain(&r);
	}
	if (!exited) {
		/* Timed out: kill the case, then take what it printed. */
		double deadline = kill_deadline(timeout);

		kill(pid, SIGKILL);
		reap_until(pid, &status, deadline);
		end->stuck = reap_leftovers(pid, deadline);
	}
	running_case = 0;
	pipe_drain(&r);
	close(r.fd);
	end->timeout = timeout;
	if (WIFSIGNALED(status) && !end->timed_out) {
		end->signaled = true;
		end->sig = WTERMSIG(status);
	} else if (WIFEXITED(status)) {
		end->status = WEXITSTATUS(status);
	}
}

static void run_case(const struct ksft_case *tc)
{
	struct ksft_end end = { 0 };
	struct ksft_verdict v;
	double start = now();

	memset(report, 0, suite->report_size);
	memset(&v, 0, sizeof(v));
	log_len = 0;
	if (caselog)
		*caselog = '\0';
	printf("# [RUN] %s\n", tc->name);
	fflush(stdout);
	note_lost(stdout, "stdout");
	logging = true;
	if (suite->precheck && suite->precheck(tc, report)) {
		end.in_runner = true;
	} else if (no_fork) {
		end.in_runner = true;
		tc->fn(tc, report);
		fflush(stdout);
	} else {
		run_in_child(tc, &end);
	}
	if (suite->reaped)
		suite->reaped(&end);
	suite->judge(tc, report, &end, &v);
	logging = false;
	result_line(tc, &v);
	json_case(tc, &v, now() - start);
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
	"  -q, --quick           one case per mechanism, kind of backing and trigger\n"
	"                        (for bisecting; the plan shrinks accordingly)\n"
	"      --json FILE       append one JSON record per case to FILE (also\n"
	"                        PINSUITE_JSON); with -l, the case catalog\n";

static void print_breaks(FILE *f)
{
	const struct ksft_break *b;
	size_t i;

	if (!suite->breaks[0])
		return;
	fputs("      --selftest-break MODE  break a check on purpose, to show it can fail:\n", f);
	for (i = 0; i < KSFT_BREAK_TABLES; i++)
		for (b = suite->breaks[i]; b && b->mode; b++)
			fprintf(f, "                        %-9s %s\n", b->mode, b->help);
}

static int set_break(const char *mode)
{
	const struct ksft_break *b;
	size_t i;

	for (i = 0; i < KSFT_BREAK_TABLES; i++) {
		for (b = suite->breaks[i]; b && b->mode; b++) {
			if (!strcmp(b->mode, mode)) {
				*b->var = b->value;
				return 0;
			}
		}
	}
	return -1;
}

static void print_usage(FILE *f)
{
	fprintf(f, "Usage: %s [OPTION]...\n%s\n\nOptions:\n", suite->name, suite->summary);
	fprintf(f, common_usage, suite->timeout);
	if (suite->usage)
		fputs(suite->usage, f);
	print_breaks(f);
	fprintf(f, "\nExit status: 0 no failure, 1 a failure or lost output, 4 everything\n"
		   "skipped, 2 bad usage (also a -t pattern that selects no case).\n");
}

enum { OPT_JSON = 0x1000, OPT_SELFTEST_BREAK };

static const struct option common_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "list", no_argument, NULL, 'l' },
	{ "test", required_argument, NULL, 't' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "no-fork", no_argument, NULL, 'n' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quick", no_argument, NULL, 'q' },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "selftest-break", required_argument, NULL, OPT_SELFTEST_BREAK },
};

static struct option *merge_longopts(void)
{
	size_t n = 0, i, common = ARRAY_LEN(common_longopts);
	struct option *all;

	while (suite->longopts && suite->longopts[n].name)
		n++;
	all = calloc(common + n + 1, sizeof(*all));
	if (!all)
		die("out of memory\n");
	memcpy(all, common_longopts, sizeof(common_longopts));
	for (i = 0; i < n; i++)
		all[common + i] = suite->longopts[i];
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

static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "%s: ", suite->name);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	print_usage(stderr);
	exit(KSFT_USAGE);
}

static const char *json_path;

static bool parse_args(int argc, char **argv)
{
	char optstring[64] = "+hlt:T:nvq", why[KSFT_REASON_MAX];
	struct option *longopts = merge_longopts();
	bool list = false;
	int opt;

	if (suite->optstring)
		strncat(optstring, suite->optstring, sizeof(optstring) - strlen(optstring) - 1);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			print_usage(stdout);
			if (fflush(stdout) || ferror(stdout)) {
				fprintf(stderr, "%s: writing the usage failed: %s\n", suite->name,
					strerror(errno));
				exit(KSFT_FAIL);
			}
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
				bad_usage("bad --timeout value '%s' (seconds, 1 to 86400)", optarg);
			break;
		case 'n':
			no_fork = true;
			break;
		case 'v':
			ksft_verbose++;
			break;
		case 'q':
			quick = true;
			break;
		case OPT_JSON:
			json_path = optarg;
			break;
		case OPT_SELFTEST_BREAK:
			if (set_break(optarg))
				bad_usage("unknown --selftest-break mode '%s'", optarg);
			break;
		case '?':
			if (optopt)
				bad_usage("option -%c is unknown or needs an argument", optopt);
			bad_usage("option '%s' is unknown or needs an argument", argv[optind - 1]);
			break;
		default:
			*why = '\0';
			if (!suite->option || suite->option(opt, optarg, why, sizeof(why)))
				bad_usage("%s", *why ? why : "bad option");
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	free(longopts);
	return list;
}

static void print_system(void)
{
	struct utsname u;

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	ksft_print_msg("pinsuite %s on Linux %s %s (%s), uid %d\n", suite->name, u.release,
		       u.version, u.machine, (int)geteuid());
}

/*
 * Results that cannot be written must not look like success: a closed
 * stdout would hand fd 1 to the next file we open.
 */
static void check_stdout(void)
{
	int fd;

	if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
		fprintf(stderr, "%s: stdout is closed: the results would be lost\n", suite->name);
		exit(KSFT_FAIL);
	}
	/* A closed stdin or stderr must not hand its number to a file either. */
	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			exit(KSFT_FAIL);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static void finish(int code) __noreturn;
static void finish(int code)
{
	if (fflush(stdout) || ferror(stdout))
		note_lost(stdout, "stdout");
	if (json && (fflush(json) || ferror(json)))
		note_lost(json, "the JSON file");
	if (lost_errno) {
		fprintf(stderr, "%s: writing %s failed (%s): results were lost\n", suite->name,
			lost_where, strerror(lost_errno));
		exit(KSFT_FAIL);
	}
	exit(code);
}

static void open_json(void)
{
	if (!json_path)
		json_path = getenv("PINSUITE_JSON");
	if (!json_path || !*json_path)
		return;
	json = fopen(json_path, "ae");
	if (!json) {
		fprintf(stderr, "%s: --json %s: %s\n", suite->name, json_path, strerror(errno));
		exit(KSFT_USAGE);
	}
}

static void list_cases(void)
{
	unsigned int i, n = 0;
	struct ksft_verdict none = { 0 };

	for (i = 0; i < nr_cases; i++) {
		if (!selected(cases[i]))
			continue;
		n++;
		if (json)
			json_case(cases[i], &none, 0);
		else
			printf("%s\n", cases[i]->name);
	}
	if (!n && nr_filters) {
		fprintf(stderr, "%s: no case matches the -t patterns\n", suite->name);
		finish(KSFT_USAGE);
	}
	finish(0);
}

/*
 * Our exit rule: any failure, error or XPASS, or a plan that was not met,
 * is a failure; nothing but skips is KSFT_SKIP; anything else passed.
 */
static int exit_code(void)
{
	if (cnt.fail || cnt.error || cnt.xpass || plan != test_num())
		return KSFT_FAIL;
	if (!cnt.pass && !cnt.xfail)
		return KSFT_SKIP;
	return KSFT_PASS;
}

int ksft_main(const struct ksft_suite *s, int argc, char **argv)
{
	const char *env = getenv("PINSUITE_CASE_TIMEOUT");
	char why[KSFT_REASON_MAX] = "";
	unsigned int i, n = 0;
	bool list;
	int code;

	suite = s;
	check_stdout();
	timeout_secs = s->timeout ? s->timeout : 120;
	if (env && parse_uint(env, &timeout_secs))
		bad_usage("bad PINSUITE_CASE_TIMEOUT '%s' (seconds, 1 to 86400)", env);
	list = parse_args(argc, argv);
	if (s->validate && s->validate(why, sizeof(why)))
		bad_usage("%s", why);
	open_json();
	s->enumerate();
	if (list)
		list_cases();

	for (i = 0; i < nr_cases; i++)
		n += selected(cases[i]);
	if (!n && nr_filters) {
		/* Under run_tests.sh a binary without a match is just skipped. */
		if (getenv("PINSUITE_EMPTY_OK")) {
			ksft_print_header();
			printf("1..0 # SKIP no case matches the -t patterns\n");
			finish(KSFT_SKIP);
		}
		fprintf(stderr, "%s: no case matches the -t patterns\n", s->name);
		exit(KSFT_USAGE);
	}

	arm_run_timeout();
	ksft_print_header();
	print_system();
	ksft_set_plan(n);
	json_run(argc, argv);

	/* A dead reader's pipe must give EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	report = mmap(NULL, s->report_size ? s->report_size : 1, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (report == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	/* Before we become a subreaper: what it starts must not be ours to reap. */
	if (s->setup)
		s->setup();
	sigemptyset(&chld_mask);
	sigaddset(&chld_mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld_mask, &old_mask);
	sigdelset(&old_mask, SIGCHLD);
	signal(SIGCHLD, on_sigchld);
	/* Orphans of a case become ours, so that reap_leftovers() finds them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (i = 0; i < nr_cases; i++)
		if (selected(cases[i]))
			run_case(cases[i]);
	if (s->teardown)
		s->teardown();
	print_skips();
	ksft_print_cnts();
	code = exit_code();
	json_totals(code);
	finish(code);
}

void ksft_exit_fail_msg(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	ksft_print_cnts();
	finish(KSFT_FAIL);
}
