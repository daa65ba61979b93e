/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RDMA memory registration as a long-term pin, on soft-RoCE (rdma_rxe).
 *
 * ibv_reg_mr() pins the range in ib_umem_get(): FOLL_LONGTERM, plus
 * FOLL_WRITE only when the access is writable (IBV_ACCESS_LOCAL_WRITE,
 * REMOTE_WRITE, REMOTE_ATOMIC) - a R/O pin since b40656aa7d55 (v6.2),
 * FOLL_FORCE | FOLL_WRITE before.  It charges mm->pinned_vm (VmPin)
 * against RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK.
 *
 * Two RC queue pairs of one rxe device, connected to each other through
 * the device's own RoCE v2 GID, loop back in software: an RDMA READ from
 * the MR copies the pinned pages (rxe maps the pages the umem pinned), an
 * RDMA WRITE into it stores into them.
 *
 * The rxe device sits on a veth pair whose other end is in a network
 * namespace held only by this process (lib/netlink.h): when the process
 * is gone, the kernel removes the pair and the device.
 *
 * Links with libibverbs; a static build links the rxe provider in
 * (RDMA_STATIC_PROVIDERS=rxe).  Only the binaries that list this object
 * in the Makefile link it.
 */
#ifndef PINSUITE_PIN_RDMA_H
#define PINSUITE_PIN_RDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <infiniband/verbs.h>

#include "pin.h"

/* R/O (IBV_ACCESS_REMOTE_READ) or R/W (LOCAL_WRITE | REMOTE_READ | REMOTE_WRITE). */
extern const struct pin_ops pin_rdma;

/* The same registration in stages (lib/pinreq.h): ibv_reg_mr() alone. */
extern const struct pinreq_ops pinreq_rdma;

/*
 * Register @len bytes at @addr, R/O or R/W, on a fresh protection domain
 * and deregister: 0 or -errno, the failing step in @step.
 */
int rdma_try_register(char *addr, size_t len, bool writable, const char **step);

/* In the runner, once: make the suite's rxe device (root). */
void rdma_setup(void);
/* The feature probe: NULL when the device is there, else why not (fixed per cause). */
const char *rdma_unavailable(void);

/* The access flags of a R/O and of a R/W registration. */
#define RDMA_ACCESS_RO	IBV_ACCESS_REMOTE_READ
#define RDMA_ACCESS_RW	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE)

/*
 * A verbs context on the suite's device: protection domain, completion
 * queue, two connected RC queue pairs and a local scratch buffer of
 * @scratch_len bytes (0: none) registered for local writes.
 */
struct rdma_ctx {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
	char *scratch;
	size_t scratch_len;
	struct ibv_mr *scratch_mr;
};

/* 0 or -errno, the failing step in @step. */
int rdma_open(struct rdma_ctx *r, size_t scratch_len, const char **step);
/* Only the context and the protection domain (for registrations alone). */
int rdma_open_pd(struct rdma_ctx *r, const char **step);
void rdma_close(struct rdma_ctx *r);

/*
 * RDMA READ @len bytes at @remote of @mr into the scratch buffer, or
 * RDMA WRITE them from it.  0, -errno, or -EREMOTEIO when the completion
 * reports an error (its status in @status when not NULL).
 */
int rdma_read(struct rdma_ctx *r, const struct ibv_mr *mr, const void *remote, size_t len,
	      int *status);
int rdma_write(struct rdma_ctx *r, const struct ibv_mr *mr, void *remote, size_t len,
	       int *status);

/*
 * ibv_rereg_mr(IBV_REREG_MR_CHANGE_ACCESS) straight to the kernel
 * (rdma-core's rxe provider has no rereg_mr of its own).  On success the
 * MR's keys are updated.  0 or -errno.
 */
int rdma_rereg_access(struct ibv_mr *mr, int access);

#endif /* PINSUITE_PIN_RDMA_H */
