// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins through the gup_test debugfs file (CONFIG_GUP_TEST).
 *
 * The ABI is mm/gup_test.h, which is not uapi; the numbers below are its
 * _IOW('g', 7..9) commands.  START pins with FOLL_LONGTERM (plus FOLL_WRITE
 * with the USE_WRITE flag), READ copies the pinned pages to user space page
 * by page, STOP unpins.  Before 2026 kernels the pin state is global to the
 * file, so only one process may use it at a time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "observe.h"
#include "pin.h"
#include "util.h"

#define GUP_TEST_PATH		"/sys/kernel/debug/gup_test"
#define DEBUGFS_DIR		"/sys/kernel/debug"
#define DEBUGFS_MAGIC_NR	0x64626720

struct pin_longterm_test {
	__u64 addr;
	__u64 size;
	__u32 flags;
};

#define PIN_LONGTERM_TEST_START		_IOW('g', 7, struct pin_longterm_test)
#define PIN_LONGTERM_TEST_STOP		_IO('g', 8)
#define PIN_LONGTERM_TEST_READ		_IOW('g', 9, __u64)
#define PIN_LONGTERM_TEST_FLAG_USE_WRITE	1
#define PIN_LONGTERM_TEST_FLAG_USE_FAST		2

static bool debugfs_mounted(void)
{
	struct statfs sfs;

	return !statfs(DEBUGFS_DIR, &sfs) && (unsigned long)sfs.f_type == DEBUGFS_MAGIC_NR;
}

void gup_test_prepare(void)
{
	if (geteuid() || !access(GUP_TEST_PATH, F_OK) || debugfs_mounted())
		return;
	/*
	 * A private mount namespace: the mount disappears with the last
	 * process of the binary, whatever way it ends.
	 */
	if (unshare(CLONE_NEWNS))
		return;
	/* The type is ignored for a propagation change; valgrind wants one. */
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL))
		return;
	mount("debugfs", DEBUGFS_DIR, "debugfs", 0, NULL);
}

const char *gup_test_unavailable(void)
{
	static char why[200];
	static int probed;
	int fd;

	if (probed)
		return *why ? why : NULL;
	probed = 1;
	if (geteuid()) {
		snprintf(why, sizeof(why), "needs root for %s", GUP_TEST_PATH);
		return why;
	}
	fd = open(GUP_TEST_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			snprintf(why, sizeof(why), "%s: needs root (%s)", GUP_TEST_PATH,
				 strerror(errno));
		else if (!debugfs_mounted())
			snprintf(why, sizeof(why), "debugfs not mounted at %s (%s)",
				 DEBUGFS_DIR, kconfig_why("CONFIG_DEBUG_FS"));
		else
			snprintf(why, sizeof(why), "%s (no %s)",
				 kconfig_why("CONFIG_GUP_TEST"), GUP_TEST_PATH);
		return why;
	}
	/* STOP without an active pin is a no-op where the ioctls exist. */
	if (ioctl(fd, PIN_LONGTERM_TEST_STOP) && errno == EINVAL)
		snprintf(why, sizeof(why),
			 "gup_test has no PIN_LONGTERM_TEST ioctls (STOP: EINVAL; added in v6.2)");
	close(fd);
	return *why ? why : NULL;
}

static int gup_pin(struct pin *p, bool fast)
{
	struct pin_longterm_test args = {
		.addr = (uintptr_t)p->addr,
		.size = p->len,
		.flags = (fast ? PIN_LONGTERM_TEST_FLAG_USE_FAST : 0) |
			 (p->writable ? PIN_LONGTERM_TEST_FLAG_USE_WRITE : 0),
	};
	int ret;

	p->fd = open(GUP_TEST_PATH, O_RDWR | O_CLOEXEC);
	if (p->fd < 0)
		return -errno;
	if (!ioctl(p->fd, PIN_LONGTERM_TEST_START, &args))
		return 0;
	ret = -errno;
	close(p->fd);
	p->fd = -1;
	return ret;
}

static int gup_pin_slow(struct pin *p)
{
	return gup_pin(p, false);
}

static int gup_pin_fast(struct pin *p)
{
	return gup_pin(p, true);
}

static int gup_read(struct pin *p, void *buf)
{
	__u64 uaddr = (uintptr_t)buf;

	return ioctl(p->fd, PIN_LONGTERM_TEST_READ, &uaddr) ? -errno : 0;
}

static void gup_unpin(struct pin *p)
{
	if (p->fd < 0)
		return;
	ioctl(p->fd, PIN_LONGTERM_TEST_STOP);
	close(p->fd);
	p->fd = -1;
}

const struct pin_ops pin_gup = {
	.name = "GUP",
	.reader = "PIN_LONGTERM_TEST_READ",
	.need = { .check = gup_test_unavailable },
	.pin = gup_pin_slow,
	.read = gup_read,
	.unpin = gup_unpin,
};

const struct pin_ops pin_gup_fast = {
	.name = "GUP-fast",
	.reader = "PIN_LONGTERM_TEST_READ",
	.need = { .check = gup_test_unavailable },
	.pin = gup_pin_fast,
	.read = gup_read,
	.unpin = gup_unpin,
};
