// SPDX-License-Identifier: GPL-2.0
/*
 * AF_XDP umem registration as a long-term pin.
 *
 * setsockopt(XDP_UMEM_REG) pins the umem (FOLL_WRITE | FOLL_LONGTERM).
 * The socket, bound in copy mode to a veth end in a network namespace of
 * the case's own, transmits umem frames (the kernel reads the pinned
 * pages; the other end captures them) and receives frames an XDP program
 * redirects to it (the kernel writes the pinned pages).  For every backing
 * the umem may be on and every trigger, what the socket sends must be what
 * the mapping holds, and what it receives must appear in the mapping.
 * Then: which mappings may be registered, the charge to the user's locked
 * memory (not VmPin) with ENOBUFS beyond RLIMIT_MEMLOCK, and that the
 * pins go away when the socket is closed and when the process exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/observe.h"
#include "lib/pin_xdp.h"
#include "lib/pincheck.h"
#include "lib/release.h"
#include "lib/util.h"

static int break_memlock, break_leak;

/* Reliability: every trigger, every backing the umem may be on ---------- */

static void add_matrix(void)
{
	static const struct pin_matrix m = {
		.pin = &pin_xdp,
		.rw_what = "AF_XDP transmit and receive",
		.rw_dir = PC_PIN_BOTH,
	};

	pincheck_add_matrix(&m);
}

/* Outcome: which mappings may be registered ----------------------------- */

static size_t window(size_t size)
{
	return size < PINCHECK_WINDOW ? size : PINCHECK_WINDOW;
}

/* Register @len bytes at @addr as the umem of a fresh socket: 0 or -errno. */
static int try_register(char *addr, size_t len, const char **step)
{
	int fd, ret;

	*step = "socket(AF_XDP)";
	fd = xsk_socket();
	if (fd < 0)
		return fd;
	*step = "XDP_UMEM_REG";
	obs_phase(PH_PIN);
	ret = xsk_umem_reg(fd, addr, len);
	close(fd);
	return ret;
}

static void register_observe(const struct pcase *c)
{
	const char *step;
	struct mem m;
	int ret;

	if (!mem_setup_obs(&m, c->bk))
		return;
	obs_rule_facts(m.fs_magic, c->bk->flags & BKF_SHARED);
	ret = try_register(m.addr, window(m.size), &step);
	ksft_print_msg("%s of a %s mapping on %s: %s\n", step,
		       (c->bk->flags & BKF_SHARED) ? "MAP_SHARED" : "MAP_PRIVATE",
		       fs_name(m.fs_magic), ret ? strerror(-ret) : "registered");
	if (ret && strcmp(step, "XDP_UMEM_REG"))
		obs_error(step, -ret);
	else
		obs_call("AF_XDP umem registration", ret, true, window(m.size));
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
	ret = try_register(p, len, &step);
	ksft_print_msg("%s of a PROT_READ mapping: %s\n", step, ret ? strerror(-ret) : "registered");
	if (ret && strcmp(step, "XDP_UMEM_REG"))
		obs_error(step, -ret);
	else
		obs_call("AF_XDP umem registration of a PROT_READ mapping", ret, true, len);
	munmap(p, len);
}

static void add_outcomes(void)
{
	static const struct tagsel tags[] = {
		{ TAG_NO_LONGTERM_FILE_WRITE, BKF_SHARED | BKF_DISK, 0 },
		{ TAG_NONE, 0, 0 },
	};
	const struct backing *const *bks;
	struct pcase c = {
		.prop = P_OUTCOME,
		.pin = &pin_xdp,
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
		pcase_add(&c, "AF_XDP umem registration, %s", c.bk->name);
	}
	c = (struct pcase){
		.prop = P_OUTCOME,
		.pin = &pin_xdp,
		.writable = true,
		.expect = EXP_ERRNO,
		.want_err = EFAULT,
		.observe = prot_read_observe,
	};
	pcase_add(&c, "AF_XDP umem registration, PROT_READ anon mapping refused");
}

/* Memlock ---------------------------------------------------------------- */

#define MEMLOCK_LIMIT	(256UL << 10)

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

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The umem of a socket is released by a worker after the socket is
 * closed: register @len bytes on @fd, retrying for a moment while an
 * earlier umem of ours is still charged.
 */
static int reg_retry(int fd, char *p, size_t len)
{
	int ret, i;

	for (i = 0; i < 100; i++) {
		ret = xsk_umem_reg(fd, p, len);
		if (ret != -ENOBUFS)
			break;
		pause_ms(20);
	}
	return ret;
}

/* As an unprivileged user: beyond the limit the registration must fail. */
static void beyond_child(size_t len)
{
	unsigned long limit = break_memlock ? 64UL << 20 : MEMLOCK_LIMIT;
	int fd, ret;
	char *p;

	fd = xsk_socket();
	p = anon_pages(len);
	if (fd < 0 || !p) {
		obs_error(fd < 0 ? "socket(AF_XDP)" : "mmap", fd < 0 ? -fd : errno);
		return;
	}
	ret = drop_privileges(limit);
	if (ret) {
		obs_error("dropping privileges", -ret);
		return;
	}
	obs_phase(PH_PIN);
	ret = xsk_umem_reg(fd, p, len);
	ksft_print_msg("uid %d, RLIMIT_MEMLOCK %lu kB: registering a %zu kB umem: %s\n",
		       (int)getuid(), limit >> 10, len >> 10, ret ? strerror(-ret) : "ok");
	obs_call("registering beyond RLIMIT_MEMLOCK", ret, true, len);
	close(fd);
}

/*
 * As an unprivileged user: umem A within the limit is charged to the
 * user, not to VmPin or VmLck: a second umem B that fits the limit only
 * without A fails while A is registered, and works once A is gone.
 */
static void within_child(size_t len)
{
	unsigned long limit = break_memlock ? 64UL << 20 : MEMLOCK_LIMIT;
	size_t len_b = MEMLOCK_LIMIT / 2;
	long pin0, lck0, pin1, lck1;
	int a, b, ra, rb1, rb2, ret;
	char *pa, *pb;

	a = xsk_socket();
	b = xsk_socket();
	pa = anon_pages(len);
	pb = anon_pages(len_b);
	if (a < 0 || b < 0 || !pa || !pb) {
		obs_error(a < 0 || b < 0 ? "socket(AF_XDP)" : "mmap", a < 0 ? -a : b < 0 ? -b : errno);
		return;
	}
	ret = drop_privileges(limit);
	if (ret) {
		obs_error("dropping privileges", -ret);
		return;
	}
	pin0 = proc_status_kb("VmPin");
	lck0 = proc_status_kb("VmLck");
	obs_phase(PH_PIN);
	ra = reg_retry(a, pa, len);
	pin1 = proc_status_kb("VmPin");
	lck1 = proc_status_kb("VmLck");
	rb1 = ra ? 0 : xsk_umem_reg(b, pb, len_b);
	if (!rb1) {
		/* B registered: nothing left to see about A's charge. */
		close(b);
		b = xsk_socket();
	}
	obs_phase(PH_RELEASE);
	close(a);
	rb2 = b < 0 ? b : reg_retry(b, pb, len_b);
	ksft_print_msg("uid %d, RLIMIT_MEMLOCK %lu kB: umem A %zu kB: %s, VmPin %ld -> %ld kB, VmLck %ld -> %ld kB; umem B %zu kB with A: %s, after A closed: %s\n",
		       (int)getuid(), limit >> 10, len >> 10, ra ? strerror(-ra) : "ok", pin0,
		       pin1, lck0, lck1, len_b >> 10, rb1 ? strerror(-rb1) : "ok",
		       rb2 ? strerror(-rb2) : "ok");
	if (ra)
		obs_call("registering within RLIMIT_MEMLOCK", ra, true, len);
	else if (pin1 != pin0 || lck1 != lck0)
		obs_broken(SYM_KEPT, "the umem was charged to the process (VmPin %+ld kB, VmLck %+ld kB), not to the user's locked memory",
			   pin1 - pin0, lck1 - lck0);
	else if (!rb1)
		obs_broken(SYM_KEPT, "a second umem beyond RLIMIT_MEMLOCK together with the first was registered: the first is not charged to the user");
	else if (rb1 != -ENOBUFS)
		obs_broken(SYM_KEPT, "the second umem failed with %s, not ENOBUFS", strerror(-rb1));
	else if (rb2)
		obs_broken(SYM_KEPT, "the second umem still fails (%s) after the first socket was closed: its charge stays",
			   strerror(-rb2));
	else
		obs_held();
	if (b >= 0)
		close(b);
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
		if (c->expect == EXP_ERRNO)
			beyond_child((size_t)c->param);
		else
			within_child((size_t)c->param);
		fflush(stdout);
		_exit(0);
	}
	if (kid_finish(&k, false) && !obs_recorded())
		obs_error("the unprivileged child", ECHILD);
}

/* All pins released ----------------------------------------------------- */

/*
 * Umems of earlier cases are released by a worker after their socket is
 * closed: let the machine's pin count settle before taking its base.
 */
static void settle(void)
{
	long n;
	int i;

	for (i = 0; i < 50 && platform()->root && !pins_quiet(&n); i++)
		pause_ms(20);
}

/* The umem's pages are unpinned by a worker after close: wait for it. */
static void wait_unpinned(char *p, size_t len)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (anon_page_pinned(p) == 0 && anon_page_pinned(p + len - page_size()) == 0)
			return;
		pause_ms(20);
	}
}

static void released_observe(const struct pcase *c)
{
	size_t len = 64 * page_size();
	struct release r;
	int fd, ret;
	char *p;

	(void)c;
	p = anon_pages(len);
	fd = xsk_socket();
	if (!p || fd < 0) {
		obs_error(fd < 0 ? "socket(AF_XDP)" : "mmap", fd < 0 ? -fd : errno);
		return;
	}
	settle();
	release_before(&r, NULL, p, len);
	obs_phase(PH_PIN);
	ret = xsk_umem_reg(fd, p, len);
	if (ret) {
		obs_call("AF_XDP umem registration", ret, true, len);
		goto out;
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (!break_leak) {
		close(fd);
		fd = -1;
		wait_unpinned(p, len);
	}
	release_after(&r, "after closing the socket");
out:
	if (fd >= 0)
		close(fd);
	munmap(p, len);
}

/* Only the machine's FOLL_PIN counters see another process's pins. */
static void exit_observe(const struct pcase *c)
{
	size_t len = 64 * page_size();
	struct release r;
	struct kid k;
	pid_t pid;
	int fd;
	char *p;

	(void)c;
	settle();
	release_before(&r, NULL, NULL, 0);
	pid = kid_fork(&k);
	if (pid < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!pid) {
		p = anon_pages(len);
		fd = xsk_socket();
		kid_tell_parent(&k, p && fd >= 0 && !xsk_umem_reg(fd, p, len) ? 'p' : 'e');
		kid_wait_parent(&k);
		_exit(0);
	}
	obs_phase(PH_PIN);
	if (kid_wait_child(&k) != 'p') {
		kid_finish(&k, true);
		obs_error("registering a umem in the child", EIO);
		return;
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (break_leak) {
		ksft_print_msg("selftest break: looking before the child exits\n");
		release_after(&r, "while the child still holds its umem");
		kid_finish(&k, false);
		return;
	}
	kid_finish(&k, false);
	release_after(&r, "after the process that registered it exited");
}

static void add_accounting(void)
{
	struct pcase c = {
		.prop = P_MEMLOCK,
		.pin = &pin_xdp,
		.writable = true,
		.expect = EXP_ERRNO,
		.want_err = ENOBUFS,
		.observe = memlock_observe,
		.param = 4 * MEMLOCK_LIMIT,
	};

	pcase_add(&c, "AF_XDP umem beyond RLIMIT_MEMLOCK fails with ENOBUFS, unprivileged");
	c.expect = EXP_HOLDS;
	c.want_err = 0;
	c.param = 3 * MEMLOCK_LIMIT / 4;
	pcase_add(&c, "AF_XDP umem within RLIMIT_MEMLOCK, charged to the user's locked memory, not VmPin, unprivileged");
	c = (struct pcase){
		.prop = P_RELEASED,
		.pin = &pin_xdp,
		.writable = true,
		.observe = released_observe,
	};
	pcase_add(&c, "AF_XDP umem, pins gone after closing the socket");
	c.observe = exit_observe;
	pcase_add(&c, "AF_XDP umem, pins gone when the registering process exits");
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	add_matrix();
	add_outcomes();
	add_accounting();
}

static void setup(void)
{
	/* Probe once here, not in every case process. */
	if (platform()->root)
		xdp_unavailable();
}

static const struct ksft_break breaks[] = {
	{ "memlock", "raise RLIMIT_MEMLOCK above the registration", &break_memlock, 1 },
	{ "leak", "keep the umem when the release is checked", &break_leak, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct pinsuite suite = {
	.name = "xdp_pin",
	.summary = "Long-term pins through AF_XDP umem registration (copy mode over veth):\n"
		   "coherency after writes, fork, mprotect, KSM, THP collapse, pageout and\n"
		   "mremap; which mappings may be registered; RLIMIT_MEMLOCK accounting; pin\n"
		   "release.",
	.breaks = breaks,
	.enumerate = enumerate,
	.setup = setup,
	.timeout = 120,
	/* A private hugetlb pin, its COW copy and a child's copy. */
	.hugetlb_pages = 4,
};

PINSUITE_MAIN(suite)
