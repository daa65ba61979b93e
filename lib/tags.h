/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The upstream commits the cases guard, in one table.
 *
 * A case declares its tags (as LTP's .tags "linux-git" entries do); when
 * it fails, the judge names the tags whose symptom matches what was
 * observed - "kernel may lack ...".  A tag never decides a verdict.
 */
#ifndef PINSUITE_TAGS_H
#define PINSUITE_TAGS_H

#include <stdint.h>

enum tag_id {
	TAG_NONE,
	TAG_RO_PIN_COW,		/* 84209e87c696, v6.2 */
	TAG_RO_PIN_ANON,	/* a7f226604170, v5.19 */
	TAG_ANON_EXCLUSIVE,	/* 6c287605fd56, v5.19 */
	TAG_FORK_EARLY_COW,	/* 70e806e4e645, v5.9 */
	TAG_FORK_EARLY_COW_HUGETLB,	/* 4eae4efa2c29, v5.9 */
	TAG_NO_LONGTERM_FILE_WRITE,	/* 8ac268436e6d + a6e79df92e4a, v6.5 */
	TAG_IOURING_FILE_CHECK,	/* 34ed8d0dcd69, v6.5 */
	TAG_ZERO_PAGE_NOT_PINNED,	/* c8070b787519, v6.5 */
	TAG_IOURING_COALESCE,	/* io_uring/rsrc huge-page coalescing fixes, 2025 */
	TAG_COW_REFCOUNT,	/* 09854ba94c6a, v5.9: COW reuse by refcount */
	TAG_UNSHARE_PMD_LOOP,	/* do_set_pmd() on unshare faults, 2025 */
	TAG_LONGTERM_MIGRATE_REF,	/* 98c6d259319e, v6.17: migration before pinning */
	TAG_LONGTERM_MOVABLE,	/* d1e153fea2a8, v5.13: migrate out of ZONE_MOVABLE */
	TAG_LONGTERM_CMA,	/* 9a4e9f3b2d73, v5.1: migrate out of CMA */
	TAG_SECRETMEM_GUP_FAST,	/* 65291dcfcf89, v6.9: GUP-fast refuses secretmem */
	TAG_RDMA_RO_PIN,	/* b40656aa7d55, v6.2: R/O MRs are R/O pins */
	TAG_RDMA_REREG,		/* badad6fad60d, 2026: rereg_mr R/O -> R/W refused */
	TAG_DIO_PIN,		/* a7e689dd1c06, v6.5: direct I/O pins (FOLL_PIN) */
	TAG_UDMABUF_PIN,	/* c6a3194c05e7, v6.11: udmabuf pins with memfd_pin_folios() */
	TAG_UDMABUF_FUTURE_WRITE,	/* 0a16e24e34f2, v6.13: F_SEAL_FUTURE_WRITE refused */
	TAG_MEMFD_PIN_ALLOC,	/* 9289f020da47 + ce645b9fdc78, v6.12: hugetlb folio allocation */
	TAG_MEMFD_PIN_RESV,	/* 26a8ea80929c, v6.12: resv_huge_pages leak */
	TAG_MEMFD_PIN_FREE,	/* c56b6f3d801d, v6.12: free_huge_pages leak */
	TAG_MEMFD_PIN_NO_RESV,	/* hugetlb folio for a memfd without reservation, 2025 */
	TAG_VFIO_EXEC_LOCKED_VM,	/* 046eca5018f8, v6.2: locked_vm across exec() */
	TAG_IOMMUFD_ACCESS_UNPIN,	/* 727c28c1cef2 + 13a0d1ae7ee6, v6.3 */
	TAG_GUP_GRAB_LONGTERM,	/* f442fa614137, v6.10: slow GUP migrates, not refuses */
	TAG_NR
};

/* What a failure looked like: which tags it can point at. */
enum symptom {
	SYM_STALE	= 1u << 0,	/* pin and mapping disagree; a write leaked */
	SYM_STUCK	= 1u << 1,	/* the pin never returned */
	SYM_REFUSED	= 1u << 2,	/* a pin that must work failed */
	SYM_ALLOWED	= 1u << 3,	/* a pin that must be refused worked */
	SYM_KEPT	= 1u << 4,	/* pins or charges stayed after release */
	SYM_MOVED	= 1u << 5,	/* the kernel moved, merged or reclaimed a pinned page */
	SYM_PLACED	= 1u << 6,	/* a long-term pinned page stayed in ZONE_MOVABLE or CMA */
};

/* A set of tags is a bit mask of TAGBIT(enum tag_id). */
#define TAGBIT(id)	((uint64_t)1 << (id))
_Static_assert(TAG_NR <= 64, "a tag set holds 64 tags");

/* The commit id ("84209e87c696") or subject of @id, for lists. */
const char *tag_name(enum tag_id id);
/* "kernel may lack 84209e87c696 ("...", v6.2)" */
void tag_hint(enum tag_id id, char *buf, size_t len);
/* The tags of @set whose symptom includes one of @sym. */
uint64_t tags_for(uint64_t set, unsigned int sym);

#endif /* PINSUITE_TAGS_H */
