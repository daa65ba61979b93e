/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Upstream fixes to name when a check fails.  One table; a hint is printed
 * as a diagnostic and never decides a verdict.
 */
#ifndef PINSUITE_HINTS_H
#define PINSUITE_HINTS_H

enum hint_id {
	HINT_NONE,
	HINT_RO_PIN_COW,	/* 84209e87c696, v6.2 */
	HINT_RO_PIN_ANON,	/* a7f226604170, v5.19 */
	HINT_ANON_EXCLUSIVE,	/* 6c287605fd56, v5.19 */
	HINT_FORK_EARLY_COW,	/* 70e806e4e645, v5.9 */
	HINT_FORK_EARLY_COW_HUGETLB,	/* 4eae4efa2c29 */
	HINT_NO_LONGTERM_FILE_WRITE,	/* 8ac268436e6d + a6e79df92e4a, v6.5 */
	HINT_IOURING_FILE_CHECK,	/* 34ed8d0dcd69, v6.5 */
	HINT_ZERO_PAGE_NOT_PINNED,	/* c8070b787519, v6.5 */
	HINT_IOURING_COALESCE,	/* io_uring/rsrc huge-page coalescing fixes, 2025 */
	HINT_COW_REFCOUNT,	/* 09854ba94c6a, v5.9: COW reuse by refcount */
	HINT_UNSHARE_PMD_LOOP,	/* do_set_pmd() on unshare faults, 2025 */
	HINT_NR
};

/* Print "# HINT: kernel may lack ..." for @id (nothing for HINT_NONE). */
void hint_print(enum hint_id id);

#endif /* PINSUITE_HINTS_H */
