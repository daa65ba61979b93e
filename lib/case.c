// SPDX-License-Identifier: GPL-2.0
/*
 * Case records, observations, and what every pinsuite binary does around
 * its tables: the common options, the run's set-up, the case process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "case.h"
#include "observe.h"
#include "pincheck.h"
#include "sysstate.h"
#include "util.h"

static const char *const property_names[P_NR] = {
	[P_RO_RELIABLE] = "Longterm R/O pin is reliable",
	[P_RW_RELIABLE] = "Longterm R/W pin is reliable",
	[P_NO_LEAK_TO_CHILD] = "No leak from parent into child",
	[P_NO_LEAK_TO_PARENT] = "No leak from child into parent",
	[P_OTHER_MAPPING] = "Other mapping not modified",
	[P_OUTCOME] = "Longterm pin outcome as expected",
	[P_MEMLOCK] = "Memlock charge as expected",
	[P_RELEASED] = "All pins released",
	[P_SHORT_RELIABLE] = "Short-term pin is reliable",
	[P_NO_MOVABLE] = "Longterm pin leaves no page in ZONE_MOVABLE",
	[P_NO_CMA] = "Longterm pin leaves no page in CMA",
	[P_REFUSED] = "Pin refused",
	[P_ZEROPAGE_SHORT] = "Short-term pin of the zeropage works",
};

const char *property_name(enum property p)
{
	return p < P_NR ? property_names[p] : "?";
}

/* The binary being run. */
static const struct pinsuite *ps;

/* Observations --------------------------------------------------------- */

static struct obs *cur;
static struct obs scratch;

static struct obs *obs_get(void)
{
	return cur ? cur : &scratch;
}

void obs_phase(enum phase ph)
{
	obs_get()->phase = ph;
}

bool obs_recorded(void)
{
	return obs_get()->kind != OBS_NONE;
}

/* The first observation counts; a second one is a bug of the case. */
static struct obs *claim(enum obs_kind kind)
{
	struct obs *o = obs_get();

	if (o->kind != OBS_NONE) {
		o->twice = true;
		ksft_print_msg("BUG: a second observation (%d) after %d is ignored\n", kind,
			       o->kind);
		return NULL;
	}
	o->kind = kind;
	return o;
}

static void vtext(struct obs *o, const char *fmt, va_list ap)
{
	vsnprintf(o->text, sizeof(o->text), fmt, ap);
}

void obs_held(void)
{
	claim(OBS_HELD);
}

void obs_broken(unsigned int symptom, const char *fmt, ...)
{
	struct obs *o = claim(OBS_BROKEN);
	va_list ap;

	if (!o)
		return;
	o->symptom = symptom;
	va_start(ap, fmt);
	vtext(o, fmt, ap);
	va_end(ap);
	ksft_print_msg("%s\n", o->text);
}

static void skip_like(enum obs_kind kind, const char *reason, const char *fmt, va_list ap)
{
	struct obs *o = claim(kind);
	char fig[512];

	if (!o)
		return;
	snprintf(o->text, sizeof(o->text), "%s", reason);
	vsnprintf(fig, sizeof(fig), fmt, ap);
	if (*fig)
		ksft_print_msg("%s\n", fig);
}

void obs_unmet(const char *reason, const char *figures, ...)
{
	va_list ap;

	va_start(ap, figures);
	skip_like(OBS_UNMET, reason, figures, ap);
	va_end(ap);
}

void obs_missed(const char *reason, const char *figures, ...)
{
	va_list ap;

	va_start(ap, figures);
	skip_like(OBS_MISSED, reason, figures, ap);
	va_end(ap);
}

void obs_error(const char *call, int err)
{
	struct obs *o = claim(OBS_ERROR);

	if (!o)
		return;
	o->err = err;
	snprintf(o->call, sizeof(o->call), "%s", call);
	if (err)
		snprintf(o->text, sizeof(o->text), "%s: %s", call, strerror(err));
	else
		snprintf(o->text, sizeof(o->text), "%s", call);
	ksft_print_msg("%s\n", o->text);
}

static bool has_cap_ipc_lock(void)
{
	char buf[4096], *p;
	unsigned long long caps;

	if (read_file("/proc/self/status", buf, sizeof(buf)))
		return !geteuid();
	p = strstr(buf, "CapEff:");
	if (!p)
		return !geteuid();
	caps = strtoull(p + 7, NULL, 16);
	return caps & (1ULL << 14);
}

/*
 * Does a shortage explain an ENOMEM?  Locked memory beyond
 * RLIMIT_MEMLOCK (without CAP_IPC_LOCK) or too little memory available.
 */
static void find_shortage(bool memlock, size_t len, char *buf, size_t n)
{
	long avail = meminfo_kb("MemAvailable");
	struct rlimit rl;

	*buf = '\0';
	if (memlock && !has_cap_ipc_lock() && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY) {
		long lck = proc_status_kb("VmLck"), pin = proc_status_kb("VmPin");
		unsigned long locked = (unsigned long)(lck > 0 ? lck : 0) +
				       (unsigned long)(pin > 0 ? pin : 0);

		if ((locked << 10) + len > rl.rlim_cur) {
			snprintf(buf, n, "RLIMIT_MEMLOCK %lu kB, %lu kB locked, %zu kB asked for",
				 (unsigned long)(rl.rlim_cur >> 10), locked, len >> 10);
			return;
		}
	}
	if (avail >= 0 && (unsigned long)avail < 2 * (len >> 10))
		snprintf(buf, n, "MemAvailable %ld kB for %zu kB", avail, len >> 10);
}

void obs_call(const char *call, int ret, bool charges_memlock, size_t len)
{
	struct obs *o;

	if (ret == PIN_STUCK) {
		o = claim(OBS_PIN_STUCK);
		if (o)
			snprintf(o->call, sizeof(o->call), "%s", call);
		return;
	}
	o = claim(ret ? OBS_PIN_ERR : OBS_PIN_OK);
	if (!o)
		return;
	o->err = -ret;
	snprintf(o->call, sizeof(o->call), "%s", call);
	if (ret)
		snprintf(o->text, sizeof(o->text), "%s failed: %s", call, strerror(-ret));
	if (ret == -ENOMEM) {
		find_shortage(charges_memlock, len, o->shortage, sizeof(o->shortage));
		if (*o->shortage)
			ksft_print_msg("ENOMEM with a shortage: %s\n", o->shortage);
		else
			ksft_print_msg("ENOMEM without a shortage: RLIMIT_MEMLOCK does not apply (%s) and %ld kB are available\n",
				       has_cap_ipc_lock() ? "CAP_IPC_LOCK" : "within the limit",
				       meminfo_kb("MemAvailable"));
	}
}

void obs_pin(const struct pin_ops *ops, size_t len, int ret)
{
	char call[96];

	snprintf(call, sizeof(call), "pinning through %s", ops->name);
	obs_call(call, ret, ops->charges_memlock, len);
}

void obs_rule_facts(unsigned long fs_magic, bool shared)
{
	struct obs *o = obs_get();

	o->fs_magic = fs_magic;
	o->shared = shared;
}

void case_abandon(void)
{
	fflush(stdout);
	_exit(0);
}

/* Records -------------------------------------------------------------- */

/* Record OBS_UNMET and return true when a prerequisite of @c is missing. */
static bool unmet(const struct pcase *c, void *report)
{
	const struct need *needs[] = {
		c->pin ? &c->pin->need : NULL,
		c->bk ? &c->bk->need : NULL,
		c->trig ? &c->trig->need : NULL,
		&c->need,
	};
	char why[KSFT_REASON_MAX] = "", fig[KSFT_REASON_MAX] = "";

	cur = report;
	obs_phase(PH_START);
	if (!needs_unmet(needs, ARRAY_SIZE(needs), why, sizeof(why), fig, sizeof(fig)))
		return false;
	obs_unmet(why, "%s", fig);
	return true;
}

/* In the runner: a case whose prerequisites are missing needs no process. */
static bool pcase_precheck(const struct ksft_case *tc, void *report)
{
	return unmet(tc->arg, report);
}

static void pcase_body(const struct ksft_case *tc, void *report)
{
	const struct pcase *c = tc->arg;

	if (!unmet(c, report))
		c->observe(c);
	obs_phase(PH_TEARDOWN);
	sysstate_restore_all();
	fflush(stdout);
}

const struct tagsel ro_pin_tags[] = {
	{ TAG_RO_PIN_ANON, BKF_PRIVATE | BKF_ANON, 0 },
	{ TAG_RO_PIN_COW, BKF_PRIVATE, BKF_ANON },
	{ TAG_UNSHARE_PMD_LOOP, BKF_PRIVATE | BKF_FILE | BKF_THP | BKF_PMD, 0 },
	{ TAG_NONE, 0, 0 },
};

const struct tagsel fork_tags[] = {
	{ TAG_FORK_EARLY_COW, BKF_PRIVATE, BKF_HUGETLB },
	{ TAG_FORK_EARLY_COW_HUGETLB, BKF_PRIVATE | BKF_HUGETLB, 0 },
	{ TAG_NONE, 0, 0 },
};

uint64_t tags_select(const struct tagsel *sel, const struct backing *bk)
{
	uint64_t set = 0;
	int i;

	for (i = 0; sel && sel[i].id; i++)
		if (!bk || backing_is(bk, sel[i].all, sel[i].none))
			set |= TAGBIT(sel[i].id);
	return set;
}

/*
 * --quick runs the first case of each kind: the case's name with its
 * backing replaced by the backing's kind (so property, mechanism and
 * access, trigger or scenario, and kind of memory).  The catalog lists
 * sizes smallest first, so the cheapest of a kind is the one that runs.
 */
static bool first_of_kind(const struct pcase *c, const struct ksft_case *tc)
{
	static char **kinds;
	static unsigned int nr;
	const char *at = c->bk ? strstr(tc->name, c->bk->name) : NULL;
	char *key, **p;
	unsigned int i;
	int n;

	if (at)
		n = asprintf(&key, "%.*s<%s>%s", (int)(at - tc->name), tc->name,
			     backing_class(c->bk), at + strlen(c->bk->name));
	else
		n = asprintf(&key, "%s|%s", tc->name, c->bk ? backing_class(c->bk) : "");
	if (n < 0)
		return true;
	for (i = 0; i < nr; i++) {
		if (!strcmp(kinds[i], key)) {
			free(key);
			return false;
		}
	}
	p = realloc(kinds, (nr + 1) * sizeof(*kinds));
	if (!p)
		return true;
	kinds = p;
	kinds[nr++] = key;
	return true;
}

static const char *access_name(const struct pcase *c)
{
	if (!c->pin)
		return NULL;
	return c->writable ? "R/W" : "R/O";
}

struct ksft_case *pcase_add(const struct pcase *c, const char *fmt, ...)
{
	char rest[KSFT_NAME_MAX];
	struct ksft_case *tc;
	va_list ap;
	int id, n = 0;

	va_start(ap, fmt);
	vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	tc = ksft_case_add(pcase_body, c, sizeof(*c), "%s: %s", property_name(c->prop), rest);
	tc->meta.property = property_name(c->prop);
	tc->meta.mechanism = c->pin ? c->pin->name : c->what;
	tc->meta.access = access_name(c);
	tc->meta.backing = c->bk ? c->bk->name : NULL;
	tc->meta.trigger = c->trig ? c->trig->name : c->event;
	for (id = TAG_NONE + 1; id < TAG_NR && n < KSFT_TAGS_MAX; id++)
		if (c->tags & TAGBIT(id))
			tc->meta.tags[n++] = tag_name(id);
	tc->quick = first_of_kind(c, tc);
	/* 0: the run's default; more for gigantic pages and slow triggers. */
	if (c->bk)
		tc->timeout = backing_timeout(c->bk, ps->timeout);
	if (c->trig && c->trig->slow)
		tc->timeout = (tc->timeout ? tc->timeout : ps->timeout) + c->trig->slow;
	return tc;
}

/* The binary -------------------------------------------------------- */

static const char *state_owner;
static bool state_wait;
static unsigned int hugetlb_pages;
static bool rcu_expedited = true;

enum { OPT_DISK_DIR = 0x1800, OPT_STATE_GUARD, OPT_STATE_WAIT };

static int option(int opt, const char *arg, char *why, size_t len)
{
	switch (opt) {
	case OPT_DISK_DIR:
		return backing_add_disk_dir(arg, "--disk-dir", why, len);
	case OPT_STATE_GUARD:
		state_owner = arg;
		return 0;
	case OPT_STATE_WAIT:
		state_wait = true;
		return 0;
	}
	return ps->options && ps->options->option ? ps->options->option(opt, arg, why, len) : -1;
}

static int validate(char *why, size_t len)
{
	char *env, *copy, *tok, *save = NULL;
	int ret = 0;

	if (state_wait)
		exit(sysstate_wait() ? KSFT_FAIL : 0);
	if (state_owner) {
		char *end;
		long pid = strtol(state_owner, &end, 10);

		if (*end || pid <= 0 || pid > INT_MAX) {
			snprintf(why, len, "--state-guard wants the pid of the run's owner, not '%s'",
				 state_owner);
			return -1;
		}
		exit(sysstate_guard((pid_t)pid) ? KSFT_FAIL : 0);
	}
	env = getenv("PINSUITE_HUGETLB_PAGES");
	hugetlb_pages = ps->hugetlb_pages;
	if (env && *env) {
		char *end;
		unsigned long n = strtoul(env, &end, 10);

		if (*end || n > 1024) {
			snprintf(why, len, "PINSUITE_HUGETLB_PAGES '%s': not a number of pages (0 to 1024)",
				 env);
			return -1;
		}
		hugetlb_pages = (unsigned int)n;
	}
	env = getenv("PINSUITE_RCU_EXPEDITE");
	if (env && *env) {
		if (strcmp(env, "0") && strcmp(env, "1")) {
			snprintf(why, len, "PINSUITE_RCU_EXPEDITE '%s': 1 (the default) or 0", env);
			return -1;
		}
		rcu_expedited = *env == '1';
	}
	env = getenv("PINSUITE_DISK_DIRS");
	if (env && *env) {
		copy = strdup(env);
		for (tok = strtok_r(copy, ":", &save); tok && !ret; tok = strtok_r(NULL, ":", &save))
			ret = backing_add_disk_dir(tok, "PINSUITE_DISK_DIRS", why, len);
		free(copy);
		if (ret)
			return ret;
	}
	return ps->options && ps->options->validate ? ps->options->validate(why, len) : 0;
}

static void setup(void)
{
	int ret = sysstate_join(ps->name);

	if (ret)
		ksft_print_msg("no owner for system settings (%s): settings will not be changed\n",
			       strerror(-ret));
	gup_test_prepare();
	/* Probe once here, not in every case process. */
	gup_test_unavailable();
	iouring_unavailable();
	if (hugetlb_pages)
		hugetlb_reserve_all(hugetlb_pages);
	if (rcu_expedited)
		rcu_expedite();
	if (ps->setup)
		ps->setup();
}

static void reaped(const struct ksft_end *end)
{
	/* A case that did not end normally may have left settings changed. */
	if (end->pid && (end->timed_out || end->signaled || end->status))
		sysstate_reaped(end->pid);
}

/* The kernel options of the suite's config fragment, as the kernel has them. */
static void json_run(FILE *f)
{
	char exe[PATH_MAX], path[PATH_MAX + 16], line[256], *sym;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	bool first = true;
	FILE *cfg;

	fprintf(f, ",\"host\":\"%s\",\"kconfig_source\":",
		getenv("PINSUITE_IN_VM") ? "vm" : "host");
	ksft_json_str(f, kconfig_source());
	fputs(",\"kconfig\":{", f);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(path, sizeof(path), "%s/config", dirname(exe));
		cfg = fopen(path, "re");
		while (cfg && fgets(line, sizeof(line), cfg)) {
			char val[2] = { 0 };

			if (strncmp(line, "CONFIG_", 7))
				continue;
			sym = strtok(line, "=");
			val[0] = kconfig_value(sym) ? kconfig_value(sym) : '?';
			fprintf(f, "%s", first ? "" : ",");
			ksft_json_str(f, sym);
			fputc(':', f);
			ksft_json_str(f, val);
			first = false;
		}
		if (cfg)
			fclose(cfg);
	}
	fputc('}', f);
}

static const char pinsuite_usage[] =
	"      --disk-dir DIR    a directory on ext4, xfs or btrfs for the file backings;\n"
	"                        may be repeated (also PINSUITE_DISK_DIRS, colon separated)\n";

int pinsuite_main(const struct pinsuite *p, int argc, char **argv)
{
	static const struct option own[] = {
		{ "disk-dir", required_argument, NULL, OPT_DISK_DIR },
		{ "state-guard", required_argument, NULL, OPT_STATE_GUARD },
		{ "state-wait", no_argument, NULL, OPT_STATE_WAIT },
	};
	struct option *longopts;
	struct ksft_suite s = {
		.name = p->name,
		.summary = p->summary,
		.option = option,
		.validate = validate,
		.breaks = { pincheck_breaks, p->breaks },
		.enumerate = p->enumerate,
		.setup = setup,
		.precheck = pcase_precheck,
		.reaped = reaped,
		.json_run = json_run,
		.judge = pcase_judge,
		.report_size = sizeof(struct obs),
		.timeout = p->timeout,
	};
	const struct pinsuite_options *o = p->options;
	size_t n = 0;
	char *usage;

	ps = p;
	while (o && o->longopts && o->longopts[n].name)
		n++;
	longopts = calloc(n + ARRAY_SIZE(own) + 1, sizeof(*longopts));
	if (!longopts ||
	    asprintf(&usage, "%s%s", pinsuite_usage, o && o->usage ? o->usage : "") < 0)
		abort();
	memcpy(longopts, own, sizeof(own));
	if (n)
		memcpy(longopts + ARRAY_SIZE(own), o->longopts, n * sizeof(*longopts));
	s.longopts = longopts;
	s.usage = usage;
	ksft_main(&s, argc, argv);
}
