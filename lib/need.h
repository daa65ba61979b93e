/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the system offers, and what a case needs from it.
 *
 * Cases, backings, pins and triggers declare their prerequisites as a
 * struct need; need_unmet() is the one place that turns an unmet
 * prerequisite into the text of a SKIP.
 */
#ifndef PINSUITE_NEED_H
#define PINSUITE_NEED_H

#include <stdbool.h>
#include <stddef.h>

#define MAX_SIZES	24

struct platform {
	size_t pagesize;
	size_t pmd_size;		/* 0: no THP */
	/* anonymous THP sizes the kernel offers, ascending */
	size_t thp_sizes[MAX_SIZES];
	int nr_thp;
	bool thp_per_size;		/* hugepages-<N>kB/enabled exists */
	/* shmem large folio sizes with a per-size control, ascending */
	size_t shmem_sizes[MAX_SIZES];
	int nr_shmem;
	bool shmem_thp;			/* /sys/.../shmem_enabled exists */
	/* hugetlb page sizes, ascending */
	size_t hugetlb_sizes[MAX_SIZES];
	int nr_hugetlb;
	bool huge_zeropage;		/* use_zero_page is 1 */
	bool swap;			/* SwapTotal > 0 */
	int numa_nodes;			/* nodes with memory */
	bool ksm;			/* /sys/kernel/mm/ksm/run exists */
	bool soft_dirty;		/* CONFIG_MEM_SOFT_DIRTY (best guess) */
	bool root;
};

/* Detected once, on first use. */
const struct platform *platform(void);

enum need_flags {
	NEED_ROOT		= 1u << 0,
	NEED_SWAP		= 1u << 1,
	NEED_NUMA2		= 1u << 2,
	NEED_KSM		= 1u << 3,
	NEED_THP		= 1u << 4,
	NEED_HUGE_ZEROPAGE	= 1u << 5,
	NEED_SHMEM_THP		= 1u << 6,
	NEED_LIBNUMA		= 1u << 7,
	NEED_USERFAULTFD	= 1u << 8,
};

struct need {
	unsigned int flags;
	size_t hugetlb_size;		/* free pages of this size ... */
	unsigned int hugetlb_pages;	/* ... at least this many */
	/*
	 * ... of which this many long-term pinnable: outside ZONE_MOVABLE
	 * and CMA.  Only for gigantic sizes, whose pages a long-term pin
	 * cannot migrate to (or COW into) fresh ones: the pool must have them.
	 */
	unsigned int hugetlb_pinnable;
	size_t thp_size;		/* this anon THP size must be offered */
	size_t shmem_size;		/* this shmem folio size must be offered */
	/* Anything else: a reason string when unmet, NULL when met. */
	const char *(*check)(void);
};

/*
 * If any prerequisite of @n is unmet, write the reason (the first unmet
 * one; a fixed text per cause) to @why, the figures behind it (free pages,
 * nodes found; may be "") to @fig, and return true.
 */
bool need_unmet(const struct need *n, char *why, size_t len, char *fig, size_t flen);

/* Combine several needs (NULL entries allowed); true at the first unmet one. */
bool needs_unmet(const struct need *const *list, int nr, char *why, size_t len, char *fig,
		 size_t flen);

/* Free and total pages in the hugetlb pool of @size. */
long hugetlb_free(size_t size);
long hugetlb_total(size_t size);
/* Free pages after waiting a moment for pages of ended processes. */
long hugetlb_settled(size_t size, unsigned int want);

/*
 * Make sure @nr pages of every hugetlb size are free, growing pools as
 * needed (root; through sysstate for the whole run, so they shrink back
 * when the run ends).  Best effort: a pool that cannot grow is reported
 * by the cases that need it.
 */
void hugetlb_reserve_all(unsigned int nr);

/*
 * As root, have RCU grace periods expedited for the rest of the run
 * (/sys/kernel/rcu_expedited, put back by the guardian).  Tearing down a
 * network namespace, an AF_XDP socket, a BPF link or an RDMA device waits
 * for grace periods, which is most of those cases' time; what the cases
 * check does not depend on how long a grace period takes.
 */
void rcu_expedite(void);

/*
 * Free pages of the hugetlb pool of @size that a long-term pin can use in
 * place (outside ZONE_MOVABLE and CMA), or -1 when that cannot be told (not
 * root).  Found by faulting the free pages in and reading their PFNs, once
 * per state of the pool; all of them when there is no ZONE_MOVABLE or CMA.
 */
long hugetlb_pinnable_free(size_t size);

/* Directory of the sysfs controls of an anon THP / shmem folio size. */
const char *thp_size_dir(size_t size);

#endif /* PINSUITE_NEED_H */
