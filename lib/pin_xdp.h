/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AF_XDP umem registration as a long-term pin.
 *
 * setsockopt(SOL_XDP, XDP_UMEM_REG) pins the umem with pin_user_pages(
 * FOLL_WRITE | FOLL_LONGTERM) and maps the pinned pages into the kernel
 * (vmap).  The umem is charged to the user's locked memory (user->locked_vm,
 * not VmPin) against RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK;
 * beyond it the registration fails with ENOBUFS (net/xdp/xdp_umem.c).
 *
 * The socket is bound in copy mode (XDP_COPY) to one end of a veth pair
 * in a network namespace of the pinning thread's own:
 *   reading the pin   the socket transmits umem frames; the kernel copies
 *                     them out of the pinned pages; an AF_PACKET socket on
 *                     the other end captures them;
 *   writing the pin   the other end sends frames; an XDP program (loaded
 *                     with the bpf() system call: six instructions, no
 *                     libbpf) redirects them to the socket, and the kernel
 *                     copies them into the pinned pages at addresses we
 *                     put on the fill ring.
 * Frames land XDP_PACKET_HEADROOM (256) bytes after their fill address,
 * so the first 256 bytes of the range cannot be written: read() and
 * write() move bytes 256 to the end (extents()).
 */
#ifndef PINSUITE_PIN_XDP_H
#define PINSUITE_PIN_XDP_H

#include <stdbool.h>
#include <stddef.h>

#include "pin.h"

/* Always R/W (FOLL_WRITE | FOLL_LONGTERM). */
extern const struct pin_ops pin_xdp;

/* The feature probe: NULL when AF_XDP over veth with an XDP program works. */
const char *xdp_unavailable(void);

/* An AF_XDP socket (root: CAP_NET_RAW), unbound; fd or -errno. */
int xsk_socket(void);
/* Register @len bytes at @addr as the umem of @fd: 0 or -errno. */
int xsk_umem_reg(int fd, void *addr, size_t len);
/*
 * Register @len bytes at @addr as the umem of a fresh socket, which is
 * closed again (always R/W: @writable is ignored): 0 or -errno, the
 * failing step in @step.
 */
int xsk_try_register(char *addr, size_t len, bool writable, const char **step);

/*
 * The registration in stages (lib/pinreq.h): a socket, then XDP_UMEM_REG
 * alone; undo() closes the socket, the only way to drop a umem.  No
 * process charge: the user's locked memory pays, ENOBUFS beyond the limit.
 */
extern const struct pinreq_ops pinreq_xdp;

#endif /* PINSUITE_PIN_XDP_H */
