// SPDX-License-Identifier: GPL-2.0
/*
 * The judge: the one place where a record, what its case process observed
 * and the way that process ended become PASS, FAIL, SKIP, XFAIL or error.
 *
 *   the process was killed at its timeout            FAIL (a stuck kernel)
 *   it died or exited non-zero                       FAIL, even after a PASS
 *   OBS_UNMET / OBS_MISSED                           SKIP with the fixed reason
 *   OBS_ERROR (a step that must work failed)         error
 *   OBS_HELD                                         PASS
 *   OBS_BROKEN                                       FAIL, or XFAIL for EXP_XFAIL
 *   (EXP_XFAIL stays XFAIL when it held: documented won't-fix, racy to show)
 *   OBS_PIN_STUCK                                    FAIL
 *   OBS_PIN_OK / OBS_PIN_ERR                         against the expectation:
 *     EXP_RULE   the documented rule for the mapping (lib/expect.h)
 *     EXP_ERRNO  the errno the record names (0: must work)
 *     EXP_HOLDS  the pin must work
 *     a pin that must work and fails with ENOMEM is a SKIP only when the
 *     case saw a shortage (RLIMIT_MEMLOCK, available memory); else FAIL
 *
 * On a failure the tags of the record whose symptom matches are printed as
 * HINT lines.  Nothing here looks at the kernel version.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "case.h"
#include "expect.h"
#include "observe.h"
#include "util.h"

static const char *const phase_names[PH_NR] = {
	[PH_START] = "start", [PH_SETUP] = "set-up", [PH_PREPARE] = "preparation",
	[PH_PIN] = "pinning", [PH_TRIGGER] = "trigger", [PH_CHECK] = "check",
	[PH_RELEASE] = "release", [PH_TEARDOWN] = "teardown",
};

static const char *phase_name(enum phase ph)
{
	return ph < PH_NR && phase_names[ph] ? phase_names[ph] : "?";
}

static void set(struct ksft_verdict *v, int code, const char *fmt, ...) __printf(3, 4);
static void set(struct ksft_verdict *v, int code, const char *fmt, ...)
{
	char *dst = code == KSFT_SKIP || code == KSFT_XFAIL ? v->reason : v->diagnosis;
	va_list ap;

	v->code = code;
	va_start(ap, fmt);
	vsnprintf(dst, KSFT_REASON_MAX, fmt, ap);
	va_end(ap);
}

/* The outcome of a pin (or call) under test against what the record expects. */
static unsigned int judge_pin(const struct pcase *c, const struct obs *o, struct ksft_verdict *v)
{
	int err = o->kind == OBS_PIN_OK ? 0 : o->err;
	bool must_work = true, refused_ok = false;

	if (c->expect == EXP_RULE) {
		enum pin_expect e = longterm_pin_expect(o->fs_magic, o->shared, c->writable);

		if (e == EXPECT_UNKNOWN) {
			set(v, KSFT_SKIP, "no documented rule for writable long-term pins of MAP_SHARED files on this filesystem");
			return 0;
		}
		must_work = (e == EXPECT_WORKS) != c->invert_rule;
		refused_ok = !must_work && err && (refusal_errno_ok(err, c->pin == &pin_iouring) ||
						   c->invert_rule);
	} else if (c->expect == EXP_ERRNO) {
		must_work = !c->want_err;
		refused_ok = c->want_err && err == c->want_err;
	}

	if (must_work && !err) {
		set(v, KSFT_PASS, "%s", "");
		return 0;
	}
	if (!must_work && !err) {
		set(v, KSFT_FAIL, "%s worked, but must fail with %s", o->call,
		    c->expect == EXP_RULE ? "EFAULT" : errno_name(c->want_err));
		return SYM_ALLOWED;
	}
	if (!must_work) {
		if (refused_ok)
			set(v, KSFT_PASS, "%s", "");
		else
			set(v, KSFT_FAIL, "%s failed with %s, expected %s", o->call, errno_name(err),
			    c->expect == EXP_RULE ? "EFAULT" : errno_name(c->want_err));
		return refused_ok ? 0 : SYM_REFUSED;
	}
	if (err == ENOMEM && *o->shortage) {
		set(v, KSFT_SKIP, "not enough lockable or free memory for the pin");
		return 0;
	}
	set(v, KSFT_FAIL, "%s failed with %s, must work", o->call, errno_name(err));
	return SYM_REFUSED;
}

/* Print the hints of the record's tags that match what was seen. */
static void hints(const struct pcase *c, unsigned int sym, struct ksft_verdict *v)
{
	uint64_t set = tags_for(c->tags, sym);
	char one[KSFT_REASON_MAX];
	size_t used;
	int id;

	for (id = TAG_NONE + 1; id < TAG_NR; id++) {
		if (!(set & TAGBIT(id)))
			continue;
		tag_hint(id, one, sizeof(one));
		ksft_print_msg("HINT: %s\n", one);
		used = strlen(v->hint);
		snprintf(v->hint + used, sizeof(v->hint) - used, "%s%s", used ? "; " : "", one);
	}
}

static void ended_badly(const struct ksft_end *end, const struct obs *o, struct ksft_verdict *v)
{
	if (end->signaled)
		set(v, KSFT_FAIL, "the case process died of signal %d (%s) during %s%s", end->sig,
		    strsignal(end->sig), phase_name(o->phase),
		    o->kind != OBS_NONE ? ", after its observation" : "");
	else
		set(v, KSFT_FAIL, "the case process exited with status %d during %s%s", end->status,
		    phase_name(o->phase), o->kind != OBS_NONE ? ", after its observation" : "");
}

void pcase_judge(const struct ksft_case *tc, const void *report, const struct ksft_end *end,
		 struct ksft_verdict *v)
{
	const struct pcase *c = tc->arg;
	const struct obs *o = report;
	unsigned int sym = 0;

	memset(v, 0, sizeof(*v));
	if (end->not_started) {
		set(v, KSFT_ERROR, "the case process could not be started: %s",
		    strerror(end->not_started));
		return;
	}
	if (end->timed_out) {
		set(v, KSFT_FAIL, "timed out after %u s during %s%s", end->timeout,
		    phase_name(o->phase),
		    end->stuck ? "; it does not die after SIGKILL (stuck in the kernel)" : "");
		hints(c, SYM_STUCK, v);
		return;
	}
	switch (o->kind) {
	case OBS_NONE:
		if (end->signaled || end->status)
			ended_badly(end, o, v);
		else
			set(v, KSFT_FAIL, "the case ended during %s without an observation",
			    phase_name(o->phase));
		return;
	case OBS_HELD:
		/*
		 * Behaviour documented as won't-fix keeps its verdict whether or
		 * not it showed this time (a race decides; TAP's TODO does the
		 * same), so that runs compare; the log says which it was.
		 */
		if (c->expect == EXP_XFAIL) {
			ksft_print_msg("the documented behaviour did not show this time\n");
			set(v, KSFT_XFAIL, "%s", c->xfail);
		} else {
			set(v, KSFT_PASS, "%s", "");
		}
		break;
	case OBS_BROKEN:
		if (c->expect == EXP_XFAIL) {
			set(v, KSFT_XFAIL, "%s", c->xfail);
		} else {
			set(v, KSFT_FAIL, "%s", o->text);
			sym = o->symptom;
		}
		break;
	case OBS_UNMET:
	case OBS_MISSED:
		set(v, KSFT_SKIP, "%s", o->text);
		break;
	case OBS_ERROR:
		set(v, KSFT_ERROR, "%s", o->text);
		break;
	case OBS_PIN_STUCK:
		set(v, KSFT_FAIL, "%s did not return: the kernel keeps faulting the range without pinning it",
		    o->call);
		sym = SYM_STUCK;
		break;
	case OBS_PIN_OK:
	case OBS_PIN_ERR:
		sym = judge_pin(c, o, v);
		break;
	}
	if (o->twice && v->code != KSFT_FAIL && v->code != KSFT_ERROR) {
		set(v, KSFT_FAIL, "the case recorded more than one observation");
		sym = 0;
	}
	/* Whatever was observed, a case process that died is a failure. */
	if ((end->signaled || end->status) && v->code != KSFT_FAIL && v->code != KSFT_ERROR) {
		ended_badly(end, o, v);
		sym = 0;
	}
	/* A process that outlives SIGKILL sleeps in the kernel for good. */
	if (end->stuck && v->code != KSFT_FAIL && v->code != KSFT_ERROR) {
		set(v, KSFT_FAIL, "%u process(es) of the case do not die after SIGKILL (stuck in the kernel)",
		    end->stuck);
		sym = 0;
	}
	if (v->code == KSFT_FAIL && sym)
		hints(c, sym, v);
}
