// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA memory registrations on soft-RoCE as long-term pins.
 *
 * ibv_reg_mr() pins the range (ib_umem_get(): FOLL_LONGTERM, with
 * FOLL_WRITE only for a writable registration - a R/O pin since
 * b40656aa7d55, v6.2).  On an rxe device two RC queue pairs connected to
 * each other loop back in software: an RDMA READ from the MR is the
 * device reading the pinned pages, an RDMA WRITE into it the device
 * writing them.  For every backing and every trigger, R/O and R/W, what
 * the device sees must be what the mapping holds.  Then: which mappings
 * may be registered, that a R/O registration of a file opened O_RDONLY
 * cannot be made writable with ibv_rereg_mr() (badad6fad60d), what the
 * registration costs against RLIMIT_MEMLOCK (VmPin), and that the pins
 * go away on deregistration and on exit.
 *
 * The rxe device is made by the binary (root) on a veth pair whose other
 * end lives in a network namespace of its own: the kernel removes both
 * when the binary is gone, however it ended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/observe.h"
#include "lib/pin_rdma.h"
#include "lib/pincheck.h"
#include "lib/release.h"
#include "lib/util.h"

static int break_memlock, break_leak, break_rereg, break_file;

/* Reliability: every trigger, every backing, R/O and R/W ---------------- */

/*
 * The two registrations: a R/O MR (IBV_ACCESS_REMOTE_READ) is read by the
 * device, a R/W one (LOCAL_WRITE | REMOTE_READ | REMOTE_WRITE) read and
 * written.
 */
static void add_matrix(void)
{
	static const struct pin_matrix m = {
		.pin = &pin_rdma,
		.ro_what = "RDMA READ of the MR",
		.rw_what = "RDMA READ and WRITE of the MR",
		.rw_dir = PC_PIN_BOTH,
	};

	pincheck_add_matrix(&m);
}

/* Outcome: which mappings may be registered ----------------------------- */

static size_t window(size_t size)
{
	return size < PINCHECK_WINDOW ? size : PINCHECK_WINDOW;
}

/* Register @len bytes at @addr on a fresh context and deregister: 0 or -errno. */
static int try_register(char *addr, size_t len, int access, const char **step)
{
	struct rdma_ctx r;
	struct ibv_mr *mr;
	int ret;

	ret = rdma_open_pd(&r, step);
	if (ret)
		return ret;
	*step = "ibv_reg_mr";
	obs_phase(PH_PIN);
	mr = ibv_reg_mr(r.pd, addr, len, access);
	ret = mr ? 0 : -(errno ? errno : EIO);
	if (mr)
		ibv_dereg_mr(mr);
	rdma_close(&r);
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
	ret = try_register(m.addr, window(m.size), c->writable ? RDMA_ACCESS_RW : RDMA_ACCESS_RO,
			   &step);
	ksft_print_msg("%s %s of a %s mapping on %s: %s\n", c->writable ? "R/W" : "R/O", step,
		       (c->bk->flags & BKF_SHARED) ? "MAP_SHARED" : "MAP_PRIVATE",
		       fs_name(m.fs_magic), ret ? strerror(-ret) : "registered");
	if (ret && strcmp(step, "ibv_reg_mr"))
		obs_error(step, -ret);
	else
		obs_call(c->writable ? "R/W ibv_reg_mr" : "R/O ibv_reg_mr", ret, true,
			 window(m.size));
	mem_teardown(&m);
}

static void prot_read_observe(const struct pcase *c)
{
	size_t len = 4 * page_size();
	const char *step;
	char *p;
	int ret;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		obs_error("mmap", errno);
		return;
	}
	ret = try_register(p, len, c->writable ? RDMA_ACCESS_RW : RDMA_ACCESS_RO, &step);
	ksft_print_msg("%s %s of a PROT_READ anon mapping: %s\n", c->writable ? "R/W" : "R/O",
		       step, ret ? strerror(-ret) : "registered");
	if (ret && strcmp(step, "ibv_reg_mr"))
		obs_error(step, -ret);
	else
		obs_call(c->writable ? "R/W ibv_reg_mr of a PROT_READ mapping" :
			 "R/O ibv_reg_mr of a PROT_READ mapping", ret, true, len);
	munmap(p, len);
}

/* A file of PAT_INITIAL bytes, opened O_RDONLY and mapped PROT_READ, MAP_SHARED. */
struct rofile {
	int fd;
	char *map;
	size_t len;
};

static void rofile_close(struct rofile *f)
{
	if (f->map)
		munmap(f->map, f->len);
	if (f->fd >= 0)
		close(f->fd);
	f->map = NULL;
	f->fd = -1;
}

/* Reopen the file of @f (unnamed) through /proc; -1 with errno. */
static int reopen(const struct rofile *f, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
	return open(path, flags | O_CLOEXEC);
}

/* True when set up; else the observation is recorded. */
static bool rofile_open(struct rofile *f, size_t len)
{
	const char *dir = backing_plain_file_dir();
	struct rofile rw = { .fd = -1 };
	char *buf;
	int ret;

	f->fd = -1;
	f->map = NULL;
	f->len = len;
	if (!dir) {
		obs_unmet("no writable directory on a disk filesystem (use --disk-dir or PINSUITE_DISK_DIRS)",
			  "%s", "");
		return false;
	}
	rw.fd = backing_tmpfile(dir);
	buf = malloc(len);
	if (rw.fd < 0 || !buf) {
		obs_error(rw.fd < 0 ? "creating a file" : "malloc", rw.fd < 0 ? errno : ENOMEM);
		goto fail;
	}
	memset(buf, PAT_INITIAL, len);
	ret = pwrite_full(rw.fd, buf, len, 0);
	if (ret) {
		obs_error("pwrite", -ret);
		goto fail;
	}
	f->fd = reopen(&rw, O_RDONLY);
	if (f->fd < 0) {
		obs_error("reopening the file O_RDONLY", errno);
		goto fail;
	}
	f->map = mmap(NULL, len, PROT_READ, MAP_SHARED, f->fd, 0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		obs_error("mmap(PROT_READ, MAP_SHARED) of the O_RDONLY file", errno);
		goto fail;
	}
	touch_read(f->map, len);
	ksft_print_msg("file in %s, opened O_RDONLY, mapped PROT_READ and MAP_SHARED\n", dir);
	close(rw.fd);
	free(buf);
	return true;
fail:
	free(buf);
	if (rw.fd >= 0)
		close(rw.fd);
	rofile_close(f);
	return false;
}

static void rofile_observe(const struct pcase *c)
{
	struct rofile f;
	const char *step;
	int ret;

	(void)c;
	if (!rofile_open(&f, 4 * page_size()))
		return;
	ret = try_register(f.map, f.len, RDMA_ACCESS_RO, &step);
	ksft_print_msg("R/O %s: %s\n", step, ret ? strerror(-ret) : "registered");
	if (ret && strcmp(step, "ibv_reg_mr"))
		obs_error(step, -ret);
	else
		obs_call("R/O ibv_reg_mr of a PROT_READ MAP_SHARED mapping of an O_RDONLY file", ret,
			 true, f.len);
	rofile_close(&f);
}

/*
 * The probe for the rereg case: can this kernel's rxe change the access of
 * an MR at all?  Asked of a R/W registration changed to R/W.
 */
static const char *rereg_unsupported(void)
{
	static const char *why;
	static int probed;
	struct rdma_ctx r;
	struct ibv_mr *mr;
	const char *step;
	char *p;

	if (probed)
		return why;
	probed = 1;
	if (rdma_open_pd(&r, &step))
		return NULL;
	p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mr = p == MAP_FAILED ? NULL : ibv_reg_mr(r.pd, p, page_size(), RDMA_ACCESS_RW);
	if (mr && rdma_rereg_access(mr, RDMA_ACCESS_RW) == -EOPNOTSUPP)
		why = "this kernel's rxe cannot change the access of an MR (no rereg_user_mr)";
	if (mr)
		ibv_dereg_mr(mr);
	if (p != MAP_FAILED)
		munmap(p, page_size());
	rdma_close(&r);
	return why;
}

/*
 * ibv_rereg_mr(IBV_REREG_MR_CHANGE_ACCESS) from R/O to R/W without a new
 * translation would keep the R/O pin: must be refused (EACCES), and an
 * RDMA WRITE afterwards must not reach the file.
 */
static void rereg_observe(const struct pcase *c)
{
	struct rdma_ctx r;
	struct ibv_mr *mr;
	struct rofile f;
	const char *step;
	int ret, wret, status = 0, rw;
	ssize_t off;
	char *buf;

	(void)c;
	if (!rofile_open(&f, 4 * page_size()))
		return;
	buf = malloc(f.len);
	ret = buf ? rdma_open(&r, f.len, &step) : -ENOMEM;
	if (ret) {
		obs_error(buf ? step : "malloc", -ret);
		goto out;
	}
	mr = ibv_reg_mr(r.pd, f.map, f.len, RDMA_ACCESS_RO);
	if (!mr) {
		obs_error("R/O ibv_reg_mr of the O_RDONLY file", errno);
		goto close;
	}
	obs_phase(PH_PIN);
	ret = rdma_rereg_access(mr, break_rereg ? RDMA_ACCESS_RO : RDMA_ACCESS_RW);
	ksft_print_msg("ibv_rereg_mr(IBV_REREG_MR_CHANGE_ACCESS) from R/O to %s: %s\n",
		       break_rereg ? "R/O (selftest break)" : "R/W",
		       ret ? strerror(-ret) : "done");
	obs_phase(PH_CHECK);
	memset(r.scratch, PAT_DEVICE, f.len);
	wret = rdma_write(&r, mr, f.map, f.len, &status);
	ksft_print_msg("RDMA WRITE into the MR afterwards: %s\n",
		       !wret ? "completed" : wret == -EREMOTEIO ?
		       ibv_wc_status_str((enum ibv_wc_status)status) : strerror(-wret));
	if (break_file) {
		rw = reopen(&f, O_RDWR);
		if (rw < 0 || pwrite(rw, r.scratch, page_size(), 0) != (ssize_t)page_size())
			ksft_print_msg("selftest break: writing the file: %s\n", strerror(errno));
		if (rw >= 0)
			close(rw);
	}
	rw = pread_full(f.fd, buf, f.len, 0);
	if (rw) {
		obs_error("pread of the file", -rw);
		goto dereg;
	}
	off = first_not(buf, PAT_INITIAL, f.len);
	if (off < 0)
		off = first_not(f.map, PAT_INITIAL, f.len);
	if (off >= 0)
		obs_broken(SYM_ALLOWED, "the file opened O_RDONLY changed under its R/O registration: at offset 0x%zx it holds 0x%02x, it held 0x%02x",
			   (size_t)off, (unsigned char)buf[off], PAT_INITIAL);
	else
		obs_call("ibv_rereg_mr(IBV_REREG_MR_CHANGE_ACCESS) from R/O to R/W", ret, false,
			 f.len);
dereg:
	ibv_dereg_mr(mr);
close:
	rdma_close(&r);
out:
	free(buf);
	rofile_close(&f);
}

static void add_outcomes(void)
{
	static const struct tagsel rw_tags[] = {
		{ TAG_NO_LONGTERM_FILE_WRITE, BKF_SHARED | BKF_DISK, 0 },
		{ TAG_NONE, 0, 0 },
	};
	static const struct tagsel ro_tags[] = {
		{ TAG_RDMA_RO_PIN, 0, 0 },
		{ TAG_NONE, 0, 0 },
	};
	const struct backing *const *bks;
	struct pcase c = {
		.prop = P_OUTCOME,
		.pin = &pin_rdma,
		.expect = EXP_RULE,
		.observe = register_observe,
	};
	int i, nr, w;

	bks = backings(&nr);
	for (w = 0; w < 2; w++) {
		c.writable = w;
		for (i = 0; i < nr; i++) {
			c.bk = bks[i];
			if (!backing_is(c.bk, BKF_FILE, BKF_VARIANT))
				continue;
			c.tags = tags_select(w ? rw_tags : ro_tags, c.bk);
			pcase_add(&c, "RDMA MR %s registration, %s", w ? "R/W" : "R/O", c.bk->name);
		}
	}
	c = (struct pcase){
		.prop = P_OUTCOME,
		.pin = &pin_rdma,
		.expect = EXP_ERRNO,
		.observe = prot_read_observe,
		.tags = TAGBIT(TAG_RDMA_RO_PIN),
	};
	pcase_add(&c, "RDMA MR R/O registration of a PROT_READ anon mapping works");
	c.writable = true;
	c.want_err = EFAULT;
	c.tags = 0;
	pcase_add(&c, "RDMA MR R/W registration of a PROT_READ anon mapping refused");
	c = (struct pcase){
		.prop = P_OUTCOME,
		.pin = &pin_rdma,
		.expect = EXP_ERRNO,
		.observe = rofile_observe,
		.tags = TAGBIT(TAG_RDMA_RO_PIN),
	};
	pcase_add(&c, "RDMA MR R/O registration of a PROT_READ MAP_SHARED mapping of a file opened O_RDONLY works");
	c = (struct pcase){
		.prop = P_OUTCOME,
		.pin = &pin_rdma,
		.expect = EXP_ERRNO,
		.want_err = EACCES,
		.observe = rereg_observe,
		.need = { .check = rereg_unsupported },
		.tags = TAGBIT(TAG_RDMA_REREG),
	};
	pcase_add(&c, "RDMA MR ibv_rereg_mr() R/O to R/W of a file opened O_RDONLY refused, file unchanged after RDMA WRITE");
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

/*
 * In a child of its own: open the device as root, then as an unprivileged
 * user with RLIMIT_MEMLOCK at MEMLOCK_LIMIT register @len bytes, and
 * record what happened (the report is shared with the child).
 */
static void unprivileged_register(size_t len, bool beyond)
{
	unsigned long limit = break_memlock ? 64UL << 20 : MEMLOCK_LIMIT;
	long base, pinned, after;
	struct rdma_ctx r;
	struct ibv_mr *mr;
	const char *step;
	char *p;
	int ret;

	ret = rdma_open_pd(&r, &step);
	if (ret) {
		obs_error(step, -ret);
		return;
	}
	p = anon_pages(len);
	if (!p) {
		obs_error("mmap", errno);
		return;
	}
	ret = drop_privileges(limit);
	if (ret) {
		obs_error("dropping privileges", -ret);
		return;
	}
	base = proc_status_kb("VmPin");
	mr = ibv_reg_mr(r.pd, p, len, RDMA_ACCESS_RW);
	ret = mr ? 0 : -(errno ? errno : EIO);
	pinned = proc_status_kb("VmPin");
	if (mr)
		ibv_dereg_mr(mr);
	after = proc_status_kb("VmPin");
	ksft_print_msg("uid %d, RLIMIT_MEMLOCK %lu kB: registering %zu kB: %s; VmPin %ld -> %ld -> %ld kB\n",
		       (int)getuid(), limit >> 10, len >> 10, ret ? strerror(-ret) : "ok", base,
		       pinned, after);
	if (ret && pinned != base)
		obs_broken(SYM_KEPT, "the failed registration left VmPin %+ld kB", pinned - base);
	else if (ret || beyond)
		obs_call(beyond ? "registering beyond RLIMIT_MEMLOCK" :
			 "registering within RLIMIT_MEMLOCK", ret, true, len);
	else if (pinned != base + (long)(len >> 10) || after != base)
		obs_broken(SYM_KEPT, "VmPin %ld -> %ld -> %ld kB for %zu kB registered and deregistered",
			   base, pinned, after, len >> 10);
	else
		obs_held();
	rdma_close(&r);
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
	ret = pin_take(&pin, &pin_rdma, p, len, true);
	if (ret) {
		obs_pin(&pin_rdma, len, ret);
		if (ret == PIN_STUCK)
			case_abandon();
		goto unmap;
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (!break_leak)
		pin_drop(&pin);
	release_after(&r, "after deregistering");
	pin_drop(&pin);
unmap:
	munmap(p, len);
}

/*
 * A child registers and exits without deregistering: closing its device
 * file on exit must unpin.  Only the machine's FOLL_PIN counters can see
 * another process's pins (root, quiet machine).
 */
static void exit_observe(const struct pcase *c)
{
	size_t len = 64 * page_size();
	struct release r;
	struct pin pin;
	struct kid k;
	pid_t pid;
	char *p;
	int ret;

	(void)c;
	release_before(&r, NULL, NULL, 0);
	pid = kid_fork(&k);
	if (pid < 0) {
		obs_error("fork", errno);
		return;
	}
	if (!pid) {
		p = anon_pages(len);
		ret = p ? pin_take(&pin, &pin_rdma, p, len, true) : -ENOMEM;
		kid_tell_parent(&k, ret ? 'e' : 'p');
		kid_wait_parent(&k);
		_exit(0);
	}
	obs_phase(PH_PIN);
	if (kid_wait_child(&k) != 'p') {
		kid_finish(&k, true);
		obs_error("registering in the child", EIO);
		return;
	}
	release_pinned(&r);
	obs_phase(PH_RELEASE);
	if (break_leak) {
		ksft_print_msg("selftest break: looking before the child exits\n");
		release_after(&r, "while the child still holds its registration");
		kid_finish(&k, false);
		return;
	}
	kid_finish(&k, false);
	release_after(&r, "after the registering process exited");
}

static void add_accounting(void)
{
	struct pcase c = {
		.prop = P_MEMLOCK,
		.pin = &pin_rdma,
		.writable = true,
		.expect = EXP_ERRNO,
		.want_err = ENOMEM,
		.observe = memlock_observe,
		.param = 4 * MEMLOCK_LIMIT,
	};

	pcase_add(&c, "RDMA MR beyond RLIMIT_MEMLOCK fails with ENOMEM, unprivileged");
	c.expect = EXP_HOLDS;
	c.want_err = 0;
	c.param = MEMLOCK_LIMIT / 4;
	pcase_add(&c, "RDMA MR within RLIMIT_MEMLOCK, VmPin up and back to baseline, unprivileged");
	c = (struct pcase){
		.prop = P_RELEASED,
		.pin = &pin_rdma,
		.writable = true,
		.observe = released_observe,
	};
	pcase_add(&c, "RDMA MR, pins gone after deregistering");
	c.observe = exit_observe;
	pcase_add(&c, "RDMA MR, pins gone when the registering process exits");
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
	{ "leak", "keep the registration when the release is checked", &break_leak, 1 },
	{ "rereg", "rereg to the access the MR already has (allowed)", &break_rereg, 1 },
	{ "file", "write the O_RDONLY file through another descriptor", &break_file, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct pinsuite suite = {
	.name = "rdma_pin",
	.summary = "Long-term pins through RDMA memory registration on soft-RoCE (rxe): R/O and\n"
		   "R/W MRs read and written by the device after writes, fork, mprotect, KSM,\n"
		   "THP collapse, pageout and mremap; which mappings may be registered;\n"
		   "ibv_rereg_mr() to writable; RLIMIT_MEMLOCK accounting; pin release.",
	.breaks = breaks,
	.enumerate = enumerate,
	.setup = rdma_setup,
	.timeout = 120,
	/* A private hugetlb pin, its COW copy and a child's copy. */
	.hugetlb_pages = 4,
};

PINSUITE_MAIN(suite)
