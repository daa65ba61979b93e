// SPDX-License-Identifier: GPL-2.0
/*
 * Direct I/O targets: files on ext4 and xfs, a loop block device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/loop.h>
#include <linux/magic.h>

#include "backing.h"
#include "observe.h"
#include "odirect.h"
#include "util.h"

static const char *const kind_names[DIO_NR] = {
	[DIO_EXT4] = "an ext4 file",
	[DIO_XFS] = "an xfs file",
	[DIO_BLOCK] = "a loop block device",
};

const char *dio_kind_name(enum dio_kind kind)
{
	return kind < DIO_NR ? kind_names[kind] : "?";
}

const char *dio_unavailable(enum dio_kind kind)
{
	static char why[160];

	switch (kind) {
	case DIO_EXT4:
		return backing_dir_of(EXT4_SUPER_MAGIC) ? NULL :
		       "no writable ext4 directory (use --disk-dir or PINSUITE_DISK_DIRS)";
	case DIO_XFS:
		return backing_dir_of(XFS_SUPER_MAGIC) ? NULL :
		       "no writable xfs directory (use --disk-dir or PINSUITE_DISK_DIRS)";
	case DIO_BLOCK:
		if (!access("/dev/loop-control", F_OK))
			return NULL;
		snprintf(why, sizeof(why), "no loop devices (%s; no /dev/loop-control)",
			 kconfig_why("CONFIG_BLK_DEV_LOOP"));
		return why;
	default:
		return "no such direct I/O target";
	}
}

const char *dio_ext4_unavailable(void)
{
	return dio_unavailable(DIO_EXT4);
}

const char *dio_xfs_unavailable(void)
{
	return dio_unavailable(DIO_XFS);
}

const char *dio_block_unavailable(void)
{
	return dio_unavailable(DIO_BLOCK);
}

/* Reopen @fd through /proc with @flags (the files have no name). */
static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

/* A loop device over @file, detached by the kernel once no one has it open. */
static int loop_attach(int file, char *name, size_t nlen)
{
	struct loop_config cfg;
	struct loop_info64 info;
	int ctl, dev = -1, n, i, err = EBUSY;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	for (i = 0; i < 8 && dev < 0 && err == EBUSY; i++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			err = errno;
			break;
		}
		snprintf(name, nlen, "/dev/loop%d", n);
		dev = open(name, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (dev < 0) {
			err = errno;
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned int)file;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (!ioctl(dev, LOOP_CONFIGURE, &cfg))
			break;
		err = errno;
		if (err == EINVAL && !ioctl(dev, LOOP_SET_FD, file)) {
			/* Before LOOP_CONFIGURE (v5.8). */
			memset(&info, 0, sizeof(info));
			info.lo_flags = LO_FLAGS_AUTOCLEAR;
			if (!ioctl(dev, LOOP_SET_STATUS64, &info))
				break;
			err = errno;
			ioctl(dev, LOOP_CLR_FD, 0);
		}
		close(dev);
		dev = -1;
	}
	close(ctl);
	return dev >= 0 ? dev : -err;
}

int dio_fill(struct dio_target *t, int fill)
{
	char *buf = malloc(t->len);
	int ret;

	if (!buf)
		return -ENOMEM;
	memset(buf, fill, t->len);
	ret = pwrite_full(t->check_fd, buf, t->len, 0);
	free(buf);
	if (!ret && fdatasync(t->check_fd))
		ret = -errno;
	return ret;
}

int dio_check_read(struct dio_target *t, void *buf)
{
	return pread_full(t->check_fd, buf, t->len, 0);
}

int dio_open(struct dio_target *t, enum dio_kind kind, size_t len, int fill, const char **step)
{
	unsigned long magic = kind == DIO_EXT4 ? EXT4_SUPER_MAGIC : XFS_SUPER_MAGIC;
	const char *dir;
	char dev[32];
	int ret;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->fd = t->check_fd = -1;
	t->len = len;
	*step = "finding a directory";
	dir = kind == DIO_BLOCK ? backing_dir_of(TMPFS_MAGIC) : backing_dir_of(magic);
	if (!dir && kind == DIO_BLOCK)
		dir = backing_plain_file_dir();
	if (!dir)
		return -ENOENT;
	*step = "creating a file";
	t->check_fd = backing_tmpfile(dir);
	if (t->check_fd < 0)
		return -errno;
	*step = "ftruncate";
	if (ftruncate(t->check_fd, (off_t)len))
		goto fail_errno;
	if (kind == DIO_BLOCK) {
		*step = "attaching a loop device";
		t->fd = loop_attach(t->check_fd, dev, sizeof(dev));
		if (t->fd < 0) {
			ret = t->fd;
			t->fd = -1;
			goto fail;
		}
		snprintf(t->where, sizeof(t->where), "%s over a file in %s", dev, dir);
	} else {
		*step = "opening the file O_DIRECT";
		t->fd = reopen(t->check_fd, O_RDWR | O_DIRECT);
		if (t->fd < 0)
			goto fail_errno;
		snprintf(t->where, sizeof(t->where), "a file in %s", dir);
	}
	*step = "filling the target";
	ret = dio_fill(t, fill);
	if (ret)
		goto fail;
	return 0;
fail_errno:
	ret = -errno;
fail:
	dio_close(t);
	return ret;
}

void dio_close(struct dio_target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->check_fd >= 0)
		close(t->check_fd);
	t->fd = t->check_fd = -1;
}

int dio_pwrite(struct dio_target *t, const void *buf, size_t len)
{
	ssize_t n = pwrite(t->fd, buf, len, 0);

	return n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
}

int dio_pread(struct dio_target *t, void *buf, size_t len)
{
	ssize_t n = pread(t->fd, buf, len, 0);

	return n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
}
