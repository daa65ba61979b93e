// SPDX-License-Identifier: GPL-2.0
#include "hints.h"
#include "ksft.h"

static const struct {
	const char *commit;	/* 12 hex digits, or NULL when only a subject is known */
	const char *subject;
	const char *version;
} hints[HINT_NR] = {
	[HINT_RO_PIN_COW] = {
		"84209e87c696", "mm/gup: reliable R/O long-term pinning in COW mappings",
		"v6.2" },
	[HINT_RO_PIN_ANON] = {
		"a7f226604170",
		"mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page",
		"v5.19" },
	[HINT_ANON_EXCLUSIVE] = {
		"6c287605fd56",
		"mm: remember exclusively mapped anonymous pages with PG_anon_exclusive",
		"v5.19" },
	[HINT_FORK_EARLY_COW] = {
		"70e806e4e645", "mm: Do early cow for pinned pages during fork() for ptes",
		"v5.9" },
	[HINT_FORK_EARLY_COW_HUGETLB] = {
		"4eae4efa2c29", "hugetlb: do early cow when page pinned on src mm", "v5.9" },
	[HINT_NO_LONGTERM_FILE_WRITE] = {
		"8ac268436e6d",
		"mm/gup: disallow FOLL_LONGTERM GUP-nonfast writing to file-backed mappings\" and a6e79df92e4a (\"mm/gup: disallow FOLL_LONGTERM GUP-fast writing to file-backed mappings",
		"v6.5" },
	[HINT_IOURING_FILE_CHECK] = {
		"34ed8d0dcd69", "io_uring: rsrc: delegate VMA file-backed check to GUP", "v6.5" },
	[HINT_ZERO_PAGE_NOT_PINNED] = {
		"c8070b787519", "mm: Don't pin ZERO_PAGE in pin_user_pages()", "v6.5" },
	[HINT_IOURING_COALESCE] = {
		NULL, "io_uring/rsrc fixes for coalesced huge-page buffers (folio unpinning, user address alignment)",
		"v6.16" },
	[HINT_COW_REFCOUNT] = {
		"09854ba94c6a", "mm: do_wp_page() simplification", "v5.9" },
	[HINT_UNSHARE_PMD_LOOP] = {
		NULL, "mm: do not install PMD mappings when handling a COW fault",
		"2025, Fixes: a7f226604170" },
};

void hint_print(enum hint_id id)
{
	if (id <= HINT_NONE || id >= HINT_NR || !hints[id].subject)
		return;
	if (hints[id].commit)
		ksft_print_msg("HINT: kernel may lack %s (\"%s\", %s)\n", hints[id].commit,
			       hints[id].subject, hints[id].version);
	else
		ksft_print_msg("HINT: kernel may lack \"%s\" (%s)\n", hints[id].subject,
			       hints[id].version);
}
