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
#include "lib/memlock.h"
#include "lib/observe.h"
#include "lib/outcome.h"
#include "lib/pin_rdma.h"
#include "lib/pincheck.h"
#include "lib/release.h"
#include "lib/util.h"

static int break_rereg, break_file;

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
	obs_phase(PH_PIN);
	ret = rdma_try_register(f.map, f.len, false, &step);
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
		/* A R/O pin of a PMD-mapped shmem THP, private, may never return. */
		{ TAG_UNSHARE_PMD_LOOP, BKF_PRIVATE | BKF_FILE | BKF_THP | BKF_PMD, 0 },
		{ TAG_NONE, 0, 0 },
	};
	static const struct reg_outcome ro = {
		.pin = &pin_rdma,
		.what = "RDMA MR R/O registration",
		.call = "ibv_reg_mr",
		.tags = ro_tags,
		.try_register = rdma_try_register,
	};
	static const struct reg_outcome rw = {
		.pin = &pin_rdma,
		.writable = true,
		.what = "RDMA MR R/W registration",
		.call = "ibv_reg_mr",
		.tags = rw_tags,
		.try_register = rdma_try_register,
	};
	struct pcase c;

	outcome_add_backings(&ro);
	outcome_add_backings(&rw);
	outcome_add_prot_read(&ro, 0, TAGBIT(TAG_RDMA_RO_PIN),
			      " of a PROT_READ anon mapping works");
	outcome_add_prot_read(&rw, EFAULT, 0, " of a PROT_READ anon mapping refused");
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

/* Memlock and release ---------------------------------------------------- */

#define MEMLOCK_LIMIT	(256UL << 10)

/*
 * The device is opened as root, then the registration is charged to VmPin
 * as an unprivileged user; closing the device file (at exit) unpins.
 */
static void add_accounting(void)
{
	static const struct pin_account acct = {
		.what = "RDMA MR",
		.pin = &pin_rdma,
		.req = &pinreq_rdma,
		.limit = MEMLOCK_LIMIT,
		.beyond = 4 * MEMLOCK_LIMIT,
		.within = MEMLOCK_LIMIT / 4,
		.unpinned = "after deregistering",
		.on_exit = true,
	};

	memlock_add(&acct);
	release_add(&acct);
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	add_matrix();
	add_outcomes();
	add_accounting();
}

static const struct ksft_break breaks[] = {
	{ "memlock", "raise RLIMIT_MEMLOCK above the registration", &memlock_break, 1 },
	{ "leak", "keep the registration when the release is checked", &release_break_leak, 1 },
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
