/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of the iommufd and VFIO device cdev uAPI that pinsuite uses,
 * for build hosts whose kernel headers predate them (Debian 12 ships
 * linux-libc-dev 6.1: no <linux/iommufd.h>, no VFIO_DEVICE_BIND_IOMMUFD).
 * Numbers and layouts follow include/uapi/linux/iommufd.h and vfio.h of
 * v6.12; newer headers, when installed, are used instead.
 *
 * The iommufd selftest interface (drivers/iommu/iommufd/iommufd_test.h,
 * CONFIG_IOMMUFD_TEST) is never installed, so it always lives here, under
 * names of our own.  Only the first test ops are used (the mock domain and
 * the emulated access); their numbers and union members have been stable
 * since v6.2.
 */
#ifndef PINSUITE_IOMMUFD_UAPI_H
#define PINSUITE_IOMMUFD_UAPI_H

#include <linux/types.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>

#ifdef __has_include
#if __has_include("linux/iommufd.h")
#include <linux/iommufd.h>
#endif
#endif

#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE		(';')

enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
};

struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY		_IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP		_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};
#define IOMMU_OPTION		_IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};
#define IOMMU_VFIO_IOAS		_IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)
#endif /* IOMMUFD_TYPE */

/* VFIO device cdev (v6.6) */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 20)
#endif /* VFIO_DEVICE_BIND_IOMMUFD */

/* iommufd selftest interface (CONFIG_IOMMUFD_TEST) */
#define PS_IOMMU_TEST_CMD		_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)
#define PS_IOMMU_TEST_OP_MOCK_DOMAIN	2
#define PS_IOMMU_TEST_OP_MD_CHECK_MAP	3
/*
 * The emulated access: an in-kernel user of an IOAS, as an mdev driver is
 * (iommufd_access_create()/_pin_pages()/_rw()).  CREATE_ACCESS returns an
 * fd for it; ACCESS_PAGES pins a range for it (and with uptr checks that
 * the pages it got are the ones mapped there); DESTROY_ACCESS_PAGES unpins
 * one such range; ACCESS_RW copies through the access.  When the IOVA is
 * unmapped, the kernel calls the access's unmap callback, which unpins
 * every range it holds there.
 */
#define PS_IOMMU_TEST_OP_CREATE_ACCESS		5
#define PS_IOMMU_TEST_OP_DESTROY_ACCESS_PAGES	6
#define PS_IOMMU_TEST_OP_ACCESS_PAGES		7
#define PS_IOMMU_TEST_OP_ACCESS_RW		8
/* CREATE_ACCESS: the access pins pages (ACCESS_PAGES works). */
#define PS_MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES	(1 << 0)
/* ACCESS_PAGES: pin for writing. */
#define PS_MOCK_FLAGS_ACCESS_WRITE		(1 << 0)
/* ACCESS_RW: write; go through the pinned pages, not copy_to/from_user(). */
#define PS_MOCK_ACCESS_RW_WRITE			(1 << 0)
#define PS_MOCK_ACCESS_RW_SLOW_PATH		(1 << 2)
/* The mock IOMMU's aperture; its page size is PAGE_SIZE / 2. */
#define PS_MOCK_APERTURE_START		(1UL << 24)
#define PS_MOCK_APERTURE_LAST		((1UL << 31) - 1)

struct ps_iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;	/* v6.6 and later */
		} mock_domain;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		/*
		 * Room for the kernel's largest union member: a larger size
		 * is accepted as long as the bytes the kernel does not know
		 * are zero; a smaller one is refused.
		 */
		__u8 pad[64];
	};
	__u32 last;
};

#endif /* PINSUITE_IOMMUFD_UAPI_H */
