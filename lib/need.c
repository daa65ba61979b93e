// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ksft.h"
#include "need.h"
#include "observe.h"
#include "placement.h"
#include "sysstate.h"
#include "util.h"

#define THP_DIR		"/sys/kernel/mm/transparent_hugepage"
#define HUGETLB_DIR	"/sys/kernel/mm/hugepages"

static struct platform plat;
static bool detected;

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Collect "<prefix><N>kB" directory names of @dir that hold @file. */
static int scan_sizes(const char *dir, const char *prefix, const char *file,
		      size_t *sizes)
{
	size_t plen = strlen(prefix);
	struct dirent *de;
	char path[512];
	int nr = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && nr < MAX_SIZES) {
		unsigned long kb;
		char *end;

		if (strncmp(de->d_name, prefix, plen))
			continue;
		kb = strtoul(de->d_name + plen, &end, 10);
		if (!kb || strcmp(end, "kB"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, de->d_name, file);
		if (file && access(path, F_OK))
			continue;
		sizes[nr++] = KB(kb);
	}
	closedir(d);
	qsort(sizes, nr, sizeof(*sizes), cmp_size);
	return nr;
}

static int count_numa_nodes(void)
{
	char path[128];
	int node, nr = 0;

	for (node = 0; node < 64; node++) {
		long total;
		char line[128];

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", node);
		if (read_file(path, line, sizeof(line)))
			continue;
		/* "Node 0 MemTotal:       2020704 kB" */
		total = strtol(strstr(line, "MemTotal:") ? strstr(line, "MemTotal:") + 9 : "0",
			       NULL, 10);
		if (total > 0)
			nr++;
	}
	return nr ? nr : 1;
}

static void detect(void)
{
	unsigned long v;

	detected = true;
	plat.pagesize = page_size();
	plat.root = !geteuid();
	if (!read_ulong(THP_DIR "/hpage_pmd_size", &v))
		plat.pmd_size = v;
	if (plat.pmd_size) {
		plat.nr_thp = scan_sizes(THP_DIR, "hugepages-", "enabled", plat.thp_sizes);
		plat.thp_per_size = plat.nr_thp > 0;
		if (!plat.nr_thp)
			plat.thp_sizes[plat.nr_thp++] = plat.pmd_size;
		plat.shmem_thp = !access(THP_DIR "/shmem_enabled", F_OK);
		plat.nr_shmem = scan_sizes(THP_DIR, "hugepages-", "shmem_enabled",
					   plat.shmem_sizes);
		if (!plat.nr_shmem && plat.shmem_thp)
			plat.shmem_sizes[plat.nr_shmem++] = plat.pmd_size;
		plat.huge_zeropage = !read_ulong(THP_DIR "/use_zero_page", &v) && v == 1;
	}
	plat.nr_hugetlb = scan_sizes(HUGETLB_DIR, "hugepages-", NULL, plat.hugetlb_sizes);
	plat.swap = meminfo_kb("SwapTotal") > 0;
	plat.numa_nodes = count_numa_nodes();
	plat.ksm = !access("/sys/kernel/mm/ksm/run", F_OK);
	plat.soft_dirty = kconfig_value("CONFIG_MEM_SOFT_DIRTY") == 'y';
}

const struct platform *platform(void)
{
	if (!detected)
		detect();
	return &plat;
}

const char *thp_size_dir(size_t size)
{
	static char path[128];

	snprintf(path, sizeof(path), THP_DIR "/hugepages-%zukB", size >> 10);
	return path;
}

static long hugetlb_value(size_t size, const char *file)
{
	char path[160];
	unsigned long v;

	snprintf(path, sizeof(path), HUGETLB_DIR "/hugepages-%zukB/%s", size >> 10, file);
	return read_ulong(path, &v) ? -1 : (long)v;
}

long hugetlb_free(size_t size)
{
	return hugetlb_value(size, "free_hugepages");
}

long hugetlb_total(size_t size)
{
	return hugetlb_value(size, "nr_hugepages");
}

/*
 * Free pages of @size once the pool has settled: pages of a case process
 * that just ended (or of an io_uring ring torn down after it) come back a
 * moment later.  Waits up to two seconds for @want free pages.
 */
long hugetlb_settled(size_t size, unsigned int want)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	long free = hugetlb_free(size);
	int i;

	for (i = 0; i < 40 && free >= 0 && free < (long)want &&
	     hugetlb_total(size) >= (long)want; i++) {
		nanosleep(&ts, NULL);
		free = hugetlb_free(size);
	}
	return free;
}

#define RCU_EXPEDITED	"/sys/kernel/rcu_expedited"

void rcu_expedite(void)
{
	char cur[16];

	/* Absent with CONFIG_TINY_RCU; already non-zero: nothing to do. */
	if (!platform()->root || sysstate_read(RCU_EXPEDITED, cur, sizeof(cur)) ||
	    strcmp(cur, "0"))
		return;
	if (sysstate_write_run(RCU_EXPEDITED, "1"))
		ksft_print_msg("could not expedite RCU grace periods: cases that wait for them take longer\n");
}

void hugetlb_reserve_all(unsigned int nr)
{
	const struct platform *p = platform();
	char path[160], val[32];
	long free, total;
	int i;

	if (!p->root)
		return;
	for (i = 0; i < p->nr_hugetlb; i++) {
		free = hugetlb_free(p->hugetlb_sizes[i]);
		total = hugetlb_total(p->hugetlb_sizes[i]);
		if (free < 0 || total < 0 || free >= nr)
			continue;
		snprintf(path, sizeof(path), HUGETLB_DIR "/hugepages-%zukB/nr_hugepages",
			 p->hugetlb_sizes[i] >> 10);
		snprintf(val, sizeof(val), "%ld", total + (long)nr - free);
		/*
		 * Gigantic pages need contiguous memory: compact first, so that
		 * what a run gets does not depend on what ran before it.
		 */
		if (p->hugetlb_sizes[i] >= (1UL << 30))
			write_file("/proc/sys/vm/compact_memory", "1");
		sysstate_write_run(path, val);
		if (hugetlb_total(p->hugetlb_sizes[i]) < total + (long)nr - free) {
			write_file("/proc/sys/vm/compact_memory", "1");
			sysstate_write_run(path, val);
		}
	}
}

/* Gigantic pages: the buddy allocator cannot give fresh ones (MAX_PAGE_ORDER 10). */
static bool gigantic(size_t size)
{
	return size > (page_size() << 10);
}

struct pinnable_seen {
	size_t size;
	long total, free, pinnable;
};

long hugetlb_pinnable_free(size_t size)
{
	static struct pinnable_seen seen[MAX_SIZES];
	static int nr_seen;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE |
		    (int)(ilog2_ul(size) << MAP_HUGE_SHIFT);
	long total = hugetlb_total(size), nfree = hugetlb_free(size), pinnable = 0, i;
	unsigned long pfn;
	char **maps;
	int c;

	if (nfree <= 0 || !unpinnable_areas())
		return nfree < 0 ? 0 : nfree;
	if (geteuid())
		return -1;
	for (c = 0; c < nr_seen; c++)
		if (seen[c].size == size && seen[c].total == total && seen[c].free == nfree)
			return seen[c].pinnable;
	maps = calloc((size_t)nfree, sizeof(*maps));
	if (!maps)
		return -1;
	/* One page a mapping, each taken from the pool on its own. */
	for (i = 0; i < nfree; i++) {
		maps[i] = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
		if (maps[i] == MAP_FAILED) {
			maps[i] = NULL;
			break;
		}
		pfn = pagemap_pfn(maps[i]);
		if (pfn && !(pfn_area(pfn) & (AREA_MOVABLE | AREA_CMA)))
			pinnable++;
	}
	for (i = 0; i < nfree; i++)
		if (maps[i])
			munmap(maps[i], size);
	free(maps);
	if (nr_seen < MAX_SIZES)
		seen[nr_seen++] = (struct pinnable_seen){ size, total, nfree, pinnable };
	return pinnable;
}

/* The checks ------------------------------------------------------------- */

static bool unmet_flags(unsigned int flags, char *why, size_t len, char *fig, size_t flen)
{
	const struct platform *p = platform();

	if ((flags & NEED_ROOT) && !p->root)
		snprintf(why, len, "needs root");
	else if ((flags & NEED_THP) && !p->pmd_size)
		snprintf(why, len, "no THP (%s; no %s)", kconfig_why("CONFIG_TRANSPARENT_HUGEPAGE"),
			 THP_DIR);
	else if ((flags & NEED_HUGE_ZEROPAGE) && !p->huge_zeropage)
		snprintf(why, len, "huge zeropage disabled (%s/use_zero_page is not 1)", THP_DIR);
	else if ((flags & NEED_SHMEM_THP) && !p->shmem_thp)
		snprintf(why, len, "no shmem THP (no %s/shmem_enabled)", THP_DIR);
	else if ((flags & NEED_SWAP) && !p->swap)
		snprintf(why, len, "no swap (SwapTotal is 0 in /proc/meminfo)");
	else if ((flags & NEED_NUMA2) && p->numa_nodes < 2) {
		snprintf(why, len, "needs 2 NUMA nodes with memory");
		snprintf(fig, flen, "NUMA nodes with memory: %d", p->numa_nodes);
	} else if ((flags & NEED_KSM) && !p->ksm)
		snprintf(why, len, "no KSM (%s; no /sys/kernel/mm/ksm/run)",
			 kconfig_why("CONFIG_KSM"));
#ifndef HAVE_LIBNUMA
	else if (flags & NEED_LIBNUMA)
		snprintf(why, len, "built without libnuma (install libnuma-dev and rebuild)");
#endif
	else
		return false;
	return true;
}

bool need_unmet(const struct need *n, char *why, size_t len, char *fig, size_t flen)
{
	const struct platform *p = platform();
	const char *reason;
	long free;
	int i;

	*fig = '\0';
	if (unmet_flags(n->flags, why, len, fig, flen))
		return true;
	if (n->thp_size) {
		for (i = 0; i < p->nr_thp && p->thp_sizes[i] != n->thp_size; i++)
			;
		if (i == p->nr_thp) {
			snprintf(why, len, "THP size %zu kB not offered", n->thp_size >> 10);
			return true;
		}
	}
	if (n->shmem_size) {
		for (i = 0; i < p->nr_shmem && p->shmem_sizes[i] != n->shmem_size; i++)
			;
		if (i == p->nr_shmem) {
			snprintf(why, len, "shmem folio size %zu kB not offered",
				 n->shmem_size >> 10);
			return true;
		}
	}
	free = n->hugetlb_size ? hugetlb_settled(n->hugetlb_size, n->hugetlb_pages) : 0;
	if (n->hugetlb_size && free < (long)n->hugetlb_pages) {
		snprintf(why, len, "need %u free %zu kB hugetlb pages", n->hugetlb_pages,
			 n->hugetlb_size >> 10);
		snprintf(fig, flen, "%zu kB hugetlb pages: %ld free of %ld", n->hugetlb_size >> 10,
			 free < 0 ? 0 : free, hugetlb_total(n->hugetlb_size));
		return true;
	}
	if (n->hugetlb_size && n->hugetlb_pinnable && gigantic(n->hugetlb_size)) {
		long pinnable = hugetlb_pinnable_free(n->hugetlb_size);

		if (pinnable >= 0 && pinnable < (long)n->hugetlb_pinnable) {
			snprintf(why, len, "need %u free %zu kB hugetlb pages outside ZONE_MOVABLE and CMA",
				 n->hugetlb_pinnable, n->hugetlb_size >> 10);
			snprintf(fig, flen, "%zu kB hugetlb pages: %ld free, %ld of them long-term pinnable (the others are in ZONE_MOVABLE or CMA, where a long-term pin cannot use them and no fresh gigantic page can be allocated)",
				 n->hugetlb_size >> 10, free, pinnable);
			return true;
		}
	}
	if (n->check) {
		reason = n->check();
		if (reason) {
			snprintf(why, len, "%s", reason);
			return true;
		}
	}
	return false;
}

bool needs_unmet(const struct need *const *list, int nr, char *why, size_t len, char *fig,
		 size_t flen)
{
	int i;

	for (i = 0; i < nr; i++)
		if (list[i] && need_unmet(list[i], why, len, fig, flen))
			return true;
	return false;
}
