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

#include "lib/case.h"
#include "lib/memlock.h"
#include "lib/outcome.h"
#include "lib/pin_xdp.h"
#include "lib/pincheck.h"
#include "lib/release.h"

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

static void add_outcomes(void)
{
	static const struct tagsel tags[] = {
		{ TAG_NO_LONGTERM_FILE_WRITE, BKF_SHARED | BKF_DISK, 0 },
		{ TAG_NONE, 0, 0 },
	};
	static const struct reg_outcome reg = {
		.pin = &pin_xdp,
		.writable = true,
		.what = "AF_XDP umem registration",
		.call = "XDP_UMEM_REG",
		.tags = tags,
		.try_register = xsk_try_register,
	};

	outcome_add_backings(&reg);
	outcome_add_prot_read(&reg, EFAULT, 0, ", PROT_READ anon mapping refused");
}

/* Memlock and release ---------------------------------------------------- */

#define MEMLOCK_LIMIT	(256UL << 10)

/*
 * The umem is charged to the user's locked memory, not to VmPin or VmLck,
 * and goes (with its charge, by a worker) when its socket is closed.
 */
static void add_accounting(void)
{
	static const struct pin_account acct = {
		.what = "AF_XDP umem",
		.pin = &pin_xdp,
		.req = &pinreq_xdp,
		.limit = MEMLOCK_LIMIT,
		.beyond = 4 * MEMLOCK_LIMIT,
		.within = 3 * MEMLOCK_LIMIT / 4,
		.unpinned = "after closing the socket",
		.staged = true,
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

static void setup(void)
{
	/* Probe once here, not in every case process. */
	if (platform()->root)
		xdp_unavailable();
}

static const struct ksft_break breaks[] = {
	{ "memlock", "raise RLIMIT_MEMLOCK above the registration", &memlock_break, 1 },
	{ "leak", "keep the umem when the release is checked", &release_break_leak, 1 },
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
