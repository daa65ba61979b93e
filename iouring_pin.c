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

#include "lib/case.h"
#include "lib/memlock.h"
#include "lib/observe.h"
#include "lib/outcome.h"
#include "lib/pincheck.h"
#include "lib/pinreq.h"
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

static void add_outcomes(void)
{
	static const struct tagsel tags[] = {
		{ TAG_NO_LONGTERM_FILE_WRITE, BKF_SHARED | BKF_DISK, 0 },
		{ TAG_IOURING_FILE_CHECK, BKF_FILE, BKF_SHMEM | BKF_HUGETLB },
		{ TAG_NONE, 0, 0 },
	};
	static const struct reg_outcome reg = {
		.pin = &pin_iouring,
		.writable = true,
		.what = "io_uring fixed buffer registration",
		.call = "io_uring_register_buffers",
		.whole = true,
		.tags = tags,
		.need = iouring_buffer_need,
		.try_register = iouring_try_register,
	};

	outcome_add_backings(&reg);
	outcome_add_prot_read(&reg, EFAULT, 0, ", PROT_READ anon mapping refused");
}

/* Memlock ---------------------------------------------------------------- */

#define MEMLOCK_LIMIT	(256UL << 10)

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

static void add_accounting(void)
{
	static const struct pin_account acct = {
		.what = "io_uring fixed buffer",
		.pin = &pin_iouring,
		.req = &pinreq_iouring,
		.limit = MEMLOCK_LIMIT,
		.beyond = 4 * MEMLOCK_LIMIT,
		.within = MEMLOCK_LIMIT / 4,
		.unpinned = "after unregistering",
	};
	static struct backing thp = {
		.type = BK_THP, .flags = BKF_PRIVATE | BKF_ANON | BKF_THP, .name = "THP",
		.need = { .flags = NEED_THP },
	};
	struct pcase c = {
		.prop = P_MEMLOCK,
		.pin = &pin_iouring,
		.writable = true,
		.observe = memlock_thp_observe,
	};

	memlock_add(&acct);
	thp.size = platform()->pmd_size;
	thp.need.thp_size = thp.size;
	c.bk = &thp;
	pcase_add(&c, "io_uring fixed buffer in a THP, charged at most whole and released");
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
	{ "leak", "keep the pin when the release is checked", &release_break_leak, 1 },
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
