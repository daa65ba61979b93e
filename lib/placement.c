// SPDX-License-Identifier: GPL-2.0
/*
 * Zone spans, CMA areas, memory blocks: where pages lie.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ksft.h"
#include "need.h"
#include "observe.h"
#include "placement.h"
#include "sysstate.h"
#include "util.h"

#define MAX_SPANS	16
#define MEMORY_DIR	"/sys/devices/system/memory"

struct span {
	int node;
	unsigned long start, end;	/* PFNs, [start, end) */
};

static struct span movable[MAX_SPANS], cma[MAX_SPANS], zones[4 * MAX_SPANS];
static int nr_movable, nr_cma, nr_zones;
static long cma_total_kb;
static bool scanned;

/* /proc/zoneinfo: every populated zone; the ZONE_MOVABLE ones apart. */
static void scan_zones(void)
{
	unsigned long spanned = 0, start = 0, present = 0;
	char line[256], zone[32] = "";
	int node = -1;
	FILE *f;

	f = fopen("/proc/zoneinfo", "re");
	if (!f)
		return;
	for (;;) {
		bool more = fgets(line, sizeof(line), f);
		int n;

		/* A zone ends where the next one starts, or at the end. */
		if ((!more || !strncmp(line, "Node ", 5)) && node >= 0 && present && spanned) {
			if (nr_zones < (int)ARRAY_SIZE(zones))
				zones[nr_zones++] = (struct span){ node, start, start + spanned };
			if (!strcmp(zone, "Movable") && nr_movable < MAX_SPANS)
				movable[nr_movable++] = (struct span){ node, start, start + spanned };
		}
		if (!more)
			break;
		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2) {
			node = n;
			spanned = start = present = 0;
		} else if (sscanf(line, " spanned %lu", &spanned) == 1 ||
			   sscanf(line, " present %lu", &present) == 1 ||
			   sscanf(line, " start_pfn: %lu", &start) == 1) {
			continue;
		}
	}
	fclose(f);
}

static int node_of(unsigned long pfn)
{
	int i;

	for (i = 0; i < nr_zones; i++)
		if (pfn >= zones[i].start && pfn < zones[i].end)
			return zones[i].node;
	return -1;
}

/*
 * The CMA areas reserved at boot, from the kernel log:
 * "cma: Reserved 256 MiB at 0x0000000100000000 on node -1" (6.12),
 * without " on node" before 6.9.
 */
static void scan_cma(void)
{
	int size = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	unsigned long long base;
	unsigned long mib;
	char *buf, *p;
	int n;

	cma_total_kb = meminfo_kb("CmaTotal");
	if (cma_total_kb <= 0 || size <= 0)
		return;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return;
	n = klogctl(3, buf, size);		/* SYSLOG_ACTION_READ_ALL */
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "cma: Reserved ")) && nr_cma < MAX_SPANS; p++) {
		if (sscanf(p, "cma: Reserved %lu MiB at %llx", &mib, &base) != 2)
			continue;
		cma[nr_cma].start = (unsigned long)(base / page_size());
		cma[nr_cma].end = cma[nr_cma].start + (mib << 20) / page_size();
		nr_cma++;
	}
	free(buf);
}

static void scan(void)
{
	int i;

	if (scanned)
		return;
	scanned = true;
	scan_zones();
	scan_cma();
	for (i = 0; i < nr_cma; i++)
		cma[i].node = node_of(cma[i].start);
}

const char *area_name(unsigned int area)
{
	return area == AREA_CMA ? "CMA" : "ZONE_MOVABLE";
}

const char *movable_zone_unavailable(void)
{
	scan();
	return nr_movable ? NULL :
	       "no ZONE_MOVABLE (boot with movablecore= or kernelcore=)";
}

const char *cma_area_unavailable(void)
{
	scan();
	if (cma_total_kb <= 0)
		return kconfig_value("CONFIG_CMA") == 'n' ? "no CMA (CONFIG_CMA not set)" :
		       "no CMA area (CmaTotal is 0: boot with cma=)";
	if (!nr_cma)
		return "CMA area not found in the kernel log (no \"cma: Reserved\" line)";
	return NULL;
}

bool unpinnable_areas(void)
{
	scan();
	return nr_movable || cma_total_kb > 0;
}

static bool in_spans(const struct span *s, int nr, unsigned long pfn)
{
	int i;

	for (i = 0; i < nr; i++)
		if (pfn >= s[i].start && pfn < s[i].end)
			return true;
	return false;
}

unsigned int pfn_area(unsigned long pfn)
{
	unsigned int area = 0;

	scan();
	if (!pfn)
		return 0;
	if (in_spans(movable, nr_movable, pfn))
		area |= AREA_MOVABLE;
	if (in_spans(cma, nr_cma, pfn))
		area |= AREA_CMA;
	return area;
}

int area_node(unsigned int area)
{
	const struct span *s = area == AREA_CMA ? cma : movable;
	int nr = area == AREA_CMA ? nr_cma : nr_movable;
	unsigned long best = 0;
	int i, node = -1;

	scan();
	for (i = 0; i < nr; i++) {
		if (s[i].node >= 0 && s[i].end - s[i].start > best) {
			best = s[i].end - s[i].start;
			node = s[i].node;
		}
	}
	return node;
}

void placement_describe(void)
{
	size_t ps = page_size();
	int i;

	scan();
	for (i = 0; i < nr_movable; i++)
		ksft_print_msg("ZONE_MOVABLE of node %d: PFN 0x%lx-0x%lx (%lu MiB)\n",
			       movable[i].node, movable[i].start, movable[i].end - 1,
			       (movable[i].end - movable[i].start) * ps >> 20);
	for (i = 0; i < nr_cma; i++)
		ksft_print_msg("CMA area on node %d: PFN 0x%lx-0x%lx (%lu MiB)\n", cma[i].node,
			       cma[i].start, cma[i].end - 1, (cma[i].end - cma[i].start) * ps >> 20);
}

size_t range_in_area(const char *addr, size_t len, unsigned int area, ssize_t *first,
		     unsigned long *pfn)
{
	size_t off, n = 0;
	unsigned long p;

	*first = -1;
	*pfn = 0;
	for (off = 0; off < len; off += page_size()) {
		p = pagemap_pfn(addr + off);
		if (!(pfn_area(p) & area))
			continue;
		if (!n++) {
			*first = (ssize_t)off;
			*pfn = p;
		}
	}
	return n;
}

int mempolicy_node(int node, bool bind)
{
	unsigned long mask = node >= 0 ? 1UL << node : 0;
	int mode = node < 0 ? 0 : bind ? 2 : 1;	/* MPOL_DEFAULT, MPOL_BIND, MPOL_PREFERRED */

	if (node >= (int)(8 * sizeof(mask)) - 1)
		return -EINVAL;
	if (syscall(SYS_set_mempolicy, mode, node < 0 ? NULL : &mask, 8 * sizeof(mask)))
		return -errno;
	return 0;
}

/* Filling a node with hugetlb pool pages ---------------------------------- */

static char fill_path[160];

/* The hugetlb size whose pages come from the buddy allocator at run time. */
static size_t fill_size(void)
{
	const struct platform *p = platform();
	int i;

	for (i = 0; i < p->nr_hugetlb; i++)
		if (p->hugetlb_sizes[i] == p->pmd_size)
			return p->pmd_size;
	return 0;
}

/*
 * What the pool left: small free blocks the order-0 allocations of the
 * test would still get outside CMA.  Eat them with locked (so not
 * reclaimed) anonymous pages until a page comes from CMA.
 */
#define EAT_CHUNK	(8UL << 20)
#define EAT_MAX		(1UL << 30)

static char *eaten[EAT_MAX / EAT_CHUNK];
static unsigned int nr_eaten;

static bool chunk_reached_cma(const char *p)
{
	size_t off;

	for (off = 0; off < EAT_CHUNK; off += 16 * page_size())
		if (pfn_area(pagemap_pfn(p + off)) & AREA_CMA)
			return true;
	return false;
}

/* MemFree of @node in kB, or -1. */
static long node_free_kb(int node)
{
	char path[96], buf[4096], *p;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "MemFree:");
	return p ? strtol(p + 8, NULL, 10) : -1;
}

static int eat_until_cma(int node)
{
	long cma_free, other;
	char *p;

	while (nr_eaten < ARRAY_SIZE(eaten)) {
		cma_free = meminfo_kb("CmaFree");
		other = node_free_kb(node) - (cma_free > 0 ? cma_free : 0);
		if (nr_eaten && chunk_reached_cma(eaten[nr_eaten - 1]))
			return 0;
		/*
		 * Never into the OOM killer: movable allocations leave the
		 * kernel zone its lowmem reserve (some 100 MiB here), CMA
		 * pages included.
		 */
		if (cma_free < 16384 || other < 131072)
			return -EAGAIN;
		p = mmap(NULL, EAT_CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		eaten[nr_eaten++] = p;
	}
	return -EAGAIN;
}

int placement_fill_until_cma(int node, char *fig, size_t len)
{
	size_t size = fill_size();
	long cma0 = meminfo_kb("CmaFree"), cma_now = cma0;
	unsigned long have, want, step;
	char val[32];
	int ret, i;

	*fig = '\0';
	if (!size || node < 0)
		return -ENOENT;
	if (cma0 < 16384) {
		snprintf(fig, len, "CmaFree %ld kB", cma0);
		return -EAGAIN;
	}
	snprintf(fill_path, sizeof(fill_path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-%zukB/nr_hugepages", node,
		 size >> 10);
	if (read_ulong(fill_path, &have))
		return -ENOENT;
	/* 64 MiB a step: a quarter of a small CMA area. */
	step = (64UL << 20) / size;
	for (i = 0; i < 4096; i++) {
		want = have + step;
		snprintf(val, sizeof(val), "%lu", want);
		ret = sysstate_write(fill_path, val);
		if (ret)
			return ret;
		cma_now = meminfo_kb("CmaFree");
		if (read_ulong(fill_path, &want))
			return -EIO;
		if (cma0 - cma_now >= 4096 || want <= have)
			break;
		have = want;
	}
	ret = eat_until_cma(node);
	snprintf(fig, len, "node %d filled with %lu pool pages of %zu kB and %u MiB of locked pages: CmaFree %ld -> %ld kB, node MemFree %ld kB",
		 node, want, size >> 10, nr_eaten * (unsigned int)(EAT_CHUNK >> 20), cma0,
		 meminfo_kb("CmaFree"), node_free_kb(node));
	return ret == -ENOMEM ? -EAGAIN : ret;
}

void placement_fill_undo(void)
{
	while (nr_eaten)
		munmap(eaten[--nr_eaten], EAT_CHUNK);
	if (!*fill_path)
		return;
	/*
	 * Shrinking the pool may free its older pages and keep the ones in
	 * CMA: empty it, then let the restore allocate the pages afresh,
	 * now that CMA is no longer preferred.
	 */
	write_file(fill_path, "0");
	sysstate_restore(fill_path);
}

int placement_fresh_hugetlb(int node, size_t size)
{
	char path[160], val[32];
	unsigned long have;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-%zukB/nr_hugepages", node,
		 size >> 10);
	if (read_ulong(path, &have))
		return -ENOENT;
	snprintf(val, sizeof(val), "%lu", have + 1);
	return sysstate_write(path, val);
}

/* Memory blocks ----------------------------------------------------------- */

static unsigned long block_pages(void)
{
	static unsigned long pages;
	char buf[64];

	if (!pages && !read_file(MEMORY_DIR "/block_size_bytes", buf, sizeof(buf)))
		pages = strtoul(buf, NULL, 16) / page_size();
	return pages;
}

long memory_block_of(unsigned long pfn)
{
	unsigned long n = block_pages();

	return n && pfn ? (long)(pfn / n) : -1;
}

/*
 * The hugetlb pages of the block (KPF_HUGE): how many of its pages are in
 * one, or -errno.  A gigantic page covers whole blocks.
 */
static long block_hugetlb_pages(long block, bool *reserved)
{
	unsigned long n = block_pages(), i;
	uint64_t *flags;
	long huge = 0;
	int fd, ret;

	flags = malloc(n * sizeof(*flags));
	if (!flags)
		return -ENOMEM;
	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(flags);
		return -errno;
	}
	ret = pread_full(fd, flags, n * sizeof(*flags), (off_t)(block * n * sizeof(*flags)));
	close(fd);
	*reserved = false;
	for (i = 0; !ret && i < n; i++) {
		if (flags[i] & (1ULL << 17))	/* KPF_HUGE */
			huge++;
		if (flags[i] & (1ULL << 32))	/* KPF_RESERVED */
			*reserved = true;
	}
	free(flags);
	return ret ? ret : huge;
}

const char *memory_block_unusable(long block)
{
	unsigned long n = block_pages(), first = block * n, last = first + n;
	char path[160], state[64], zones[128];
	bool reserved;
	long huge;
	int i;

	scan();
	if (kconfig_value("CONFIG_MEMORY_HOTREMOVE") == 'n')
		return "no memory hot-remove (CONFIG_MEMORY_HOTREMOVE not set)";
	snprintf(path, sizeof(path), MEMORY_DIR "/memory%ld/state", block);
	if (block < 0 || sysstate_read(path, state, sizeof(state)))
		return "the memory block has no state file (no memory hot-remove?)";
	if (strcmp(state, "online"))
		return "the memory block is not online";
	snprintf(path, sizeof(path), MEMORY_DIR "/memory%ld/valid_zones", block);
	if (read_file(path, zones, sizeof(zones)) || !strstr(zones, "Movable"))
		return "the memory block is not in ZONE_MOVABLE";
	for (i = 0; i < nr_movable; i++)
		if (first > movable[i].start && last < movable[i].end)
			break;
	if (i == nr_movable)
		return "the memory block is at the edge of ZONE_MOVABLE (onlined again, it could join another zone)";
	huge = block_hugetlb_pages(block, &reserved);
	if (huge < 0)
		return "cannot read /proc/kpageflags";
	/* Boot-time allocations can sit in ZONE_MOVABLE (movablecore=). */
	if (reserved)
		return "the memory block holds reserved pages (boot-time allocations): it cannot go offline";
	/* Free gigantic pages would be dissolved, and cannot be had again. */
	if ((unsigned long)huge == n)
		return "the memory block is part of a gigantic hugetlb page";
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int memory_block_offline(long block, unsigned int timeout_s)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	const struct platform *p = platform();
	char path[160];
	int ret, i;

	/*
	 * Offlining dissolves the free pool pages in the block: the pools come
	 * back to their sizes when the case ends.
	 */
	for (i = 0; i < p->nr_hugetlb; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB/nr_hugepages",
			 p->hugetlb_sizes[i] >> 10);
		sysstate_save(path);
	}
	snprintf(path, sizeof(path), MEMORY_DIR "/memory%ld/state", block);
	/* No SA_RESTART: the write must come back with EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	alarm(timeout_s);
	ret = sysstate_write(path, "offline");
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	/* "online": inside ZONE_MOVABLE's span, it goes back there. */
	if (!ret)
		sysstate_restore(path);
	return ret;
}
