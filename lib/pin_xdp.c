// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins through AF_XDP umem registration, read and written in
 * copy mode over a veth pair.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>

#include "ksft.h"
#include "netlink.h"
#include "observe.h"
#include "pin_xdp.h"
#include "pinreq.h"
#include "util.h"

#ifndef AF_XDP
#define AF_XDP		44
#endif
#ifndef SOL_XDP
#define SOL_XDP		283
#endif

#define CHUNK		2048u			/* umem chunk size */
#define HEADROOM	256u			/* XDP_PACKET_HEADROOM */
#define TX_FRAME	CHUNK			/* bytes per transmitted frame */
#define RX_FRAME	(CHUNK - HEADROOM)	/* bytes per received frame */
#define MTU		2048u
#define RING		64u			/* entries of every ring */
#define BATCH		16u			/* frames in flight */

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

struct ring {
	uint32_t *prod;
	uint32_t *cons;
	void *desc;
	void *map;
	size_t map_len;
};

struct xdp_pin {
	struct vethpair v;
	int xsk;
	int pkt;		/* AF_PACKET on the other end */
	int map;		/* XSKMAP */
	int prog;
	int link;
	struct ring fill, comp, rx, tx;
};

/* The XDP program and its map ------------------------------------------ */

static int xskmap_create(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_XSKMAP;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

/* return bpf_redirect_map(&xskmap, 0, 0); */
static int prog_load(int map)
{
	struct bpf_insn insn[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 0 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = map },
		{ .code = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static const char license[] = "GPL";
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (uintptr_t)insn;
	a.insn_cnt = ARRAY_SIZE(insn);
	a.license = (uintptr_t)license;
	return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

/* Generic (skb) XDP on @ifindex, detached when the link fd is closed. */
static int prog_attach(int prog, int ifindex)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog;
	a.link_create.target_ifindex = (uint32_t)ifindex;
	a.link_create.attach_type = BPF_XDP;
	a.link_create.flags = XDP_FLAGS_SKB_MODE;
	return (int)sys_bpf(BPF_LINK_CREATE, &a);
}

static int xskmap_set(int map, int xsk)
{
	uint32_t key = 0, val = (uint32_t)xsk;
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map;
	a.key = (uintptr_t)&key;
	a.value = (uintptr_t)&val;
	return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

/* The socket ----------------------------------------------------------- */

int xsk_socket(void)
{
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int xsk_umem_reg(int fd, void *addr, size_t len)
{
	struct xdp_umem_reg mr = {
		.addr = (uintptr_t)addr,
		.len = len,
		.chunk_size = CHUNK,
		.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
	};

	return setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) ? -errno : 0;
}

static int ring_map(int fd, struct ring *r, const struct xdp_ring_offset *off, size_t entry,
		    off_t pgoff)
{
	r->map_len = off->desc + RING * entry;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
		      pgoff);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	r->prod = (uint32_t *)((char *)r->map + off->producer);
	r->cons = (uint32_t *)((char *)r->map + off->consumer);
	r->desc = (char *)r->map + off->desc;
	return 0;
}

static void ring_unmap(struct ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
}

static int rings_setup(struct xdp_pin *xp)
{
	static const int opts[] = { XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING, XDP_RX_RING,
				    XDP_TX_RING };
	struct xdp_mmap_offsets off;
	socklen_t olen = sizeof(off);
	unsigned int size = RING, i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (setsockopt(xp->xsk, SOL_XDP, opts[i], &size, sizeof(size)))
			return -errno;
	if (getsockopt(xp->xsk, SOL_XDP, XDP_MMAP_OFFSETS, &off, &olen))
		return -errno;
	ret = ring_map(xp->xsk, &xp->fill, &off.fr, sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING);
	if (!ret)
		ret = ring_map(xp->xsk, &xp->comp, &off.cr, sizeof(uint64_t),
			       XDP_UMEM_PGOFF_COMPLETION_RING);
	if (!ret)
		ret = ring_map(xp->xsk, &xp->rx, &off.rx, sizeof(struct xdp_desc),
			       XDP_PGOFF_RX_RING);
	if (!ret)
		ret = ring_map(xp->xsk, &xp->tx, &off.tx, sizeof(struct xdp_desc),
			       XDP_PGOFF_TX_RING);
	return ret;
}

static uint32_t load_acq(uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_rel(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

static void xdp_close(struct xdp_pin *xp)
{
	int *fds[] = { &xp->link, &xp->prog, &xp->map, &xp->pkt };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	ring_unmap(&xp->fill);
	ring_unmap(&xp->comp);
	ring_unmap(&xp->rx);
	ring_unmap(&xp->tx);
	/* The umem goes with the socket (its release may be deferred). */
	if (xp->xsk >= 0)
		close(xp->xsk);
	xp->xsk = -1;
}

/*
 * Everything but the umem: a veth pair in a namespace of this thread's
 * own, the XDP program on end a, an AF_PACKET socket on end b, and the
 * AF_XDP socket.  0 or -errno with the step.
 */
static int net_setup(struct xdp_pin *xp, const char **step)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int buf = 4 << 20, ret;

	xp->xsk = xp->pkt = xp->map = xp->prog = xp->link = -1;
	ret = veth_in_private_netns(&xp->v, MTU, step);
	if (ret)
		return ret;
	*step = "socket(AF_XDP)";
	xp->xsk = xsk_socket();
	if (xp->xsk < 0)
		return xp->xsk;
	*step = "creating an XSKMAP (bpf)";
	xp->map = xskmap_create();
	if (xp->map < 0)
		return -errno;
	*step = "loading the XDP program (bpf)";
	xp->prog = prog_load(xp->map);
	if (xp->prog < 0)
		return -errno;
	*step = "socket(AF_PACKET)";
	xp->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (xp->pkt < 0)
		return -errno;
	sll.sll_ifindex = xp->v.ifindex_b;
	if (bind(xp->pkt, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	setsockopt(xp->pkt, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	return 0;
}

/* After the umem: rings, bind in copy mode, the program attached. */
static int xsk_start(struct xdp_pin *xp, const char **step)
{
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = (uint32_t)xp->v.ifindex_a,
		.sxdp_queue_id = 0,
		.sxdp_flags = XDP_COPY,
	};
	int ret;

	*step = "setting up the AF_XDP rings";
	ret = rings_setup(xp);
	if (ret)
		return ret;
	*step = "bind(AF_XDP, XDP_COPY)";
	if (bind(xp->xsk, (struct sockaddr *)&sxdp, sizeof(sxdp)))
		return -errno;
	*step = "inserting the socket into the XSKMAP";
	if (xskmap_set(xp->map, xp->xsk))
		return -errno;
	*step = "attaching the XDP program (BPF_LINK_CREATE, generic XDP)";
	xp->link = prog_attach(xp->prog, xp->v.ifindex_a);
	return xp->link < 0 ? -errno : 0;
}

/* The probe ------------------------------------------------------------ */

/* What the probe's failing step says about the kernel; the child's exit code. */
enum probe_fail { PF_OK, PF_NETNS, PF_XSK, PF_BPF, PF_OTHER };

static const struct {
	const char *step;
	enum probe_fail code;
} probe_steps[] = {
	{ "unshare(CLONE_NEWNET)", PF_NETNS },
	{ "creating a veth pair (RTM_NEWLINK)", PF_NETNS },
	{ "setting the veth pair up", PF_NETNS },
	{ "socket(AF_XDP)", PF_XSK },
	{ "creating an XSKMAP (bpf)", PF_BPF },
	{ "loading the XDP program (bpf)", PF_BPF },
};

/* In a child: the whole set-up on a page of our own. */
static enum probe_fail probe_child(void)
{
	struct xdp_pin xp = { 0 };
	const char *step = "";
	unsigned int i;
	char *page;
	int ret;

	page = mmap(NULL, page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	ret = net_setup(&xp, &step);
	if (!ret) {
		step = "registering a umem";
		ret = page == MAP_FAILED ? -ENOMEM : xsk_umem_reg(xp.xsk, page, page_size());
	}
	if (!ret)
		ret = xsk_start(&xp, &step);
	if (!ret)
		return PF_OK;
	ksft_print_msg("AF_XDP probe: %s: %s\n", step, strerror(-ret));
	for (i = 0; i < ARRAY_SIZE(probe_steps); i++)
		if (!strcmp(step, probe_steps[i].step))
			return probe_steps[i].code;
	return PF_OTHER;
}

const char *xdp_unavailable(void)
{
	static char why[200];
	static int probed;
	struct kid k;
	int status;
	pid_t pid;

	if (probed)
		return *why ? why : NULL;
	probed = 1;
	fflush(stdout);
	pid = kid_fork(&k);
	if (pid < 0) {
		snprintf(why, sizeof(why), "cannot probe AF_XDP (fork failed)");
		return why;
	}
	if (!pid) {
		status = probe_child();
		fflush(stdout);
		_exit(status);
	}
	status = kid_finish(&k, false);
	switch (status) {
	case PF_OK:
		return NULL;
	case PF_NETNS:
		snprintf(why, sizeof(why), "cannot make a veth pair in a network namespace (%s)",
			 kconfig_why("CONFIG_VETH"));
		break;
	case PF_XSK:
		snprintf(why, sizeof(why), "no AF_XDP sockets (%s)", kconfig_why("CONFIG_XDP_SOCKETS"));
		break;
	case PF_BPF:
		snprintf(why, sizeof(why), "cannot load an XDP program (%s)",
			 kconfig_why("CONFIG_BPF_SYSCALL"));
		break;
	default:
		snprintf(why, sizeof(why), "AF_XDP in copy mode on a veth pair does not work here");
		break;
	}
	return why;
}

/* The pin_ops ----------------------------------------------------------- */

static int xdp_pin_fn(struct pin *p)
{
	struct xdp_pin *xp = calloc(1, sizeof(*xp));
	const char *step = "";
	int ret;

	if (!xp)
		return -ENOMEM;
	ret = net_setup(xp, &step);
	if (ret) {
		ksft_print_msg("AF_XDP set-up: %s: %s\n", step, strerror(-ret));
		goto fail;
	}
	ret = xsk_umem_reg(xp->xsk, p->addr, p->len);
	if (ret)
		goto fail;
	ret = xsk_start(xp, &step);
	if (ret) {
		ksft_print_msg("AF_XDP set-up after the umem: %s: %s\n", step, strerror(-ret));
		goto fail;
	}
	p->priv = xp;
	return 0;
fail:
	xdp_close(xp);
	free(xp);
	return ret;
}

/* Wait for @fd to be readable: 0, or -ETIMEDOUT. */
static int wait_in(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, ms);

	return n > 0 ? 0 : n < 0 ? -errno : -ETIMEDOUT;
}

/* Receive one frame on the AF_PACKET socket, skipping our own; its length or -errno. */
static ssize_t pkt_recv(int fd, char *buf, size_t len)
{
	struct sockaddr_ll from;
	socklen_t flen;
	ssize_t n;

	for (;;) {
		if (wait_in(fd, 5000))
			return -ETIMEDOUT;
		flen = sizeof(from);
		n = recvfrom(fd, buf, len, MSG_TRUNC, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return -errno;
		if (from.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
}

/* Kick the transmit ring until the kernel has taken @want descriptors. */
static int tx_kick(struct xdp_pin *xp, uint32_t want)
{
	double t0 = now_s();

	while (load_acq(xp->tx.cons) != want) {
		if (sendto(xp->xsk, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != EBUSY && errno != ENOBUFS)
			return -errno;
		if (now_s() - t0 > 10)
			return -ETIMEDOUT;
		if (load_acq(xp->tx.cons) != want)
			pause_us(100);
	}
	return 0;
}

/* Take @n completions (the frames' skbs are gone). */
static int comp_drain(struct xdp_pin *xp, uint32_t n)
{
	uint32_t cons = *xp->comp.cons;
	double t0 = now_s();

	while (load_acq(xp->comp.prod) - cons < n) {
		if (now_s() - t0 > 10)
			return -ETIMEDOUT;
		sendto(xp->xsk, NULL, 0, MSG_DONTWAIT, NULL, 0);
		pause_us(100);
	}
	store_rel(xp->comp.cons, cons + n);
	return 0;
}

/* Transmit the umem in frames, capture them on the other end. */
static int xdp_read(struct pin *p, void *out)
{
	struct xdp_pin *xp = p->priv;
	struct xdp_desc *tx = xp->tx.desc;
	char frame[TX_FRAME + 64];
	size_t off = 0;
	uint32_t prod, i, n;
	ssize_t got;
	int ret;

	while (off < p->len) {
		n = (uint32_t)((p->len - off) / TX_FRAME);
		n = n < BATCH ? n : BATCH;
		prod = *xp->tx.prod;
		for (i = 0; i < n; i++) {
			tx[(prod + i) % RING].addr = off + (size_t)i * TX_FRAME;
			tx[(prod + i) % RING].len = TX_FRAME;
			tx[(prod + i) % RING].options = 0;
		}
		store_rel(xp->tx.prod, prod + n);
		ret = tx_kick(xp, prod + n);
		if (ret)
			return ret;
		for (i = 0; i < n; i++) {
			got = pkt_recv(xp->pkt, frame, sizeof(frame));
			if (got < 0)
				return (int)got;
			if (got != TX_FRAME) {
				ksft_print_msg("captured a frame of %zd bytes, sent %u\n", got,
					       TX_FRAME);
				return -EPROTO;
			}
			memcpy((char *)out + off + (size_t)i * TX_FRAME, frame, TX_FRAME);
		}
		ret = comp_drain(xp, n);
		if (ret)
			return ret;
		off += (size_t)n * TX_FRAME;
	}
	return 0;
}

/*
 * Where the received frames go: RX_FRAME bytes each, from HEADROOM on,
 * the last one moved back to end at the end of the range.
 */
static size_t rx_offset(size_t len, size_t i)
{
	size_t o = HEADROOM + i * RX_FRAME;

	return o + RX_FRAME > len ? len - RX_FRAME : o;
}

static size_t rx_frames(size_t len)
{
	return (len - HEADROOM + RX_FRAME - 1) / RX_FRAME;
}

/* Send frames from the other end; the program redirects them into the umem. */
static int xdp_write(struct pin *p, const void *in)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	struct xdp_pin *xp = p->priv;
	struct xdp_desc *rx = xp->rx.desc;
	uint64_t *fill = xp->fill.desc, addr;
	size_t nr = rx_frames(p->len), f = 0, o;
	uint32_t prod, cons, i, n;
	double t0;

	to.sll_ifindex = xp->v.ifindex_b;
	while (f < nr) {
		n = (uint32_t)(nr - f < BATCH ? nr - f : BATCH);
		prod = *xp->fill.prod;
		for (i = 0; i < n; i++)
			fill[(prod + i) % RING] = rx_offset(p->len, f + i) - HEADROOM;
		store_rel(xp->fill.prod, prod + n);
		for (i = 0; i < n; i++) {
			o = rx_offset(p->len, f + i);
			if (sendto(xp->pkt, (const char *)in + o, RX_FRAME, 0,
				   (struct sockaddr *)&to, sizeof(to)) != (ssize_t)RX_FRAME)
				return -errno;
		}
		cons = *xp->rx.cons;
		t0 = now_s();
		while (load_acq(xp->rx.prod) - cons < n) {
			if (now_s() - t0 > 10) {
				ksft_print_msg("%u of %u frames reached the AF_XDP socket\n",
					       load_acq(xp->rx.prod) - cons, n);
				return -ETIMEDOUT;
			}
			wait_in(xp->xsk, 100);
		}
		for (i = 0; i < n; i++) {
			struct xdp_desc *d = &rx[(cons + i) % RING];

			addr = (d->addr & XSK_UNALIGNED_BUF_ADDR_MASK) +
			       (d->addr >> XSK_UNALIGNED_BUF_OFFSET_SHIFT);
			if (d->len != RX_FRAME || addr != rx_offset(p->len, f + i)) {
				ksft_print_msg("received %u bytes at umem offset 0x%llx, expected %u at 0x%zx\n",
					       d->len, (unsigned long long)addr, RX_FRAME,
					       rx_offset(p->len, f + i));
				return -EPROTO;
			}
		}
		store_rel(xp->rx.cons, cons + n);
		f += n;
	}
	return 0;
}

static void xdp_unpin(struct pin *p)
{
	struct xdp_pin *xp = p->priv;

	if (!xp)
		return;
	xdp_close(xp);
	free(xp);
	p->priv = NULL;
}

/* Received frames cannot reach the first HEADROOM bytes. */
static int xdp_extents(const struct pin *p, struct pin_extent *ext)
{
	ext[0].off = HEADROOM;
	ext[0].len = p->len - HEADROOM;
	return 1;
}

const struct pin_ops pin_xdp = {
	.name = "AF_XDP umem",
	.reader = "AF_XDP transmit",
	.writer = "AF_XDP receive",
	.rw_only = true,
	.charges_memlock = true,
	.need = { .flags = NEED_ROOT, .check = xdp_unavailable },
	.pin = xdp_pin_fn,
	.read = xdp_read,
	.write = xdp_write,
	.unpin = xdp_unpin,
	.extents = xdp_extents,
};

int xsk_try_register(char *addr, size_t len, bool writable, const char **step)
{
	int fd, ret;

	(void)writable;
	*step = "socket(AF_XDP)";
	fd = xsk_socket();
	if (fd < 0)
		return fd;
	*step = "XDP_UMEM_REG";
	ret = xsk_umem_reg(fd, addr, len);
	close(fd);
	return ret;
}

/* In stages: an unbound socket, then XDP_UMEM_REG alone. */
static int req_open(struct pinreq *q, char *why, size_t len)
{
	q->fd = xsk_socket();
	if (q->fd < 0) {
		snprintf(why, len, "socket(AF_XDP): %s", strerror(-q->fd));
		return q->fd;
	}
	return 0;
}

static int req_request(struct pinreq *q, char *addr, size_t len)
{
	return q->fd < 0 ? -EBADF : xsk_umem_reg(q->fd, addr, len);
}

/*
 * A umem goes only with its socket: close it, and open a fresh one for
 * the next request (fault injection asks again after a request worked).
 */
static int req_undo(struct pinreq *q)
{
	if (q->fd < 0)
		return -ENOENT;
	close(q->fd);
	q->fd = xsk_socket();
	return 0;
}

static void req_close(struct pinreq *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

const struct pinreq_ops pinreq_xdp = {
	.name = "AF_XDP umem",
	.call = "XDP_UMEM_REG",
	.limit_err = ENOBUFS,
	/* The umem is uncharged and unpinned by a worker after its socket is closed. */
	.uncharged_late = true,
	.unpinned_late = true,
	.need = { .flags = NEED_ROOT, .check = xdp_unavailable },
	.open = req_open,
	.request = req_request,
	.undo = req_undo,
	.close = req_close,
};
