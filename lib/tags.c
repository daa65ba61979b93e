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

unsigned int tags_for(unsigned int set, unsigned int sym)
{
	unsigned int out = 0;
	int id;

	for (id = TAG_NONE + 1; id < TAG_NR; id++)
		if ((set & TAGBIT(id)) && (tags[id].symptoms & sym))
			out |= TAGBIT(id);
	return out;
}
