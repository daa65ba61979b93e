// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <stdio.h>

#include "tags.h"

static const struct {
	const char *commit;	/* 12 hex digits, or NULL when only a subject is known */
	const char *subject;
	const char *version;
	unsigned int symptoms;
} tags[TAG_NR] = {
	[TAG_RO_PIN_COW] = {
		"84209e87c696", "mm/gup: reliable R/O long-term pinning in COW mappings",
		"v6.2", SYM_STALE },
	[TAG_RO_PIN_ANON] = {
		"a7f226604170",
		"mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page",
		"v5.19", SYM_STALE },
	[TAG_ANON_EXCLUSIVE] = {
		"6c287605fd56",
		"mm: remember exclusively mapped anonymous pages with PG_anon_exclusive",
		"v5.19", SYM_STALE },
	[TAG_FORK_EARLY_COW] = {
		"70e806e4e645", "mm: Do early cow for pinned pages during fork() for ptes",
		"v5.9", SYM_STALE },
	[TAG_FORK_EARLY_COW_HUGETLB] = {
		"4eae4efa2c29", "hugetlb: do early cow when page pinned on src mm", "v5.9",
		SYM_STALE },
	[TAG_NO_LONGTERM_FILE_WRITE] = {
		"8ac268436e6d",
		"mm/gup: disallow FOLL_LONGTERM GUP-nonfast writing to file-backed mappings\" and a6e79df92e4a (\"mm/gup: disallow FOLL_LONGTERM GUP-fast writing to file-backed mappings",
		"v6.5", SYM_ALLOWED },
	[TAG_IOURING_FILE_CHECK] = {
		"34ed8d0dcd69", "io_uring: rsrc: delegate VMA file-backed check to GUP", "v6.5",
		SYM_REFUSED },
	[TAG_ZERO_PAGE_NOT_PINNED] = {
		"c8070b787519", "mm: Don't pin ZERO_PAGE in pin_user_pages()", "v6.5",
		SYM_REFUSED | SYM_KEPT },
	[TAG_IOURING_COALESCE] = {
		NULL, "io_uring/rsrc fixes for coalesced huge-page buffers (folio unpinning, user address alignment)",
		"v6.16", SYM_STALE },
	[TAG_COW_REFCOUNT] = {
		"09854ba94c6a", "mm: do_wp_page() simplification", "v5.9", SYM_STALE },
	[TAG_UNSHARE_PMD_LOOP] = {
		NULL, "mm: do not install PMD mappings when handling a COW fault",
		"2025, Fixes: a7f226604170", SYM_STUCK },
	[TAG_LONGTERM_MIGRATE_REF] = {
		"98c6d259319e", "mm/gup: check ref_count instead of lru before migration",
		"v6.17", SYM_REFUSED },
	[TAG_LONGTERM_MOVABLE] = {
		"d1e153fea2a8", "mm/gup: migrate pinned pages out of movable zone", "v5.13",
		SYM_PLACED },
	[TAG_LONGTERM_CMA] = {
		"9a4e9f3b2d73",
		"mm: update get_user_pages_longterm to migrate pages allocated from CMA region",
		"v5.1", SYM_PLACED },
	[TAG_SECRETMEM_GUP_FAST] = {
		"65291dcfcf89", "mm/secretmem: fix GUP-fast succeeding on secretmem folios", "v6.9",
		SYM_ALLOWED },
	[TAG_RDMA_RO_PIN] = {
		"b40656aa7d55", "RDMA/umem: remove FOLL_FORCE usage", "v6.2",
		SYM_REFUSED | SYM_ALLOWED },
	[TAG_RDMA_REREG] = {
		"badad6fad60d", "RDMA: During rereg_mr ensure that REREG_ACCESS is compatible",
		"2026, stable", SYM_ALLOWED },
	[TAG_DIO_PIN] = {
		"a7e689dd1c06", "block: Convert bio_iov_iter_get_pages to use iov_iter_extract_pages",
		"v6.5", SYM_STALE },
	[TAG_UDMABUF_PIN] = {
		"c6a3194c05e7", "udmabuf: pin the pages using memfd_pin_folios() API", "v6.11",
		SYM_STALE | SYM_MOVED },
	[TAG_UDMABUF_FUTURE_WRITE] = {
		"0a16e24e34f2", "udmabuf: also check for F_SEAL_FUTURE_WRITE", "v6.13",
		SYM_ALLOWED },
	[TAG_MEMFD_PIN_ALLOC] = {
		"9289f020da47",
		"mm/gup: fix memfd_pin_folios hugetlb page allocation\" and ce645b9fdc78 (\"mm/gup: fix memfd_pin_folios alloc race panic",
		"v6.12", SYM_STUCK },
	[TAG_MEMFD_PIN_RESV] = {
		"26a8ea80929c", "mm/hugetlb: fix memfd_pin_folios resv_huge_pages leak", "v6.12",
		SYM_KEPT },
	[TAG_MEMFD_PIN_FREE] = {
		"c56b6f3d801d", "mm/hugetlb: fix memfd_pin_folios free_huge_pages leak", "v6.12",
		SYM_KEPT },
	[TAG_MEMFD_PIN_NO_RESV] = {
		NULL, "mm/hugetlb: don't crash when allocating a folio if there are no resv",
		"2025, Fixes: 26a8ea80929c", SYM_KEPT },
	[TAG_VFIO_EXEC_LOCKED_VM] = {
		"046eca5018f8", "vfio/type1: prevent underflow of locked_vm via exec()", "v6.2",
		SYM_KEPT | SYM_REFUSED },
	[TAG_IOMMUFD_ACCESS_UNPIN] = {
		"727c28c1cef2",
		"iommufd: Fix unpinning of pages when an access is present\" and 13a0d1ae7ee6 (\"iommufd: Do not corrupt the pfn list when doing batch carry",
		"v6.3", SYM_STALE | SYM_KEPT },
	[TAG_GUP_GRAB_LONGTERM] = {
		"f442fa614137", "mm: gup: stop abusing try_grab_folio", "v6.10", SYM_REFUSED },
};

const char *tag_name(enum tag_id id)
{
	if (id <= TAG_NONE || id >= TAG_NR)
		return "";
	return tags[id].commit ? tags[id].commit : tags[id].subject;
}

void tag_hint(enum tag_id id, char *buf, size_t len)
{
	if (id <= TAG_NONE || id >= TAG_NR)
		snprintf(buf, len, "%s", "");
	else if (tags[id].commit)
		snprintf(buf, len, "kernel may lack %s (\"%s\", %s)", tags[id].commit,
			 tags[id].subject, tags[id].version);
	else
		snprintf(buf, len, "kernel may lack \"%s\" (%s)", tags[id].subject,
			 tags[id].version);
}

uint64_t tags_for(uint64_t set, unsigned int sym)
{
	uint64_t out = 0;
	int id;

	for (id = TAG_NONE + 1; id < TAG_NR; id++)
		if ((set & TAGBIT(id)) && (tags[id].symptoms & sym))
			out |= TAGBIT(id);
	return out;
}
