// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins through udmabuf.
 *
 * /dev/udmabuf makes a dma-buf of ranges of memfds and keeps their folios
 * pinned while the dma-buf lives (memfd_pin_folios(), c6a3194c05e7, v6.11).
 * The dma-buf's mmap maps exactly the pinned folios; for every memfd
 * backing and every trigger that applies, what it shows must be what a
 * MAP_SHARED mapping of the memfd holds, and what is written into it must
 * show in the memfd, for one range (UDMABUF_CREATE) and for a range given
 * in parts (UDMABUF_CREATE_LIST); a write to a MAP_PRIVATE mapping of the
 * memfd must reach neither.  Then: what must be refused (memfds not
 * sealed against shrinking, or sealed against writing), that the pins go
 * when the last reference to the dma-buf goes and not before, and that
 * hugetlb pages and reservations come back when the dma-buf is closed,
 * also for memfds that were never faulted in or never mapped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/case.h"
#include "lib/observe.h"
#include "lib/pin_udmabuf.h"
#include "lib/pincheck.h"
#include "lib/release.h"
#include "lib/util.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING	2U
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT		26
#endif

static int break_refusal, break_leak;

/* Reliability: memfd backings x triggers --------------------------------- */

/* Everything that can happen to the page cache a udmabuf pins. */
#define T_FILE		(TRIG_BIT(TRIG_WRITE) | TRIG_BIT(TRIG_MPROTECT) | \
			 TRIG_BIT(TRIG_FORK_PARENT) | TRIG_BIT(TRIG_FORK_CHILD) | \
			 TRIG_BIT(TRIG_PAGEOUT) | TRIG_BIT(TRIG_MREMAP) | TRIG_BIT(TRIG_MIGRATE))

/*
 * A memfd of base pages as large as a PMD: what MADV_COLLAPSE turns into
 * one large folio - unless a udmabuf pins its pages.
 */
static struct backing base_range = {
	.type = BK_MEMFD,
	.flags = BKF_FILE | BKF_SHMEM | BKF_SHARED,
	.need = { .flags = NEED_THP },
};

/*
 * The triggers @bk gets: the MAP_SHARED memfds of the catalog (base pages,
 * shmem large folios, the smallest hugetlb size) get every trigger that
 * applies to them, the base-page range a write and MADV_COLLAPSE.  With
 * @large_only, only what a list in two parts can split: the PMD-size
 * shmem folio, the hugetlb page, the base-page range.
 */
static unsigned int bk_triggers(const struct backing *bk, bool large_only)
{
	const struct platform *p = platform();

	if (bk == &base_range)
		return TRIG_BIT(TRIG_WRITE) | TRIG_BIT(TRIG_COLLAPSE);
	if (!(bk->flags & BKF_SHARED))
		return 0;
	switch (bk->type) {
	case BK_MEMFD:
		return large_only ? 0 : T_FILE;
	case BK_SHMEM_LARGE:
		return !large_only || (bk->flags & BKF_PMD) ? T_FILE : 0;
	case BK_MEMFD_HUGETLB:
		return p->nr_hugetlb && bk->size == p->hugetlb_sizes[0] ? T_FILE : 0;
	default:
		return 0;
	}
}

static unsigned int any_triggers(const struct backing *bk, bool writable)
{
	(void)writable;
	return bk_triggers(bk, false);
}

static unsigned int large_triggers(const struct backing *bk, bool writable)
{
	(void)writable;
	return bk_triggers(bk, true);
}

static void add_matrix(const struct pin_ops *pin, const char *what, bool large_only)
{
	static const struct tagsel udmabuf_tags[] = {
		{ TAG_UDMABUF_PIN, 0, 0 },
		{ TAG_NONE, 0, 0 },
	};
	struct pin_matrix m = {
		.pin = pin,
		.rw_what = what,
		.rw_dir = PC_PIN_BOTH,
		.bk_trigs = large_only ? large_triggers : any_triggers,
		.tags = udmabuf_tags,
		.extra = base_range.size ? &base_range : NULL,
		.observe = udmabuf_observe,
	};

	pincheck_add_matrix(&m);
}

/* Other mapping not modified: MAP_PRIVATE ------------------------------- */

/*
 * udmabuf pins the memfd's own folios.  A write to a MAP_PRIVATE mapping
 * of the memfd makes a private copy: it must reach neither the pinned
 * folios nor the memfd, and a write through the dma-buf must reach the
 * memfd but not the private copy.
 */
static void private_observe(const struct pcase *c)
{
	char what[3][KSFT_REASON_MAX] = { "", "", "" };
	int pinned = PAT_INITIAL, i, first = -1;
	struct pin p = { .fd = -1 };
	char *priv, *buf = NULL;
	ssize_t off[3];
	struct mem m;
	size_t len;
	int ret;

	if (!mem_setup_memfd_obs(&m, c->bk, F_SEAL_SHRINK))
		return;
	len = m.size < PINCHECK_WINDOW ? m.size : PINCHECK_WINDOW;
	priv = mmap(NULL, m.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, m.fd, 0);
	if (priv == MAP_FAILED) {
		obs_error("mmap(MAP_PRIVATE) of the memfd", errno);
		goto teardown;
	}
	touch_read(priv, len);
	udmabuf_bind(&m);
	obs_phase(PH_PIN);
	ret = pin_take(&p, c->pin, m.addr, len, true);
	if (ret) {
		obs_pin(c->pin, len, ret);
		goto unmap;
	}
	if (pincheck_break == PC_BREAK_DONTNEED &&
	    !fallocate(m.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)m.size))
		ksft_print_msg("selftest break: hole punched into the memfd behind the pin\n");
	if (pincheck_break == PC_BREAK_COMPARE) {
		ksft_print_msg("selftest break: the pin is compared with the private mapping\n");
		pinned = PAT_PARENT;
	}
	obs_phase(PH_TRIGGER);
	memset(priv, PAT_PARENT, len);
	obs_phase(PH_CHECK);
	/* The pinned folios and the memfd keep the file's bytes ... */
	buf = malloc(len);
	ret = buf ? c->pin->read(&p, buf) : -ENOMEM;
	if (ret) {
		obs_error(c->pin->reader, -ret);
		goto unmap;
	}
	off[0] = first_not(buf, pinned, len);
	if (off[0] >= 0)
		snprintf(what[0], sizeof(what[0]), "after a write to the MAP_PRIVATE mapping %s shows 0x%02x at offset 0x%zx, expected the memfd's 0x%02x",
			 c->pin->reader, (unsigned char)buf[off[0]], (size_t)off[0], pinned);
	off[1] = first_not(m.addr, PAT_INITIAL, len);
	if (off[1] >= 0)
		snprintf(what[1], sizeof(what[1]), "after a write to the MAP_PRIVATE mapping the MAP_SHARED mapping shows 0x%02x at offset 0x%zx, expected 0x%02x",
			 (unsigned char)m.addr[off[1]], (size_t)off[1], PAT_INITIAL);
	/* ... and a write through the dma-buf reaches the memfd, not the copy. */
	memset(buf, PAT_DEVICE, len);
	ret = c->pin->write(&p, buf);
	if (ret) {
		obs_error(c->pin->writer, -ret);
		goto unmap;
	}
	off[2] = first_not(m.addr, PAT_DEVICE, len);
	if (off[2] < 0)
		off[2] = first_not(priv, PAT_PARENT, len);
	if (off[2] >= 0)
		snprintf(what[2], sizeof(what[2]), "after a write through the dma-buf, byte 0x%zx holds 0x%02x in the MAP_SHARED mapping (want 0x%02x) and 0x%02x in the MAP_PRIVATE one (want 0x%02x)",
			 (size_t)off[2], (unsigned char)m.addr[off[2]], PAT_DEVICE,
			 (unsigned char)priv[off[2]], PAT_PARENT);
	for (i = 0; i < 3; i++) {
		if (off[i] >= 0 && first < 0)
			first = i;
		else if (off[i] >= 0)
			ksft_print_msg("%s\n", what[i]);
	}
	if (first >= 0)
		obs_broken(SYM_STALE, "%s", what[first]);
	else
		obs_held();
unmap:
	obs_phase(PH_RELEASE);
	pin_drop(&p);
	free(buf);
	udmabuf_bind(NULL);
	munmap(priv, m.size);
teardown:
	obs_phase(PH_TEARDOWN);
	mem_teardown(&m);
}

static void add_private(void)
{
	const struct platform *p = platform();
	const struct backing *const *bks;
	int i, nr;

	bks = backings(&nr);
	for (i = 0; i < nr; i++) {
		const struct backing *bk = bks[i];
		struct pcase c = {
			.prop = P_OTHER_MAPPING,
			.what = "udmabuf UDMABUF_CREATE, dma-buf mmap",
			.pin = &pin_udmabuf,
			.writable = true,
			.bk = bk,
			.event = "write to a MAP_PRIVATE mapping of the pinned memfd",
			.observe = private_observe,
		};

		if (!(bk->flags & BKF_PRIVATE) ||
		    !(bk->type == BK_MEMFD ||
		      (bk->type == BK_SHMEM_LARGE && (bk->flags & BKF_PMD)) ||
		      (bk->type == BK_MEMFD_HUGETLB && bk->size == p->hugetlb_sizes[0])))
			continue;
		pcase_add(&c, "%s, %s, %s", c.what, c.event, bk->name);
	}
}

/* Outcome: what udmabuf must refuse ------------------------------------- */

enum refusal {
	REF_NO_SHRINK,		/* no F_SEAL_SHRINK */
	REF_WRITE,		/* F_SEAL_SHRINK | F_SEAL_WRITE */
	REF_FUTURE_WRITE,	/* F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE */
	REF_LIST,		/* a list of two memfds, the second without F_SEAL_SHRINK */
	REF_SEAL_PINNED,	/* F_SEAL_WRITE while a udmabuf pins the pages */
};

/* A sealable memfd of @pages pages with @seals; fd or -1 (recorded). */
static int sealed_memfd(size_t pages, unsigned int seals)
{
	int fd = memfd_create("pinsuite-refusal", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0) {
		obs_error("memfd_create(MFD_ALLOW_SEALING)", errno);
		return -1;
	}
	if (ftruncate(fd, (off_t)(pages * page_size())) ||
	    (seals && fcntl(fd, F_ADD_SEALS, seals))) {
		obs_error(seals ? "sealing the memfd" : "ftruncate", errno);
		close(fd);
		return -1;
	}
	return fd;
}

static const char *seal_names(unsigned int seals)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%s%s%s", seals & F_SEAL_SHRINK ? "F_SEAL_SHRINK" : "none",
		 seals & F_SEAL_WRITE ? " | F_SEAL_WRITE" : "",
		 seals & F_SEAL_FUTURE_WRITE ? " | F_SEAL_FUTURE_WRITE" : "");
	return buf;
}

/* F_SEAL_WRITE must wait for the pins of a udmabuf, then give up (EBUSY). */
static void seal_pinned(void)
{
	int memfd = sealed_memfd(2, F_SEAL_SHRINK), buf, ret;

	if (memfd < 0)
		return;
	buf = udmabuf_create(memfd, 0, 2 * page_size(), 1);
	if (buf < 0) {
		obs_error("UDMABUF_CREATE of a memfd sealed F_SEAL_SHRINK", -buf);
		close(memfd);
		return;
	}
	if (break_refusal) {
		ksft_print_msg("selftest break: the dma-buf is closed before sealing\n");
		close(buf);
		buf = -1;
	}
	obs_phase(PH_PIN);
	ret = fcntl(memfd, F_ADD_SEALS, F_SEAL_WRITE) ? -errno : 0;
	ksft_print_msg("F_ADD_SEALS(F_SEAL_WRITE) with the pages pinned by a udmabuf: %s\n",
		       ret ? strerror(-ret) : "sealed");
	obs_call("F_SEAL_WRITE of a memfd whose pages a udmabuf pins", ret, false, 0);
	if (buf >= 0)
		close(buf);
	close(memfd);
}

static void refusal_observe(const struct pcase *c)
{
	static const unsigned int seals[] = {
		[REF_NO_SHRINK] = 0,
		[REF_WRITE] = F_SEAL_SHRINK | F_SEAL_WRITE,
		[REF_FUTURE_WRITE] = F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE,
		[REF_LIST] = 0,
	};
	enum refusal kind = (enum refusal)c->param;
	size_t ps = page_size();
	unsigned int s;
	int memfd, other = -1, buf;

	if (kind == REF_SEAL_PINNED) {
		seal_pinned();
		return;
	}
	s = break_refusal ? F_SEAL_SHRINK : seals[kind];
	if (break_refusal)
		ksft_print_msg("selftest break: the memfd is sealed F_SEAL_SHRINK only\n");
	memfd = sealed_memfd(1, s);
	if (memfd < 0)
		return;
	obs_phase(PH_PIN);
	if (kind == REF_LIST) {
		/* The first memfd is fine; the list names the unsealed one second. */
		struct udmabuf_create_item items[2] = {
			{ .size = ps },
			{ .memfd = (__u32)memfd, .size = ps },
		};

		other = sealed_memfd(1, F_SEAL_SHRINK);
		if (other < 0)
			goto out;
		items[0].memfd = (__u32)other;
		buf = udmabuf_create_items(items, 2);
	} else {
		buf = udmabuf_create(memfd, 0, ps, 1);
	}
	ksft_print_msg("%s of a memfd sealed %s: %s\n",
		       kind == REF_LIST ? "UDMABUF_CREATE_LIST" : "UDMABUF_CREATE", seal_names(s),
		       buf < 0 ? strerror(-buf) : "created");
	obs_call(kind == REF_LIST ? "UDMABUF_CREATE_LIST" : "UDMABUF_CREATE", buf < 0 ? buf : 0,
		 false, ps);
	if (buf >= 0)
		close(buf);
out:
	if (other >= 0)
		close(other);
	close(memfd);
}

static void add_refusals(void)
{
	static const struct {
		enum refusal kind;
		int err;
		uint64_t tags;
		const char *what;
	} rows[] = {
		{ REF_NO_SHRINK, EINVAL, 0,
		  "udmabuf of a memfd without F_SEAL_SHRINK fails with EINVAL" },
		{ REF_WRITE, EINVAL, 0,
		  "udmabuf of a memfd sealed F_SEAL_WRITE fails with EINVAL" },
		{ REF_FUTURE_WRITE, EINVAL, TAGBIT(TAG_UDMABUF_FUTURE_WRITE),
		  "udmabuf of a memfd sealed F_SEAL_FUTURE_WRITE fails with EINVAL" },
		{ REF_LIST, EINVAL, 0,
		  "udmabuf list naming a memfd without F_SEAL_SHRINK fails with EINVAL" },
		{ REF_SEAL_PINNED, EBUSY, 0,
		  "F_SEAL_WRITE of a memfd whose pages a udmabuf pins fails with EBUSY" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct pcase c = {
			.prop = P_OUTCOME,
			.pin = &pin_udmabuf,
			.writable = true,
			.expect = EXP_ERRNO,
			.want_err = rows[i].err,
			.tags = rows[i].tags,
			.observe = refusal_observe,
			.param = rows[i].kind,
		};

		pcase_add(&c, "%s", rows[i].what);
	}
}

/* All pins released -------------------------------------------------------- */

enum rel_kind {
	REL_CLOSE,	/* the dma-buf fd closed */
	REL_MAPPED,	/* closed while mapped: the pins stay until the munmap() */
	REL_EXIT,	/* the process holding the dma-buf exits */
};

/* In a child: make the dma-buf and exit without closing it. */
static int create_and_exit(const struct mem *m, struct kid *k)
{
	int fd = udmabuf_create(m->fd, 0, m->size, 1);

	if (fd < 0) {
		obs_call("UDMABUF_CREATE", fd, false, m->size);
		return 1;
	}
	/* A grandchild holding the fd keeps the pins. */
	if (break_leak && fork() == 0) {
		pause();
		_exit(0);
	}
	kid_tell_parent(k, 'p');
	kid_wait_parent(k);
	return 0;
}

/* While only a mapping holds the dma-buf, its pins must stay and be coherent. */
static bool held_while_mapped(const struct release *r, const struct mem *m, char *map)
{
	long now;
	ssize_t off;

	memset(m->addr, PAT_PARENT, m->size);
	off = first_not(map, PAT_PARENT, m->size);
	if (off >= 0) {
		obs_broken(SYM_STALE, "with its fd closed, the mapping of the dma-buf shows 0x%02x at offset 0x%zx where the memfd holds 0x%02x",
			   (unsigned char)map[off], (size_t)off, PAT_PARENT);
		return false;
	}
	if (r->sys_quiet && pins_outstanding(&now)) {
		ksft_print_msg("FOLL_PIN pins outstanding with the dma-buf's fd closed and its mapping kept: %ld (%ld before the pin)\n",
			       now, r->sys_base);
		if (now == r->sys_base) {
			obs_broken(SYM_STALE, "the dma-buf's pins were released while a mapping of it still maps the folios");
			return false;
		}
	}
	return true;
}

static void release_observe(const struct pcase *c)
{
	enum rel_kind kind = (enum rel_kind)c->param;
	struct release r;
	struct kid k;
	char *map = NULL;
	struct mem m;
	int fd;

	if (!mem_setup_memfd_obs(&m, c->bk, F_SEAL_SHRINK))
		return;
	/* udmabuf charges nothing and pins page cache: the machine's count is the witness. */
	release_before(&r, NULL, NULL, 0);
	obs_phase(PH_PIN);
	if (kind == REL_EXIT) {
		if (kid_fork(&k) < 0) {
			obs_error("fork", errno);
			goto teardown;
		}
		if (!k.pid)
			_exit(create_and_exit(&m, &k));
		if (kid_wait_child(&k) < 0) {
			kid_finish(&k, false);
			if (!obs_recorded())
				obs_error("the child could not create its dma-buf", 0);
			goto teardown;
		}
		release_pinned(&r);
		obs_phase(PH_RELEASE);
		kid_finish(&k, false);
		release_after(&r, "after the process holding the dma-buf exited");
		goto teardown;
	}
	fd = udmabuf_create(m.fd, 0, m.size, 1);
	if (fd < 0) {
		obs_call("UDMABUF_CREATE", fd, false, m.size);
		goto teardown;
	}
	release_pinned(&r);
	if (kind == REL_MAPPED) {
		map = mmap(NULL, m.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			obs_error("mmap of the dma-buf", errno);
			close(fd);
			goto teardown;
		}
		close(fd);
		fd = -1;
		if (!held_while_mapped(&r, &m, map)) {
			munmap(map, m.size);
			goto teardown;
		}
	}
	obs_phase(PH_RELEASE);
	if (break_leak)
		ksft_print_msg("selftest break: the dma-buf is kept\n");
	else if (map)
		munmap(map, m.size);
	else
		close(fd);
	release_after(&r, map ? "after the last mapping of the dma-buf was unmapped" :
		      "after the dma-buf was closed");
	if (break_leak && map)
		munmap(map, m.size);
	else if (break_leak)
		close(fd);
teardown:
	obs_phase(PH_TEARDOWN);
	mem_teardown(&m);
}

/* hugetlb pages and reservations come back -------------------------------- */

enum ht_kind {
	HT_FAULTED,	/* mapped and written before the pin */
	HT_MAPPED,	/* mapped (reserved), never faulted in */
	HT_UNMAPPED,	/* never mapped: nothing reserved */
};

struct hcount {
	unsigned long total, free, resv;
};

static int hcount_read(size_t size, struct hcount *h)
{
	static const char *const files[] = { "nr_hugepages", "free_hugepages", "resv_hugepages" };
	unsigned long *v[] = { &h->total, &h->free, &h->resv };
	char path[160];
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/%s",
			 size >> 10, files[i]);
		ret = read_ulong(path, v[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static bool hcount_same(const struct hcount *a, const struct hcount *b)
{
	return a->total == b->total && a->free == b->free && a->resv == b->resv;
}

/* The counts once pages of closed files are freed (a moment at most). */
static void hcount_settle(size_t size, const struct hcount *want, struct hcount *h)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 100; i++) {
		if (hcount_read(size, h) || hcount_same(h, want))
			return;
		nanosleep(&ts, NULL);
	}
}

static const char *const ht_names[] = {
	[HT_FAULTED] = "faulted in",
	[HT_MAPPED] = "mapped, never faulted in",
	[HT_UNMAPPED] = "never mapped",
};

static void hugetlb_observe(const struct pcase *c)
{
	enum ht_kind kind = (enum ht_kind)c->param;
	size_t size = c->bk->size;
	struct hcount base, again, mapped, held, after;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int memfd, buf = -1;
	char *map = MAP_FAILED;

	obs_phase(PH_SETUP);
	if (hcount_read(size, &base)) {
		obs_error("reading the hugetlb pool counts", errno);
		return;
	}
	nanosleep(&ts, NULL);
	if (hcount_read(size, &again) || !hcount_same(&base, &again)) {
		obs_unmet("the hugetlb pool is in use by another process",
			  "free/reserved %lu/%lu, then %lu/%lu", base.free, base.resv, again.free,
			  again.resv);
		return;
	}
	memfd = memfd_create("pinsuite-hugetlb", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB |
			     (ilog2_ul(size) << MFD_HUGE_SHIFT));
	if (memfd < 0) {
		obs_unmet("no hugetlb memfd of this size", "memfd_create(MFD_HUGETLB, %zu kB): %s",
			  size >> 10, strerror(errno));
		return;
	}
	if (ftruncate(memfd, (off_t)size) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		obs_error("sizing and sealing the memfd", errno);
		goto close;
	}
	if (kind != HT_UNMAPPED) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		if (map == MAP_FAILED) {
			obs_unmet("not enough free hugetlb pages", "mmap of a %zu kB hugetlb memfd: %s",
				  size >> 10, strerror(errno));
			goto close;
		}
		if (kind == HT_FAULTED)
			map[0] = PAT_INITIAL;
	}
	hcount_read(size, &mapped);
	obs_phase(PH_PIN);
	buf = udmabuf_create(memfd, 0, size, 1);
	hcount_read(size, &held);
	ksft_print_msg("hugepages-%zukB free/reserved of %lu: %lu/%lu before, %lu/%lu %s, %lu/%lu after UDMABUF_CREATE (%s)\n",
		       size >> 10, base.total, base.free, base.resv, mapped.free, mapped.resv,
		       ht_names[kind], held.free, held.resv, buf < 0 ? strerror(-buf) : "created");
	if (buf < 0 && !(kind == HT_UNMAPPED && buf == -ENOMEM)) {
		obs_call("UDMABUF_CREATE of a hugetlb memfd", buf, false, size);
		goto unmap;
	}
	if (buf < 0)
		ksft_print_msg("refused: nothing is reserved for a hugetlb memfd that was never mapped\n");
	if (held.resv > held.total || held.free > held.total)
		obs_broken(SYM_KEPT, "with the dma-buf, hugepages-%zukB counts %lu free and %lu reserved of %lu pages: the reservation count underflowed",
			   size >> 10, held.free, held.resv, held.total);
unmap:
	obs_phase(PH_RELEASE);
	if (break_leak && buf >= 0)
		ksft_print_msg("selftest break: the dma-buf is kept\n");
	else if (buf >= 0)
		close(buf);
	if (map != MAP_FAILED)
		munmap(map, size);
	close(memfd);
	memfd = -1;
	hcount_settle(size, &base, &after);
	ksft_print_msg("hugepages-%zukB free/reserved after the dma-buf and the memfd are closed: %lu/%lu (%lu/%lu before)\n",
		       size >> 10, after.free, after.resv, base.free, base.resv);
	if (!obs_recorded()) {
		if (after.free != base.free || after.resv != base.resv)
			obs_broken(SYM_KEPT, "after the dma-buf and the memfd are closed hugepages-%zukB has %+ld free and %+ld reserved pages against before",
				   size >> 10, (long)(after.free - base.free),
				   (long)(after.resv - base.resv));
		else
			obs_held();
	}
	if (break_leak && buf >= 0)
		close(buf);
close:
	if (memfd >= 0)
		close(memfd);
}

static void add_release(void)
{
	static const struct {
		enum rel_kind kind;
		const char *what;
	} rel[] = {
		{ REL_CLOSE, "pins gone when the dma-buf is closed" },
		{ REL_MAPPED, "pins kept while the closed dma-buf is mapped, gone at munmap()" },
		{ REL_EXIT, "pins gone when the process holding the dma-buf exits" },
	};
	static const struct {
		enum ht_kind kind;
		uint64_t tags;
	} ht[] = {
		{ HT_FAULTED, TAGBIT(TAG_MEMFD_PIN_FREE) },
		{ HT_MAPPED, TAGBIT(TAG_MEMFD_PIN_ALLOC) | TAGBIT(TAG_MEMFD_PIN_RESV) |
			     TAGBIT(TAG_MEMFD_PIN_FREE) },
		{ HT_UNMAPPED, TAGBIT(TAG_MEMFD_PIN_ALLOC) | TAGBIT(TAG_MEMFD_PIN_FREE) |
			       TAGBIT(TAG_MEMFD_PIN_NO_RESV) },
	};
	const struct platform *p = platform();
	const struct backing *const *bks;
	const struct backing *memfd = NULL, *huge = NULL;
	unsigned int i;
	int b, nr;

	bks = backings(&nr);
	for (b = 0; b < nr; b++) {
		if (!(bks[b]->flags & BKF_SHARED))
			continue;
		if (bks[b]->type == BK_MEMFD && !memfd)
			memfd = bks[b];
		if (bks[b]->type == BK_MEMFD_HUGETLB && bks[b]->size == p->hugetlb_sizes[0])
			huge = bks[b];
	}
	for (i = 0; memfd && i < ARRAY_SIZE(rel); i++) {
		struct pcase c = {
			.prop = P_RELEASED,
			.pin = &pin_udmabuf,
			.writable = true,
			.bk = memfd,
			.observe = release_observe,
			.param = rel[i].kind,
		};

		pcase_add(&c, "udmabuf, %s, %s", rel[i].what, memfd->name);
	}
	for (i = 0; huge && i < ARRAY_SIZE(ht); i++) {
		struct pcase c = {
			.prop = P_RELEASED,
			.pin = &pin_udmabuf,
			.writable = true,
			.bk = huge,
			.tags = ht[i].tags,
			.observe = hugetlb_observe,
			.param = ht[i].kind,
		};

		pcase_add(&c, "udmabuf of a hugetlb memfd (%zu kB) %s, huge page counts sane while pinned, back after close",
			  huge->size >> 10, ht_names[ht[i].kind]);
	}
}

/* Main ------------------------------------------------------------------ */

static void enumerate(void)
{
	const struct platform *p = platform();

	base_range.size = p->pmd_size;
	snprintf(base_range.name, sizeof(base_range.name), "memfd, %zu kB of base pages (MAP_SHARED)",
		 p->pmd_size >> 10);
	add_matrix(&pin_udmabuf, "udmabuf UDMABUF_CREATE, dma-buf mmap", false);
	add_matrix(&pin_udmabuf_list, "udmabuf UDMABUF_CREATE_LIST in two parts, dma-buf mmap", true);
	add_private();
	add_refusals();
	add_release();
}

static const struct ksft_break breaks[] = {
	{ "refusal", "seal the memfd as udmabuf wants it where a refusal is tested", &break_refusal,
	  1 },
	{ "leak", "keep the dma-buf when the release is checked", &break_leak, 1 },
	{ NULL, NULL, NULL, 0 },
};

static const struct pinsuite suite = {
	.name = "udmabuf_pin",
	.summary = "Long-term pins through udmabuf: the dma-buf's mmap (the pinned folios)\n"
		   "against a MAP_SHARED mapping of the memfd after writes, fork, mprotect,\n"
		   "pageout, collapse, mremap and migration; the seals udmabuf must refuse; pin\n"
		   "release on close, munmap and exit; hugetlb pages and reservations after close.",
	.breaks = breaks,
	.enumerate = enumerate,
	.timeout = 60,
	/* A hugetlb page pinned, one for fork()'s check, one for the accounting cases. */
	.hugetlb_pages = 4,
};

PINSUITE_MAIN(suite)
