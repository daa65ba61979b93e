// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring fixed buffers as long-term pins.
 *
 * io_uring_register_buffers() takes a R/W long-term pin (FOLL_WRITE |
 * FOLL_LONGTERM) on the buffer.  For every backing of the catalog and every
 * trigger, the bytes the ring sees must be the bytes the mapping holds: the
 * ring reads the pinned pages with WRITE_FIXED and writes them with
 * READ_FIXED.  Then: which mappings may be registered at all, what the
 * registration costs against RLIMIT_MEMLOCK, and whether every pin is
 * released again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/observe.h"
#include "lib/pincheck.h"
#include "lib/release.h"
#include "lib/util.h"

/* Reliability: every trigger, every backing the ring may pin ------------ */

static void add_matrix(void)
{
	static const struct pin_matrix m = {
		.pin = &pin_iouring,
		.rw_what = "io_uring WRITE_FIXED and READ_FIXED",
		.rw_dir = PC_PIN_BOTH,
		.need = iouring_buffer_need,
	};

	pincheck_add_matrix(&m);
}

/* Outcome: which mappings may be registered ----------------------------- */

static void register_observe(const struct pcase *c)
{
	const char *step;
	struct mem m;
	int ret;

	if (!mem_setup_obs(&m, c->bk))
		return;
	obs_rule_facts(m.fs_magic, c->bk->flags & BKF_SHARED);
	obs_phase(PH_PIN);
	ret = iouring_try_register(m.addr, m.size, &step);
	ksft_print_msg("%s of a %s mapping on %s: %s\n", step,
		       (c->bk->flags & BKF_SHARED) ? "MAP_SHARED" : "MAP_PRIVATE",
		       fs_name(m.fs_magic), ret ? strerror(-ret) : "registered");
	if (ret && strcmp(step, "io_uring_register_buffers"))
		obs_error(step, -ret);
	else
		obs_call("io_uring fixed buffer registration", ret, true, m.size);
	mem_teardown(&m);
}

static void prot_read_observe(const struct pcase *c)
{
	size_t len = 4 * page_size();
	const char *step;
	char *p;
	int ret;

	(void)c;
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		obs_error("mmap", errno);
		return;
	}
	ret = iouring_try_register(p, len, &step);
	ksft_print_msg("%s of a PROT_READ mapping: %s\n", step,
		       ret ? strerror(-ret) : "registered");
	obs_call("io_uring fixed buffer registration of a PROT_READ mapping", ret, true, len);
	munmap(p, len);
}

static void add_outcomes(void)
{
	static const struct tagsel tags[] = {
		{ TAG_NO_LONGTERM_FILE_WRITE, BKF_SHARED | BKF_DISK, 0 },
		{ TAG_IOURING_FILE_CHECK, BKF_FILE, BKF_SHMEM | BKF_HUGETLB },
		{ TAG_NONE, 0, 0 },
	};
	const struct backing *const *bks;
	struct pcase c = {
		.prop = P_OUTCOME,
		.pin = &pin_iouring,
		.writable = true,
		.expect = EXP_RULE,
		.observe = register_observe,
	};
	int i, nr;

	bks = backings(&nr);
	for (i = 0; i < nr; i++) {
		c.bk = bks[i];
		if (!backing_is(c.bk, BKF_FILE, BKF_VARIANT))
			continue;
		c.tags = tags_select(tags, c.bk);
		c.need = iouring_buffer_need(c.bk);
		pcase_add(&c, "io_uring fixed buffer registration, %s", c.bk->name);
	}
	c = (struct pcase){
		.prop = P_OUTCOME,
		.pin = &pin_iouring,
		.writable = true,
		.expect = EXP_ERRNO,
		.want_err = EFAULT,
		.observe = prot_read_observe,
	};
	pcase_add(&c, "io_uring fixed buffer registration, PROT_READ anon mapping refused");
}

/* Memlock ---------------------------------------------------------------- */

#define MEMLOCK_LIMIT	(256UL << 10)

static int break_memlock, break_leak;

/* Map @len bytes of populated anonymous base pages. */
static char *anon_pages(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, PAT_INITIAL, len);
	return p;
}

/*
 * Since 6.14 the ring itself is charged to the user's locked memory, and
 * rings of earlier cases are torn down asynchronously: an unprivileged
 * user may see ENOMEM for a moment.
 */
static int queue_init_retry(struct io_uring *ring)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int ret, i;

	for (i = 0; i < 200; i++) {
		ret = io_uring_queue_init(1, ring, 0);
		if (ret != -ENOMEM)
			break;
		nanosleep(&ts, NULL);
	}
	return ret;
}

/*
 * A registration that fits the limit may still meet ENOMEM for a moment
 * when we could not switch to a user of our own (not root): rings of
 * earlier cases of the same user are being torn down.
 */
static int register_retry(struct io_uring *ring, const struct iovec *iov, bool fits)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int ret, i;

	for (i = 0; i < 200; i++) {
		ret = io_uring_register_buffers(ring, iov, 1);
		if (ret != -ENOMEM || !fits)
			break;
		nanosleep(&ts, NULL);
	}
	return ret;
}

/*
 * In a child of its own, as an unprivileged user with RLIMIT_MEMLOCK at
 * MEMLOCK_LIMIT: register @len bytes, and record what happened (the
 * report is shared with the child).
 */
static void unprivileged_register(size_t len, bool beyond)
{
	unsigned long limit = break_memlock ? 64UL << 20 : MEMLOCK_LIMIT;
	struct iovec iov = { .iov_len = len };
	long base, pinned, after;
	struct io_uring ring;
	int ret;

	ret = drop_privileges(limit);
	if (ret) {
		obs_error("dropping privileges", -ret);
		return;
	}
	iov.iov_base = anon_pages(len);
	if (!iov.iov_base) {
		obs_error("mmap", errno);
		return;
	}
	ret = queue_init_retry(&ring);
	if (ret) {
		obs_error("io_uring_queue_init as an unprivileged user", -ret);
		return;
	}
	base = proc_status_kb("VmPin");
	ret = register_retry(&ring, &iov, len < limit);
	pinned = proc_status_kb("VmPin");
	if (!ret)
		io_uring_unregister_buffers(&ring);
	after = proc_status_kb("VmPin");
	io_uring_queue_exit(&ring);
	ksft_print_msg("uid %d, RLIMIT_MEMLOCK %lu kB: registering %zu kB: %s; VmPin %ld -> %ld -> %ld kB\n",
		       (int)getuid(), limit >> 10, len >> 10, ret ? strerror(-ret) : "ok",
		       base, pinned, after);
	if (ret && pinned != base)
		obs_broken(SYM_KEPT, "the failed registration left VmPin %+ld kB", pinned - base);
	else if (ret || beyond)
		obs_call(beyond ? "registering beyond RLIMIT_MEMLOCK" :
			 "registering within RLIMIT_MEMLOCK", ret, true, len);
	else if (pinned != base + (long)(len >> 10) || after != base)
		obs_broken(SYM_KEPT, "VmPin %ld -> %ld -> %ld kB for %zu kB registered and unregistered",
			   base, pinned, after, len >> 10);
	else
		obs_held();
}

static void memlock_observe(const struct pcase *c)
{
	struct kid k;
	pid_t pid = kid_fork(&k);

	if (pid < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!pid) {
		unprivileged_register((size_t)c->param, c->expect == EXP_ERRNO);
		fflush(stdout);
		_exit(0);
	}
	if (kid_finish(&k, false) && !obs_recorded())
		obs_error("the unprivileged child", ECHILD);
}

/* A THP is charged whole: report it, and that the charge goes away. */
static void memlock_thp_observe(const struct pcase *c)
{
	const struct platform *p = platform();
	long base, pinned, after;
	struct pin pin;
	struct mem m;
	int ret;

	if (!mem_setup_obs(&m, c->bk))
		return;
	base = proc_status_kb("VmPin");
	ret = pin_take(&pin, &pin_iouring, m.addr, page_size(), true);
	if (ret) {
		obs_pin(&pin_iouring, page_size(), ret);
		if (ret == PIN_STUCK)
			case_abandon();
		goto teardown;
	}
	pinned = proc_status_kb("VmPin");
	pin_drop(&pin);
	after = proc_status_kb("VmPin");
	ksft_print_msg("one %zu kB page of a %zu kB THP registered: VmPin %ld -> %ld -> %ld kB\n",
		       page_size() >> 10, p->pmd_size >> 10, base, pinned, after);
	if (pinned - base < (long)(page_size() >> 10) || pinned - base > (long)(p->pmd_size >> 10))
		obs_broken(SYM_KEPT, "VmPin grew by %ld kB for one page of a %zu kB THP",
			   pinned - base, p->pmd_size >> 10);
	else if (after != base)
		obs_broken(SYM_KEPT, "VmPin stays %+ld kB after unregistering", after - base);
	else
		obs_held();
teardown:
	mem_teardown(&m);
}

/* All pins released ----------------------------------------------------- */

static void released_observe(const struct pcase *c)
{
	size_t len = 64 * page_size();
	struct release r;
	struct pin pin;
	char *p;
	int ret;

	(void)c;
	p = anon_pages(len);
	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	release_before(&r, "VmPin", p, len);
	obs_phase(PH_PIN);
	ret = pin_take(&pin, &pin_iouring, p, len, true);
	if (ret) {
		obs_pin(&pin_iouring, len, ret);
		if (ret == PIN_STUCK)
			case_abandon();
		goto unmap;
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (!break_leak)
		pin_drop(&pin);
	release_after(&r, "after unregistering");
	pin_drop(&pin);
unmap:
	munmap(p, len);
}

static void add_accounting(void)
{
	static struct backing thp = {
		.type = BK_THP, .flags = BKF_PRIVATE | BKF_ANON | BKF_THP, .name = "THP",
		.need = { .flags = NEED_THP },
	};
	struct pcase c = {
		.prop = P_MEMLOCK,
		.pin = &pin_iouring,
		.writable = true,
		.expect = EXP_ERRNO,
		.want_err = ENOMEM,
		.observe = memlock_observe,
		.param = 4 * MEMLOCK_LIMIT,
	};

	pcase_add(&c, "io_uring fixed buffer beyond RLIMIT_MEMLOCK fails with ENOMEM, unprivileged");
	c.expect = EXP_HOLDS;
	c.want_err = 0;
	c.param = MEMLOCK_LIMIT / 4;
	pcase_add(&c, "io_uring fixed buffer within RLIMIT_MEMLOCK, VmPin up and back to baseline, unprivileged");
	thp.size = platform()->pmd_size;
	thp.need.thp_size = thp.size;
	c.bk = &thp;
	c.observe = memlock_thp_observe;
	pcase_add(&c, "io_uring fixed buffer in a THP, charged at most whole and released");
	c = (struct pcase){
		.prop = P_RELEASED,
		.pin = &pin_iouring,
		.writable = true,
		.observe = released_observe,
	};
	pcase_add(&c, "io_uring fixed buffer, pins gone after unregistering");
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	add_matrix();
	add_outcomes();
	add_accounting();
}

static const struct ksft_break breaks[] = {
	{ "memlock", "raise RLIMIT_MEMLOCK above the registration", &break_memlock, 1 },
	{ "leak", "keep the pin when the release is checked", &break_leak, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct pinsuite suite = {
	.name = "iouring_pin",
	.summary = "Long-term pins through io_uring fixed buffers: coherency after writes,\n"
		   "fork, mprotect, KSM, THP collapse, pageout and mremap; which mappings may\n"
		   "be registered; RLIMIT_MEMLOCK accounting; pin release.",
	.breaks = breaks,
	.enumerate = enumerate,
	.timeout = 120,
	/* A private hugetlb pin, its COW copy and a child's copy. */
	.hugetlb_pages = 4,
};

PINSUITE_MAIN(suite)
