// SPDX-License-Identifier: GPL-2.0
/*
 * Direct I/O through short-term pins.
 *
 * O_DIRECT pins the user buffer for the time of a transfer (FOLL_PIN
 * through iov_iter_extract_pages() since a7e689dd1c06, v6.5; a FOLL_GET
 * reference before) and moves the bytes between those pages and the
 * device.  For every backing and each target - a file on ext4, a file on
 * xfs, a loop block device - a direct write must store what the mapping
 * holds and a direct read must land in the mapping (and, for a file
 * mapping, in the file only when it is MAP_SHARED).  A direct read in
 * flight while the process forks must land in the parent, never in the
 * child.  And the pins must balance: after the transfers no FOLL_PIN
 * pin is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/observe.h"
#include "lib/odirect.h"
#include "lib/pincheck.h"
#include "lib/release.h"
#include "lib/util.h"

static int break_leak, break_fork;

/* The targets, each with its prerequisites. */
static const struct {
	enum dio_kind kind;
	struct need need;
} targets[] = {
	{ DIO_EXT4, { .check = dio_ext4_unavailable } },
	{ DIO_XFS, { .check = dio_xfs_unavailable } },
	{ DIO_BLOCK, { .flags = NEED_ROOT, .check = dio_block_unavailable } },
};

#define DIR_WRITE	0x10	/* in pcase.param with the target kind */

static size_t window(size_t size)
{
	return size < PINCHECK_WINDOW ? size : PINCHECK_WINDOW;
}

/* Bytes arrive -------------------------------------------------------- */

/* --selftest-break dontneed: zap the mapping between transfer and check. */
static void zap(struct mem *m, size_t len)
{
	if (pincheck_break != PC_BREAK_DONTNEED)
		return;
	ksft_print_msg("selftest break: MADV_DONTNEED after the transfer\n");
	if (madvise(m->addr, (m->bk->flags & BKF_HUGETLB) ? m->size : len, MADV_DONTNEED))
		ksft_print_msg("selftest break: MADV_DONTNEED: %s\n", strerror(errno));
}

/* The first byte of @a that is not @b (or @byte when @b is NULL), or -1. */
static ssize_t differs(const char *a, const char *b, int byte, size_t len)
{
	return b ? first_diff(a, b, len) : first_not(a, byte, len);
}

static void write_observe(const struct pcase *c, struct mem *m, struct dio_target *t, size_t len)
{
	char *buf = malloc(len);
	ssize_t off;
	int ret;

	if (!buf) {
		obs_error("malloc", ENOMEM);
		return;
	}
	obs_phase(PH_PIN);
	ret = dio_pwrite(t, m->addr, len);
	if (ret) {
		obs_call("O_DIRECT write", ret, false, len);
		goto out;
	}
	obs_phase(PH_CHECK);
	zap(m, len);
	ret = dio_check_read(t, buf);
	if (ret) {
		obs_error("reading the target back", -ret);
		goto out;
	}
	off = differs(buf, m->addr, 0, len);
	if (off >= 0)
		obs_broken(SYM_STALE, "O_DIRECT write: at offset 0x%zx %s holds 0x%02x, the mapping 0x%02x",
			   (size_t)off, dio_kind_name(c->param & ~DIR_WRITE), (unsigned char)buf[off],
			   (unsigned char)m->addr[off]);
	else
		obs_held();
out:
	free(buf);
}

static void read_observe(const struct pcase *c, struct mem *m, struct dio_target *t, size_t len)
{
	ssize_t off;
	int ret;

	obs_phase(PH_PIN);
	ret = dio_pread(t, m->addr, len);
	if (ret) {
		obs_call("O_DIRECT read", ret, false, len);
		return;
	}
	obs_phase(PH_CHECK);
	zap(m, len);
	off = differs(m->addr, NULL, PAT_DEVICE, len);
	if (off >= 0) {
		obs_broken(SYM_STALE, "O_DIRECT read: at offset 0x%zx the mapping holds 0x%02x, %s 0x%02x",
			   (size_t)off, (unsigned char)m->addr[off],
			   dio_kind_name(c->param & ~DIR_WRITE), PAT_DEVICE);
		return;
	}
	if (!m->ro) {
		obs_held();
		return;
	}
	/* The file behind the mapping: it gets the bytes only when it is shared. */
	if (c->bk->flags & BKF_SHARED) {
		off = differs(m->ro, NULL, PAT_DEVICE, len);
		if (off >= 0)
			obs_broken(SYM_STALE, "O_DIRECT read into a MAP_SHARED mapping: at offset 0x%zx the file holds 0x%02x, the mapping 0x%02x",
				   (size_t)off, (unsigned char)m->ro[off], PAT_DEVICE);
		else
			obs_held();
		return;
	}
	off = differs(m->ro, NULL, m->initial, len);
	if (off >= 0)
		obs_broken(SYM_STALE, "O_DIRECT read into a MAP_PRIVATE mapping reached the file: at offset 0x%zx it holds 0x%02x, it held 0x%02x",
			   (size_t)off, (unsigned char)m->ro[off], m->initial);
	else
		obs_held();
}

static void data_observe(const struct pcase *c)
{
	bool write = c->param & DIR_WRITE;
	struct dio_target t;
	const char *step;
	struct mem m;
	size_t len;
	int ret;

	if (!mem_setup_obs(&m, c->bk))
		return;
	len = window(m.size);
	ret = dio_open(&t, (enum dio_kind)(c->param & ~DIR_WRITE), len,
		       write ? PAT_OTHER : PAT_DEVICE, &step);
	if (ret) {
		obs_error(step, -ret);
		goto teardown;
	}
	ksft_print_msg("%s: %s\n", dio_kind_name(t.kind), t.where);
	if (write)
		write_observe(c, &m, &t, len);
	else
		read_observe(c, &m, &t, len);
	dio_close(&t);
teardown:
	obs_phase(PH_TEARDOWN);
	mem_teardown(&m);
}

static void add_data(void)
{
	static const struct tagsel zero_tags[] = {
		{ TAG_ZERO_PAGE_NOT_PINNED, BKF_ZERO, 0 },
		{ TAG_NONE, 0, 0 },
	};
	const struct backing *const *bks;
	struct pcase c = {
		.prop = P_SHORT_RELIABLE,
		.what = "O_DIRECT",
		.observe = data_observe,
	};
	unsigned int k, w;
	int i, nr;

	bks = backings(&nr);
	for (w = 0; w < 2; w++) {
		for (k = 0; k < ARRAY_SIZE(targets); k++) {
			c.param = (long)targets[k].kind | (w ? DIR_WRITE : 0);
			c.need = targets[k].need;
			for (i = 0; i < nr; i++) {
				c.bk = bks[i];
				if (c.bk->flags & BKF_VARIANT)
					continue;
				c.tags = w ? tags_select(zero_tags, c.bk) : 0;
				pcase_add(&c, "O_DIRECT %s %s, %s", w ? "write to" : "read from",
					  dio_kind_name(targets[k].kind), c.bk->name);
			}
		}
	}
}

/* A read in flight across fork() ----------------------------------------- */

#define FORK_ROUNDS	32
#define FORK_SECONDS	5

struct reader {
	struct dio_target *t;
	char *buf;
	size_t len;
	int ret;
	int started;
	int done;
};

static void *read_thread(void *arg)
{
	struct reader *r = arg;

	__atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
	r->ret = dio_pread(r->t, r->buf, r->len);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* What the child saw, in memory it shares with the case. */
struct child_view {
	ssize_t off;
	unsigned char before, after;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void spin_us(long us)
{
	double until = now_s() + us / 1e6;

	while (now_s() < until)
		;
}

/*
 * In the child: its copy of the buffer as fork() left it must not change
 * afterwards - the read was the parent's.
 */
static void __noreturn child_watch(struct kid *k, char *buf, size_t len,
				   struct child_view *v)
{
	char *snap = malloc(len);
	ssize_t off;

	if (!snap)
		_exit(2);
	memcpy(snap, buf, len);
	kid_tell_parent(k, 'r');
	kid_wait_parent(k);
	/* The negative self-test: the child's copy changes after all. */
	if (break_fork)
		memset(buf, PAT_CHILD, len);
	off = first_diff(snap, buf, len);
	if (off >= 0) {
		v->off = off;
		v->before = (unsigned char)snap[off];
		v->after = (unsigned char)buf[off];
	}
	_exit(off >= 0);
}

/*
 * One round: 0 it held, 1 observed broken, -1 a step failed (recorded).
 * @in_flight counts the rounds whose read had not returned at fork().
 */
static int fork_round(struct mem *m, struct dio_target *t, size_t len, int round,
		      struct child_view *v, int *in_flight)
{
	struct reader r = { .t = t, .buf = m->addr, .len = len };
	pthread_t tid;
	struct kid k;
	ssize_t off;
	int status;
	pid_t pid;

	memset(m->addr, PAT_INITIAL, len);
	v->off = -1;
	if (pthread_create(&tid, NULL, read_thread, &r)) {
		obs_error("pthread_create", EAGAIN);
		return -1;
	}
	while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE))
		;
	/* From fork() at once to well into the transfer, over and over. */
	spin_us((round % FORK_ROUNDS) * 25L);
	if (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
		(*in_flight)++;
	pid = kid_fork(&k);
	if (!pid)
		child_watch(&k, m->addr, len, v);
	if (pid > 0)
		kid_wait_child(&k);
	pthread_join(tid, NULL);
	if (pid < 0) {
		obs_error("fork", errno);
		return -1;
	}
	if (r.ret) {
		kid_finish(&k, true);
		obs_call("O_DIRECT read", r.ret, false, len);
		return -1;
	}
	off = first_not(m->addr, PAT_DEVICE, len);
	status = kid_finish(&k, false);
	if (off >= 0) {
		obs_broken(SYM_STALE, "round %d: the read did not land in the parent: at offset 0x%zx it holds 0x%02x, the device 0x%02x",
			   round, (size_t)off, (unsigned char)m->addr[off], PAT_DEVICE);
		return 1;
	}
	if (status == 1) {
		obs_broken(SYM_STALE, "round %d: the parent's read landed in the child: its copy changed after fork() at offset 0x%zx, 0x%02x -> 0x%02x",
			   round, (size_t)v->off, v->before, v->after);
		return 1;
	}
	if (status) {
		obs_error("the child", ECHILD);
		return -1;
	}
	return 0;
}

static void fork_observe(const struct pcase *c)
{
	struct child_view *v;
	struct dio_target t;
	const char *step;
	double t0;
	struct mem m;
	size_t len;
	int ret = 0, round, in_flight = 0;

	if (!mem_setup_obs(&m, c->bk))
		return;
	len = window(m.size);
	v = mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v == MAP_FAILED) {
		obs_error("mmap", errno);
		goto teardown;
	}
	ret = dio_open(&t, (enum dio_kind)c->param, len, PAT_DEVICE, &step);
	if (ret) {
		obs_error(step, -ret);
		goto unmap;
	}
	ksft_print_msg("%s: %s\n", dio_kind_name(t.kind), t.where);
	obs_phase(PH_TRIGGER);
	t0 = now_s();
	/* Past FORK_ROUNDS only until a read was caught in flight. */
	for (round = 0; (round < FORK_ROUNDS || !in_flight) && now_s() - t0 < FORK_SECONDS;
	     round++) {
		ret = fork_round(&m, &t, len, round, v, &in_flight);
		if (ret)
			break;
	}
	if (!ret) {
		ksft_print_msg("%d rounds of a %zu kB read with fork() 0 to %d us into it, %d of them while the read was in flight\n",
			       round, len >> 10, ((round < FORK_ROUNDS ? round : FORK_ROUNDS) - 1) * 25,
			       in_flight);
		if (in_flight)
			obs_held();
		else
			obs_missed("the direct read never was in flight at fork()", "%s", "");
	}
	dio_close(&t);
unmap:
	munmap(v, sizeof(*v));
teardown:
	obs_phase(PH_TEARDOWN);
	mem_teardown(&m);
}

static void add_fork(void)
{
	const struct backing *const *bks;
	struct pcase c = {
		.prop = P_NO_LEAK_TO_CHILD,
		.what = "O_DIRECT",
		.observe = fork_observe,
	};
	size_t pmd = platform()->pmd_size;
	unsigned int k;
	int i, nr;

	bks = backings(&nr);
	for (k = 0; k < ARRAY_SIZE(targets); k++) {
		c.param = (long)targets[k].kind;
		c.need = targets[k].need;
		for (i = 0; i < nr; i++) {
			c.bk = bks[i];
			/* Private anonymous memory; no gigantic page copied for every child. */
			if (!backing_is(c.bk, BKF_PRIVATE | BKF_ANON,
					BKF_VARIANT | BKF_KSM | BKF_ZERO) ||
			    c.bk->size > (pmd ? pmd : page_size()))
				continue;
			c.tags = TAGBIT(TAG_DIO_PIN) | tags_select(fork_tags, c.bk);
			pcase_add(&c, "O_DIRECT read while the process forks, %s, %s",
				  dio_kind_name(targets[k].kind), c.bk->name);
		}
	}
}

/* The pins balance ------------------------------------------------------ */

#define BALANCE_PAGES	64

static void balance_observe(const struct pcase *c)
{
	size_t len = BALANCE_PAGES * page_size();
	struct pin pin = { .fd = -1 };
	struct dio_target t;
	char *anon, *zero;
	struct release r;
	const char *step;
	int ret, i;

	anon = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zero = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED || zero == MAP_FAILED) {
		obs_error("mmap", errno);
		return;
	}
	memset(anon, PAT_PARENT, len);
	/* Read faults: the shared zeropage, which is never counted as pinned (v6.5). */
	touch_read(zero, len);
	ret = dio_open(&t, (enum dio_kind)c->param, len, PAT_DEVICE, &step);
	if (ret) {
		obs_error(step, -ret);
		goto unmap;
	}
	ksft_print_msg("%s: %s\n", dio_kind_name(t.kind), t.where);
	release_before(&r, NULL, NULL, 0);
	if (break_leak) {
		ksft_print_msg("selftest break: an io_uring fixed buffer stays registered\n");
		ret = pin_take(&pin, &pin_iouring, anon, len, true);
		if (ret)
			ksft_print_msg("selftest break: io_uring: %s\n", strerror(-ret));
	}
	obs_phase(PH_PIN);
	for (i = 0; i < 8; i++) {
		ret = dio_pwrite(&t, anon, len);
		step = "O_DIRECT write from anonymous pages";
		if (!ret) {
			ret = dio_pread(&t, anon, len);
			step = "O_DIRECT read into anonymous pages";
		}
		if (!ret) {
			ret = dio_pwrite(&t, zero, len);
			step = "O_DIRECT write from the shared zeropage";
		}
		if (ret) {
			obs_call(step, ret, false, len);
			goto close;
		}
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	release_after(&r, "after 24 transfers");
close:
	pin_drop(&pin);
	dio_close(&t);
unmap:
	munmap(anon, len);
	munmap(zero, len);
}

static void add_balance(void)
{
	struct pcase c = {
		.prop = P_RELEASED,
		.what = "O_DIRECT",
		.observe = balance_observe,
		.tags = TAGBIT(TAG_ZERO_PAGE_NOT_PINNED),
	};
	unsigned int k;

	for (k = 0; k < ARRAY_SIZE(targets); k++) {
		c.param = (long)targets[k].kind;
		c.need = targets[k].need;
		pcase_add(&c, "O_DIRECT reads and writes, %s, anon and shared zeropage",
			  dio_kind_name(targets[k].kind));
	}
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	add_data();
	add_fork();
	add_balance();
}

static const struct ksft_break breaks[] = {
	{ "leak", "keep an io_uring fixed buffer registered while the pins are counted",
	  &break_leak, 1 },
	{ "fork", "the child reads into its own copy too: the fork check must see it",
	  &break_fork, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct pinsuite suite = {
	.name = "odirect_pin",
	.summary = "Short-term pins through O_DIRECT: reads and writes between every backing\n"
		   "and a file on ext4, a file on xfs and a loop block device; a read in\n"
		   "flight across fork(); the pins balance.",
	.breaks = breaks,
	.enumerate = enumerate,
	.timeout = 120,
	/* A private hugetlb memfd: the page cache page, its COW copy and one more. */
	.hugetlb_pages = 4,
};

PINSUITE_MAIN(suite)
