// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO type1, VFIO cdev + iommufd, and the iommufd mock domain: choosing
 * and binding the device, opening a context, mapping and unmapping.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "iommufd_uapi.h"
#include "ksft.h"
#include "observe.h"
#include "pin_vfio.h"
#include "sysstate.h"
#include "util.h"

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define PCI_DRIVERS	"/sys/bus/pci/drivers"

bool vfio_edu_poll;

static struct {
	char bdf[32];		/* "" when no device was chosen */
	const char *origin;	/* how it was chosen */
	bool allow_rebind;
	bool in_vm;
	bool edu;
	int group;		/* IOMMU group number, -1 unknown */
	char cdev[64];		/* /dev/vfio/devices/vfioN, "" when none */
} dev = { .group = -1 };

static char reasons[VP_NR][KSFT_REASON_MAX];
static bool prepared;

static const char *const path_names[VP_NR] = {
	[VP_TYPE1] = "VFIO type1",
	[VP_CDEV] = "VFIO cdev + iommufd",
	[VP_MOCK] = "iommufd mock domain",
	[VP_COMPAT] = "type1 compat on iommufd mock domain",
};

const char *vfio_path_name(enum vfio_path path)
{
	return path < VP_NR ? path_names[path] : "?";
}

/* Choosing the device ------------------------------------------------- */

/* "bb:dd.f" or "ssss:bb:dd.f" to "ssss:bb:dd.f"; false if it is neither. */
static bool normalize_bdf(const char *in, char *out, size_t len)
{
	unsigned int s, b, d, f;
	char tail;

	if (sscanf(in, "%x:%x:%x.%x%c", &s, &b, &d, &f, &tail) != 4) {
		s = 0;
		if (sscanf(in, "%x:%x.%x%c", &b, &d, &f, &tail) != 3)
			return false;
	}
	if (s > 0xffff || b > 0xff || d > 0x1f || f > 7)
		return false;
	snprintf(out, len, "%04x:%02x:%02x.%x", s, b, d, f);
	return true;
}

/* The first edu device in the system, for the suite's VM. */
static bool find_edu(char *out, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(PCI_DEVICES);
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] != '.' && edu_is(de->d_name)) {
			snprintf(out, len, "%.*s", (int)len - 1, de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

int vfio_device_select(const char *bdf, bool allow_rebind, char *why, size_t len)
{
	char path[160];

	const char *env = getenv("PINSUITE_VFIO_DEVICE");
	const char *vm = getenv("PINSUITE_IN_VM");

	dev.allow_rebind = allow_rebind;
	dev.in_vm = vm && !strcmp(vm, "1");
	if (bdf && *bdf) {
		dev.origin = "--device";
	} else if (env && *env) {
		bdf = env;
		dev.origin = "PINSUITE_VFIO_DEVICE";
	} else if (dev.in_vm && find_edu(dev.bdf, sizeof(dev.bdf))) {
		dev.origin = "the edu device of the suite's VM";
		bdf = NULL;
	}
	if (bdf && !normalize_bdf(bdf, dev.bdf, sizeof(dev.bdf))) {
		snprintf(why, len, "%s '%s': not a PCI address (want [dddd:]bb:dd.f)", dev.origin,
			 bdf);
		return -1;
	}
	snprintf(path, sizeof(path), PCI_DEVICES "/%s", dev.bdf);
	if (dev.bdf[0] && access(path, F_OK)) {
		snprintf(why, len, "%s %s: no such PCI device (no %s)", dev.origin, dev.bdf, path);
		return -1;
	}
	dev.edu = dev.bdf[0] && edu_is(dev.bdf);
	return 0;
}

/* The options of a binary that uses the device -------------------------- */

static const char *opt_device;
static bool opt_allow_rebind;

enum { OPT_DEVICE = 0x2000, OPT_ALLOW_REBIND, OPT_EDU_POLL };

static const struct option vfio_options[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "allow-rebind", no_argument, NULL, OPT_ALLOW_REBIND },
	{ "edu-poll", no_argument, NULL, OPT_EDU_POLL },
	{ NULL, 0, NULL, 0 },
};

static const char vfio_options_usage[] =
	"      --device BDF        the VFIO device to use (also PINSUITE_VFIO_DEVICE);\n"
	"                          inside the suite's VM (PINSUITE_IN_VM=1) the edu\n"
	"                          device is used by default\n"
	"      --allow-rebind      bind the device to vfio-pci if it is bound elsewhere\n"
	"                          (put back when the run ends, also if it is killed)\n"
	"      --edu-poll          wait for edu DMA by polling instead of its MSI\n";

static int vfio_option(int opt, const char *arg, char *why, size_t len)
{
	switch (opt) {
	case OPT_DEVICE:
		opt_device = arg;
		return 0;
	case OPT_ALLOW_REBIND:
		opt_allow_rebind = true;
		return 0;
	case OPT_EDU_POLL:
		vfio_edu_poll = true;
		return 0;
	}
	snprintf(why, len, "unknown option");
	return -1;
}

static int vfio_options_validate(char *why, size_t len)
{
	return vfio_device_select(opt_device, opt_allow_rebind, why, len);
}

const struct pinsuite_options vfio_suite_options = {
	.usage = vfio_options_usage,
	.longopts = vfio_options,
	.option = vfio_option,
	.validate = vfio_options_validate,
};

const char *vfio_device(void)
{
	return dev.bdf[0] ? dev.bdf : NULL;
}

bool vfio_device_is_edu(void)
{
	return dev.edu;
}

/* The driver @bdf is bound to, "" for none. */
static void current_driver(char *out, size_t len)
{
	char path[160], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", dev.bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		*out = '\0';
		return;
	}
	link[n] = '\0';
	snprintf(out, len, "%s", basename(link));
}

static int dev_write(const char *file, const char *value)
{
	char path[160];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", dev.bdf, file);
	return write_file(path, value);
}

/*
 * Hand the device to vfio-pci.  The way back is registered with sysstate
 * first (newest runs first): unbind from vfio-pci, put driver_override
 * back, bind the old driver again.
 */
static int rebind(const char *old, char *why, size_t len)
{
	char path[160], override[64] = "", now[64];
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	int ret, i;

	if (access(PCI_DRIVERS "/vfio-pci", F_OK)) {
		snprintf(why, len, "no vfio-pci driver (%s; modprobe vfio-pci)",
			 kconfig_why("CONFIG_VFIO_PCI"));
		return -ENOENT;
	}
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", dev.bdf);
	if (read_file(path, override, sizeof(override)) || !strncmp(override, "(null)", 6))
		snprintf(override, sizeof(override), "\n");
	if (*old) {
		snprintf(path, sizeof(path), PCI_DRIVERS "/%s/bind", old);
		ret = sysstate_undo(path, dev.bdf);
	} else {
		ret = 0;
	}
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", dev.bdf);
	if (!ret)
		ret = sysstate_undo(path, override);
	if (!ret)
		ret = sysstate_undo(PCI_DRIVERS "/vfio-pci/unbind", dev.bdf);
	if (ret) {
		snprintf(why, len, "cannot register the binding's restore: %s", strerror(-ret));
		return ret;
	}
	ret = dev_write("driver_override", "vfio-pci");
	if (!ret && *old)
		ret = dev_write("driver/unbind", dev.bdf);
	if (!ret)
		ret = write_file("/sys/bus/pci/drivers_probe", dev.bdf);
	for (i = 0; i < 100; i++) {
		current_driver(now, sizeof(now));
		if (!strcmp(now, "vfio-pci"))
			break;
		nanosleep(&ms, NULL);
	}
	if (strcmp(now, "vfio-pci")) {
		snprintf(why, len, "binding %s to vfio-pci failed%s%s", dev.bdf,
			 ret ? ": " : "", ret ? strerror(-ret) : "");
		return ret ? ret : -EIO;
	}
	ksft_print_msg("%s: bound to vfio-pci (was %s); restored when the run ends\n",
		       dev.bdf, *old ? old : "unbound");
	return 0;
}

/* Make the device usable by vfio-pci; a reason on failure. */
static bool bind_device(char *why, size_t len)
{
	char path[160], drv[64], link[256];
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	ssize_t n;
	int i;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s", dev.bdf);
	if (access(path, F_OK)) {
		snprintf(why, len, "no PCI device %s (from %s)", dev.bdf, dev.origin);
		return false;
	}
	/* Without an IOMMU group vfio-pci cannot take the device anyway. */
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", dev.bdf);
	if (access(path, F_OK)) {
		snprintf(why, len, "device %s has no IOMMU group (no IOMMU? boot with intel_iommu=on)",
			 dev.bdf);
		return false;
	}
	current_driver(drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci")) {
		/* Inside the suite's VM the edu device is ours to bind. */
		bool ours = dev.in_vm && dev.edu && !*drv;

		if (!dev.allow_rebind && !ours) {
			snprintf(why, len, "device %s is bound to %s, not vfio-pci (bind it, or pass --allow-rebind)",
				 dev.bdf, *drv ? drv : "no driver");
			return false;
		}
		if (geteuid()) {
			snprintf(why, len, "binding %s to vfio-pci needs root", dev.bdf);
			return false;
		}
		if (rebind(drv, why, len))
			return false;
	}
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", dev.bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(why, len, "device %s has no IOMMU group (no IOMMU? boot with intel_iommu=on)",
			 dev.bdf);
		return false;
	}
	link[n] = '\0';
	dev.group = atoi(basename(link));
	/* devtmpfs creates the group node a moment after the bind. */
	snprintf(path, sizeof(path), "/dev/vfio/%d", dev.group);
	for (i = 0; i < 100 && access(path, F_OK); i++)
		nanosleep(&ms, NULL);
	return true;
}

static void find_cdev(void)
{
	char path[160];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vfio-dev", dev.bdf);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(dev.cdev, sizeof(dev.cdev), "/dev/vfio/devices/%.32s", de->d_name);
	closedir(d);
}

static void probe(enum vfio_path path)
{
	char *why = reasons[path];
	size_t len = sizeof(reasons[path]);
	struct vfio_ctx c;
	int ret;

	if (*why)
		return;
	ret = vfio_ctx_open(&c, path, path == VP_TYPE1 || path == VP_CDEV, why, len);
	if (!ret)
		vfio_ctx_close(&c);
}

void vfio_prepare(void)
{
	char why[KSFT_REASON_MAX] = "";
	int p;

	if (prepared)
		return;
	prepared = true;
	/* The kernel's side first: without it no device would help. */
	if (access("/dev/vfio/vfio", F_OK) && access("/sys/bus/pci/drivers/vfio-pci", F_OK))
		snprintf(reasons[VP_TYPE1], sizeof(reasons[VP_TYPE1]),
			 "%s (no /dev/vfio/vfio, no vfio-pci driver)", kconfig_why("CONFIG_VFIO"));
	if (access("/dev/iommu", F_OK)) {
		snprintf(reasons[VP_CDEV], sizeof(reasons[VP_CDEV]), "%s (no /dev/iommu)",
			 kconfig_why("CONFIG_IOMMUFD"));
		snprintf(reasons[VP_MOCK], sizeof(reasons[VP_MOCK]), "%s", reasons[VP_CDEV]);
		snprintf(reasons[VP_COMPAT], sizeof(reasons[VP_COMPAT]), "%s", reasons[VP_CDEV]);
	}
	if (*reasons[VP_TYPE1] && !*reasons[VP_CDEV])
		snprintf(reasons[VP_CDEV], sizeof(reasons[VP_CDEV]), "%s", reasons[VP_TYPE1]);
	if (*reasons[VP_TYPE1]) {
		/* Said above. */
	} else if (!dev.bdf[0]) {
		for (p = VP_TYPE1; p <= VP_CDEV; p++)
			if (!*reasons[p])
				snprintf(reasons[p], sizeof(reasons[p]),
					 "no VFIO device given (use --device BDF)");
	} else if (!bind_device(why, sizeof(why))) {
		for (p = VP_TYPE1; p <= VP_CDEV; p++)
			if (!*reasons[p])
				snprintf(reasons[p], sizeof(reasons[p]), "%s", why);
	} else {
		find_cdev();
	}
	for (p = 0; p < VP_NR; p++)
		probe(p);
	if (dev.bdf[0])
		ksft_print_msg("VFIO device %s (from %s)%s, IOMMU group %d, cdev %s\n", dev.bdf,
			       dev.origin, dev.edu ? ", QEMU edu: pins observed by DMA" :
			       ", not an edu: pins observed through the pagemap PFN proxy",
			       dev.group, dev.cdev[0] ? dev.cdev : "none");
}

const char *vfio_path_unavailable(enum vfio_path path)
{
	if (!prepared)
		vfio_prepare();
	return reasons[path][0] ? reasons[path] : NULL;
}

const char *vfio_type1_unavailable(void)
{
	return vfio_path_unavailable(VP_TYPE1);
}

const char *vfio_cdev_unavailable(void)
{
	return vfio_path_unavailable(VP_CDEV);
}

const char *iommufd_mock_unavailable(void)
{
	return vfio_path_unavailable(VP_MOCK);
}

const char *iommufd_compat_unavailable(void)
{
	return vfio_path_unavailable(VP_COMPAT);
}

/* Contexts ------------------------------------------------------------- */

static int failed(char *why, size_t len, const char *fmt, ...) __printf(3, 4);
static int failed(char *why, size_t len, const char *fmt, ...)
{
	int err = errno ? errno : EIO;
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(why, len, "%s: %s", what, strerror(err));
	return -err;
}

static int open_iommufd(struct vfio_ctx *c, char *why, size_t len)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	c->container = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (c->container < 0) {
		if (errno == ENOENT) {
			snprintf(why, len, "no /dev/iommu (%s)", kconfig_why("CONFIG_IOMMUFD"));
			return -ENOENT;
		}
		return failed(why, len, "open(/dev/iommu)%s",
			      errno == EACCES ? " (needs root)" : "");
	}
	if (ioctl(c->container, IOMMU_IOAS_ALLOC, &alloc))
		return failed(why, len, "IOMMU_IOAS_ALLOC");
	c->ioas = alloc.out_ioas_id;
	return 0;
}

/* The first IOMMU registered in /sys/class/iommu that is not the mock one. */
static bool other_iommu(char *name, size_t len)
{
	struct dirent *de;
	DIR *d = opendir("/sys/class/iommu");
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strstr(de->d_name, "iommufd"))
			continue;
		snprintf(name, len, "%.*s", (int)len - 1, de->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

static int open_mock(struct vfio_ctx *c, char *why, size_t len)
{
	struct ps_iommu_test_cmd cmd;
	char iommu[64];
	int ret;

	ret = open_iommufd(c, why, len);
	if (ret)
		return ret;
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.op = PS_IOMMU_TEST_OP_MOCK_DOMAIN;
	cmd.id = c->ioas;
	if (ioctl(c->container, PS_IOMMU_TEST_CMD, &cmd)) {
		if (errno == ENOTTY) {
			snprintf(why, len, "no iommufd test ioctls (%s)",
				 kconfig_why("CONFIG_IOMMUFD_TEST"));
			return -ENOTTY;
		}
		/*
		 * Before the mock IOMMU had a fwnode of its own, a kernel with
		 * a real IOMMU driver (VT-d, AMD-Vi) probed the mock device with
		 * that driver, and binding it failed.
		 */
		if (errno == EINVAL && other_iommu(iommu, sizeof(iommu))) {
			snprintf(why, len, "mock domain: EINVAL, this kernel cannot bind the mock device while another IOMMU (%s) is active; boot with intel_iommu=off",
				 iommu);
			return -EINVAL;
		}
		return failed(why, len, "IOMMU_TEST_OP_MOCK_DOMAIN");
	}
	c->hwpt = cmd.mock_domain.out_hwpt_id;
	if (c->path != VP_COMPAT)
		return 0;
	{
		struct iommu_vfio_ioas vi = {
			.size = sizeof(vi), .ioas_id = c->ioas, .op = IOMMU_VFIO_IOAS_SET,
		};

		if (ioctl(c->container, IOMMU_VFIO_IOAS, &vi))
			return failed(why, len, "IOMMU_VFIO_IOAS(SET)");
	}
	if (ioctl(c->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		return failed(why, len, "VFIO_CHECK_EXTENSION(TYPE1v2) on /dev/iommu");
	if (ioctl(c->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return failed(why, len, "VFIO_SET_IOMMU(TYPE1v2) on /dev/iommu");
	return 0;
}

static int open_type1(struct vfio_ctx *c, bool device, char *why, size_t len)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[64];

	c->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (c->container < 0) {
		if (errno == ENOENT) {
			snprintf(why, len, "no /dev/vfio/vfio (%s)",
				 kconfig_why("CONFIG_VFIO_CONTAINER"));
			return -ENOENT;
		}
		return failed(why, len, "open(/dev/vfio/vfio)");
	}
	if (ioctl(c->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		snprintf(why, len, "VFIO_GET_API_VERSION is not %d", VFIO_API_VERSION);
		return -EPROTO;
	}
	if (ioctl(c->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		snprintf(why, len, "no VFIO_TYPE1v2_IOMMU (%s)",
			 kconfig_why("CONFIG_VFIO_IOMMU_TYPE1"));
		return -ENOTSUP;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", dev.group);
	c->group = open(path, O_RDWR | O_CLOEXEC);
	if (c->group < 0)
		return failed(why, len, "open(%s)%s", path,
			      errno == EACCES ? " (needs root or the group's owner)" :
			      errno == EBUSY ? " (group in use by another process)" : "");
	if (ioctl(c->group, VFIO_GROUP_GET_STATUS, &st))
		return failed(why, len, "VFIO_GROUP_GET_STATUS");
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		snprintf(why, len, "IOMMU group %d not viable: all its devices must be bound to vfio-pci or to no driver",
			 dev.group);
		return -EBUSY;
	}
	if (ioctl(c->group, VFIO_GROUP_SET_CONTAINER, &c->container))
		return failed(why, len, "VFIO_GROUP_SET_CONTAINER");
	if (ioctl(c->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return failed(why, len, "VFIO_SET_IOMMU(TYPE1v2)%s", errno == EPERM ?
			      " (no interrupt remapping? vfio_iommu_type1.allow_unsafe_interrupts)" :
			      "");
	if (!device)
		return 0;
	c->device = ioctl(c->group, VFIO_GROUP_GET_DEVICE_FD, dev.bdf);
	if (c->device < 0)
		return failed(why, len, "VFIO_GROUP_GET_DEVICE_FD(%s)%s", dev.bdf,
			      errno == EBUSY ? " (device in use)" : "");
	return 0;
}

static int open_cdev(struct vfio_ctx *c, char *why, size_t len)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	int ret;

	if (!dev.cdev[0]) {
		snprintf(why, len, "no VFIO device cdev for %s (%s; kernel v6.6+)", dev.bdf,
			 kconfig_why("CONFIG_VFIO_DEVICE_CDEV"));
		return -ENOENT;
	}
	if (access("/dev/iommu", F_OK)) {
		snprintf(why, len, "no /dev/iommu (%s)", kconfig_why("CONFIG_IOMMUFD"));
		return -ENOENT;
	}
	c->device = open(dev.cdev, O_RDWR | O_CLOEXEC);
	if (c->device < 0)
		return failed(why, len, "open(%s)%s", dev.cdev,
			      errno == EBUSY ? " (device in use)" : "");
	ret = open_iommufd(c, why, len);
	if (ret)
		return ret;
	bind.iommufd = c->container;
	if (ioctl(c->device, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return failed(why, len, "VFIO_DEVICE_BIND_IOMMUFD");
	c->devid = bind.out_devid;
	at.pt_id = c->ioas;
	if (ioctl(c->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		return failed(why, len, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	return 0;
}

int vfio_ctx_open(struct vfio_ctx *c, enum vfio_path path, bool device, char *why, size_t len)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->path = path;
	c->container = c->group = c->device = -1;
	c->edu.efd = -1;
	if ((path == VP_TYPE1 || path == VP_CDEV) && !dev.bdf[0]) {
		snprintf(why, len, "no VFIO device given (use --device BDF)");
		return -ENODEV;
	}
	switch (path) {
	case VP_TYPE1:
		ret = open_type1(c, device, why, len);
		break;
	case VP_CDEV:
		ret = open_cdev(c, why, len);
		break;
	default:
		ret = open_mock(c, why, len);
		break;
	}
	if (!ret && c->device >= 0 && dev.edu) {
		char what[KSFT_REASON_MAX];

		ret = edu_open(&c->edu, c->device, vfio_edu_poll, what, sizeof(what));
		if (ret)
			snprintf(why, len, "edu at %s: %s", dev.bdf, what);
		c->has_edu = !ret;
	}
	if (ret)
		vfio_ctx_close(c);
	return ret;
}

void vfio_ctx_close(struct vfio_ctx *c)
{
	if (c->has_edu)
		edu_close(&c->edu);
	c->has_edu = false;
	if (c->device >= 0)
		close(c->device);
	if (c->group >= 0)
		close(c->group);
	if (c->container >= 0)
		close(c->container);
	c->device = c->group = c->container = -1;
}

int vfio_ctx_map(struct vfio_ctx *c, const void *vaddr, uint64_t iova, size_t len,
		 bool writable)
{
	if (c->path == VP_TYPE1 || c->path == VP_COMPAT) {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | (writable ? VFIO_DMA_MAP_FLAG_WRITE : 0),
			.vaddr = (uintptr_t)vaddr,
			.iova = iova,
			.size = len,
		};

		return ioctl(c->container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
	}
	{
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 (writable ? IOMMU_IOAS_MAP_WRITEABLE : 0),
			.ioas_id = c->ioas,
			.user_va = (uintptr_t)vaddr,
			.length = len,
			.iova = iova,
		};

		return ioctl(c->container, IOMMU_IOAS_MAP, &map) ? -errno : 0;
	}
}

int vfio_ctx_unmap(struct vfio_ctx *c, uint64_t iova, size_t len, uint64_t *unmapped)
{
	int ret;

	if (c->path == VP_TYPE1 || c->path == VP_COMPAT) {
		struct vfio_iommu_type1_dma_unmap um = {
			.argsz = sizeof(um), .iova = iova, .size = len,
		};

		ret = ioctl(c->container, VFIO_IOMMU_UNMAP_DMA, &um) ? -errno : 0;
		if (unmapped)
			*unmapped = ret ? 0 : um.size;
	} else {
		struct iommu_ioas_unmap um = {
			.size = sizeof(um), .ioas_id = c->ioas, .iova = iova, .length = len,
		};

		ret = ioctl(c->container, IOMMU_IOAS_UNMAP, &um) ? -errno : 0;
		if (unmapped)
			*unmapped = ret ? 0 : um.length;
	}
	return ret;
}

int vfio_ctx_check_map(struct vfio_ctx *c, uint64_t iova, const void *uptr, size_t len)
{
	struct ps_iommu_test_cmd cmd;

	if (c->path != VP_MOCK && c->path != VP_COMPAT)
		return -EOPNOTSUPP;
	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.op = PS_IOMMU_TEST_OP_MD_CHECK_MAP;
	cmd.id = c->hwpt;
	cmd.check_map.iova = iova;
	cmd.check_map.length = len;
	cmd.check_map.uptr = (uintptr_t)uptr;
	return ioctl(c->container, PS_IOMMU_TEST_CMD, &cmd) ? -errno : 0;
}

long vfio_ctx_dma_avail(struct vfio_ctx *c)
{
	struct vfio_iommu_type1_info *info;
	struct vfio_info_cap_header *hdr;
	size_t sz = 4096, off;
	long avail = -ENOENT;

	if (c->path != VP_TYPE1 && c->path != VP_COMPAT)
		return -EOPNOTSUPP;
	info = calloc(1, sz);
	if (!info)
		return -ENOMEM;
	info->argsz = sz;
	if (ioctl(c->container, VFIO_IOMMU_GET_INFO, info)) {
		avail = -errno;
		goto out;
	}
	if (!(info->flags & VFIO_IOMMU_INFO_CAPS) || !info->cap_offset)
		goto out;
	/* Walk the capability chain: offsets from the start of @info. */
	for (off = info->cap_offset; off && off + sizeof(*hdr) <= sz; off = hdr->next) {
		hdr = (void *)((char *)info + off);
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			avail = ((struct vfio_iommu_type1_info_dma_avail *)hdr)->avail;
			break;
		}
	}
out:
	free(info);
	return avail;
}

/* The iommufd emulated access ------------------------------------------- */

static int test_cmd(int fd, struct ps_iommu_test_cmd *cmd)
{
	return ioctl(fd, PS_IOMMU_TEST_CMD, cmd) ? -errno : 0;
}

static void test_cmd_init(struct ps_iommu_test_cmd *cmd, __u32 op, __u32 id)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->size = sizeof(*cmd);
	cmd->op = op;
	cmd->id = id;
}

int iommufd_access_open(struct iommufd_access *a, bool mock, char *why, size_t len)
{
	struct ps_iommu_test_cmd cmd;
	int ret;

	a->fd = -1;
	if (mock) {
		ret = vfio_ctx_open(&a->c, VP_MOCK, false, why, len);
		if (ret)
			return ret;
	} else {
		memset(&a->c, 0, sizeof(a->c));
		a->c.path = VP_MOCK;
		a->c.container = a->c.group = a->c.device = -1;
		a->c.edu.efd = -1;
		ret = open_iommufd(&a->c, why, len);
		if (ret)
			goto fail;
	}
	test_cmd_init(&cmd, PS_IOMMU_TEST_OP_CREATE_ACCESS, a->c.ioas);
	cmd.create_access.flags = PS_MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	ret = test_cmd(a->c.container, &cmd);
	if (ret == -ENOTTY) {
		snprintf(why, len, "no iommufd test ioctls (%s)", kconfig_why("CONFIG_IOMMUFD_TEST"));
		goto fail;
	}
	if (ret == -EOPNOTSUPP) {
		snprintf(why, len, "this kernel's iommufd test access cannot pin pages (no MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)");
		goto fail;
	}
	if (ret) {
		errno = -ret;
		ret = failed(why, len, "IOMMU_TEST_OP_CREATE_ACCESS");
		goto fail;
	}
	a->fd = (int)cmd.create_access.out_access_fd;
	return 0;
fail:
	vfio_ctx_close(&a->c);
	return ret;
}

void iommufd_access_close(struct iommufd_access *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	vfio_ctx_close(&a->c);
}

int iommufd_access_pages(struct iommufd_access *a, uint64_t iova, size_t len, const void *uptr,
			 bool write, uint32_t *id)
{
	struct ps_iommu_test_cmd cmd;
	int ret;

	test_cmd_init(&cmd, PS_IOMMU_TEST_OP_ACCESS_PAGES, (__u32)a->fd);
	cmd.access_pages.flags = write ? PS_MOCK_FLAGS_ACCESS_WRITE : 0;
	cmd.access_pages.iova = iova;
	cmd.access_pages.length = len;
	cmd.access_pages.uptr = (uintptr_t)uptr;
	ret = test_cmd(a->c.container, &cmd);
	if (!ret && id)
		*id = cmd.access_pages.out_access_pages_id;
	return ret;
}

int iommufd_access_unpin(struct iommufd_access *a, uint32_t id)
{
	struct ps_iommu_test_cmd cmd;

	test_cmd_init(&cmd, PS_IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, (__u32)a->fd);
	cmd.destroy_access_pages.access_pages_id = id;
	return test_cmd(a->c.container, &cmd);
}

int iommufd_access_rw(struct iommufd_access *a, uint64_t iova, void *buf, size_t len,
		      bool write)
{
	struct ps_iommu_test_cmd cmd;

	test_cmd_init(&cmd, PS_IOMMU_TEST_OP_ACCESS_RW, (__u32)a->fd);
	cmd.access_rw.iova = iova;
	cmd.access_rw.length = len;
	cmd.access_rw.uptr = (uintptr_t)buf;
	cmd.access_rw.flags = PS_MOCK_ACCESS_RW_SLOW_PATH | (write ? PS_MOCK_ACCESS_RW_WRITE : 0);
	return test_cmd(a->c.container, &cmd);
}

static const char *access_probe(bool mock, char *why, size_t len)
{
	struct iommufd_access a;

	if (access("/dev/iommu", F_OK)) {
		snprintf(why, len, "%s (no /dev/iommu)", kconfig_why("CONFIG_IOMMUFD"));
		return why;
	}
	if (iommufd_access_open(&a, mock, why, len))
		return why;
	iommufd_access_close(&a);
	return NULL;
}

const char *iommufd_access_unavailable(void)
{
	static char why[KSFT_REASON_MAX];
	static const char *reason;
	static bool probed;

	if (!probed) {
		probed = true;
		reason = access_probe(false, why, sizeof(why));
	}
	return reason;
}

const char *iommufd_access_mock_unavailable(void)
{
	static char why[KSFT_REASON_MAX];
	static const char *reason;
	static bool probed;

	if (!probed) {
		probed = true;
		/* The mock domain's own reason first: it names the boot option. */
		reason = iommufd_access_unavailable();
		if (!reason)
			reason = iommufd_mock_unavailable();
		if (!reason)
			reason = access_probe(true, why, sizeof(why));
	}
	return reason;
}
