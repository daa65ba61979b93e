/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pin mechanisms: ways to take a long-term pin on a user range and to look
 * at the pinned pages from the kernel's side afterwards.
 *
 * A mechanism reads what the pinned pages hold (gup_test READ, io_uring
 * WRITE_FIXED, device DMA from the pinned IOVA) and, if it can, writes
 * through the pin (io_uring READ_FIXED, device DMA to the IOVA).  The
 * checks compare that with what the process's mapping holds.
 */
#ifndef PINSUITE_PIN_H
#define PINSUITE_PIN_H

#include <stdbool.h>
#include <stddef.h>

#include "need.h"

struct pin;

/* A part of the pinned range, in bytes from its start. */
struct pin_extent {
	size_t off;
	size_t len;
};

#define PIN_MAX_EXTENTS	4

struct pin_ops {
	const char *name;	/* "GUP", "GUP-fast", "io_uring fixed buffer", ... */
	const char *reader;	/* how the pin is read: "PIN_LONGTERM_TEST_READ" */
	const char *writer;	/* how it is written, or NULL if it cannot be */
	bool rw_only;		/* cannot take a R/O pin */
	bool charges_memlock;	/* the pin counts against RLIMIT_MEMLOCK */
	/* need.check: a feature probe, run before the case, says why not */
	struct need need;
	int (*pin)(struct pin *p);	/* 0 or -errno */
	int (*read)(struct pin *p, void *buf);		/* p->len bytes; 0 or -errno */
	int (*write)(struct pin *p, const void *buf);	/* p->len bytes; 0 or -errno */
	void (*unpin)(struct pin *p);
	/*
	 * Optional.  A mechanism that cannot move every byte cheaply (device
	 * DMA) says which parts read() and write() move; only those are
	 * compared.  Returns the number of extents, at most PIN_MAX_EXTENTS.
	 */
	int (*extents)(const struct pin *p, struct pin_extent *ext);
	/*
	 * Optional, instead of read(): a mechanism that sees pages, not bytes
	 * (an IOMMU page table, PFNs) checks that the pinned pages are the
	 * pages mapped at @view.  0 they are, 1 they are not (what differs in
	 * @diag), or -errno.
	 */
	int (*check)(struct pin *p, const char *view, char *diag, size_t len);
};

struct pin {
	const struct pin_ops *ops;
	char *addr;		/* the pinned range as registered */
	size_t len;
	bool writable;		/* R/W (FOLL_WRITE) pin */
	int fd;			/* mechanism's file (gup_test, io_uring target) */
	void *priv;		/* mechanism's state */
	unsigned long pfn;	/* PFN of the first page when pinned (root) */
	bool pinned;
};

/*
 * pin_take() could not finish: the pinning thread is stuck in the kernel,
 * faulting the range over and over, and holds the mmap lock - nothing but
 * the end of the process (case_abandon()) gets it out.
 */
#define PIN_STUCK	1

/*
 * Run @fn(@arg), a call that pins @len bytes, in a thread of its own while
 * this one watches for a fault storm without progress: its result, or
 * PIN_STUCK (@what, "RDMA MR R/O registration", names it in the message).
 */
int pin_call_watched(int (*fn)(void *arg), void *arg, const char *what, size_t len);

/* Take a pin; 0, -errno (the mechanism's own error) or PIN_STUCK. */
int pin_take(struct pin *p, const struct pin_ops *ops, char *addr, size_t len, bool writable);
void pin_drop(struct pin *p);
/* The parts of @p that read() and write() move: all of it by default. */
int pin_extents(const struct pin *p, struct pin_extent *ext);

/* gup_test: /sys/kernel/debug/gup_test, PIN_LONGTERM_TEST_* */
extern const struct pin_ops pin_gup;
extern const struct pin_ops pin_gup_fast;
/* Make gup_test reachable: mount debugfs privately if needed (root). */
void gup_test_prepare(void);
/* NULL if usable, else why not. */
const char *gup_test_unavailable(void);

/* io_uring fixed buffers (always R/W: FOLL_WRITE | FOLL_LONGTERM) */
extern const struct pin_ops pin_iouring;
const char *iouring_unavailable(void);
/* A probe: why this kernel's io_uring takes no file-backed buffers, or NULL. */
const char *iouring_file_buffers_unsupported(void);
struct backing;
/* What an io_uring buffer on @bk needs beyond io_uring itself (that probe). */
struct need iouring_buffer_need(const struct backing *bk);
/*
 * Register @len bytes at @addr as fixed buffer on a fresh ring (always
 * R/W: @writable is ignored); returns 0 or the -errno of the failing
 * step, with the step's name in @step.
 */
int iouring_try_register(char *addr, size_t len, bool writable, const char **step);

#endif /* PINSUITE_PIN_H */
