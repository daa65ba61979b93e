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
#include <getopt.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/backing.h"
#include "lib/expect.h"
#include "lib/hints.h"
#include "lib/ksft.h"
#include "lib/observe.h"
#include "lib/pin.h"
#include "lib/pincheck.h"
#include "lib/trigger.h"
#include "lib/util.h"

/* Reliability matrix ----------------------------------------------------- */

static const enum trig_id matrix_triggers[] = {
	TRIG_WRITE, TRIG_MPROTECT, TRIG_FORK_PARENT, TRIG_FORK_CHILD,
	TRIG_KSM, TRIG_COLLAPSE, TRIG_PAGEOUT, TRIG_MREMAP,
};


/*
 * Backings the ring may pin: the catalog without cow.c's set-up variants,
 * and without MAP_SHARED files on writeback filesystems, which the rule
 * refuses (their registration is checked by the expectation cases).
 */
static bool in_matrix(const struct backing *bk)
{
	if (bk->flags & BKF_VARIANT)
		return false;
	return !backing_is(bk, BKF_SHARED | BKF_DISK, 0);
}

/*
 * After the trigger the ring reads the pinned pages (WRITE_FIXED into a
 * memfd) and must see the mapping's bytes, then writes them (READ_FIXED)
 * and the mapping must show the ring's bytes.
 */
static void add_matrix(void)
{
	const struct backing *const *bks;
	struct pincheck pc = { .pin = &pin_iouring, .writable = true, .dir = PC_PIN_BOTH };
	unsigned int t;
	int i, nr;

	bks = backings(&nr);
	for (t = 0; t < ARRAY_SIZE(matrix_triggers); t++) {
		pc.trig = &triggers[matrix_triggers[t]];
		for (i = 0; i < nr; i++) {
			pc.bk = bks[i];
			if (in_matrix(pc.bk) && trigger_applies(pc.trig, pc.bk))
				pincheck_add(&pc, "io_uring WRITE_FIXED and READ_FIXED");
		}
	}
}

/* Which mappings may be registered ------------------------------------- */

static void expect_case(const struct ksft_case *tc)
{
	const struct backing *bk = *(const struct backing *const *)tc->arg;
	const struct need *needs[] = { &pin_iouring.need, &bk->need };
	struct pin_attempt a = {
		.what = "io_uring fixed buffer registration",
		.iouring = true,
		.unsupported = pin_iouring.unsupported,
		.shared = bk->flags & BKF_SHARED,
	};
	enum pin_expect expect;
	const char *step;
	struct mem m;
	int ret;

	if (!mem_setup_case(&m, bk, needs, ARRAY_SIZE(needs)))
		return;
	a.fs = fs_name(m.fs_magic);
	expect = longterm_pin_expect(m.fs_magic, a.shared, true);
	if (expect == EXPECT_UNKNOWN) {
		ksft_case_skip("unknown filesystem (%s)", a.fs);
		goto teardown;
	}
	ret = iouring_try_register(m.addr, m.size, &step);
	ksft_print_msg("%s %s mapping on %s: %s\n", step, a.shared ? "MAP_SHARED" : "MAP_PRIVATE",
		       a.fs, ret ? strerror(-ret) : "registered");
	longterm_pin_judge(&a, expect, ret);
teardown:
	mem_teardown(&m);
}

static void prot_read_case(const struct ksft_case *tc)
{
	size_t len = 4 * page_size();
	const char *step;
	char *p;
	int ret;

	(void)tc;
	if (iouring_unavailable()) {
		ksft_case_skip("%s", iouring_unavailable());
		return;
	}
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		ksft_case_fail("mmap: %s", strerror(errno));
		return;
	}
	ret = iouring_try_register(p, len, &step);
	ksft_print_msg("%s of a PROT_READ mapping: %s\n", step,
		       ret ? strerror(-ret) : "registered");
	ksft_case_result(ret == -EFAULT ? KSFT_PASS : KSFT_FAIL,
			 "a writable pin of a PROT_READ mapping must fail with EFAULT");
	munmap(p, len);
}

static void add_expectations(void)
{
	const struct backing *const *bks;
	int i, nr;

	bks = backings(&nr);
	for (i = 0; i < nr; i++)
		if (backing_is(bks[i], BKF_FILE, BKF_VARIANT))
			ksft_case_add(expect_case, &bks[i], sizeof(bks[i]),
				      "Longterm pin outcome as expected: io_uring fixed buffer registration, %s",
				      bks[i]->name);
	ksft_case_add(prot_read_case, NULL, 0,
		      "Longterm pin outcome as expected: io_uring fixed buffer registration, PROT_READ anon mapping refused");
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
 * MEMLOCK_LIMIT: register @len bytes.  Exit status: 0 registered and the
 * charge came and went, 1 registration failed with ENOMEM and nothing is
 * charged, 2 anything else (diagnosed).
 */
static int unprivileged_register(size_t len)
{
	unsigned long limit = break_memlock ? 64UL << 20 : MEMLOCK_LIMIT;
	struct iovec iov = { .iov_len = len };
	long base, pinned, after;
	struct io_uring ring;
	int ret;

	ret = drop_privileges(limit);
	if (ret) {
		ksft_print_msg("dropping privileges: %s\n", strerror(-ret));
		return 2;
	}
	iov.iov_base = anon_pages(len);
	if (!iov.iov_base)
		return 2;
	ret = queue_init_retry(&ring);
	if (ret) {
		ksft_print_msg("io_uring_queue_init as uid %d: %s\n", (int)getuid(), strerror(-ret));
		return 2;
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
	if (ret == -ENOMEM && pinned == base)
		return 1;
	if (!ret && pinned == base + (long)(len >> 10) && after == base)
		return 0;
	return 2;
}

static int in_child(int (*fn)(size_t), size_t len)
{
	struct kid k;
	pid_t pid = kid_fork(&k);

	if (pid < 0)
		return -1;
	if (!pid) {
		fflush(stdout);
		_exit(fn(len));
	}
	return kid_finish(&k, false);
}

static void memlock_beyond(const struct ksft_case *tc)
{
	(void)tc;
	if (iouring_unavailable()) {
		ksft_case_skip("%s", iouring_unavailable());
		return;
	}
	ksft_case_result(in_child(unprivileged_register, 4 * MEMLOCK_LIMIT) == 1 ?
			 KSFT_PASS : KSFT_FAIL,
			 "registration beyond RLIMIT_MEMLOCK must fail with ENOMEM, charging nothing");
}

static void memlock_within(const struct ksft_case *tc)
{
	(void)tc;
	if (iouring_unavailable()) {
		ksft_case_skip("%s", iouring_unavailable());
		return;
	}
	ksft_case_result(in_child(unprivileged_register, MEMLOCK_LIMIT / 4) == 0 ?
			 KSFT_PASS : KSFT_FAIL,
			 "registration within RLIMIT_MEMLOCK must work and VmPin return to its baseline");
}

/* A THP is charged whole: report it, and that the charge goes away. */
static void memlock_thp(const struct ksft_case *tc)
{
	const struct platform *p = platform();
	struct backing bk = { .type = BK_THP, .flags = BKF_PRIVATE | BKF_ANON | BKF_THP };
	long base, pinned, after;
	struct pin pin;
	struct mem m;
	int ret;

	(void)tc;
	bk.size = p->pmd_size;
	bk.need.flags = NEED_THP;
	bk.need.thp_size = p->pmd_size;
	bk.need.check = iouring_unavailable;
	if (!mem_setup_case(&m, &bk, NULL, 0))
		return;
	base = proc_status_kb("VmPin");
	ret = pin_take(&pin, &pin_iouring, m.addr, page_size(), true);
	if (ret) {
		ksft_case_fail("registering one page of a THP: %s", strerror(-ret));
		goto teardown;
	}
	pinned = proc_status_kb("VmPin");
	pin_drop(&pin);
	after = proc_status_kb("VmPin");
	ksft_print_msg("one %zu kB page of a %zu kB THP registered: VmPin %ld -> %ld -> %ld kB\n",
		       page_size() >> 10, p->pmd_size >> 10, base, pinned, after);
	ksft_case_result(pinned - base >= (long)(page_size() >> 10) &&
			 pinned - base <= (long)(p->pmd_size >> 10) && after == base ?
			 KSFT_PASS : KSFT_FAIL,
			 "the charge must be between a page and the THP and go away again");
teardown:
	mem_teardown(&m);
}

/* All pins released ----------------------------------------------------- */

static void pins_released(const struct ksft_case *tc)
{
	struct pin_counters c0, c1, c2;
	size_t len = 64 * page_size();
	struct pin pin;
	char *p;
	int ret;

	(void)tc;
	if (iouring_unavailable()) {
		ksft_case_skip("%s", iouring_unavailable());
		return;
	}
	if (!pin_counters_read(&c0)) {
		ksft_case_skip("no nr_foll_pin_acquired in /proc/vmstat (kernel before 5.7)");
		return;
	}
	p = anon_pages(len);
	if (!p) {
		ksft_case_fail("mmap: %s", strerror(errno));
		return;
	}
	ret = pin_take(&pin, &pin_iouring, p, len, true);
	pin_counters_read(&c1);
	if (!break_leak)
		pin_drop(&pin);
	pin_counters_read(&c2);
	ksft_print_msg("nr_foll_pin_acquired +%lu, nr_foll_pin_released +%lu (+%lu while registered)\n",
		       c2.acquired - c0.acquired, c2.released - c0.released,
		       c1.acquired - c0.acquired);
	if (ret)
		ksft_case_fail("registering %zu kB: %s", len >> 10, strerror(-ret));
	else if (c1.acquired - c0.acquired < len / page_size())
		ksft_case_fail("registration did not count %zu pins", len / page_size());
	else
		ksft_case_result(c2.acquired - c0.acquired == c2.released - c0.released ?
				 KSFT_PASS : KSFT_FAIL,
				 "acquired and released pins must balance after unregistering");
	munmap(p, len);
}

static void add_accounting(void)
{
	ksft_case_add(memlock_beyond, NULL, 0,
		      "Memlock charge as expected: io_uring fixed buffer beyond RLIMIT_MEMLOCK fails with ENOMEM, unprivileged");
	ksft_case_add(memlock_within, NULL, 0,
		      "Memlock charge as expected: io_uring fixed buffer within RLIMIT_MEMLOCK, VmPin up and back to baseline, unprivileged");
	ksft_case_add(memlock_thp, NULL, 0,
		      "Memlock charge as expected: io_uring fixed buffer in a THP, charged at most whole and released");
	ksft_case_add(pins_released, NULL, 0,
		      "All pins released: io_uring fixed buffer, FOLL_PIN counters balance after unregistering");
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	add_matrix();
	add_expectations();
	add_accounting();
}

static void setup(void)
{
	/* A private hugetlb pin, its COW copy and a child's copy. */
	hugetlb_reserve_all(4);
}

static const struct ksft_break breaks[] = {
	{ "memlock", "raise RLIMIT_MEMLOCK above the registration", &break_memlock, 1 },
	{ "leak", "keep the pin when the counters are read", &break_leak, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct ksft_suite suite = {
	.name = "iouring_pin",
	.summary = "Long-term pins through io_uring fixed buffers: coherency after writes,\n"
		   "fork, mprotect, KSM, THP collapse, pageout and mremap; which mappings may\n"
		   "be registered; RLIMIT_MEMLOCK accounting; pin release.",
	.breaks = { pincheck_breaks, breaks },
	.enumerate = enumerate,
	.setup = setup,
	.timeout = 120,
};

int main(int argc, char **argv)
{
	ksft_main(&suite, argc, argv);
}
