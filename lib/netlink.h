/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The network a pin mechanism needs, made from C with netlink (the VM's
 * userland is busybox: no ip(8), no rdma(8)), and made so that the
 * kernel takes it down by itself when the process that made it is gone:
 *
 *   a veth pair with at least one end in a network namespace of our own;
 *   destroying that namespace (its last reference is one of our file
 *   descriptors or our process) destroys both ends of the pair, and what
 *   sits on them - an rxe device, an XDP program - goes with them.
 *
 * Nothing here touches the host's settings; no system state to restore.
 */
#ifndef PINSUITE_NETLINK_H
#define PINSUITE_NETLINK_H

#include <stdbool.h>
#include <stddef.h>

/* A veth pair: @a and @b, named after the creating process. */
struct vethpair {
	char a[16];
	char b[16];
	int ifindex_a;		/* in the namespace @a is in */
	int ifindex_b;
	int nsfd;		/* our namespace, held open (-1: we are in it) */
};

/*
 * Move the calling process into a new network namespace of its own and
 * make a veth pair there, both ends up with @mtu (0: the default), IPv6
 * off (no router solicitations on the wire).  The namespace dies with the
 * process.  0 or -errno; @step names the failing step.
 */
int veth_in_private_netns(struct vethpair *v, unsigned int mtu, const char **step);

/*
 * Make a veth pair whose end @a is in the caller's namespace and whose
 * end @b is in a new namespace held only by @v->nsfd (close-on-exec):
 * when every copy of that descriptor is closed - at the latest when the
 * last process holding one is gone - the namespace, the pair and whatever
 * uses @a are destroyed.  @a is brought up.  0 or -errno (@step).
 */
int veth_to_private_netns(struct vethpair *v, const char **step);

/* Set the link named @name up (and its MTU when @mtu is not 0). 0 or -errno. */
int link_up(const char *name, unsigned int mtu);

/*
 * RDMA netlink (iproute2's "rdma link add NAME type TYPE netdev NDEV").
 * 0 or -errno.
 */
int rdma_link_add(const char *name, const char *type, const char *ndev);
/* "rdma link delete": the device of kernel index @index (ibv_get_device_index()). */
int rdma_link_del(unsigned int index);

#endif /* PINSUITE_NETLINK_H */
