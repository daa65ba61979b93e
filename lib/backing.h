/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The backing catalog: every kind of memory a pin can land on, in one
 * place that knows how to create it, fill it with a known byte, describe
 * it and say why it cannot be had.
 *
 * backings() lists what this system could offer (THP, shmem and hugetlb
 * sizes are detected); a listed backing may still fail its prerequisites
 * at run time, in which case mem_setup() returns KSFT_SKIP with a reason.
 */
#ifndef PINSUITE_BACKING_H
#define PINSUITE_BACKING_H

#include <stdbool.h>
#include <stddef.h>

#include "need.h"

enum bk_type {
	BK_ANON,		/* private anonymous base page */
	BK_ANON_SWAPOUT,	/* ... swapped out */
	BK_THP,			/* anon THP as faulted (PMD-mapped if PMD size) */
	BK_THP_SWAPOUT,
	BK_THP_PTE,		/* PMD-size THP remapped by PTEs */
	BK_THP_PTE_SWAPOUT,
	BK_THP_SINGLE_PTE,	/* one PTE left of a THP */
	BK_THP_SINGLE_PTE_SWAPOUT,
	BK_THP_MREMAP_LOWER,	/* upper half moved away; the lower half */
	BK_THP_MREMAP_UPPER,	/* ... the moved upper half */
	BK_THP_SHARED_PARTIAL,	/* only the first page was ever COW-shared */
	BK_THP_SHARED_TAILS,	/* ... and only its tail pages are used */
	BK_HUGETLB,		/* private anonymous hugetlb */
	BK_ZEROPAGE,		/* read-faulted private anon: shared zeropage */
	BK_HUGE_ZEROPAGE,
	BK_MEMFD,
	BK_SHMEM_LARGE,		/* memfd with shmem large folios */
	BK_TMPFS_FILE,
	BK_DISK_FILE,		/* ext4, xfs, btrfs */
	BK_MEMFD_HUGETLB,
	BK_ANON_SHARED,		/* MAP_SHARED | MAP_ANONYMOUS */
	BK_KSM,			/* private anon page merged by KSM */
	BK_CWD_FILE,		/* a file in the working directory, any filesystem */
};

/* Properties, for the binaries' tables to select on. */
#define BKF_PRIVATE	(1u << 0)	/* MAP_PRIVATE: a COW mapping */
#define BKF_SHARED	(1u << 1)	/* MAP_SHARED */
#define BKF_ANON	(1u << 2)	/* anonymous memory (anon_vma) */
#define BKF_FILE	(1u << 3)	/* a file: memfd, tmpfs, disk, hugetlbfs */
#define BKF_SHMEM	(1u << 4)	/* tmpfs/shmem backed */
#define BKF_HUGETLB	(1u << 5)
#define BKF_THP		(1u << 6)	/* a large folio of size bk->size */
#define BKF_SWAPOUT	(1u << 7)	/* swapped out before use */
#define BKF_ZERO	(1u << 8)	/* starts as the (huge) zeropage */
#define BKF_KSM		(1u << 9)
#define BKF_DISK	(1u << 10)	/* filesystem with writeback */
#define BKF_PARTIAL	(1u << 11)	/* a part of a THP (mremap, shared) */
#define BKF_PMD		(1u << 12)	/* size is the PMD size */
/* Set-up variants cow.c and gup_longterm.c need beyond the plain catalog */
#define BKF_VARIANT	(1u << 13)
#define BKF_PTEMAP	(1u << 14)	/* a PMD-size THP mapped by PTEs */

struct backing {
	enum bk_type type;
	unsigned int flags;
	size_t size;			/* folio size; 0 for base pages */
	unsigned long fs_magic;		/* BK_DISK_FILE: statfs f_type */
	char name[64];
	struct need need;
};

/* Everything this system could offer; @nr gets the count. */
const struct backing *const *backings(int *nr);

/*
 * The kind of memory @bk is, for --quick (one case per kind): base pages,
 * swapped out, THP by mapping, hugetlb, zeropages, page cache by filesystem
 * kind and folio size, each shared or private.
 */
const char *backing_class(const struct backing *bk);

/* True if @bk has all flags in @all and none in @none. */
bool backing_is(const struct backing *bk, unsigned int all, unsigned int none);
/* A memfd of its own (shmem, shmem with large folios, hugetlb), which can be sealed. */
bool backing_is_memfd(const struct backing *bk);

/* Non-anonymous pages in a private (COW) mapping. */
static inline bool backing_cow_nonanon(const struct backing *bk)
{
	return backing_is(bk, BKF_PRIVATE, BKF_ANON);
}

/*
 * A directory on a disk filesystem (ext4, xfs, btrfs) the file backings
 * must use for its type; @from names the option for the message.  0, or
 * -1 with the reason in @why (a usage error).
 */
int backing_add_disk_dir(const char *dir, const char *from, char *why, size_t len);

/* A writable directory whose filesystem is neither tmpfs nor hugetlbfs, or NULL. */
const char *backing_plain_file_dir(void);
/* An unnamed file in @dir (O_TMPFILE, else created and unlinked); fd or -1. */
int backing_tmpfile(const char *dir);

/*
 * The part of a huge backing that holds the pattern, is pinned and compared:
 * hugetlb pages larger than this are filled and checked only here.
 */
#define BACKING_WINDOW	(2UL << 20)

/* Why a set-up did not work. */
struct mem_why {
	int code;		/* KSFT_SKIP (not to be had here) or KSFT_ERROR */
	int err;		/* KSFT_ERROR: errno of the failed call */
	char reason[160];	/* KSFT_SKIP: a fixed reason; KSFT_ERROR: the call */
	char figures[200];	/* KSFT_SKIP: what was seen */
};

struct mem {
	const struct backing *bk;
	char *addr;		/* the region under test */
	size_t size;
	char *ro;		/* a read-only MAP_SHARED view of the same file */
	int fd;			/* the file, or -1 */
	int initial;		/* the byte every byte held after set-up */
	unsigned long fs_magic;	/* statfs f_type of the file, or 0 */
	/* set-up bookkeeping */
	void *map[4];
	size_t map_len[4];
	struct mem_why why;
};

/*
 * Create and populate @bk.  0 with @m ready, or KSFT_SKIP / KSFT_ERROR with
 * the reason in @m->why.  mem_teardown() undoes it (also after a failed
 * set-up).
 */
int mem_setup(struct mem *m, const struct backing *bk);
void mem_teardown(struct mem *m);

/*
 * The same for a case: on failure, record why (OBS_UNMET or OBS_ERROR),
 * undo, and return false.
 */
bool mem_setup_obs(struct mem *m, const struct backing *bk);

/*
 * Reserve an area of @len bytes aligned to @align (PROT_NONE), for
 * mremap() targets and THP alignment; recorded in @m to be unmapped.
 */
char *mem_reserve(struct mem *m, size_t len, size_t align);

/*
 * Make anon THP of @size the only size the fault path picks (all other
 * sizes "never"), or, without per-size controls, allow THP at all.
 * Through sysstate: put back when the case ends.  0 or -errno.
 */
int thp_only_size(size_t size);

/* Let shmem allocate large folios of @size on MADV_HUGEPAGE. */
int shmem_allow_size(size_t size);

/* KSM: make ksmd run (fast) and wait for @scans full scans. 0 or -errno. */
int ksm_start(void);
int ksm_wait_scans(unsigned int scans);
/*
 * Wait until the page at @addr is one with a page of the @n pages at
 * @other (the same PFN: KSM merged them; root), at most @max_scans full
 * scans of ksmd.  0, -EAGAIN (not merged), -ETIMEDOUT or -errno.
 * (6.12's /proc/kpageflags marks every anonymous page KSM: PFNs it is.)
 */
int ksm_wait_merged(const char *addr, const char *other, size_t n, unsigned int max_scans);
/* Was the page at @addr (PFN @pfn_before) merged: replaced, or one with a page at @other? */
bool ksm_merged(const char *addr, unsigned long pfn_before, const char *other, size_t n);
/* Full scans a merge of identical pages may take. */
#define KSM_SCANS	6
/* Full scans after which ksmd has offered every page of a range for merging. */
#define KSM_PASSES	3

/* Folio size check: is the page at @addr part of a large folio? -1 unknown */
int page_in_large_folio(const void *addr);

/*
 * A case timeout for @bk: 0 (the run's default) unless @bk is gigantic -
 * clearing and copying a 1 GiB page takes about a minute under TCG - then
 * @base plus two minutes per GiB.
 */
unsigned int backing_timeout(const struct backing *bk, unsigned int base);

/* fstatfs() type name for diagnostics ("ext4", "0x1234abcd") */
const char *fs_name(unsigned long magic);

/*
 * A writable directory on a filesystem of type @magic (statfs f_type): one
 * given with --disk-dir or PINSUITE_DISK_DIRS, else one at hand; or NULL.
 */
const char *backing_dir_of(unsigned long magic);

/*
 * The first backing of the catalog of @type with all flags of @all, none
 * of @none and (unless 0) folio size @size; NULL when there is none.
 */
const struct backing *backing_find(enum bk_type type, unsigned int all, unsigned int none,
				   size_t size);

/*
 * For mechanisms that pin a file rather than an address range (udmabuf):
 * a memfd backing of the catalog (BK_MEMFD, BK_SHMEM_LARGE,
 * BK_MEMFD_HUGETLB) created sealable (MFD_ALLOW_SEALING) with @seals
 * added, mapped once MAP_SHARED at @m->addr (a MAP_PRIVATE backing too:
 * its private mapping is the caller's), filled like mem_setup().  A
 * BK_MEMFD with a size is that many bytes of base pages, aligned to it
 * (what MADV_COLLAPSE can turn into one folio).  0, KSFT_SKIP or
 * KSFT_ERROR as mem_setup(); mem_teardown() undoes it.
 */
int mem_setup_memfd(struct mem *m, const struct backing *bk, unsigned int seals);
/* The same for a case: on failure, record why, undo, return false. */
bool mem_setup_memfd_obs(struct mem *m, const struct backing *bk, unsigned int seals);

#endif /* PINSUITE_BACKING_H */
