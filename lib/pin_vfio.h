/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Long-term pins through VFIO and iommufd.
 *
 * Four ways to get a user range pinned and mapped for DMA:
 *
 *   VP_TYPE1   /dev/vfio/vfio container + the device's group, VFIO_TYPE1v2,
 *              VFIO_IOMMU_MAP_DMA (vfio_iommu_type1.c pins);
 *   VP_CDEV    the device's cdev bound to /dev/iommu, IOAS attached,
 *              IOMMU_IOAS_MAP (iommufd pins; v6.6+);
 *   VP_MOCK    /dev/iommu with a mock domain (CONFIG_IOMMUFD_TEST), no
 *              device; IOMMU_IOAS_MAP pins into the mock page table;
 *   VP_COMPAT  the same mock domain driven by the type1 ioctls that
 *              /dev/iommu understands (VFIO_SET_IOMMU, VFIO_IOMMU_MAP_DMA).
 *
 * READ-only maps pin without FOLL_WRITE, READ|WRITE maps with it.  How a
 * pin is observed afterwards depends on what is there: the edu device
 * reads and writes the pinned IOVA by DMA; the mock domain compares its
 * page table with the page mapped now (IOMMU_TEST_OP_MD_CHECK_MAP); for
 * any other device the PFNs pagemap showed at pin time stand in for the
 * pinned pages (a proxy, and said so in the diagnostics).
 *
 * Only the device given (--device, PINSUITE_VFIO_DEVICE) or, inside the
 * suite's VM (PINSUITE_IN_VM=1), the edu device is ever touched.  Its
 * binding changes only when allowed, through sysstate so it is put back.
 */
#ifndef PINSUITE_PIN_VFIO_H
#define PINSUITE_PIN_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edu.h"
#include "pin.h"

enum vfio_path {
	VP_TYPE1,
	VP_CDEV,
	VP_MOCK,
	VP_COMPAT,
	VP_NR
};

/* Where pinned ranges go: below edu's 256 MiB and in the mock aperture. */
#define VFIO_IOVA_PIN		(16UL << 20)
#define VFIO_IOVA_BOUNCE	(64UL << 20)
#define VFIO_IOVA_SPARE		(96UL << 20)

/* The device ----------------------------------------------------------- */

/*
 * Choose the device: @bdf (--device), else $PINSUITE_VFIO_DEVICE, else
 * with PINSUITE_IN_VM=1 the edu device.  @allow_rebind lets the device be
 * taken from its driver (and given back afterwards).  0, or -1 with the
 * reason in @why when the address is not one or names no device (a usage
 * error).
 */
int vfio_device_select(const char *bdf, bool allow_rebind, char *why, size_t len);
/*
 * The options of a binary that uses the device (struct pinsuite's): --device
 * BDF, --allow-rebind and --edu-poll, then vfio_device_select() with them.
 */
struct pinsuite_options;
extern const struct pinsuite_options vfio_suite_options;
/* The chosen device ("0000:00:03.0") or NULL. */
const char *vfio_device(void);
/* The chosen device is a QEMU edu: pins are observed by DMA. */
bool vfio_device_is_edu(void);
/*
 * In the parent, before the cases: bind the device to vfio-pci if that is
 * allowed and needed, then find out what each path offers.
 */
void vfio_prepare(void);
/* NULL if @path can be used, else why not (a SKIP reason). */
const char *vfio_path_unavailable(enum vfio_path path);
/* The same, as need.check functions. */
const char *vfio_type1_unavailable(void);
const char *vfio_cdev_unavailable(void);
const char *iommufd_mock_unavailable(void);
const char *iommufd_compat_unavailable(void);
/* Wait for edu DMA by polling the command register, not by MSI. */
extern bool vfio_edu_poll;

/* A context: one container / iommufd with its device or mock domain ---- */

struct vfio_ctx {
	enum vfio_path path;
	int container;		/* /dev/vfio/vfio (type1) or /dev/iommu */
	int group;		/* type1: /dev/vfio/N */
	int device;		/* device fd, or -1 */
	uint32_t ioas;		/* cdev, mock, compat */
	uint32_t hwpt;		/* mock: the mock domain's page table */
	uint32_t devid;		/* cdev: bound device id */
	bool has_edu;
	struct edu edu;
};

/*
 * Open @path; with @device also the device (and the edu driver when the
 * device is one).  0, or -errno with the failing step in @why.
 */
int vfio_ctx_open(struct vfio_ctx *c, enum vfio_path path, bool device, char *why, size_t len);
void vfio_ctx_close(struct vfio_ctx *c);
/* Map (and so pin) @len bytes at @vaddr to @iova.  0 or -errno. */
int vfio_ctx_map(struct vfio_ctx *c, const void *vaddr, uint64_t iova, size_t len,
		 bool writable);
/* Unmap; @unmapped (may be NULL) gets the bytes the kernel unmapped. */
int vfio_ctx_unmap(struct vfio_ctx *c, uint64_t iova, size_t len, uint64_t *unmapped);
/*
 * Mock domain: is the page mapped at @uptr the one the mock IOMMU maps at
 * @iova, for @len bytes?  0 yes, -EINVAL no, other -errno on error.
 */
int vfio_ctx_check_map(struct vfio_ctx *c, uint64_t iova, const void *uptr, size_t len);
/* The name of @path for messages ("VFIO type1", "iommufd mock domain"). */
const char *vfio_path_name(enum vfio_path path);
/* type1: VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, or -errno. */
long vfio_ctx_dma_avail(struct vfio_ctx *c);

/* Pin mechanisms for pincheck ------------------------------------------ */

/* The device DMAs through the pin (edu). */
extern const struct pin_ops pin_vfio_type1_dma;
extern const struct pin_ops pin_vfio_cdev_dma;
/* Another device: pagemap PFNs at pin time are the proxy. */
extern const struct pin_ops pin_vfio_type1_proxy;
extern const struct pin_ops pin_vfio_cdev_proxy;
/* Mock domain, checked with MD_CHECK_MAP. */
extern const struct pin_ops pin_iommufd_mock;
extern const struct pin_ops pin_iommufd_compat;

/* The type1 / cdev mechanism that fits the chosen device. */
const struct pin_ops *pin_vfio_for(enum vfio_path path);

/* The iommufd emulated access (CONFIG_IOMMUFD_TEST) ---------------------- */

/*
 * An in-kernel user of an IOAS, as an mdev driver is: it pins IOVA ranges
 * through iommufd_access_pin_pages() (IOMMU_TEST_OP_ACCESS_PAGES) and reads
 * and writes them through iommufd_access_rw() (ACCESS_RW).  Without a
 * domain the access's pins are the only ones (pin_user_pages_fast(),
 * FOLL_LONGTERM, FOLL_WRITE for a WRITEABLE mapping); beside a mock domain
 * the pages are pinned at IOAS_MAP and the access takes them from the
 * domain.  When an IOVA range it holds is unmapped, the kernel tells the
 * access to unpin (its unmap callback) before the unmap completes.
 */
struct iommufd_access {
	struct vfio_ctx c;	/* /dev/iommu, the IOAS; c.hwpt the mock domain or 0 */
	int fd;			/* the access, -1 when none */
};

/* Open /dev/iommu, an IOAS (with @mock a mock domain on it) and an access. */
int iommufd_access_open(struct iommufd_access *a, bool mock, char *why, size_t len);
void iommufd_access_close(struct iommufd_access *a);
/*
 * ACCESS_PAGES: pin @len bytes at @iova for the access (writable with
 * @write); with @uptr the kernel also checks that the pages it holds are
 * the pages mapped at @uptr in this process (-EBADE when not).  @id gets
 * the pinned range's id.  0 or -errno.
 */
int iommufd_access_pages(struct iommufd_access *a, uint64_t iova, size_t len, const void *uptr,
			 bool write, uint32_t *id);
/* DESTROY_ACCESS_PAGES: unpin the range @id; -ENOENT when the access no longer has it. */
int iommufd_access_unpin(struct iommufd_access *a, uint32_t id);
/*
 * ACCESS_RW on the pages the IOAS holds for @iova (the slow path, which
 * copies through the pinned pages - a range of one page, or a fast path,
 * would go through this process's current mapping instead).  0 or -errno.
 */
int iommufd_access_rw(struct iommufd_access *a, uint64_t iova, void *buf, size_t len,
		      bool write);
/* need.check: the access alone; the access beside a mock domain. */
const char *iommufd_access_unavailable(void);
const char *iommufd_access_mock_unavailable(void);

/* The access as a pin mechanism, alone and beside a mock domain. */
extern const struct pin_ops pin_iommufd_access;
extern const struct pin_ops pin_iommufd_access_mock;

#endif /* PINSUITE_PIN_VFIO_H */
