/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Longterm pin outcome as expected: which mappings a mechanism that
 * registers a range in one call (an io_uring fixed buffer, an AF_XDP umem,
 * an RDMA MR) may register.  Each try sets up, registers and takes down
 * again; the outcome is judged against the documented rule (the file
 * backings of the catalog, lib/expect.h) or the errno the record names (a
 * PROT_READ anonymous mapping).  A step before the registration that
 * fails is an error of the case, not its outcome.
 */
#ifndef PINSUITE_OUTCOME_H
#define PINSUITE_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"

struct reg_outcome {
	const struct pin_ops *pin;	/* the records' mechanism */
	bool writable;
	const char *what;		/* the names start with it, and it is judged */
	const char *call;		/* the step of try_register() that registers */
	bool whole;			/* the whole mapping, not its first PINCHECK_WINDOW */
	const struct tagsel *tags;	/* what the backing cases guard */
	/* What a case on @bk needs beyond the mechanism; NULL: nothing. */
	struct need (*need)(const struct backing *bk);
	/* Register @len bytes at @addr and take it down: 0 or -errno, the step in @step. */
	int (*try_register)(char *addr, size_t len, bool writable, const char **step);
};

/* "<what>, <backing>": every file backing of the catalog but the variants. */
void outcome_add_backings(const struct reg_outcome *o);

/*
 * "<what><tail>": a populated PROT_READ anonymous mapping, which must be
 * refused with @err (0: must work); @tags what the case guards.
 */
void outcome_add_prot_read(const struct reg_outcome *o, int err, uint64_t tags,
			   const char *tail);

#endif /* PINSUITE_OUTCOME_H */
