// SPDX-License-Identifier: GPL-2.0
/*
 * veth pairs in namespaces of our own, and rxe links, through netlink.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <rdma/rdma_netlink.h>

#include "netlink.h"
#include "util.h"

struct nlreq {
	struct nlmsghdr *h;
	union {
		struct nlmsghdr align;
		char buf[1024];
	};
};

static void req_init(struct nlreq *r, unsigned short type, unsigned short flags)
{
	memset(r->buf, 0, sizeof(r->buf));
	r->h = (struct nlmsghdr *)r->buf;
	r->h->nlmsg_len = NLMSG_LENGTH(0);
	r->h->nlmsg_type = type;
	r->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h->nlmsg_seq = 1;
}

/* Append @len bytes of payload (no attribute header), aligned. */
static void *req_put(struct nlreq *r, const void *data, size_t len)
{
	char *p = r->buf + NLMSG_ALIGN(r->h->nlmsg_len);

	if (NLMSG_ALIGN(r->h->nlmsg_len) + NLA_ALIGN(len) > sizeof(r->buf))
		return NULL;
	if (data)
		memcpy(p, data, len);
	r->h->nlmsg_len = NLMSG_ALIGN(r->h->nlmsg_len) + NLA_ALIGN(len);
	return p;
}

static struct nlattr *attr(struct nlreq *r, unsigned short type, const void *data, size_t len)
{
	struct nlattr *a = req_put(r, NULL, NLA_HDRLEN + len);

	if (!a)
		return NULL;
	a->nla_type = type;
	a->nla_len = (unsigned short)(NLA_HDRLEN + len);
	if (data)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	return a;
}

static struct nlattr *attr_str(struct nlreq *r, unsigned short type, const char *s)
{
	return attr(r, type, s, strlen(s) + 1);
}

static struct nlattr *attr_u32(struct nlreq *r, unsigned short type, uint32_t v)
{
	return attr(r, type, &v, sizeof(v));
}

static struct nlattr *nest_begin(struct nlreq *r, unsigned short type)
{
	return attr(r, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct nlreq *r, struct nlattr *a)
{
	if (a)
		a->nla_len = (unsigned short)(r->buf + r->h->nlmsg_len - (char *)a);
}

/* Send @r on a @proto socket and wait for the kernel's answer: 0 or -errno. */
static int req_talk(struct nlreq *r, int proto)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr align;
		char buf[4096];
	} ans;
	struct nlmsghdr *h;
	ssize_t n;
	int fd, ret = -EIO;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	if (sendto(fd, r->buf, r->h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		n = recv(fd, ans.buf, sizeof(ans.buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		for (h = &ans.align; NLMSG_OK(h, (unsigned int)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				ret = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
		}
	}
out:
	close(fd);
	return ret;
}

static int link_change(int ifindex, unsigned int mtu, bool up, int netns_fd)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nlreq r;

	if (up) {
		ifi.ifi_flags = IFF_UP;
		ifi.ifi_change = IFF_UP;
	}
	req_init(&r, RTM_NEWLINK, 0);
	req_put(&r, &ifi, sizeof(ifi));
	if (mtu)
		attr_u32(&r, IFLA_MTU, mtu);
	if (netns_fd >= 0)
		attr_u32(&r, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	return req_talk(&r, NETLINK_ROUTE);
}

int link_up(const char *name, unsigned int mtu)
{
	int idx = (int)if_nametoindex(name);

	return idx ? link_change(idx, mtu, true, -1) : -ENODEV;
}

static int veth_create(struct vethpair *v, unsigned int mtu)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlattr *info, *data, *peer;
	struct nlreq r;
	int ret;

	snprintf(v->a, sizeof(v->a), "psa%d", (int)getpid());
	snprintf(v->b, sizeof(v->b), "psb%d", (int)getpid());
	req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	req_put(&r, &ifi, sizeof(ifi));
	attr_str(&r, IFLA_IFNAME, v->a);
	if (mtu)
		attr_u32(&r, IFLA_MTU, mtu);
	info = nest_begin(&r, IFLA_LINKINFO);
	attr_str(&r, IFLA_INFO_KIND, "veth");
	data = nest_begin(&r, IFLA_INFO_DATA);
	peer = nest_begin(&r, VETH_INFO_PEER);
	req_put(&r, &ifi, sizeof(ifi));
	attr_str(&r, IFLA_IFNAME, v->b);
	if (mtu)
		attr_u32(&r, IFLA_MTU, mtu);
	nest_end(&r, peer);
	nest_end(&r, data);
	nest_end(&r, info);
	ret = req_talk(&r, NETLINK_ROUTE);
	if (ret)
		return ret;
	v->ifindex_a = (int)if_nametoindex(v->a);
	v->ifindex_b = (int)if_nametoindex(v->b);
	return v->ifindex_a && v->ifindex_b ? 0 : -ENODEV;
}

int veth_in_private_netns(struct vethpair *v, unsigned int mtu, const char **step)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->nsfd = -1;
	*step = "unshare(CLONE_NEWNET)";
	if (unshare(CLONE_NEWNET))
		return -errno;
	/* Our namespace's own settings: they go with it. */
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	*step = "creating a veth pair (RTM_NEWLINK)";
	ret = veth_create(v, mtu);
	if (ret)
		return ret;
	*step = "setting the veth pair up";
	ret = link_change(v->ifindex_a, 0, true, -1);
	if (!ret)
		ret = link_change(v->ifindex_b, 0, true, -1);
	return ret;
}

int veth_to_private_netns(struct vethpair *v, const char **step)
{
	int self, ns = -1, ret;

	memset(v, 0, sizeof(*v));
	v->nsfd = -1;
	*step = "opening /proc/self/ns/net";
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	*step = "unshare(CLONE_NEWNET)";
	if (unshare(CLONE_NEWNET)) {
		ret = -errno;
		close(self);
		return ret;
	}
	ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		*step = "opening our /proc/self/ns/net";
		ret = -errno;
		goto back;
	}
	*step = "creating a veth pair (RTM_NEWLINK)";
	ret = veth_create(v, 0);
	if (ret)
		goto back;
	*step = "setting the private end up";
	ret = link_change(v->ifindex_b, 0, true, -1);
	if (ret)
		goto back;
	*step = "moving one end out of the private namespace";
	ret = link_change(v->ifindex_a, 0, false, self);
back:
	if (setns(self, CLONE_NEWNET) && !ret) {
		*step = "setns() back";
		ret = -errno;
	}
	close(self);
	if (!ret) {
		char path[96];

		/*
		 * No duplicate address detection on our own device (its
		 * setting goes with it): its IPv6 link-local address is
		 * usable at once.
		 */
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", v->a);
		write_file(path, "0");
		*step = "setting the outer end up";
		v->ifindex_a = (int)if_nametoindex(v->a);
		ret = v->ifindex_a ? link_change(v->ifindex_a, 0, true, -1) : -ENODEV;
	}
	if (ret) {
		/* Closing the namespace takes the pair down with it. */
		if (ns >= 0)
			close(ns);
		return ret;
	}
	v->nsfd = ns;
	return 0;
}

int rdma_link_add(const char *name, const char *type, const char *ndev)
{
	struct nlreq r;

	req_init(&r, RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_NEWLINK), 0);
	attr_str(&r, RDMA_NLDEV_ATTR_DEV_NAME, name);
	attr_str(&r, RDMA_NLDEV_ATTR_LINK_TYPE, type);
	attr_str(&r, RDMA_NLDEV_ATTR_NDEV_NAME, ndev);
	return req_talk(&r, NETLINK_RDMA);
}

int rdma_link_del(unsigned int index)
{
	struct nlreq r;

	req_init(&r, RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_DELLINK), 0);
	attr_u32(&r, RDMA_NLDEV_ATTR_DEV_INDEX, index);
	return req_talk(&r, NETLINK_RDMA);
}
