// SPDX-License-Identifier: GPL-2.0
/*
 * Pin requests in stages, for gup_test, io_uring and VFIO/iommufd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pin.h"
#include "pinreq.h"

/* gup_test's PIN_LONGTERM_TEST_* ABI (mm/gup_test.h; not uapi) */
struct req_longterm_test {
	__u64 addr;
	__u64 size;
	__u32 flags;
};

#define REQ_GUP_TEST_PATH	"/sys/kernel/debug/gup_test"
#define REQ_LONGTERM_START	_IOW('g', 7, struct req_longterm_test)
#define REQ_LONGTERM_STOP	_IO('g', 8)
#define REQ_FLAG_USE_WRITE	1
#define REQ_FLAG_USE_FAST	2

int pinreq_open(struct pinreq *r, const struct pinreq_ops *ops, bool writable, char *why,
		size_t len)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->writable = writable;
	r->fd = -1;
	*why = '\0';
	ret = ops->open(r, why, len);
	if (ret && !*why)
		snprintf(why, len, "%s: setting up for %s: %s", ops->name, ops->call,
			 strerror(-ret));
	r->opened = !ret;
	return ret;
}

int pinreq_request(struct pinreq *r, char *addr, size_t len)
{
	int ret = r->ops->request(r, addr, len);

	r->addr = addr;
	r->len = len;
	r->pinned = !ret;
	return ret;
}

int pinreq_undo(struct pinreq *r)
{
	r->pinned = false;
	return r->ops->undo(r);
}

void pinreq_close(struct pinreq *r)
{
	if (r->pinned)
		r->ops->undo(r);
	r->pinned = false;
	if (r->opened)
		r->ops->close(r);
	r->opened = false;
}

/* gup_test ---------------------------------------------------------------- */

static int gup_open(struct pinreq *r, char *why, size_t len)
{
	r->fd = open(REQ_GUP_TEST_PATH, O_RDWR | O_CLOEXEC);
	if (r->fd < 0) {
		snprintf(why, len, "%s: %s", REQ_GUP_TEST_PATH, strerror(errno));
		return -errno;
	}
	return 0;
}

static int gup_start(struct pinreq *r, char *addr, size_t len, bool fast)
{
	struct req_longterm_test args = {
		.addr = (uintptr_t)addr,
		.size = len,
		.flags = (fast ? REQ_FLAG_USE_FAST : 0) | (r->writable ? REQ_FLAG_USE_WRITE : 0),
	};

	return ioctl(r->fd, REQ_LONGTERM_START, &args) ? -errno : 0;
}

static int gup_request(struct pinreq *r, char *addr, size_t len)
{
	return gup_start(r, addr, len, false);
}

static int gup_fast_request(struct pinreq *r, char *addr, size_t len)
{
	return gup_start(r, addr, len, true);
}

static int gup_undo(struct pinreq *r)
{
	return ioctl(r->fd, REQ_LONGTERM_STOP) ? -errno : 0;
}

static void fd_close(struct pinreq *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

const struct pinreq_ops pinreq_gup = {
	.name = "GUP",
	.call = "PIN_LONGTERM_TEST_START",
	.need = { .check = gup_test_unavailable },
	.open = gup_open,
	.request = gup_request,
	.undo = gup_undo,
	.close = fd_close,
};

const struct pinreq_ops pinreq_gup_fast = {
	.name = "GUP-fast",
	.call = "PIN_LONGTERM_TEST_START (USE_FAST)",
	.need = { .check = gup_test_unavailable },
	.open = gup_open,
	.request = gup_fast_request,
	.undo = gup_undo,
	.close = fd_close,
};

/* io_uring ----------------------------------------------------------------- */

static int uring_open(struct pinreq *r, char *why, size_t len)
{
	struct io_uring *ring = calloc(1, sizeof(*ring));
	int ret;

	if (!ring)
		return -ENOMEM;
	ret = io_uring_queue_init(1, ring, 0);
	if (ret) {
		snprintf(why, len, "io_uring_queue_init: %s", strerror(-ret));
		free(ring);
		return ret;
	}
	r->priv = ring;
	return 0;
}

static int uring_request(struct pinreq *r, char *addr, size_t len)
{
	struct iovec iov = { .iov_base = addr, .iov_len = len };

	return io_uring_register_buffers(r->priv, &iov, 1);
}

static int uring_undo(struct pinreq *r)
{
	return io_uring_unregister_buffers(r->priv);
}

static void uring_close(struct pinreq *r)
{
	io_uring_queue_exit(r->priv);
	free(r->priv);
	r->priv = NULL;
}

const struct pinreq_ops pinreq_iouring = {
	.name = "io_uring fixed buffer",
	.call = "IORING_REGISTER_BUFFERS",
	.charge = "VmPin",
	/*
	 * Since v6.14 the ring is charged to the user's locked memory, and
	 * rings of earlier cases are torn down asynchronously.
	 */
	.open_unprivileged = true,
	.limit_err = ENOMEM,
	.uncharged_late = true,
	.need = { .check = iouring_unavailable },
	.open = uring_open,
	.request = uring_request,
	.undo = uring_undo,
	.close = uring_close,
};

/* VFIO and iommufd ------------------------------------------------------ */

static int vfio_open(struct pinreq *r, enum vfio_path path, char *why, size_t len)
{
	struct vfio_ctx *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	ret = vfio_ctx_open(c, path, false, why, len);
	if (ret) {
		free(c);
		return ret;
	}
	r->priv = c;
	return 0;
}

static int type1_open(struct pinreq *r, char *why, size_t len)
{
	return vfio_open(r, VP_TYPE1, why, len);
}

static int cdev_open(struct pinreq *r, char *why, size_t len)
{
	return vfio_open(r, VP_CDEV, why, len);
}

static int mock_open(struct pinreq *r, char *why, size_t len)
{
	return vfio_open(r, VP_MOCK, why, len);
}

static int compat_open(struct pinreq *r, char *why, size_t len)
{
	return vfio_open(r, VP_COMPAT, why, len);
}

static int vfio_request(struct pinreq *r, char *addr, size_t len)
{
	return vfio_ctx_map(r->priv, addr, VFIO_IOVA_SPARE, len, r->writable);
}

static int vfio_undo(struct pinreq *r)
{
	uint64_t unmapped = 0;
	int ret = vfio_ctx_unmap(r->priv, VFIO_IOVA_SPARE, r->len, &unmapped);

	return ret ? ret : unmapped == r->len ? 0 : -ENOENT;
}

static void vfio_close(struct pinreq *r)
{
	vfio_ctx_close(r->priv);
	free(r->priv);
	r->priv = NULL;
}

static const struct pinreq_ops vfio_ops[VP_NR] = {
	[VP_TYPE1] = {
		.name = "VFIO type1", .call = "VFIO_IOMMU_MAP_DMA", .charge = "VmLck",
		.limit_err = ENOMEM,
		.need = { .check = vfio_type1_unavailable }, .open = type1_open,
		.request = vfio_request, .undo = vfio_undo, .close = vfio_close,
	},
	[VP_CDEV] = {
		.name = "iommufd (VFIO cdev)", .call = "IOMMU_IOAS_MAP", .charge = "VmPin",
		.limit_err = ENOMEM,
		.replies = true, .need = { .check = vfio_cdev_unavailable }, .open = cdev_open,
		.request = vfio_request, .undo = vfio_undo, .close = vfio_close,
	},
	[VP_MOCK] = {
		.name = "iommufd mock domain", .call = "IOMMU_IOAS_MAP", .charge = "VmPin",
		.limit_err = ENOMEM,
		.replies = true, .need = { .check = iommufd_mock_unavailable }, .open = mock_open,
		.request = vfio_request, .undo = vfio_undo, .close = vfio_close,
	},
	[VP_COMPAT] = {
		.name = "type1 compat on iommufd mock domain", .call = "VFIO_IOMMU_MAP_DMA",
		.charge = "VmPin", .limit_err = ENOMEM,
		.need = { .check = iommufd_compat_unavailable },
		.open = compat_open, .request = vfio_request, .undo = vfio_undo,
		.close = vfio_close,
	},
};

const struct pinreq_ops *pinreq_vfio(enum vfio_path path)
{
	return path < VP_NR ? &vfio_ops[path] : NULL;
}
