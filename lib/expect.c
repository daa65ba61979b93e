// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <linux/magic.h>

#include "expect.h"
#include "hints.h"
#include "ksft.h"

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

void longterm_pin_judge(const struct pin_attempt *a, enum pin_expect expect, int ret)
{
	const char *map = a->shared ? "MAP_SHARED" : "MAP_PRIVATE";

	if (ret == -ENOMEM) {
		ksft_case_skip("%s failed with ENOMEM (RLIMIT_MEMLOCK? memory?)", a->what);
	} else if (ret && expect == EXPECT_REFUSED && refusal_errno_ok(-ret, a->iouring)) {
		ksft_case_pass();
	} else if (ret && a->unsupported && ret == -a->unsupported) {
		/* Before 6.5 io_uring refused file mappings but shmem and hugetlbfs. */
		if (a->iouring)
			hint_print(HINT_IOURING_FILE_CHECK);
		ksft_case_skip("%s failed with %s: not supported by this kernel", a->what,
			       strerror(-ret));
	} else if (expect == EXPECT_WORKS) {
		ksft_case_result(ret ? KSFT_FAIL : KSFT_PASS, "a %s of a %s mapping on %s must work",
				 a->what, map, a->fs);
	} else if (!ret) {
		hint_print(HINT_NO_LONGTERM_FILE_WRITE);
		ksft_case_fail("a %s of a %s mapping on %s must be refused", a->what, map, a->fs);
	} else {
		ksft_case_fail("refused with %s, expected EFAULT%s", strerror(-ret),
			       a->iouring ? " or EOPNOTSUPP" : "");
	}
}
