/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user-space driver for QEMU's "edu" teaching device (PCI 1234:11e8)
 * behind vfio-pci: its DMA engine copies between an IOVA and a 4 KiB
 * buffer inside the device, which lets a test see what the IOMMU maps at
 * an IOVA - the page a VFIO or iommufd pin holds.
 *
 * Facts the driver is built around (docs/specs/edu.rst, hw/misc/edu.c):
 * one transfer at a time, started by the command register and finished by
 * a QEMU_CLOCK_VIRTUAL timer 100 ms later; the device address is masked to
 * 28 bits (IOVAs below 256 MiB); QEMU up to 7.2 aborts on a transfer that
 * ends at the last byte of the buffer, so a transfer moves at most
 * EDU_DMA_MAX bytes.  Completion is waited for on the DMA-done interrupt
 * (MSI through a VFIO eventfd), so that the vCPU idles and an icount
 * guest can skip the timer; without MSI the command register is polled.
 */
#ifndef PINSUITE_EDU_H
#define PINSUITE_EDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
/* Bytes one transfer may move (QEMU <= 7.2 off-by-one, see above). */
#define EDU_DMA_MAX		4095
/* The highest IOVA the device can reach with its default dma_mask. */
#define EDU_IOVA_LIMIT		(1UL << 28)

struct edu {
	int devfd;		/* VFIO device fd (not owned) */
	uint32_t *bar;		/* BAR0 mapped, or NULL: pread/pwrite */
	size_t bar_len;
	uint64_t bar_off;	/* BAR0's offset in the device fd */
	uint64_t cfg_off;	/* config space's offset in the device fd */
	int efd;		/* eventfd of the MSI vector, or -1 (polling) */
	unsigned int dmas;	/* transfers done */
	double wait_s;		/* seconds spent waiting for them */
};

/*
 * Take the device behind @devfd into use: map BAR0, check the ID, turn
 * on bus mastering, wire MSI to an eventfd (unless @poll).  0 or -errno,
 * with what failed in @why.
 */
int edu_open(struct edu *e, int devfd, bool poll, char *why, size_t len);
void edu_close(struct edu *e);

/* Copy @cnt bytes from @iova into the device buffer at @off. 0 or -errno. */
int edu_dma_from_ram(struct edu *e, uint64_t iova, unsigned int off, unsigned int cnt);
/* Copy @cnt bytes from the device buffer at @off to @iova. 0 or -errno. */
int edu_dma_to_ram(struct edu *e, unsigned int off, uint64_t iova, unsigned int cnt);

/* True if the sysfs PCI device @bdf is an edu. */
bool edu_is(const char *bdf);

#endif /* PINSUITE_EDU_H */
