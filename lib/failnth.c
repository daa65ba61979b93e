// SPDX-License-Identifier: GPL-2.0
/*
 * fail-nth: Documentation/fault-injection/fault-injection.rst.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failnth.h"
#include "observe.h"
#include "sysstate.h"
#include "util.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DEBUGFS		"/sys/kernel/debug"

const char *failnth_unavailable(void)
{
	static char why[200];

	if (access(FAIL_NTH, F_OK)) {
		snprintf(why, sizeof(why), "no fail-nth (%s; no %s)",
			 kconfig_why("CONFIG_FAULT_INJECTION"), FAIL_NTH);
		return why;
	}
	if (geteuid())
		return "needs root (fault injection settings in debugfs)";
	if (access(DEBUGFS "/failslab", F_OK) && access(DEBUGFS "/fail_page_alloc", F_OK)) {
		snprintf(why, sizeof(why), "no failslab or fail_page_alloc in debugfs (%s, %s, %s)",
			 kconfig_why("CONFIG_FAILSLAB"), kconfig_why("CONFIG_FAIL_PAGE_ALLOC"),
			 kconfig_why("CONFIG_FAULT_INJECTION_DEBUG_FS"));
		return why;
	}
	return NULL;
}

int failnth_prepare(void)
{
	static const char *const knobs[][2] = {
		{ DEBUGFS "/failslab/ignore-gfp-wait", "N" },
		{ DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
		{ DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ DEBUGFS "/fail_page_alloc/min-order", "0" },
		/* No stack dump in the kernel log for every injected fault. */
		{ DEBUGFS "/failslab/verbose", "0" },
		{ DEBUGFS "/fail_page_alloc/verbose", "0" },
		{ DEBUGFS "/fail_usercopy/verbose", "0" },
		{ DEBUGFS "/fail_futex/verbose", "0" },
		{ DEBUGFS "/fail_iommufd/verbose", "0" },
	};
	unsigned int i;
	int ret, first = 0;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		if (access(knobs[i][0], F_OK))
			continue;
		ret = sysstate_write(knobs[i][0], knobs[i][1]);
		if (ret && !first)
			first = ret;
	}
	return first;
}

/* Opened before arming: an open() would pass injection points itself. */
static int nth_fd = -1;

int failnth_arm(unsigned int n)
{
	char val[16];
	int len = snprintf(val, sizeof(val), "%u", n);

	if (nth_fd < 0)
		nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (nth_fd < 0)
		return -errno;
	return pwrite(nth_fd, val, len, 0) == len ? 0 : -errno;
}

bool failnth_disarm(void)
{
	char buf[32] = "";
	ssize_t n;

	/*
	 * Reading gives what is left of the count: "0" once it fired.  The
	 * read and the write pass injection points themselves (the user
	 * copy): an EFAULT there means the count was still running.
	 */
	n = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		snprintf(buf, sizeof(buf), "1");
	if (pwrite(nth_fd, "0", 1, 0) != 1) {
		pwrite(nth_fd, "0", 1, 0);
		snprintf(buf, sizeof(buf), "1");
	}
	return buf[0] == '0' && (buf[1] == '\n' || !buf[1]);
}
