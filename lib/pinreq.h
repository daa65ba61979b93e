/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pin requests in stages: what a mechanism sets up before it is asked to
 * pin (a gup_test file, an io_uring ring, a VFIO container or iommufd
 * IOAS), the one call that pins (START, REGISTER_BUFFERS, MAP_DMA,
 * IOAS_MAP), its undo and the teardown.
 *
 * pin_ops (lib/pin.h) take a pin in one step, which suits checks of the
 * pinned pages.  Checks of the request itself need the stages apart: the
 * call under test alone runs with a fault injected (fail-nth), or after
 * the process gave up its privileges (RLIMIT_MEMLOCK) while the set-up
 * still needed them.
 */
#ifndef PINSUITE_PINREQ_H
#define PINSUITE_PINREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "need.h"
#include "pin_vfio.h"

struct pinreq;

struct pinreq_ops {
	const char *name;	/* "GUP", "io_uring fixed buffer", "VFIO type1", ... */
	const char *call;	/* the call that pins: "PIN_LONGTERM_TEST_START" */
	/* The charge the pin shows in /proc/self/status ("VmPin", "VmLck"), or NULL. */
	const char *charge;
	/*
	 * The call copies a result back once its work is done (IOAS_MAP's
	 * IOVA): when that copy fails, it returns EFAULT with the range mapped.
	 */
	bool replies;
	/*
	 * The set-up is charged to whoever makes it (an io_uring ring since
	 * v6.14): an unprivileged case makes it after giving up privileges.
	 * Else the set-up may need them (VFIO, RDMA, AF_XDP): made before.
	 */
	bool open_unprivileged;
	/* What the request fails with beyond RLIMIT_MEMLOCK (ENOMEM, ENOBUFS). */
	int limit_err;
	/*
	 * A worker takes the charge off a moment after undo() or close():
	 * a request that fits the limit retries @limit_err for a moment, and
	 * so does open() of an unprivileged set-up.
	 */
	bool uncharged_late;
	/* ... and unpins a moment later, too: released cases wait for it. */
	bool unpinned_late;
	struct need need;	/* the mechanism's feature probe */
	int (*open)(struct pinreq *r, char *why, size_t len);	/* 0 or -errno (why) */
	int (*request)(struct pinreq *r, char *addr, size_t len);	/* 0 or -errno */
	int (*undo)(struct pinreq *r);	/* drop what request() pinned; 0 or -errno */
	void (*close)(struct pinreq *r);
};

struct pinreq {
	const struct pinreq_ops *ops;
	bool writable;
	bool opened;
	bool pinned;
	int fd;
	char *addr;
	size_t len;
	void *priv;
};

/*
 * A mechanism's own accounting cases, as its binary declares them
 * (memlock_add(), release_add()); their pcase.ext points here.
 */
struct pin_account {
	const char *what;		/* the cases' names start with it: "RDMA MR" */
	const struct pin_ops *pin;	/* the records' mechanism */
	const struct pinreq_ops *req;	/* the same pin in stages */
	/* RLIMIT_MEMLOCK of the unprivileged cases, and what they request */
	unsigned long limit;
	size_t beyond;
	size_t within;			/* 0: no case within the limit */
	bool vmlck_too;			/* a refused request leaves VmLck alone, too */
	/* The pin goes: how (for the name and the witnesses), and at exit */
	const char *unpinned;		/* "after deregistering"; NULL: no such case */
	bool staged;			/* released cases pin with @req, not pin_take() */
	bool on_exit;			/* ... and when the pinning process exits */
};

/* open() for @ops; 0 or -errno with the reason in @why. */
int pinreq_open(struct pinreq *r, const struct pinreq_ops *ops, bool writable, char *why,
		size_t len);
/* The call under test; 0 or -errno.  Nothing else runs in between. */
int pinreq_request(struct pinreq *r, char *addr, size_t len);
/*
 * Undo what the last request did - also one that reported a failure: 0
 * when there was something to undo (the whole range), -errno otherwise.
 */
int pinreq_undo(struct pinreq *r);
/* Undo a successful request (if any) and tear down. */
void pinreq_close(struct pinreq *r);

extern const struct pinreq_ops pinreq_gup;
extern const struct pinreq_ops pinreq_gup_fast;
extern const struct pinreq_ops pinreq_iouring;
/* VFIO_IOMMU_MAP_DMA / IOMMU_IOAS_MAP on a container or IOAS without DMA */
const struct pinreq_ops *pinreq_vfio(enum vfio_path path);

#endif /* PINSUITE_PINREQ_H */
