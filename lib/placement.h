/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where pages lie, as far as long-term pins care.
 *
 * FOLL_LONGTERM exists so that pinned pages do not block memory offlining
 * and CMA: folio_is_longterm_pinnable() is false in ZONE_MOVABLE and in
 * CMA pageblocks, and GUP migrates such folios away before it pins them
 * (check_and_migrate_movable_pages_or_folios() in mm/gup.c).  To see that
 * happen, a case needs its pages in one of those areas first, then the
 * PFNs its mapping shows once pinned:
 *
 *   ZONE_MOVABLE  the zone spans of /proc/zoneinfo (movablecore=,
 *                 kernelcore= at boot, or memory onlined movable);
 *   CMA           the areas the kernel reserved at boot (cma=), found in
 *                 its log ("cma: Reserved N MiB at 0x..."): no file in
 *                 /proc or /sys tells where they are without CMA_DEBUGFS.
 *
 * Allocations prefer ZONE_MOVABLE anyway once a process prefers the node
 * that has it; CMA pageblocks serve movable allocations of a zone only
 * when over half of its free memory is CMA, so placement_fill_until_cma()
 * fills the node's other memory with hugetlb pool pages (cheap: nothing is
 * cleared) until the allocator starts handing out CMA pages.  The pool is
 * put back through sysstate.
 */
#ifndef PINSUITE_PLACEMENT_H
#define PINSUITE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define AREA_MOVABLE	(1u << 0)	/* ZONE_MOVABLE */
#define AREA_CMA	(1u << 1)	/* a CMA area */

/* "ZONE_MOVABLE", "CMA" */
const char *area_name(unsigned int area);

/* need.check: why there is no such area here (a SKIP reason), or NULL. */
const char *movable_zone_unavailable(void);
const char *cma_area_unavailable(void);

/* Is there any ZONE_MOVABLE or CMA memory here? */
bool unpinnable_areas(void);

/* The areas @pfn lies in (AREA_*; 0: neither, or @pfn is 0). */
unsigned int pfn_area(unsigned long pfn);

/* The NUMA node with the most memory of @area, or -1. */
int area_node(unsigned int area);

/* The zone spans and CMA areas, as "# " lines. */
void placement_describe(void);

/*
 * The pages of [@addr, @addr + @len) that lie in @area: their number, and
 * the offset and PFN of the first (-1 and 0 when none).  Root only (PFNs).
 */
size_t range_in_area(const char *addr, size_t len, unsigned int area, ssize_t *first,
		     unsigned long *pfn);

/*
 * Make this process's allocations prefer (@bind false) or come only from
 * (@bind true) @node; @node < 0 puts the default policy back.  0 or -errno.
 */
int mempolicy_node(int node, bool bind);

/*
 * Fill @node's memory outside CMA with pool pages of the non-gigantic
 * hugetlb size (through sysstate, put back by placement_fill_undo() or at
 * the end of the case), then what is left in small blocks with locked
 * anonymous pages, until the allocator hands out CMA pages.  0 when it
 * does, -EAGAIN when it never did (what was seen in @fig), -errno.
 * The caller binds its allocations to @node first.
 */
int placement_fill_until_cma(int node, char *fig, size_t len);
void placement_fill_undo(void);

/*
 * Grow @node's pool of hugetlb pages of (non-gigantic) @size by one page,
 * fresh from the page allocator (so from ZONE_MOVABLE when the node has
 * one), which is the next one handed out; through sysstate.  0 or -errno.
 */
int placement_fresh_hugetlb(int node, size_t size);

/* Memory blocks ---------------------------------------------------------- */

/* The memory block holding @pfn, or -1. */
long memory_block_of(unsigned long pfn);

/*
 * Why offlining @block to check it is not done here, or NULL: no memory
 * hot-remove, the block is not online, not in ZONE_MOVABLE or at its edge
 * (onlined again, it could join the kernel zone), holds reserved pages,
 * or is part of a gigantic hugetlb page (a free one would be dissolved
 * for good).
 */
const char *memory_block_unusable(long block);

/*
 * Offline @block (giving up after @timeout_s seconds: the kernel retries
 * the migration of an unmovable page until a signal arrives) and online
 * it again through sysstate; the hugetlb pools, whose free pages in the
 * block are dissolved, come back to their sizes when the case ends.
 * 0, or -errno of the offline write.
 */
int memory_block_offline(long block, unsigned int timeout_s);

#endif /* PINSUITE_PLACEMENT_H */
