// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO and iommufd pins as pincheck mechanisms, with their observers:
 *
 *   DMA    the edu device copies the sampled parts of the pinned IOVA into
 *          its buffer and out to a bounce page mapped R/W (read), or from
 *          the bounce page into the pinned IOVA (write);
 *   proxy  any other device: the PFNs pagemap showed right after the map
 *          stand in for the pinned pages;
 *   mock   the mock IOMMU's page table against the page mapped now
 *          (IOMMU_TEST_OP_MD_CHECK_MAP);
 *   access the iommufd emulated access: the pages it holds against the
 *          pages mapped now (IOMMU_TEST_OP_ACCESS_PAGES with a user
 *          address), and the bytes it reads and writes through them
 *          (ACCESS_RW).
 *
 * edu DMA takes 100 ms of virtual time per transfer, so a DMA observer
 * moves two small extents across page boundaries - the first two and the
 * last two pages - and not the whole range.  A stale pin is stale for
 * whole pages, and every trigger rewrites every page of the range.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ksft.h"
#include "observe.h"
#include "pin_vfio.h"
#include "sysstate.h"
#include "util.h"

/* Bytes a DMA observer moves per check, all extents together. */
#define DMA_SAMPLE	4000
/* Seconds a map of at most 2 MiB may take before it counts as stuck. */

struct vpin {
	struct vfio_ctx c;
	bool mapped;
	char *bounce;		/* DMA: one page mapped R/W at VFIO_IOVA_BOUNCE */
	bool bounce_mapped;
	unsigned long *pfns;	/* proxy: PFN of each page when pinned */
	size_t npages;
};

static void vpin_unpin(struct pin *p)
{
	struct vpin *vp = p->priv;

	if (!vp)
		return;
	if (vp->mapped)
		vfio_ctx_unmap(&vp->c, VFIO_IOVA_PIN, p->len, NULL);
	if (vp->bounce_mapped)
		vfio_ctx_unmap(&vp->c, VFIO_IOVA_BOUNCE, page_size(), NULL);
	vfio_ctx_close(&vp->c);
	if (vp->bounce)
		munmap(vp->bounce, page_size());
	free(vp->pfns);
	free(vp);
	p->priv = NULL;
}

enum observer { OBS_DMA, OBS_PROXY, OBS_MOCK };

static int vpin_pin(struct pin *p, enum vfio_path path, enum observer obs)
{
	char why[KSFT_REASON_MAX];
	size_t ps = page_size(), i;
	struct vpin *vp;
	int ret;

	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	p->priv = vp;
	ret = vfio_ctx_open(&vp->c, path, obs == OBS_DMA, why, sizeof(why));
	if (ret) {
		ksft_print_msg("%s: %s\n", vfio_path_name(path), why);
		goto fail;
	}
	if (obs == OBS_DMA) {
		if (!vp->c.has_edu) {
			ksft_print_msg("no edu device to DMA with\n");
			ret = -ENODEV;
			goto fail;
		}
		vp->bounce = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				  -1, 0);
		if (vp->bounce == MAP_FAILED) {
			vp->bounce = NULL;
			ret = -errno;
			goto fail;
		}
		memset(vp->bounce, PAT_OTHER, ps);
		ret = vfio_ctx_map(&vp->c, vp->bounce, VFIO_IOVA_BOUNCE, ps, true);
		if (ret) {
			ksft_print_msg("mapping the bounce page R/W: %s\n", strerror(-ret));
			goto fail;
		}
		vp->bounce_mapped = true;
	}
	/* pin_take() runs this in a thread it watches for a stuck kernel. */
	ret = vfio_ctx_map(&vp->c, p->addr, VFIO_IOVA_PIN, p->len, p->writable);
	if (ret)
		goto fail;
	vp->mapped = true;
	if (obs == OBS_PROXY) {
		vp->npages = p->len / ps;
		vp->pfns = calloc(vp->npages, sizeof(*vp->pfns));
		if (!vp->pfns) {
			ret = -ENOMEM;
			goto fail;
		}
		for (i = 0; i < vp->npages; i++)
			vp->pfns[i] = pagemap_pfn(p->addr + i * ps);
	}
	return 0;
fail:
	vpin_unpin(p);
	return ret;
}

/* DMA observer ----------------------------------------------------------- */

static int dma_extents(const struct pin *p, struct pin_extent *ext)
{
	size_t ps = page_size(), len = p->len;

	if (len <= ps) {
		ext[0].off = 0;
		ext[0].len = len < DMA_SAMPLE ? len : DMA_SAMPLE;
		return 1;
	}
	/* Across the boundary of the first two pages ... */
	ext[0].off = ps - DMA_SAMPLE / 4;
	ext[0].len = DMA_SAMPLE / 2;
	if (len == 2 * ps) {
		ext[0].off = ps - DMA_SAMPLE / 2;
		ext[0].len = DMA_SAMPLE;
		return 1;
	}
	/* ... and of the last two. */
	ext[1].off = len - ps - DMA_SAMPLE / 4;
	ext[1].len = DMA_SAMPLE / 2;
	return 2;
}

static int dma_read(struct pin *p, void *buf)
{
	struct pin_extent ext[PIN_MAX_EXTENTS];
	struct vpin *vp = p->priv;
	unsigned int boff = 0;
	int i, n, ret;

	n = pin_extents(p, ext);
	memset(vp->bounce, PAT_OTHER, page_size());
	for (i = 0; i < n; i++) {
		ret = edu_dma_from_ram(&vp->c.edu, VFIO_IOVA_PIN + ext[i].off, boff, ext[i].len);
		if (ret)
			return ret;
		boff += ext[i].len;
	}
	ret = edu_dma_to_ram(&vp->c.edu, 0, VFIO_IOVA_BOUNCE, boff);
	if (ret)
		return ret;
	for (i = 0, boff = 0; i < n; boff += ext[i].len, i++)
		memcpy((char *)buf + ext[i].off, vp->bounce + boff, ext[i].len);
	return 0;
}

static int dma_write(struct pin *p, const void *buf)
{
	struct pin_extent ext[PIN_MAX_EXTENTS];
	struct vpin *vp = p->priv;
	unsigned int boff = 0;
	int i, n, ret;

	n = pin_extents(p, ext);
	for (i = 0; i < n; boff += ext[i].len, i++)
		memcpy(vp->bounce + boff, (const char *)buf + ext[i].off, ext[i].len);
	ret = edu_dma_from_ram(&vp->c.edu, VFIO_IOVA_BOUNCE, 0, boff);
	for (i = 0, boff = 0; !ret && i < n; boff += ext[i].len, i++)
		ret = edu_dma_to_ram(&vp->c.edu, boff, VFIO_IOVA_PIN + ext[i].off, ext[i].len);
	return ret;
}

/* PFN proxy ------------------------------------------------------------ */

static int proxy_check(struct pin *p, const char *view, char *diag, size_t len)
{
	struct vpin *vp = p->priv;
	size_t ps = page_size(), i;
	unsigned long now;

	ksft_print_msg("observer: pagemap PFN proxy (%s is not an edu and cannot be made to DMA): the pinned pages are taken to be those mapped when the map returned\n",
		       vfio_device());
	for (i = 0; i < vp->npages; i++) {
		now = pagemap_pfn(view + i * ps);
		if (!vp->pfns[i] || !now)
			return -EPERM;
		if (now != vp->pfns[i]) {
			snprintf(diag, len, "page %zu: PFN 0x%lx when mapped for DMA, 0x%lx mapped now (pagemap PFN proxy, not a DMA)",
				 i, vp->pfns[i], now);
			return 1;
		}
	}
	return 0;
}

/* Mock domain ------------------------------------------------------------ */

static int mock_check(struct pin *p, const char *view, char *diag, size_t len)
{
	struct vpin *vp = p->priv;
	size_t ps = page_size(), off;
	int ret;

	ret = vfio_ctx_check_map(&vp->c, VFIO_IOVA_PIN, view, p->len);
	if (ret != -EINVAL)
		return ret;
	for (off = 0; off < p->len; off += ps)
		if (vfio_ctx_check_map(&vp->c, VFIO_IOVA_PIN + off, view + off, ps) == -EINVAL)
			break;
	snprintf(diag, len, "the mock IOMMU maps IOVA 0x%lx to another page than the one mapped at offset 0x%zx (EINVAL)",
		 VFIO_IOVA_PIN + (off < p->len ? off : 0), off < p->len ? off : 0);
	return 1;
}

/* The mechanisms ------------------------------------------------------- */

/* PFNs in pagemap need CAP_SYS_ADMIN. */
static const char *proxy_unavailable(enum vfio_path path)
{
	const char *why = vfio_path_unavailable(path);

	if (!why && geteuid())
		why = "the pagemap PFN proxy (the device is not an edu) needs root";
	return why;
}

static const char *type1_proxy_unavailable(void)
{
	return proxy_unavailable(VP_TYPE1);
}

static const char *cdev_proxy_unavailable(void)
{
	return proxy_unavailable(VP_CDEV);
}

static int type1_dma_pin(struct pin *p)
{
	return vpin_pin(p, VP_TYPE1, OBS_DMA);
}

static int cdev_dma_pin(struct pin *p)
{
	return vpin_pin(p, VP_CDEV, OBS_DMA);
}

static int type1_proxy_pin(struct pin *p)
{
	return vpin_pin(p, VP_TYPE1, OBS_PROXY);
}

static int cdev_proxy_pin(struct pin *p)
{
	return vpin_pin(p, VP_CDEV, OBS_PROXY);
}

static int mock_pin(struct pin *p)
{
	return vpin_pin(p, VP_MOCK, OBS_MOCK);
}

static int compat_pin(struct pin *p)
{
	return vpin_pin(p, VP_COMPAT, OBS_MOCK);
}

const struct pin_ops pin_vfio_type1_dma = {
	.name = "VFIO type1",
	.reader = "edu DMA from the pinned IOVA",
	.writer = "edu DMA to the pinned IOVA",
	.charges_memlock = true,
	.need = { .check = vfio_type1_unavailable },
	.pin = type1_dma_pin,
	.read = dma_read,
	.write = dma_write,
	.unpin = vpin_unpin,
	.extents = dma_extents,
};

const struct pin_ops pin_vfio_cdev_dma = {
	.name = "VFIO cdev + iommufd",
	.reader = "edu DMA from the pinned IOVA",
	.writer = "edu DMA to the pinned IOVA",
	.charges_memlock = true,
	.need = { .check = vfio_cdev_unavailable },
	.pin = cdev_dma_pin,
	.read = dma_read,
	.write = dma_write,
	.unpin = vpin_unpin,
	.extents = dma_extents,
};

const struct pin_ops pin_vfio_type1_proxy = {
	.name = "VFIO type1",
	.reader = "pagemap PFN proxy",
	.charges_memlock = true,
	.need = { .check = type1_proxy_unavailable },
	.pin = type1_proxy_pin,
	.unpin = vpin_unpin,
	.check = proxy_check,
};

const struct pin_ops pin_vfio_cdev_proxy = {
	.name = "VFIO cdev + iommufd",
	.reader = "pagemap PFN proxy",
	.charges_memlock = true,
	.need = { .check = cdev_proxy_unavailable },
	.pin = cdev_proxy_pin,
	.unpin = vpin_unpin,
	.check = proxy_check,
};

const struct pin_ops pin_iommufd_mock = {
	.name = "iommufd mock domain",
	.reader = "IOMMU_TEST_OP_MD_CHECK_MAP",
	.charges_memlock = true,
	.need = { .check = iommufd_mock_unavailable },
	.pin = mock_pin,
	.unpin = vpin_unpin,
	.check = mock_check,
};

const struct pin_ops pin_iommufd_compat = {
	.name = "type1 compat on iommufd mock domain",
	.reader = "IOMMU_TEST_OP_MD_CHECK_MAP",
	.charges_memlock = true,
	.need = { .check = iommufd_compat_unavailable },
	.pin = compat_pin,
	.unpin = vpin_unpin,
	.check = mock_check,
};

const struct pin_ops *pin_vfio_for(enum vfio_path path)
{
	switch (path) {
	case VP_TYPE1:
		return vfio_device_is_edu() ? &pin_vfio_type1_dma : &pin_vfio_type1_proxy;
	case VP_CDEV:
		return vfio_device_is_edu() ? &pin_vfio_cdev_dma : &pin_vfio_cdev_proxy;
	case VP_MOCK:
		return &pin_iommufd_mock;
	default:
		return &pin_iommufd_compat;
	}
}

/* The iommufd emulated access --------------------------------------------- */

struct apin {
	struct iommufd_access a;
	uint32_t id;		/* the range the access holds */
	bool mapped, held;
};

static void apin_unpin(struct pin *p)
{
	struct apin *ap = p->priv;

	if (!ap)
		return;
	if (ap->held)
		iommufd_access_unpin(&ap->a, ap->id);
	if (ap->mapped)
		vfio_ctx_unmap(&ap->a.c, VFIO_IOVA_PIN, p->len, NULL);
	iommufd_access_close(&ap->a);
	free(ap);
	p->priv = NULL;
}

static int apin_pin(struct pin *p, bool mock)
{
	char why[KSFT_REASON_MAX];
	struct apin *ap;
	int ret;

	ap = calloc(1, sizeof(*ap));
	if (!ap)
		return -ENOMEM;
	p->priv = ap;
	ap->a.fd = -1;
	ret = iommufd_access_open(&ap->a, mock, why, sizeof(why));
	if (ret) {
		ksft_print_msg("iommufd emulated access: %s\n", why);
		goto fail;
	}
	/* Beside a mock domain, this pins (into the domain). */
	ret = vfio_ctx_map(&ap->a.c, p->addr, VFIO_IOVA_PIN, p->len, p->writable);
	if (ret)
		goto fail;
	ap->mapped = true;
	/* The access's pin; the kernel checks it got the pages mapped at p->addr. */
	ret = iommufd_access_pages(&ap->a, VFIO_IOVA_PIN, p->len, p->addr, p->writable, &ap->id);
	if (ret == -EBADE)
		ksft_print_msg("ACCESS_PAGES: the access got other pages than those mapped (EBADE)\n");
	if (ret)
		goto fail;
	ap->held = true;
	return 0;
fail:
	apin_unpin(p);
	return ret;
}

static int access_pin(struct pin *p)
{
	return apin_pin(p, false);
}

static int access_mock_pin(struct pin *p)
{
	return apin_pin(p, true);
}

/*
 * Are the pages the access holds those mapped at @view?  Page by page:
 * ACCESS_PAGES of the held range again with @view as user address gets
 * the held pages and compares them with the pages mapped at @view.
 */
static int access_pages_check(struct apin *ap, const char *view, size_t len, bool write,
			      char *diag, size_t dlen)
{
	size_t ps = page_size(), off;
	uint32_t id;
	int ret;

	ret = iommufd_access_pages(&ap->a, VFIO_IOVA_PIN, len, view, write, &id);
	if (!ret)
		return iommufd_access_unpin(&ap->a, id);
	if (ret != -EBADE)
		return ret;
	for (off = 0; off < len; off += ps) {
		ret = iommufd_access_pages(&ap->a, VFIO_IOVA_PIN + off, ps, view + off, write, &id);
		if (!ret)
			iommufd_access_unpin(&ap->a, id);
		if (ret == -EBADE)
			break;
	}
	snprintf(diag, dlen, "IOMMU_TEST_OP_ACCESS_PAGES: the access holds another page than the one mapped at offset 0x%zx (EBADE)",
		 off < len ? off : 0);
	return 1;
}

/* The bytes the access reads through the pages it holds: those mapped? */
static int access_read_check(struct apin *ap, const char *view, size_t len, char *diag,
			     size_t dlen)
{
	char *buf = malloc(len);
	ssize_t off;
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = iommufd_access_rw(&ap->a, VFIO_IOVA_PIN, buf, len, false);
	off = ret ? -1 : first_diff(buf, view, len);
	if (off >= 0) {
		snprintf(diag, dlen, "IOMMU_TEST_OP_ACCESS_RW: at offset 0x%zx the access reads 0x%02x, the mapping holds 0x%02x",
			 (size_t)off, (unsigned char)buf[off], (unsigned char)view[off]);
		ret = 1;
	}
	free(buf);
	return ret;
}

/* What the access writes through the pages it holds: in the mapping? */
static int access_write_check(struct apin *ap, const char *view, size_t len, char *diag,
			      size_t dlen)
{
	char *buf = malloc(len);
	ssize_t off;
	int ret;

	if (!buf)
		return -ENOMEM;
	memset(buf, PAT_DEVICE, len);
	ret = iommufd_access_rw(&ap->a, VFIO_IOVA_PIN, buf, len, true);
	off = ret ? -1 : first_not(view, PAT_DEVICE, len);
	if (off >= 0) {
		snprintf(diag, dlen, "IOMMU_TEST_OP_ACCESS_RW write: at offset 0x%zx the access wrote 0x%02x, the mapping holds 0x%02x",
			 (size_t)off, PAT_DEVICE, (unsigned char)view[off]);
		ret = 1;
	}
	free(buf);
	return ret;
}

/*
 * The pages the access holds against the pages mapped; then, for two
 * pages or more (ACCESS_RW of one page goes through the current mapping,
 * not the pages held), the bytes it reads through them and, for a
 * writable access, the bytes it writes.  Every part is looked at; the
 * first that differs is the diagnosis, the others are printed.
 */
static int access_check(struct pin *p, const char *view, char *diag, size_t len)
{
	char what[3][KSFT_REASON_MAX] = { "", "", "" };
	struct apin *ap = p->priv;
	int ret[3] = { 0, 0, 0 }, i, first = -1;
	bool bytes = p->len >= 2 * page_size();

	ret[0] = access_pages_check(ap, view, p->len, p->writable, what[0], sizeof(what[0]));
	if (bytes && ret[0] >= 0)
		ret[1] = access_read_check(ap, view, p->len, what[1], sizeof(what[1]));
	if (bytes && p->writable && ret[0] >= 0 && ret[1] >= 0)
		ret[2] = access_write_check(ap, view, p->len, what[2], sizeof(what[2]));
	for (i = 0; i < 3; i++) {
		if (ret[i] < 0)
			return ret[i];
		if (ret[i] && first < 0)
			first = i;
		else if (ret[i])
			ksft_print_msg("%s\n", what[i]);
	}
	if (first < 0)
		return 0;
	snprintf(diag, len, "%s", what[first]);
	return 1;
}

const struct pin_ops pin_iommufd_access = {
	.name = "iommufd emulated access",
	.reader = "IOMMU_TEST_OP_ACCESS_PAGES and ACCESS_RW",
	.charges_memlock = true,
	.need = { .check = iommufd_access_unavailable },
	.pin = access_pin,
	.unpin = apin_unpin,
	.check = access_check,
};

const struct pin_ops pin_iommufd_access_mock = {
	.name = "iommufd emulated access beside a mock domain",
	.reader = "IOMMU_TEST_OP_ACCESS_PAGES and ACCESS_RW",
	.charges_memlock = true,
	.need = { .check = iommufd_access_mock_unavailable },
	.pin = access_mock_pin,
	.unpin = apin_unpin,
	.check = access_check,
};
