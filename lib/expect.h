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

#endif /* PINSUITE_EXPECT_H */
