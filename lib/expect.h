/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Must a long-term pin of a mapping succeed?  The documented rule, judged
 * from the mapping (shared or private) and the filesystem (fstatfs), never
 * from the kernel version:
 *
 *   A writable long-term pin (FOLL_WRITE | FOLL_LONGTERM) of a MAP_SHARED
 *   file mapping on a filesystem that needs dirty tracking (writeback:
 *   ext4, xfs, btrfs) is refused.  Everything else - R/O pins, private
 *   mappings (the pin gets an anonymous COW copy), tmpfs/shmem and
 *   hugetlbfs - must work.
 */
#ifndef PINSUITE_EXPECT_H
#define PINSUITE_EXPECT_H

#include <stdbool.h>

enum pin_expect {
	EXPECT_WORKS,
	EXPECT_REFUSED,
	EXPECT_UNKNOWN,		/* filesystem not known to us */
};

enum pin_expect longterm_pin_expect(unsigned long fs_magic, bool shared, bool writable);

/* The errnos a refusal may come with for the given mechanism. */
bool refusal_errno_ok(int err, bool iouring);

/* A long-term pin attempt, to be judged against the rule. */
struct pin_attempt {
	const char *what;	/* "R/W GUP pin", "io_uring fixed buffer", ... */
	bool iouring;		/* io_uring registration (its own errnos) */
	int unsupported;	/* errno meaning "not on this kernel", or 0 */
	bool shared;		/* MAP_SHARED */
	const char *fs;		/* filesystem name */
};

/*
 * Report the running case's result for attempt @a that returned @ret (0 or
 * -errno) where the rule says @expect, with a hint where one applies.
 */
void longterm_pin_judge(const struct pin_attempt *a, enum pin_expect expect, int ret);

#endif /* PINSUITE_EXPECT_H */
