// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins through io_uring fixed buffers.
 *
 * io_uring_register_buffers() pins with FOLL_WRITE | FOLL_LONGTERM.  The
 * ring reads the pinned pages with IORING_OP_WRITE_FIXED (buffer to a
 * memfd, which we then pread) and writes them with IORING_OP_READ_FIXED
 * (memfd to buffer).  liburing 2.3 on x86-64 makes raw system calls: its
 * functions return -errno and leave errno alone.
 *
 * The buffers are unregistered before the ring is torn down, because the
 * teardown is asynchronous and would leave the pins (and the memlock
 * charge) behind for a while.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/magic.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "backing.h"
#include "observe.h"
#include "pin.h"
#include "util.h"

struct ring_pin {
	struct io_uring ring;
	bool registered;
};

const char *iouring_unavailable(void)
{
	static char why[200];
	static int probed;
	struct io_uring ring;
	unsigned long disabled = 0;
	int ret;

	if (probed)
		return *why ? why : NULL;
	probed = 1;
	ret = io_uring_queue_init(1, &ring, 0);
	if (!ret) {
		io_uring_queue_exit(&ring);
		return NULL;
	}
	read_ulong("/proc/sys/kernel/io_uring_disabled", &disabled);
	if ((ret == -EPERM || ret == -EACCES) && disabled)
		snprintf(why, sizeof(why), "io_uring disabled (kernel.io_uring_disabled=%lu)",
			 disabled);
	else
		snprintf(why, sizeof(why), "io_uring_setup: %s (%s; seccomp or LSM?)",
			 strerror(-ret), kconfig_why("CONFIG_IO_URING"));
	return why;
}

static int ring_submit_wait(struct io_uring *ring, int *res)
{
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return 0;
}

static int uring_pin(struct pin *p)
{
	struct iovec iov = { .iov_base = p->addr, .iov_len = p->len };
	struct ring_pin *rp;
	int ret;

	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	p->fd = memfd_create("pinsuite-ring", MFD_CLOEXEC);
	if (p->fd < 0) {
		ret = -errno;
		goto free_rp;
	}
	ret = io_uring_queue_init(4, &rp->ring, 0);
	if (ret)
		goto close_fd;
	ret = io_uring_register_buffers(&rp->ring, &iov, 1);
	if (ret)
		goto queue_exit;
	rp->registered = true;
	p->priv = rp;
	return 0;

queue_exit:
	io_uring_queue_exit(&rp->ring);
close_fd:
	close(p->fd);
	p->fd = -1;
free_rp:
	free(rp);
	return ret;
}

/* The ring copies the pinned pages into the memfd; we read them back. */
static int uring_read(struct pin *p, void *buf)
{
	struct ring_pin *rp = p->priv;
	struct io_uring_sqe *sqe;
	int ret, res;

	sqe = io_uring_get_sqe(&rp->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_write_fixed(sqe, p->fd, p->addr, p->len, 0, 0);
	ret = ring_submit_wait(&rp->ring, &res);
	if (ret)
		return ret;
	if (res < 0)
		return res;
	if ((size_t)res != p->len)
		return -EIO;
	return pread_full(p->fd, buf, p->len, 0);
}

/* We put bytes into the memfd; the ring copies them into the pinned pages. */
static int uring_write(struct pin *p, const void *buf)
{
	struct ring_pin *rp = p->priv;
	struct io_uring_sqe *sqe;
	int ret, res;

	ret = pwrite_full(p->fd, buf, p->len, 0);
	if (ret)
		return ret;
	sqe = io_uring_get_sqe(&rp->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_read_fixed(sqe, p->fd, p->addr, p->len, 0, 0);
	ret = ring_submit_wait(&rp->ring, &res);
	if (ret)
		return ret;
	if (res < 0)
		return res;
	return (size_t)res == p->len ? 0 : -EIO;
}

static void uring_unpin(struct pin *p)
{
	struct ring_pin *rp = p->priv;

	if (!rp)
		return;
	if (rp->registered)
		io_uring_unregister_buffers(&rp->ring);
	io_uring_queue_exit(&rp->ring);
	free(rp);
	p->priv = NULL;
	close(p->fd);
	p->fd = -1;
}

int iouring_try_register(char *addr, size_t len, bool writable, const char **step)
{
	struct iovec iov = { .iov_base = addr, .iov_len = len };
	struct io_uring ring;
	int ret;

	(void)writable;
	*step = "io_uring_queue_init";
	ret = io_uring_queue_init(1, &ring, 0);
	if (ret)
		return ret;
	*step = "io_uring_register_buffers";
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (!ret)
		io_uring_unregister_buffers(&ring);
	io_uring_queue_exit(&ring);
	return ret;
}

/*
 * Before 34ed8d0dcd69 (v6.5) io_uring refused every file-backed buffer but
 * shmem and hugetlbfs with EOPNOTSUPP, whatever GUP would have said.  Probe
 * that once, on a private mapping of a file of our own on a filesystem
 * that is neither (a disk directory, else the working directory), so that
 * the cases on such files can skip instead of reading the errno of the
 * call under test.
 */
const char *iouring_file_buffers_unsupported(void)
{
	static int probed;
	static const char *why;
	const char *dir = backing_plain_file_dir();
	const char *step;
	char *p;
	int fd, ret;

	if (probed)
		return why;
	probed = 1;
	if (iouring_unavailable() || !dir)
		return NULL;
	fd = backing_tmpfile(dir);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)page_size())) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	ret = iouring_try_register(p, page_size(), true, &step);
	munmap(p, page_size());
	if (ret == -EOPNOTSUPP)
		why = "io_uring takes no file-backed buffers but shmem and hugetlbfs (before 34ed8d0dcd69, v6.5)";
	return why;
}

/* The working directory's file: the probe matters unless it is shmem. */
static const char *cwd_file_unsupported(void)
{
	struct statfs sfs;

	if (!statfs(".", &sfs) && ((unsigned long)sfs.f_type == TMPFS_MAGIC ||
				   (unsigned long)sfs.f_type == HUGETLBFS_MAGIC))
		return NULL;
	return iouring_file_buffers_unsupported();
}

/*
 * Where the rule wants a registration to work, an io_uring before v6.5
 * refused it anyway; where the rule refuses it (a writable MAP_SHARED
 * mapping), that io_uring refused it too, which is the outcome wanted.
 */
struct need iouring_buffer_need(const struct backing *bk)
{
	struct need n = { 0 };

	if (bk->flags & BKF_SHARED)
		return n;
	if (bk->type == BK_CWD_FILE)
		n.check = cwd_file_unsupported;
	else if (backing_is(bk, BKF_FILE, BKF_SHMEM | BKF_HUGETLB))
		n.check = iouring_file_buffers_unsupported;
	return n;
}

const struct pin_ops pin_iouring = {
	.name = "io_uring fixed buffer",
	.reader = "IORING_OP_WRITE_FIXED",
	.writer = "IORING_OP_READ_FIXED",
	.rw_only = true,
	.charges_memlock = true,
	.need = { .check = iouring_unavailable },
	.pin = uring_pin,
	.read = uring_read,
	.write = uring_write,
	.unpin = uring_unpin,
};
