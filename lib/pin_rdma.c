// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins through RDMA memory registration on soft-RoCE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <rdma/ib_user_verbs.h>

#include "ksft.h"
#include "netlink.h"
#include "observe.h"
#include "pin_rdma.h"
#include "pinreq.h"
#include "util.h"

/* The suite's device, made once by the runner; its cases inherit this. */
static char dev_name[64];
static int gid_index = -1;
static const char *unavailable = "soft-RoCE device not set up";
static struct vethpair veth = { .nsfd = -1 };

const char *rdma_unavailable(void)
{
	return unavailable;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct ibv_context *open_by_name(const char *name, int *err)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	int i, n = 0;

	*err = ENODEV;
	list = ibv_get_device_list(&n);
	if (!list) {
		*err = errno ? errno : ENODEV;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(ibv_get_device_name(list[i]), name))
			continue;
		ctx = ibv_open_device(list[i]);
		*err = ctx ? 0 : errno;
		break;
	}
	ibv_free_device_list(list);
	return ctx;
}

/*
 * Does @ndev have a usable IPv6 link-local address?  RoCE v2 resolves the
 * destination of our own link-local GID through the IP stack: it must
 * have passed duplicate address detection (/proc/net/if_inet6: scope 0x20,
 * not IFA_F_TENTATIVE 0x40).
 */
static bool link_local_ready(const char *ndev)
{
	char line[256], name[64];
	unsigned int scope, flags;
	bool ready = false;
	FILE *f = fopen("/proc/net/if_inet6", "re");

	while (f && !ready && fgets(line, sizeof(line), f))
		ready = sscanf(line, "%*s %*x %*x %x %x %63s", &scope, &flags, name) == 3 &&
			!strcmp(name, ndev) && scope == 0x20 && !(flags & 0x40);
	if (f)
		fclose(f);
	return ready;
}

/* A RoCE v2 GID of port 1 on our veth end, once the port is active; -1 if none yet. */
static int find_gid(struct ibv_context *ctx)
{
	struct ibv_port_attr pa;
	struct ibv_gid_entry e;
	int i;

	if (ibv_query_port(ctx, 1, &pa) || pa.state != IBV_PORT_ACTIVE)
		return -1;
	for (i = 0; i < pa.gid_tbl_len; i++) {
		if (ibv_query_gid_ex(ctx, 1, (uint32_t)i, &e, 0))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2)
			return i;
	}
	return -1;
}

/* Why the set-up failed at @step with @err: a fixed reason per cause. */
static const char *why_not(const char *step, int err)
{
	static char why[200];

	if (!strcmp(step, "veth"))
		snprintf(why, sizeof(why), "cannot make a veth pair for soft-RoCE (%s; or name an Ethernet device in PINSUITE_RDMA_NETDEV)",
			 kconfig_why("CONFIG_VETH"));
	else if (!strcmp(step, "rdma link add") && err == EPROTONOSUPPORT)
		snprintf(why, sizeof(why), "no RDMA netlink (%s)", kconfig_why("CONFIG_INFINIBAND"));
	else if (!strcmp(step, "rdma link add") && err == ENOENT)
		/* rxe's ICRC: crypto_alloc_shash("crc32") */
		snprintf(why, sizeof(why), "rxe found no crc32 algorithm (%s)",
			 kconfig_why("CONFIG_CRYPTO_CRC32"));
	else if (!strcmp(step, "rdma link add"))
		snprintf(why, sizeof(why), "cannot add an rxe link (%s)",
			 kconfig_why("CONFIG_RDMA_RXE"));
	else if (!strcmp(step, "open") && access("/dev/infiniband", F_OK))
		snprintf(why, sizeof(why), "no /dev/infiniband/uverbs* (%s)",
			 kconfig_why("CONFIG_INFINIBAND_USER_ACCESS"));
	else if (!strcmp(step, "open") && err == ENODEV)
		snprintf(why, sizeof(why), "libibverbs has no rxe provider (install ibverbs-providers or build with STATIC=1)");
	else if (!strcmp(step, "gid"))
		snprintf(why, sizeof(why), "the rxe port did not become active with a RoCE v2 GID and an IPv6 link-local address");
	else
		snprintf(why, sizeof(why), "soft-RoCE set-up failed");
	return why;
}

/* With a netdev of the user's: the device we added, deleted again at exit. */
static pid_t owner;

static void delete_own_device(void)
{
	struct ibv_device **list;
	int i, n = 0, ret;

	if (getpid() != owner)
		return;
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++) {
		if (strcmp(ibv_get_device_name(list[i]), dev_name))
			continue;
		ret = rdma_link_del((unsigned int)ibv_get_device_index(list[i]));
		if (ret)
			fprintf(stderr, "rdma_pin: deleting %s: %s\n", dev_name, strerror(-ret));
	}
	if (list)
		ibv_free_device_list(list);
}

/*
 * The netdev the rxe device sits on: a veth end whose peer is in a
 * namespace only we hold (the kernel removes the pair and the device when
 * we are gone); on kernels without veth, the Ethernet device named in
 * PINSUITE_RDMA_NETDEV (set up if it is down), on which the device we add
 * is deleted when the binary exits (not after SIGKILL).  0 or -1 (the
 * reason in unavailable).
 */
static int pick_netdev(const char **ndev)
{
	const char *env = getenv("PINSUITE_RDMA_NETDEV"), *step = "";
	int ret;

	ret = veth_to_private_netns(&veth, &step);
	if (!ret) {
		*ndev = veth.a;
		return 0;
	}
	ksft_print_msg("rdma: %s: %s\n", step, strerror(-ret));
	unavailable = why_not("veth", -ret);
	if (!env || !*env)
		return -1;
	*ndev = env;
	ret = link_up(env, 0);
	if (ret) {
		ksft_print_msg("rdma: PINSUITE_RDMA_NETDEV=%s: %s\n", env, strerror(-ret));
		unavailable = "the netdev in PINSUITE_RDMA_NETDEV cannot be used";
		return -1;
	}
	owner = getpid();
	atexit(delete_own_device);
	return 0;
}

void rdma_setup(void)
{
	struct ibv_context *ctx = NULL;
	const char *ndev;
	double t0;
	int err, ret;

	if (geteuid())
		return;		/* the need says "needs root" */
	snprintf(dev_name, sizeof(dev_name), "pinsuite_rxe%d", (int)getpid());
	if (pick_netdev(&ndev))
		return;
	ret = rdma_link_add(dev_name, "rxe", ndev);
	if (ret) {
		ksft_print_msg("rdma: rdma link add %s type rxe netdev %s: %s\n", dev_name, ndev,
			       strerror(-ret));
		unavailable = why_not("rdma link add", -ret);
		goto drop;
	}
	ctx = open_by_name(dev_name, &err);
	if (!ctx) {
		ksft_print_msg("rdma: opening %s: %s\n", dev_name, strerror(err));
		unavailable = why_not("open", err);
		goto drop;
	}
	t0 = now_s();
	while (((gid_index = find_gid(ctx)) < 0 || !link_local_ready(ndev)) && now_s() - t0 < 20)
		pause_ms(50);
	ibv_close_device(ctx);
	if (gid_index < 0 || !link_local_ready(ndev)) {
		gid_index = -1;
		ksft_print_msg("rdma: %s on %s: no active port with a RoCE v2 GID and an IPv6 link-local address after %.0f s\n",
			       dev_name, ndev, now_s() - t0);
		unavailable = why_not("gid", 0);
		goto drop;
	}
	ksft_print_msg("rdma: %s on %s, RoCE v2 GID index %d\n", dev_name, ndev, gid_index);
	unavailable = NULL;
	return;
drop:
	/* The namespace goes, with it the pair and the device on it. */
	if (veth.nsfd >= 0)
		close(veth.nsfd);
	veth.nsfd = -1;
}

/* Contexts ------------------------------------------------------------- */

static int modify(struct ibv_qp *qp, struct ibv_qp_attr *a, int mask)
{
	int ret = ibv_modify_qp(qp, a, mask);

	return ret > 0 ? -ret : ret < 0 ? -EIO : 0;
}

/* INIT -> RTR -> RTS towards @dest_qpn through our own GID. */
static int connect_qp(struct ibv_context *ctx, struct ibv_qp *qp, uint32_t dest_qpn)
{
	struct ibv_qp_attr a;
	union ibv_gid gid;
	int ret;

	if (ibv_query_gid(ctx, 1, gid_index, &gid))
		return -errno ? -errno : -EIO;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			    IBV_ACCESS_REMOTE_WRITE;
	ret = modify(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
		     IBV_QP_ACCESS_FLAGS);
	if (ret)
		return ret;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = IBV_MTU_1024;
	a.dest_qp_num = dest_qpn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = gid;
	a.ah_attr.grh.sgid_index = (uint8_t)gid_index;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.port_num = 1;
	ret = modify(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
		     IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	if (ret)
		return ret;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	return modify(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
		      IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
}

int rdma_open_pd(struct rdma_ctx *r, const char **step)
{
	int err;

	memset(r, 0, sizeof(*r));
	*step = "ibv_open_device";
	if (unavailable)
		return -ENODEV;
	r->ctx = open_by_name(dev_name, &err);
	if (!r->ctx)
		return -err;
	*step = "ibv_alloc_pd";
	r->pd = ibv_alloc_pd(r->ctx);
	return r->pd ? 0 : -(errno ? errno : EIO);
}

int rdma_open(struct rdma_ctx *r, size_t scratch_len, const char **step)
{
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 1, .max_send_sge = 1,
			 .max_recv_sge = 1 },
	};
	int ret, i;

	ret = rdma_open_pd(r, step);
	if (ret)
		goto fail;
	*step = "ibv_create_cq";
	r->cq = ibv_create_cq(r->ctx, 8, NULL, NULL, 0);
	if (!r->cq)
		goto fail_errno;
	qa.send_cq = r->cq;
	qa.recv_cq = r->cq;
	*step = "ibv_create_qp";
	for (i = 0; i < 2; i++) {
		r->qp[i] = ibv_create_qp(r->pd, &qa);
		if (!r->qp[i])
			goto fail_errno;
	}
	*step = "connecting the queue pairs";
	ret = connect_qp(r->ctx, r->qp[0], r->qp[1]->qp_num);
	if (!ret)
		ret = connect_qp(r->ctx, r->qp[1], r->qp[0]->qp_num);
	if (ret)
		goto fail;
	if (!scratch_len)
		return 0;
	*step = "mmap of the scratch buffer";
	r->scratch = mmap(NULL, scratch_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	if (r->scratch == MAP_FAILED) {
		r->scratch = NULL;
		goto fail_errno;
	}
	r->scratch_len = scratch_len;
	memset(r->scratch, 0, scratch_len);
	*step = "ibv_reg_mr of the scratch buffer";
	r->scratch_mr = ibv_reg_mr(r->pd, r->scratch, scratch_len, IBV_ACCESS_LOCAL_WRITE);
	if (!r->scratch_mr)
		goto fail_errno;
	return 0;
fail_errno:
	ret = -(errno ? errno : EIO);
fail:
	rdma_close(r);
	return ret;
}

void rdma_close(struct rdma_ctx *r)
{
	int i;

	if (r->scratch_mr)
		ibv_dereg_mr(r->scratch_mr);
	if (r->scratch)
		munmap(r->scratch, r->scratch_len);
	for (i = 0; i < 2; i++)
		if (r->qp[i])
			ibv_destroy_qp(r->qp[i]);
	if (r->cq)
		ibv_destroy_cq(r->cq);
	if (r->pd)
		ibv_dealloc_pd(r->pd);
	if (r->ctx)
		ibv_close_device(r->ctx);
	memset(r, 0, sizeof(*r));
}

/* One signalled work request on QP 0, waited for; rxe loops it back to QP 1. */
static int post_wait(struct rdma_ctx *r, enum ibv_wr_opcode op, const struct ibv_mr *mr,
		     const void *remote, size_t len, int *status)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)r->scratch, .length = (uint32_t)len,
		.lkey = r->scratch_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 1, .sg_list = &sge, .num_sge = 1, .opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_wc wc;
	double t0 = now_s();
	int n, ret;

	if (len > r->scratch_len)
		return -EINVAL;
	wr.wr.rdma.remote_addr = (uintptr_t)remote;
	wr.wr.rdma.rkey = mr->rkey;
	ret = ibv_post_send(r->qp[0], &wr, &bad);
	if (ret)
		return -ret;
	while (!(n = ibv_poll_cq(r->cq, 1, &wc))) {
		if (now_s() - t0 > 60)
			return -ETIMEDOUT;
		pause_ms(1);
	}
	if (n < 0)
		return -EIO;
	if (status)
		*status = wc.status;
	if (wc.status != IBV_WC_SUCCESS) {
		ksft_print_msg("%s completion: %s\n", op == IBV_WR_RDMA_READ ? "RDMA READ" :
			       "RDMA WRITE", ibv_wc_status_str(wc.status));
		return -EREMOTEIO;
	}
	return 0;
}

int rdma_read(struct rdma_ctx *r, const struct ibv_mr *mr, const void *remote, size_t len,
	      int *status)
{
	return post_wait(r, IBV_WR_RDMA_READ, mr, remote, len, status);
}

int rdma_write(struct rdma_ctx *r, const struct ibv_mr *mr, void *remote, size_t len,
	       int *status)
{
	return post_wait(r, IBV_WR_RDMA_WRITE, mr, remote, len, status);
}

int rdma_rereg_access(struct ibv_mr *mr, int access)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_rereg_mr cmd;
	} req;
	struct ib_uverbs_rereg_mr_resp resp;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.hdr.command = IB_USER_VERBS_CMD_REREG_MR;
	req.hdr.in_words = sizeof(req) / 4;
	req.hdr.out_words = sizeof(resp) / 4;
	req.cmd.response = (uintptr_t)&resp;
	req.cmd.mr_handle = mr->handle;
	req.cmd.flags = IBV_REREG_MR_CHANGE_ACCESS;	/* IB_MR_REREG_ACCESS */
	req.cmd.access_flags = (uint32_t)access;
	if (write(mr->context->cmd_fd, &req, sizeof(req)) != (ssize_t)sizeof(req))
		return -errno;
	mr->lkey = resp.lkey;
	mr->rkey = resp.rkey;
	return 0;
}

/* The pin_ops ----------------------------------------------------------- */

struct rdma_pin {
	struct rdma_ctx r;
	struct ibv_mr *mr;
};

static int mr_pin(struct pin *p)
{
	struct rdma_pin *rp = calloc(1, sizeof(*rp));
	const char *step;
	int ret;

	if (!rp)
		return -ENOMEM;
	ret = rdma_open(&rp->r, p->len, &step);
	if (ret) {
		ksft_print_msg("rdma: %s: %s\n", step, strerror(-ret));
		free(rp);
		return ret;
	}
	rp->mr = ibv_reg_mr(rp->r.pd, p->addr, p->len, p->writable ? RDMA_ACCESS_RW :
			    RDMA_ACCESS_RO);
	if (!rp->mr) {
		ret = -(errno ? errno : EIO);
		rdma_close(&rp->r);
		free(rp);
		return ret;
	}
	p->priv = rp;
	return 0;
}

/* RDMA READ of the MR into the scratch buffer: the device reads the pinned pages. */
static int mr_read(struct pin *p, void *buf)
{
	struct rdma_pin *rp = p->priv;
	int ret;

	memset(rp->r.scratch, 0, p->len);
	ret = rdma_read(&rp->r, rp->mr, p->addr, p->len, NULL);
	if (!ret)
		memcpy(buf, rp->r.scratch, p->len);
	return ret;
}

/* RDMA WRITE from the scratch buffer into the MR: the device writes the pinned pages. */
static int mr_write(struct pin *p, const void *buf)
{
	struct rdma_pin *rp = p->priv;

	memcpy(rp->r.scratch, buf, p->len);
	return rdma_write(&rp->r, rp->mr, p->addr, p->len, NULL);
}

static void mr_unpin(struct pin *p)
{
	struct rdma_pin *rp = p->priv;

	if (!rp)
		return;
	ibv_dereg_mr(rp->mr);
	rdma_close(&rp->r);
	free(rp);
	p->priv = NULL;
}

const struct pin_ops pin_rdma = {
	.name = "RDMA MR",
	.reader = "RDMA READ",
	.writer = "RDMA WRITE",
	.charges_memlock = true,
	.need = { .flags = NEED_ROOT, .check = rdma_unavailable },
	.pin = mr_pin,
	.read = mr_read,
	.write = mr_write,
	.unpin = mr_unpin,
};

int rdma_try_register(char *addr, size_t len, bool writable, const char **step)
{
	struct rdma_ctx r;
	struct ibv_mr *mr;
	int ret;

	ret = rdma_open_pd(&r, step);
	if (ret)
		return ret;
	*step = "ibv_reg_mr";
	mr = ibv_reg_mr(r.pd, addr, len, writable ? RDMA_ACCESS_RW : RDMA_ACCESS_RO);
	ret = mr ? 0 : -(errno ? errno : EIO);
	if (mr)
		ibv_dereg_mr(mr);
	rdma_close(&r);
	return ret;
}

/* In stages: the device and a protection domain, then ibv_reg_mr() alone. */
struct rdma_req {
	struct rdma_ctx r;
	struct ibv_mr *mr;
};

static int req_open(struct pinreq *q, char *why, size_t len)
{
	struct rdma_req *rq = calloc(1, sizeof(*rq));
	const char *step;
	int ret;

	if (!rq)
		return -ENOMEM;
	ret = rdma_open_pd(&rq->r, &step);
	if (ret) {
		snprintf(why, len, "%s: %s", step, strerror(-ret));
		free(rq);
		return ret;
	}
	q->priv = rq;
	return 0;
}

static int req_request(struct pinreq *q, char *addr, size_t len)
{
	struct rdma_req *rq = q->priv;

	rq->mr = ibv_reg_mr(rq->r.pd, addr, len, q->writable ? RDMA_ACCESS_RW : RDMA_ACCESS_RO);
	return rq->mr ? 0 : -(errno ? errno : EIO);
}

static int req_undo(struct pinreq *q)
{
	struct rdma_req *rq = q->priv;
	int ret = rq->mr ? ibv_dereg_mr(rq->mr) : -ENOENT;

	rq->mr = NULL;
	return ret > 0 ? -ret : ret;
}

static void req_close(struct pinreq *q)
{
	struct rdma_req *rq = q->priv;

	rdma_close(&rq->r);
	free(rq);
	q->priv = NULL;
}

const struct pinreq_ops pinreq_rdma = {
	.name = "RDMA MR",
	.call = "ibv_reg_mr",
	.charge = "VmPin",
	.limit_err = ENOMEM,
	.need = { .flags = NEED_ROOT, .check = rdma_unavailable },
	.open = req_open,
	.request = req_request,
	.undo = req_undo,
	.close = req_close,
};
