// SPDX-License-Identifier: GPL-2.0
/*
 * Which mappings a mechanism may register.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "outcome.h"
#include "pincheck.h"
#include "util.h"

/* "R/O " or "R/W " for a mechanism that takes both, in the diagnosis. */
static const char *access_of(const struct pcase *c)
{
	if (c->pin->rw_only)
		return "";
	return c->writable ? "R/W " : "R/O ";
}

/* A step before the registration failed: an error; else the outcome. */
static void record(const struct reg_outcome *o, const char *step, int ret, const char *what,
		   size_t len)
{
	if (ret && strcmp(step, o->call))
		obs_error(step, -ret);
	else
		obs_call(what, ret, true, len);
}

struct reg_call {
	const struct reg_outcome *o;
	char *addr;
	size_t len;
	bool writable;
	const char *step;
};

static int reg_fn(void *arg)
{
	struct reg_call *r = arg;

	return r->o->try_register(r->addr, r->len, r->writable, &r->step);
}

static void backing_observe(const struct pcase *c)
{
	const struct reg_outcome *o = c->ext;
	bool shared = c->bk->flags & BKF_SHARED;
	struct reg_call rc;
	const char *step;
	struct mem m;
	size_t len;
	int ret;

	if (!mem_setup_obs(&m, c->bk))
		return;
	obs_rule_facts(m.fs_magic, shared);
	len = o->whole || m.size < PINCHECK_WINDOW ? m.size : PINCHECK_WINDOW;
	obs_phase(PH_PIN);
	/* A R/O registration can get stuck in GUP as a pin can (lib/pin.c). */
	rc = (struct reg_call){ o, m.addr, len, c->writable, o->call };
	ret = pin_call_watched(reg_fn, &rc, o->what, len);
	if (ret == PIN_STUCK) {
		obs_pin(c->pin, len, ret);
		case_abandon();
	}
	step = rc.step;
	ksft_print_msg("%s%s of a %s mapping on %s: %s\n", access_of(c), step,
		       shared ? "MAP_SHARED" : "MAP_PRIVATE", fs_name(m.fs_magic),
		       ret ? strerror(-ret) : "registered");
	record(o, step, ret, o->what, len);
	mem_teardown(&m);
}

static void prot_read_observe(const struct pcase *c)
{
	const struct reg_outcome *o = c->ext;
	size_t len = 4 * page_size();
	const char *step;
	char what[160];
	char *p;
	int ret;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		obs_error("mmap", errno);
		return;
	}
	obs_phase(PH_PIN);
	ret = o->try_register(p, len, c->writable, &step);
	ksft_print_msg("%s%s of a PROT_READ anon mapping: %s\n", access_of(c), step,
		       ret ? strerror(-ret) : "registered");
	snprintf(what, sizeof(what), "%s of a PROT_READ mapping", o->what);
	record(o, step, ret, what, len);
	munmap(p, len);
}

void outcome_add_backings(const struct reg_outcome *o)
{
	const struct backing *const *bks;
	struct pcase c = {
		.prop = P_OUTCOME,
		.pin = o->pin,
		.writable = o->writable,
		.expect = EXP_RULE,
		.observe = backing_observe,
		.ext = o,
	};
	int i, nr;

	bks = backings(&nr);
	for (i = 0; i < nr; i++) {
		c.bk = bks[i];
		if (!backing_is(c.bk, BKF_FILE, BKF_VARIANT))
			continue;
		c.tags = tags_select(o->tags, c.bk);
		if (o->need)
			c.need = o->need(c.bk);
		pcase_add(&c, "%s, %s", o->what, c.bk->name);
	}
}

void outcome_add_prot_read(const struct reg_outcome *o, int err, uint64_t tags,
			   const char *tail)
{
	struct pcase c = {
		.prop = P_OUTCOME,
		.pin = o->pin,
		.writable = o->writable,
		.expect = EXP_ERRNO,
		.want_err = err,
		.tags = tags,
		.observe = prot_read_observe,
		.ext = o,
	};

	pcase_add(&c, "%s%s", o->what, tail);
}
