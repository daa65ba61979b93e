// SPDX-License-Identifier: GPL-2.0
/*
 * udmabuf pins and their reliability observation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "observe.h"
#include "pin_udmabuf.h"
#include "pincheck.h"
#include "util.h"

#define UDMABUF_DEV	"/dev/udmabuf"

const char *udmabuf_unavailable(void)
{
	static char why[200];
	static bool probed;
	int fd;

	if (probed)
		return *why ? why : NULL;
	probed = true;
	fd = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return NULL;
	}
	if (errno == ENOENT)
		snprintf(why, sizeof(why), "%s (no " UDMABUF_DEV ")", kconfig_why("CONFIG_UDMABUF"));
	else if (errno == EACCES || errno == EPERM)
		snprintf(why, sizeof(why), UDMABUF_DEV " needs root or its group");
	else
		snprintf(why, sizeof(why), "open(" UDMABUF_DEV "): %s", strerror(errno));
	return why;
}

int udmabuf_create_items(const struct udmabuf_create_item *items, unsigned int n)
{
	struct udmabuf_create_list *list;
	int dev, fd, err;

	list = calloc(1, sizeof(*list) + n * sizeof(list->list[0]));
	if (!list)
		return -ENOMEM;
	list->flags = UDMABUF_FLAGS_CLOEXEC;
	list->count = n;
	memcpy(list->list, items, n * sizeof(list->list[0]));
	dev = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		err = errno;
		free(list);
		return -err;
	}
	fd = ioctl(dev, UDMABUF_CREATE_LIST, list);
	err = errno;
	free(list);
	close(dev);
	return fd < 0 ? -err : fd;
}

int udmabuf_create(int memfd, size_t off, size_t len, unsigned int parts)
{
	size_t ps = page_size(), pages = len / ps, each;
	struct udmabuf_create_item items[8];
	struct udmabuf_create c = {
		.memfd = (__u32)memfd, .flags = UDMABUF_FLAGS_CLOEXEC, .offset = off, .size = len,
	};
	unsigned int i;
	int dev, fd, err;

	if (parts > 1) {
		if (parts > ARRAY_SIZE(items))
			parts = ARRAY_SIZE(items);
		if (parts > pages)
			parts = (unsigned int)(pages ? pages : 1);
		each = pages / parts * ps;
		for (i = 0; i < parts; i++) {
			items[i] = (struct udmabuf_create_item){
				.memfd = (__u32)memfd,
				.offset = off + i * each,
				.size = i == parts - 1 ? len - i * each : each,
			};
		}
		return udmabuf_create_items(items, parts);
	}
	dev = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	fd = ioctl(dev, UDMABUF_CREATE, &c);
	err = errno;
	close(dev);
	return fd < 0 ? -err : fd;
}

/* The mechanisms ------------------------------------------------------- */

static const struct mem *bound;

void udmabuf_bind(const struct mem *m)
{
	bound = m;
}

struct upin {
	int fd;		/* the dma-buf */
	char *map;	/* its mmap: the pinned folios */
};

static void upin_unpin(struct pin *p)
{
	struct upin *u = p->priv;

	if (!u)
		return;
	munmap(u->map, p->len);
	close(u->fd);
	free(u);
	p->priv = NULL;
	p->fd = -1;
}

static int upin_pin(struct pin *p, unsigned int parts)
{
	struct upin *u;
	int fd, ret;

	/* The memfd behind the range: only the bound set-up has one. */
	if (!bound || p->addr < bound->addr || p->addr + p->len > bound->addr + bound->size)
		return -EBADF;
	fd = udmabuf_create(bound->fd, (size_t)(p->addr - bound->addr), p->len, parts);
	if (fd < 0)
		return fd;
	u = calloc(1, sizeof(*u));
	if (!u) {
		close(fd);
		return -ENOMEM;
	}
	u->fd = fd;
	u->map = mmap(NULL, p->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (u->map == MAP_FAILED) {
		ret = -errno;
		ksft_print_msg("mmap of the dma-buf: %s\n", strerror(-ret));
		close(fd);
		free(u);
		return ret;
	}
	p->priv = u;
	p->fd = fd;
	return 0;
}

static int pin_one(struct pin *p)
{
	return upin_pin(p, 1);
}

static int pin_list(struct pin *p)
{
	return upin_pin(p, 2);
}

/* CPU access to a dma-buf is bracketed by DMA_BUF_IOCTL_SYNC. */
static int buf_sync(int fd, __u64 flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

static int upin_read(struct pin *p, void *buf)
{
	struct upin *u = p->priv;
	int ret = buf_sync(u->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);

	if (ret)
		return ret;
	memcpy(buf, u->map, p->len);
	return buf_sync(u->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
}

static int upin_write(struct pin *p, const void *buf)
{
	struct upin *u = p->priv;
	int ret = buf_sync(u->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);

	if (ret)
		return ret;
	memcpy(u->map, buf, p->len);
	return buf_sync(u->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
}

const struct pin_ops pin_udmabuf = {
	.name = "udmabuf",
	.reader = "the dma-buf mmap (UDMABUF_CREATE)",
	.writer = "a write to the dma-buf mmap (UDMABUF_CREATE)",
	.rw_only = true,
	.need = { .check = udmabuf_unavailable },
	.pin = pin_one,
	.read = upin_read,
	.write = upin_write,
	.unpin = upin_unpin,
};

const struct pin_ops pin_udmabuf_list = {
	.name = "udmabuf, list",
	.reader = "the dma-buf mmap (UDMABUF_CREATE_LIST)",
	.writer = "a write to the dma-buf mmap (UDMABUF_CREATE_LIST)",
	.rw_only = true,
	.need = { .check = udmabuf_unavailable },
	.pin = pin_list,
	.read = upin_read,
	.write = upin_write,
	.unpin = upin_unpin,
};

/* The observation -------------------------------------------------------- */

/* --selftest-break dontneed: the memfd's pages behind the pin are dropped. */
static void punch_hole(const struct mem *m, size_t len)
{
	if (fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)len))
		ksft_print_msg("selftest break: punching a hole: %s\n", strerror(errno));
	else
		ksft_print_msg("selftest break: hole punched into the memfd behind the pin\n");
}

void udmabuf_observe(const struct pcase *c)
{
	static const struct pincheck_via via = {
		.mapping = "the memfd mapping",
		.zap = punch_hole,
	};
	struct mem m;

	if (!mem_setup_memfd_obs(&m, c->bk, F_SEAL_SHRINK))
		return;
	udmabuf_bind(&m);
	pincheck_observe_mem(c, &m, &via);
	udmabuf_bind(NULL);
	obs_phase(PH_TEARDOWN);
	mem_teardown(&m);
}
