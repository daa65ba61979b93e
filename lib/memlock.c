// SPDX-License-Identifier: GPL-2.0
/*
 * RLIMIT_MEMLOCK checks as an unprivileged user, over a mechanism's pin
 * in stages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "memlock.h"
#include "observe.h"
#include "util.h"

int memlock_break;

/* Tries, 20 ms apart, while a worker takes an earlier charge off. */
#define LATE_TRIES	100

static void pause_20ms(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

unsigned long memlock_limit(unsigned long limit)
{
	struct rlimit rl;

	if (!memlock_break)
		return limit;
	if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < 64UL << 20)
		return rl.rlim_max;
	return 64UL << 20;
}

void observe_in_child(const struct pcase *c, observe_fn child)
{
	struct kid k;
	pid_t pid = kid_fork(&k);

	if (pid < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!pid) {
		child(c);
		fflush(stdout);
		_exit(0);
	}
	if (kid_finish(&k, false) && !obs_recorded())
		obs_error("the unprivileged child", ECHILD);
}

/* Open @r if this is the mechanism's stage: before (@dropped false) or after dropping. */
static int open_at(struct pinreq *r, const struct pinreq_ops *ops, bool writable, bool dropped)
{
	char why[KSFT_REASON_MAX];
	int ret, i;

	if (ops->open_unprivileged != dropped)
		return 0;
	for (i = 0; i < LATE_TRIES; i++) {
		ret = pinreq_open(r, ops, writable, why, sizeof(why));
		if (!ret || ret != -ops->limit_err || !dropped || !ops->uncharged_late)
			break;
		pause_20ms();
	}
	if (ret)
		obs_error(why, 0);
	return ret;
}

bool memlock_prepare(const struct pinreq_ops *ops, bool writable, unsigned long limit,
		     struct pinreq *r, int n)
{
	int i, ret;

	memset(r, 0, n * sizeof(*r));
	for (i = 0; i < n; i++)
		if (open_at(&r[i], ops, writable, false))
			return false;
	ret = drop_privileges(limit);
	if (ret) {
		obs_error("dropping privileges", -ret);
		return false;
	}
	for (i = 0; i < n; i++)
		if (open_at(&r[i], ops, writable, true))
			return false;
	return true;
}

int memlock_request(struct pinreq *r, char *addr, size_t len, unsigned long limit)
{
	int ret, i;

	for (i = 0; i < LATE_TRIES; i++) {
		ret = pinreq_request(r, addr, len);
		if (ret != -r->ops->limit_err || !r->ops->uncharged_late || len >= limit)
			break;
		pause_20ms();
	}
	return ret;
}

static long charge_kb(const char *field)
{
	return field ? proc_status_kb(field) : -1;
}

/*
 * Beyond the limit, or within it for a mechanism that charges the
 * process: the request and what it did to the charge.
 */
static void charge_child(const struct pcase *c, const struct pin_account *a, bool beyond)
{
	const struct pinreq_ops *ops = a->req;
	const char *field = ops->charge;
	bool lck = a->vmlck_too && (!field || strcmp(field, "VmLck"));
	unsigned long limit = memlock_limit(a->limit);
	size_t len = beyond ? a->beyond : a->within;
	long base, pinned, after, lck0, lck1;
	char seen[160] = "", what[96], left[64] = "";
	struct pinreq r;
	char *p;
	int ret;

	p = anon_pages(len, true);
	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	if (!memlock_prepare(ops, c->writable, limit, &r, 1))
		return;
	base = charge_kb(field);
	lck0 = proc_status_kb("VmLck");
	obs_phase(PH_PIN);
	ret = memlock_request(&r, p, len, limit);
	pinned = charge_kb(field);
	lck1 = proc_status_kb("VmLck");
	if (!ret)
		pinreq_undo(&r);
	after = charge_kb(field);
	pinreq_close(&r);
	if (field)
		snprintf(seen, sizeof(seen), "; %s %ld -> %ld -> %ld kB", field, base, pinned, after);
	if (lck)
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), ", VmLck %ld -> %ld kB",
			 lck0, lck1);
	ksft_print_msg("uid %d, no CAP_IPC_LOCK, RLIMIT_MEMLOCK %lu kB: %s of %zu kB: %s%s\n",
		       (int)getuid(), limit >> 10, ops->call, len >> 10,
		       ret ? strerror(-ret) : "worked", seen);
	snprintf(what, sizeof(what), "%s %s RLIMIT_MEMLOCK", ops->call, beyond ? "beyond" : "within");
	if (ret && ((field && pinned != base) || (lck && lck1 != lck0))) {
		if (field)
			snprintf(left, sizeof(left), "%s %+ld kB", field, pinned - base);
		if (lck)
			snprintf(left + strlen(left), sizeof(left) - strlen(left), "%sVmLck %+ld kB",
				 field ? ", " : "", lck1 - lck0);
		obs_broken(SYM_KEPT, "the failed %s left %s", ops->call, left);
	} else if (ret || beyond) {
		obs_call(what, ret, true, len);
	} else if (pinned != base + (long)(len >> 10) || after != base) {
		obs_broken(SYM_KEPT, "%s %ld -> %ld -> %ld kB for %zu kB registered and unregistered",
			   field, base, pinned, after, len >> 10);
	} else {
		obs_held();
	}
}

/*
 * Within the limit, for a mechanism that charges the user's locked memory
 * and not the process (AF_XDP): request A within the limit moves neither
 * VmPin nor VmLck; a second request B that fits only without A fails with
 * the mechanism's errno while A is held and works once A is gone.
 */
static void user_child(const struct pcase *c, const struct pin_account *a)
{
	const struct pinreq_ops *ops = a->req;
	unsigned long limit = memlock_limit(a->limit);
	size_t len = a->within, len_b = a->limit / 2;
	long pin0, lck0, pin1, lck1;
	struct pinreq r[2];
	int ra, rb1, rb2;
	char *pa, *pb, what[96];

	pa = anon_pages(len, true);
	pb = anon_pages(len_b, true);
	if (!pa || !pb) {
		obs_error("mmap", errno);
		return;
	}
	if (!memlock_prepare(ops, c->writable, limit, r, 2))
		return;
	pin0 = proc_status_kb("VmPin");
	lck0 = proc_status_kb("VmLck");
	obs_phase(PH_PIN);
	ra = memlock_request(&r[0], pa, len, limit);
	pin1 = proc_status_kb("VmPin");
	lck1 = proc_status_kb("VmLck");
	rb1 = ra ? 0 : pinreq_request(&r[1], pb, len_b);
	/* B worked: nothing left to see about A's charge. */
	if (!rb1)
		pinreq_undo(&r[1]);
	obs_phase(PH_RELEASE);
	pinreq_close(&r[0]);
	rb2 = memlock_request(&r[1], pb, len_b, limit);
	snprintf(what, sizeof(what), "%s within RLIMIT_MEMLOCK", ops->call);
	ksft_print_msg("uid %d, no CAP_IPC_LOCK, RLIMIT_MEMLOCK %lu kB: %s A of %zu kB: %s, VmPin %ld -> %ld kB, VmLck %ld -> %ld kB; B of %zu kB with A: %s, once A is gone: %s\n",
		       (int)getuid(), limit >> 10, ops->name, len >> 10, ra ? strerror(-ra) : "ok",
		       pin0, pin1, lck0, lck1, len_b >> 10, rb1 ? strerror(-rb1) : "ok",
		       rb2 ? strerror(-rb2) : "ok");
	if (ra)
		obs_call(what, ra, true, len);
	else if (pin1 != pin0 || lck1 != lck0)
		obs_broken(SYM_KEPT, "the %s was charged to the process (VmPin %+ld kB, VmLck %+ld kB), not to the user's locked memory",
			   ops->name, pin1 - pin0, lck1 - lck0);
	else if (!rb1)
		obs_broken(SYM_KEPT, "a second %s beyond RLIMIT_MEMLOCK together with the first worked: the first is not charged to the user",
			   ops->name);
	else if (rb1 != -ops->limit_err)
		obs_broken(SYM_KEPT, "the second %s failed with %s, not %s", ops->name,
			   strerror(-rb1), errno_name(ops->limit_err));
	else if (rb2)
		obs_broken(SYM_KEPT, "the second %s still fails (%s) once the first is gone: its charge stays",
			   ops->name, strerror(-rb2));
	else
		obs_held();
	pinreq_close(&r[1]);
}

static void memlock_child(const struct pcase *c)
{
	const struct pin_account *a = c->ext;
	bool beyond = c->expect == EXP_ERRNO;

	if (!beyond && !a->req->charge)
		user_child(c, a);
	else
		charge_child(c, a, beyond);
}

void memlock_observe(const struct pcase *c)
{
	observe_in_child(c, memlock_child);
}

void memlock_add(const struct pin_account *a)
{
	struct pcase c = {
		.prop = P_MEMLOCK,
		.pin = a->pin,
		.writable = true,
		.expect = EXP_ERRNO,
		.want_err = a->req->limit_err,
		.observe = memlock_observe,
		.ext = a,
	};

	pcase_add(&c, "%s beyond RLIMIT_MEMLOCK fails with %s, unprivileged", a->what,
		  errno_name(a->req->limit_err));
	if (!a->within)
		return;
	c.expect = EXP_HOLDS;
	c.want_err = 0;
	if (a->req->charge)
		pcase_add(&c, "%s within RLIMIT_MEMLOCK, %s up and back to baseline, unprivileged",
			  a->what, a->req->charge);
	else
		pcase_add(&c, "%s within RLIMIT_MEMLOCK, charged to the user's locked memory, not VmPin, unprivileged",
			  a->what);
}
