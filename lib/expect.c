// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <linux/magic.h>

#include "expect.h"

enum pin_expect longterm_pin_expect(unsigned long fs_magic, bool shared, bool writable)
{
	if (!shared || !writable)
		return EXPECT_WORKS;
	switch (fs_magic) {
	case TMPFS_MAGIC:
	case HUGETLBFS_MAGIC:
		return EXPECT_WORKS;
	case EXT4_SUPER_MAGIC:
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
		return EXPECT_REFUSED;
	default:
		return EXPECT_UNKNOWN;
	}
}

/*
 * GUP refuses with EFAULT (6.5+).  io_uring did its own check before and
 * answered EOPNOTSUPP; liburing's own test accepts both.
 */
bool refusal_errno_ok(int err, bool iouring)
{
	if (err == EFAULT)
		return true;
	return iouring && err == EOPNOTSUPP;
}
