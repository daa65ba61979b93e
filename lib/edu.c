// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU edu behind vfio-pci: BAR0 registers, bus mastering, MSI and DMA.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "edu.h"
#include "util.h"

/* Registers (offsets in BAR0) */
#define EDU_REG_ID		0x00
#define EDU_REG_LIVE		0x04
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_CMD_RUN		0x01
#define EDU_CMD_TO_RAM		0x02	/* direction: device buffer -> RAM */
#define EDU_CMD_IRQ		0x04	/* raise EDU_IRQ_DMA when done */
#define EDU_IRQ_DMA		0x100

/* The device buffer, as the DMA engine addresses it. */
#define EDU_BUF			0x40000

#define PCI_CMD_OFF		0x04
#define PCI_CMD_MEMORY		0x2
#define PCI_CMD_MASTER		0x4

/* A transfer takes 100 ms of virtual time; give up long after that. */
#define EDU_TIMEOUT_MS		10000

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t rd(struct edu *e, unsigned int off)
{
	uint32_t v = ~0U;

	/* One 32-bit access each, neither merged nor dropped by the compiler. */
	if (e->bar)
		return __atomic_load_n(&e->bar[off / 4], __ATOMIC_RELAXED);
	if (pread_full(e->devfd, &v, sizeof(v), (off_t)(e->bar_off + off)))
		return ~0U;
	return v;
}

static void wr(struct edu *e, unsigned int off, uint32_t v)
{
	if (e->bar)
		__atomic_store_n(&e->bar[off / 4], v, __ATOMIC_RELAXED);
	else
		pwrite_full(e->devfd, &v, sizeof(v), (off_t)(e->bar_off + off));
}

static int region(int devfd, unsigned int index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

static int setup_msi(struct edu *e)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_MSI_IRQ_INDEX };
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t fd;

	if (ioctl(e->devfd, VFIO_DEVICE_GET_IRQ_INFO, &info) || !info.count)
		return -ENOTSUP;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSI_IRQ_INDEX;
	set->start = 0;
	set->count = 1;
	memcpy(set->data, &fd, sizeof(fd));
	if (ioctl(e->devfd, VFIO_DEVICE_SET_IRQS, set)) {
		int err = -errno;

		close(fd);
		return err;
	}
	e->efd = fd;
	return 0;
}

int edu_open(struct edu *e, int devfd, bool poll, char *why, size_t len)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info bar, cfg;
	uint16_t cmd;
	uint32_t id;
	void *p;
	int ret;

	memset(e, 0, sizeof(*e));
	e->devfd = devfd;
	e->efd = -1;
	if (ioctl(devfd, VFIO_DEVICE_GET_INFO, &di)) {
		ret = -errno;
		snprintf(why, len, "VFIO_DEVICE_GET_INFO: %s", strerror(errno));
		return ret;
	}
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) || di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		snprintf(why, len, "not a vfio-pci device (flags 0x%x, %u regions)", di.flags,
			 di.num_regions);
		return -ENODEV;
	}
	ret = region(devfd, VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (!ret)
		ret = region(devfd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (ret) {
		snprintf(why, len, "VFIO_DEVICE_GET_REGION_INFO: %s", strerror(-ret));
		return ret;
	}
	if (bar.size < 0x100) {
		snprintf(why, len, "BAR0 is %llu bytes, too small for edu",
			 (unsigned long long)bar.size);
		return -ENODEV;
	}
	e->bar_off = bar.offset;
	e->cfg_off = cfg.offset;
	/* Memory decoding and bus mastering: without them no MMIO, no DMA. */
	ret = pread_full(devfd, &cmd, sizeof(cmd), (off_t)(cfg.offset + PCI_CMD_OFF));
	if (!ret) {
		cmd |= PCI_CMD_MEMORY | PCI_CMD_MASTER;
		ret = pwrite_full(devfd, &cmd, sizeof(cmd), (off_t)(cfg.offset + PCI_CMD_OFF));
	}
	if (ret) {
		snprintf(why, len, "enabling bus mastering in the command register: %s",
			 strerror(-ret));
		return ret;
	}
	if (bar.flags & VFIO_REGION_INFO_FLAG_MMAP) {
		p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, devfd,
			 (off_t)bar.offset);
		if (p != MAP_FAILED) {
			e->bar = p;
			e->bar_len = bar.size;
		}
	}
	id = rd(e, EDU_REG_ID);
	if ((id & 0xffff) != 0x00ed) {
		snprintf(why, len, "BAR0 ID register reads 0x%08x, not an edu (0xRRrr00ed)", id);
		edu_close(e);
		return -ENODEV;
	}
	wr(e, EDU_REG_LIVE, 0x5a5aa5a5);
	if (rd(e, EDU_REG_LIVE) != ~0x5a5aa5a5U) {
		snprintf(why, len, "edu liveness register does not answer");
		edu_close(e);
		return -EIO;
	}
	if (!poll)
		setup_msi(e);
	/* Nothing may be pending from an earlier user. */
	wr(e, EDU_REG_IRQ_ACK, rd(e, EDU_REG_IRQ_STATUS));
	return 0;
}

void edu_close(struct edu *e)
{
	char buf[sizeof(struct vfio_irq_set)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	if (e->efd >= 0) {
		memset(buf, 0, sizeof(buf));
		set->argsz = sizeof(buf);
		set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->index = VFIO_PCI_MSI_IRQ_INDEX;
		ioctl(e->devfd, VFIO_DEVICE_SET_IRQS, set);
		close(e->efd);
		e->efd = -1;
	}
	if (e->bar)
		munmap(e->bar, e->bar_len);
	e->bar = NULL;
}

static bool running(struct edu *e)
{
	return rd(e, EDU_REG_DMA_CMD) & EDU_CMD_RUN;
}

/* Wait for the transfer in flight: interrupt first, then polling. */
static int wait_done(struct edu *e)
{
	struct timespec ms = { 0, 1000 * 1000 };
	struct pollfd pfd = { .fd = e->efd, .events = POLLIN };
	double start = mono();
	uint64_t cnt;

	if (e->efd >= 0 && poll(&pfd, 1, EDU_TIMEOUT_MS) == 1) {
		if (read(e->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			return -errno;
	}
	while (running(e)) {
		if (mono() - start > EDU_TIMEOUT_MS / 1000.0)
			return -ETIMEDOUT;
		nanosleep(&ms, NULL);
	}
	if (e->efd >= 0)
		wr(e, EDU_REG_IRQ_ACK, EDU_IRQ_DMA);
	e->wait_s += mono() - start;
	e->dmas++;
	return 0;
}

static int edu_dma(struct edu *e, uint64_t src, uint64_t dst, unsigned int cnt, bool to_ram)
{
	unsigned int off = (unsigned int)((to_ram ? src : dst) - EDU_BUF);
	uint64_t iova = to_ram ? dst : src;
	uint32_t cmd = EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0);

	/* Never hand QEMU a range it would abort on. */
	if (!cnt || off > EDU_DMA_MAX || cnt > EDU_DMA_MAX - off)
		return -EINVAL;
	if (iova + cnt > EDU_IOVA_LIMIT)
		return -ERANGE;
	if (running(e) && wait_done(e))
		return -EBUSY;
	if (e->efd >= 0)
		cmd |= EDU_CMD_IRQ;
	wr(e, EDU_REG_DMA_SRC, (uint32_t)src);
	wr(e, EDU_REG_DMA_DST, (uint32_t)dst);
	wr(e, EDU_REG_DMA_CNT, cnt);
	__sync_synchronize();
	wr(e, EDU_REG_DMA_CMD, cmd);
	return wait_done(e);
}

int edu_dma_from_ram(struct edu *e, uint64_t iova, unsigned int off, unsigned int cnt)
{
	return edu_dma(e, iova, EDU_BUF + off, cnt, false);
}

int edu_dma_to_ram(struct edu *e, unsigned int off, uint64_t iova, unsigned int cnt)
{
	int ret = edu_dma(e, EDU_BUF + off, iova, cnt, true);

	__sync_synchronize();
	return ret;
}

bool edu_is(const char *bdf)
{
	unsigned long vendor, device;
	char path[160];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	if (read_ulong(path, &vendor))
		return false;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
	if (read_ulong(path, &device))
		return false;
	return vendor == EDU_VENDOR && device == EDU_DEVICE;
}
