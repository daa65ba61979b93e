// SPDX-License-Identifier: GPL-2.0
/*
 * The backing catalog.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backing.h"
#include "case.h"
#include "ksft.h"
#include "observe.h"
#include "sysstate.h"
#include "util.h"

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT	26
#endif

#define THP_DIR		"/sys/kernel/mm/transparent_hugepage"
#define KSM_DIR		"/sys/kernel/mm/ksm"
#define MIN_FREE_KBYTES	"/proc/sys/vm/min_free_kbytes"
#define MAX_BACKINGS	256

/* Catalog --------------------------------------------------------------- */

static struct backing cat[MAX_BACKINGS];
static const struct backing *catp[MAX_BACKINGS];
static int nr_cat = -1;

static struct backing *add(enum bk_type type, unsigned int flags, size_t size,
			   const char *fmt, ...) __printf(4, 5);
static struct backing *add(enum bk_type type, unsigned int flags, size_t size,
			   const char *fmt, ...)
{
	struct backing *bk = &cat[nr_cat];
	va_list ap;

	if (nr_cat == MAX_BACKINGS)
		abort();
	bk->type = type;
	bk->flags = flags;
	bk->size = size;
	if (size && size == platform()->pmd_size)
		bk->flags |= BKF_PMD;
	va_start(ap, fmt);
	vsnprintf(bk->name, sizeof(bk->name), fmt, ap);
	va_end(ap);
	catp[nr_cat++] = bk;
	return bk;
}

static void add_thp(size_t size)
{
	const unsigned int anon = BKF_PRIVATE | BKF_ANON | BKF_THP;
	const unsigned int swp = anon | BKF_SWAPOUT | BKF_VARIANT;
	const unsigned int part = anon | BKF_PARTIAL | BKF_VARIANT;
	size_t kb = size >> 10;
	struct backing *bk[10];
	int i = 0, j;

	bk[i++] = add(BK_THP, anon, size, "THP (%zu kB)", kb);
	bk[i++] = add(BK_THP_SWAPOUT, swp, size, "swapped-out THP (%zu kB)", kb);
	if (size == platform()->pmd_size) {
		bk[i++] = add(BK_THP_PTE, anon | BKF_PTEMAP, size, "PTE-mapped THP (%zu kB)", kb);
		bk[i++] = add(BK_THP_PTE_SWAPOUT, swp | BKF_PTEMAP, size,
			      "swapped-out, PTE-mapped THP (%zu kB)", kb);
	}
	bk[i++] = add(BK_THP_SINGLE_PTE, anon, size, "single PTE of THP (%zu kB)", kb);
	bk[i++] = add(BK_THP_SINGLE_PTE_SWAPOUT, swp, size,
		      "single PTE of swapped-out THP (%zu kB)", kb);
	bk[i++] = add(BK_THP_MREMAP_LOWER, part, size,
		      "partially mremap()'ed THP, staying half (%zu kB)", kb);
	bk[i++] = add(BK_THP_MREMAP_UPPER, part, size,
		      "partially mremap()'ed THP, moved half (%zu kB)", kb);
	bk[i++] = add(BK_THP_SHARED_PARTIAL, part, size, "partially shared THP (%zu kB)", kb);
	bk[i++] = add(BK_THP_SHARED_TAILS, part, size,
		      "tail pages of partially shared THP (%zu kB)", kb);
	for (j = 0; j < i; j++) {
		bk[j]->need.flags |= NEED_THP;
		bk[j]->need.thp_size = size;
		if (bk[j]->flags & BKF_SWAPOUT)
			bk[j]->need.flags |= NEED_SWAP;
	}
}

static void add_pair(enum bk_type type, unsigned int flags, size_t size, const char *what)
{
	struct backing *bk;
	int i;

	for (i = 0; i < 2; i++) {
		bk = add(type, flags | (i ? BKF_PRIVATE : BKF_SHARED), size, "%s (%s)", what,
			 i ? "MAP_PRIVATE" : "MAP_SHARED");
		/*
		 * Shared: the page cache page.  Private: that page, the COW copy
		 * a pin or a write makes, and the copy a fork()ed child gets.
		 */
		if (flags & BKF_HUGETLB) {
			bk->need.hugetlb_size = size;
			bk->need.hugetlb_pages = i ? 3 : 1;
			/*
			 * A long-term pin migrates the page cache page or
			 * allocates the COW copy: it must be pinnable.
			 */
			bk->need.hugetlb_pinnable = i ? 2 : 1;
		}
		if (type == BK_SHMEM_LARGE) {
			bk->need.flags |= NEED_SHMEM_THP;
			bk->need.shmem_size = size;
		}
	}
}

static const struct {
	unsigned long magic;
	const char *name;
} disk_fs[] = {
	{ EXT4_SUPER_MAGIC, "ext4" },
	{ XFS_SUPER_MAGIC, "xfs" },
	{ BTRFS_SUPER_MAGIC, "btrfs" },
};

static void build_catalog(void)
{
	const struct platform *p = platform();
	const unsigned int shm = BKF_FILE | BKF_SHMEM;
	struct backing *bk;
	char what[64];
	unsigned int i;
	int s;

	nr_cat = 0;
	add(BK_ANON, BKF_PRIVATE | BKF_ANON, 0, "anon base page");
	bk = add(BK_ANON_SWAPOUT, BKF_PRIVATE | BKF_ANON | BKF_SWAPOUT | BKF_VARIANT, 0,
		 "swapped-out anon base page");
	bk->need.flags |= NEED_SWAP;
	for (s = 0; s < p->nr_thp; s++)
		add_thp(p->thp_sizes[s]);
	for (s = 0; s < p->nr_hugetlb; s++) {
		bk = add(BK_HUGETLB, BKF_PRIVATE | BKF_ANON | BKF_HUGETLB, p->hugetlb_sizes[s],
			 "hugetlb (%zu kB)", p->hugetlb_sizes[s] >> 10);
		bk->need.hugetlb_size = p->hugetlb_sizes[s];
		bk->need.hugetlb_pages = 2;
		bk->need.hugetlb_pinnable = 1;
	}
	add(BK_ZEROPAGE, BKF_PRIVATE | BKF_ZERO, 0, "shared zeropage");
	if (p->pmd_size) {
		bk = add(BK_HUGE_ZEROPAGE, BKF_PRIVATE | BKF_ZERO | BKF_THP, p->pmd_size,
			 "huge zeropage");
		bk->need.flags |= NEED_THP | NEED_HUGE_ZEROPAGE;
	}
	add_pair(BK_MEMFD, shm, 0, "memfd");
	for (s = 0; s < p->nr_shmem; s++) {
		snprintf(what, sizeof(what), "memfd with %zu kB shmem folios",
			 p->shmem_sizes[s] >> 10);
		add_pair(BK_SHMEM_LARGE, shm | BKF_THP, p->shmem_sizes[s], what);
	}
	add_pair(BK_TMPFS_FILE, shm, 0, "tmpfs file");
	for (i = 0; i < ARRAY_SIZE(disk_fs); i++) {
		snprintf(what, sizeof(what), "%s file", disk_fs[i].name);
		add_pair(BK_DISK_FILE, BKF_FILE | BKF_DISK, 0, what);
		cat[nr_cat - 1].fs_magic = disk_fs[i].magic;
		cat[nr_cat - 2].fs_magic = disk_fs[i].magic;
	}
	/* Whatever filesystem the tests run from, known to us or not. */
	add_pair(BK_CWD_FILE, BKF_FILE | BKF_VARIANT, 0, "file in the working directory");
	for (s = 0; s < p->nr_hugetlb; s++) {
		snprintf(what, sizeof(what), "memfd hugetlb (%zu kB)", p->hugetlb_sizes[s] >> 10);
		add_pair(BK_MEMFD_HUGETLB, BKF_FILE | BKF_HUGETLB, p->hugetlb_sizes[s], what);
	}
	add(BK_ANON_SHARED, BKF_SHARED | BKF_SHMEM, 0, "anon MAP_SHARED page");
	bk = add(BK_KSM, BKF_PRIVATE | BKF_ANON | BKF_KSM, 0, "KSM-merged anon page");
	bk->need.flags |= NEED_KSM | NEED_ROOT;
}

const struct backing *const *backings(int *nr)
{
	if (nr_cat < 0)
		build_catalog();
	*nr = nr_cat;
	return catp;
}

const char *backing_class(const struct backing *bk)
{
	static char buf[64];
	const char *kind;

	switch (bk->type) {
	case BK_ANON:
		return "anon";
	case BK_ANON_SWAPOUT:
	case BK_THP_SWAPOUT:
	case BK_THP_PTE_SWAPOUT:
	case BK_THP_SINGLE_PTE_SWAPOUT:
		return "swapped out";
	case BK_THP:
		return bk->flags & BKF_PMD ? "THP, PMD" : "THP, smaller";
	case BK_THP_PTE:
	case BK_THP_SINGLE_PTE:
		return "THP, PTE-mapped";
	case BK_THP_MREMAP_LOWER ... BK_THP_SHARED_TAILS:
		return "THP, partial";
	case BK_HUGETLB:
		return "hugetlb";
	case BK_ZEROPAGE:
		return "shared zeropage";
	case BK_HUGE_ZEROPAGE:
		return "huge zeropage";
	case BK_ANON_SHARED:
		return "anon shared";
	case BK_KSM:
		return "KSM";
	case BK_MEMFD:
	case BK_TMPFS_FILE:
		kind = "shmem";
		break;
	case BK_SHMEM_LARGE:
		kind = bk->flags & BKF_PMD ? "shmem THP, PMD" : "shmem THP, smaller";
		break;
	case BK_DISK_FILE:
		kind = "disk file";
		break;
	case BK_CWD_FILE:
		kind = "file in the working directory";
		break;
	case BK_MEMFD_HUGETLB:
		kind = "hugetlbfs";
		break;
	default:
		return "other";
	}
	snprintf(buf, sizeof(buf), "%s, %s", kind, bk->flags & BKF_SHARED ? "shared" : "private");
	return buf;
}

bool backing_is_memfd(const struct backing *bk)
{
	return bk->type == BK_MEMFD || bk->type == BK_SHMEM_LARGE || bk->type == BK_MEMFD_HUGETLB;
}

bool backing_is(const struct backing *bk, unsigned int all, unsigned int none)
{
	return (bk->flags & all) == all && !(bk->flags & none);
}

/* Directories ----------------------------------------------------------- */

static char *disk_dirs[16];
static int nr_disk_dirs;


static bool is_disk_fs(unsigned long magic)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(disk_fs); i++)
		if (disk_fs[i].magic == magic)
			return true;
	return false;
}

int backing_add_disk_dir(const char *dir, const char *from, char *why, size_t len)
{
	struct statfs sfs;
	struct stat st;

	if (stat(dir, &st)) {
		snprintf(why, len, "%s %s: %s", from, dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s %s: not a directory", from, dir);
		return -1;
	}
	if (statfs(dir, &sfs) || !is_disk_fs((unsigned long)sfs.f_type)) {
		snprintf(why, len, "%s %s: on %s, not on ext4, xfs or btrfs", from, dir,
			 fs_name((unsigned long)sfs.f_type));
		return -1;
	}
	if (access(dir, W_OK | X_OK)) {
		snprintf(why, len, "%s %s: not writable: %s", from, dir, strerror(errno));
		return -1;
	}
	if (nr_disk_dirs == (int)ARRAY_SIZE(disk_dirs)) {
		snprintf(why, len, "%s %s: more than %zu disk directories", from, dir,
			 ARRAY_SIZE(disk_dirs));
		return -1;
	}
	disk_dirs[nr_disk_dirs] = strdup(dir);
	if (!disk_dirs[nr_disk_dirs]) {
		snprintf(why, len, "%s %s: out of memory", from, dir);
		return -1;
	}
	nr_disk_dirs++;
	return 0;
}

static bool dir_has_type(const char *dir, unsigned long magic)
{
	struct statfs sfs;

	return dir && *dir && !statfs(dir, &sfs) && (unsigned long)sfs.f_type == magic &&
	       !access(dir, W_OK);
}

/*
 * A writable directory on a filesystem of type @magic, or NULL: one given
 * with --disk-dir or PINSUITE_DISK_DIRS, else one at hand.
 */
static const char *find_dir(unsigned long magic)
{
	static const char *const fixed[] = { "/dev/shm", "/var/tmp", "/tmp", "/run" };
	static char cwd[4096];
	unsigned int i;

	for (i = 0; i < (unsigned int)nr_disk_dirs; i++)
		if (dir_has_type(disk_dirs[i], magic))
			return disk_dirs[i];
	if (getcwd(cwd, sizeof(cwd)) && dir_has_type(cwd, magic))
		return cwd;
	if (dir_has_type(getenv("TMPDIR"), magic))
		return getenv("TMPDIR");
	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		if (dir_has_type(fixed[i], magic))
			return fixed[i];
	return NULL;
}

const char *backing_plain_file_dir(void)
{
	static char cwd[4096];
	struct statfs sfs;
	unsigned int i;
	const char *dir;

	for (i = 0; i < ARRAY_SIZE(disk_fs); i++) {
		dir = find_dir(disk_fs[i].magic);
		if (dir)
			return dir;
	}
	if (getcwd(cwd, sizeof(cwd)) && !statfs(cwd, &sfs) && !access(cwd, W_OK) &&
	    (unsigned long)sfs.f_type != TMPFS_MAGIC &&
	    (unsigned long)sfs.f_type != HUGETLBFS_MAGIC)
		return cwd;
	return NULL;
}

unsigned int backing_timeout(const struct backing *bk, unsigned int base)
{
	unsigned int gib = (unsigned int)(bk->size >> 30);

	return gib ? base + 120 * gib : 0;
}

const char *fs_name(unsigned long magic)
{
	static char buf[32];
	unsigned int i;

	if (magic == TMPFS_MAGIC)
		return "tmpfs";
	if (magic == HUGETLBFS_MAGIC)
		return "hugetlbfs";
	for (i = 0; i < ARRAY_SIZE(disk_fs); i++)
		if (disk_fs[i].magic == magic)
			return disk_fs[i].name;
	snprintf(buf, sizeof(buf), "f_type 0x%lx", magic);
	return buf;
}

/* Policies ------------------------------------------------------------- */

int thp_only_size(size_t size)
{
	const struct platform *p = platform();
	char path[160], cur[32];
	int i, ret = 0, r;

	/* Starting khugepaged recomputes it. */
	sysstate_save(MIN_FREE_KBYTES);
	if (!p->thp_per_size) {
		if (!sysstate_read(THP_DIR "/enabled", cur, sizeof(cur)) && !strcmp(cur, "never"))
			ret = sysstate_write(THP_DIR "/enabled", "madvise");
		return ret;
	}
	for (i = 0; i < p->nr_thp; i++) {
		snprintf(path, sizeof(path), "%s/enabled", thp_size_dir(p->thp_sizes[i]));
		r = sysstate_write(path, p->thp_sizes[i] == size ? "always" : "never");
		if (r && !ret)
			ret = r;
	}
	return ret;
}

int shmem_allow_size(size_t size)
{
	const struct platform *p = platform();
	char path[160], cur[32];
	int i, ret = 0, r;

	sysstate_save(MIN_FREE_KBYTES);
	if (!sysstate_read(THP_DIR "/shmem_enabled", cur, sizeof(cur)) &&
	    (!strcmp(cur, "never") || !strcmp(cur, "deny")))
		ret = sysstate_write(THP_DIR "/shmem_enabled", "advise");
	for (i = 0; i < p->nr_shmem; i++) {
		snprintf(path, sizeof(path), "%s/shmem_enabled", thp_size_dir(p->shmem_sizes[i]));
		if (access(path, F_OK))
			continue;
		r = sysstate_write(path, p->shmem_sizes[i] == size ? "advise" : "never");
		if (r && !ret)
			ret = r;
	}
	return ret;
}

int ksm_start(void)
{
	int ret;

	ret = sysstate_write(KSM_DIR "/pages_to_scan", "4096");
	if (!ret)
		ret = sysstate_write(KSM_DIR "/sleep_millisecs", "1");
	/*
	 * Smart scanning (6.7+) skips pages that failed to merge for longer and
	 * longer: a page that was pinned would be skipped once unpinned.
	 */
	if (!ret && !access(KSM_DIR "/smart_scan", F_OK))
		ret = sysstate_write(KSM_DIR "/smart_scan", "0");
	if (!ret)
		ret = sysstate_write(KSM_DIR "/run", "1");
	return ret;
}

/*
 * A full scan covers every process's mergeable memory (a virtual machine's
 * RAM, say), so its time is not ours to choose: allow half a minute each.
 */
int ksm_wait_scans(unsigned int scans)
{
	unsigned long start, cur;
	struct timespec ts = { 0, 1000000 };
	unsigned int i;

	if (read_ulong(KSM_DIR "/full_scans", &start))
		return -ENOENT;
	for (i = 0; i < scans * 30000; i++) {
		if (read_ulong(KSM_DIR "/full_scans", &cur))
			return -ENOENT;
		if (cur >= start + scans)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

/* The page at @addr and the @n pages at @other: does one of them map the same page? */
static bool shares_page(const char *addr, const char *other, size_t n)
{
	unsigned long pfn = pagemap_pfn(addr);
	size_t i;

	for (i = 0; pfn && i < n; i++)
		if (other + i * page_size() != addr && pagemap_pfn(other + i * page_size()) == pfn)
			return true;
	return false;
}

int ksm_wait_merged(const char *addr, const char *other, size_t n, unsigned int max_scans)
{
	unsigned int i;
	int ret;

	for (i = 0; i <= max_scans; i++) {
		if (shares_page(addr, other, n))
			return 0;
		if (i == max_scans)
			break;
		ret = ksm_wait_scans(1);
		if (ret)
			return ret;
	}
	return -EAGAIN;
}

bool ksm_merged(const char *addr, unsigned long pfn_before, const char *other, size_t n)
{
	unsigned long now = pagemap_pfn(addr);

	return (pfn_before && now && now != pfn_before) || shares_page(addr, other, n);
}

/* The /proc/kpageflags bits of the page mapped at @addr (root), or -errno. */
static int64_t page_flags_of(const void *addr)
{
	unsigned long pfn = pagemap_pfn(addr);
	uint64_t flags;
	int fd, ret;

	if (!pfn)
		return -ENOENT;
	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = pread_full(fd, &flags, sizeof(flags), (off_t)pfn * sizeof(flags));
	close(fd);
	return ret ? ret : (int64_t)(flags & INT64_MAX);
}

int page_in_large_folio(const void *addr)
{
	int64_t flags = page_flags_of(addr);

	/* KPF_COMPOUND_HEAD, KPF_COMPOUND_TAIL */
	return flags < 0 ? -1 : !!(flags & ((1LL << 15) | (1LL << 16)));
}

/* Set-up helpers --------------------------------------------------------- */

/*
 * How much of a huge page gets the pattern: the part the checks compare.
 * Filling all of a 1 GiB page costs seconds under emulation for nothing.
 */
static size_t fill_len(size_t size)
{
	return size < BACKING_WINDOW ? size : BACKING_WINDOW;
}

static void *track(struct mem *m, void *p, size_t len)
{
	int i;

	if (p == MAP_FAILED)
		return MAP_FAILED;
	for (i = 0; i < (int)ARRAY_SIZE(m->map); i++) {
		if (!m->map[i]) {
			m->map[i] = p;
			m->map_len[i] = len;
			return p;
		}
	}
	munmap(p, len);
	errno = ENOSPC;
	return MAP_FAILED;
}

char *mem_reserve(struct mem *m, size_t len, size_t align)
{
	char *p;

	if (align < page_size())
		align = page_size();
	p = track(m, mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			  MAP_NORESERVE, -1, 0), len + align);
	if (p == MAP_FAILED)
		return NULL;
	return (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

/* A step of the set-up that must work failed (errno says why). */
static int fail(struct mem *m, const char *call)
{
	m->why.code = KSFT_ERROR;
	m->why.err = errno ? errno : EIO;
	snprintf(m->why.reason, sizeof(m->why.reason), "%s", call);
	return KSFT_ERROR;
}

/* The backing cannot be had here: a fixed @reason, and the figures. */
static int skip(struct mem *m, const char *reason, const char *fmt, ...) __printf(3, 4);
static int skip(struct mem *m, const char *reason, const char *fmt, ...)
{
	va_list ap;

	m->why.code = KSFT_SKIP;
	snprintf(m->why.reason, sizeof(m->why.reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(m->why.figures, sizeof(m->why.figures), fmt, ap);
	va_end(ap);
	return KSFT_SKIP;
}

/* Map @len bytes of anon memory aligned to @align; NULL on failure. */
static char *map_anon_aligned(struct mem *m, size_t len, size_t align, int flags)
{
	char *p = mem_reserve(m, len, align);

	if (!p)
		return NULL;
	if (mmap(p, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
	    MAP_FAILED)
		return NULL;
	return p;
}

static int swap_out(struct mem *m)
{
	if (madvise(m->addr, m->size, MADV_PAGEOUT))
		return fail(m, "madvise(MADV_PAGEOUT)");
	if (!range_swapped(m->addr, m->size))
		return skip(m, "MADV_PAGEOUT did not swap out the range", "%s", "");
	return KSFT_PASS;
}

/* Anonymous -------------------------------------------------------------- */

static int setup_anon(struct mem *m)
{
	size_t ps = page_size();

	m->addr = track(m, mmap(NULL, ps, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ps);
	if (m->addr == MAP_FAILED)
		return fail(m, "mmap");
	if (madvise(m->addr, ps, MADV_NOHUGEPAGE) && errno != EINVAL)
		return fail(m, "madvise(MADV_NOHUGEPAGE)");
	m->size = ps;
	memset(m->addr, PAT_INITIAL, ps);
	m->initial = PAT_INITIAL;
	if (m->bk->type == BK_ANON_SWAPOUT)
		return swap_out(m);
	return KSFT_PASS;
}

/* Only the first page was ever shared with a (gone) child. */
static int share_first_page(struct mem *m, char *thp, size_t size)
{
	size_t ps = page_size();
	int status;
	pid_t pid;

	if (madvise(thp + ps, size - ps, MADV_DONTFORK))
		return fail(m, "madvise(MADV_DONTFORK)");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail(m, "fork");
	if (!pid)
		_exit(0);
	if (waitpid(pid, &status, 0) < 0)
		return fail(m, "waitpid");
	if (madvise(thp + ps, size - ps, MADV_DOFORK))
		return fail(m, "madvise(MADV_DOFORK)");
	(void)m;
	return KSFT_PASS;
}

static int thp_variant(struct mem *m, char *thp, size_t size)
{
	size_t ps = page_size(), half = size / 2;
	char *tgt;

	m->addr = thp;
	m->size = size;
	switch (m->bk->type) {
	case BK_THP_PTE:
	case BK_THP_PTE_SWAPOUT:
		/* Changing the protection of one subpage remaps the PMD by PTEs. */
		if (mprotect(thp + ps, ps, PROT_READ) ||
		    mprotect(thp + ps, ps, PROT_READ | PROT_WRITE))
			return fail(m, "mprotect");
		break;
	case BK_THP_SINGLE_PTE:
	case BK_THP_SINGLE_PTE_SWAPOUT:
		if (madvise(thp + ps, size - ps, MADV_DONTNEED))
			return fail(m, "madvise(MADV_DONTNEED)");
		m->size = ps;
		break;
	case BK_THP_MREMAP_LOWER:
	case BK_THP_MREMAP_UPPER:
		tgt = mem_reserve(m, half, ps);
		if (!tgt || mremap(thp + half, half, half, MREMAP_MAYMOVE | MREMAP_FIXED, tgt) ==
		    MAP_FAILED)
			return fail(m, "mremap");
		m->size = half;
		if (m->bk->type == BK_THP_MREMAP_UPPER)
			m->addr = tgt;
		break;
	case BK_THP_SHARED_PARTIAL:
	case BK_THP_SHARED_TAILS:
		if (share_first_page(m, thp, size))
			return KSFT_FAIL;
		if (m->bk->type == BK_THP_SHARED_TAILS) {
			m->addr = thp + ps;
			m->size = size - ps;
		}
		break;
	default:
		break;
	}
	if (m->bk->flags & BKF_SWAPOUT)
		return swap_out(m);
	return KSFT_PASS;
}

static int setup_thp(struct mem *m)
{
	size_t size = m->bk->size, ps = page_size();
	char *thp;
	int ret;

	ret = thp_only_size(size);
	if (ret && ret != -EACCES && ret != -EPERM && ret != -EROFS) {
		errno = -ret;
		return fail(m, "setting the THP size policy");
	}
	thp = map_anon_aligned(m, size, size, MAP_PRIVATE);
	if (!thp)
		return fail(m, "mmap");
	if (madvise(thp, size, MADV_HUGEPAGE))
		return fail(m, "madvise(MADV_HUGEPAGE)");
	/* One write fault allocates the whole THP. */
	thp[0] = 1;
	if (!pagemap_present(thp + size - ps))
		return skip(m, ret ? "did not get a THP (cannot set the THP policy: not root)" :
			    "did not get a THP", "wanted a THP of %zu kB", size >> 10);
	memset(thp, PAT_INITIAL, size);
	m->initial = PAT_INITIAL;
	return thp_variant(m, thp, size);
}

static int setup_hugetlb(struct mem *m)
{
	size_t size = m->bk->size;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		    (int)(ilog2_ul(size) << MAP_HUGE_SHIFT);

	m->addr = track(m, mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0), size);
	if (m->addr == MAP_FAILED)
		return skip(m, "not enough free hugetlb pages", "mmap of a %zu kB hugetlb page: %s",
			    size >> 10, strerror(errno));
	m->size = size;
	/* One write faults in the whole page; the pattern goes where checks look. */
	memset(m->addr, PAT_INITIAL, fill_len(size));
	m->initial = PAT_INITIAL;
	return KSFT_PASS;
}

static int setup_zeropage(struct mem *m)
{
	size_t size = m->bk->size ? m->bk->size : page_size();
	bool huge = m->bk->type == BK_HUGE_ZEROPAGE;
	char *view[2];
	int i;

	if (huge)
		thp_only_size(size);
	for (i = 0; i < 2; i++) {
		view[i] = map_anon_aligned(m, size, huge ? size : page_size(), MAP_PRIVATE);
		if (!view[i])
			return fail(m, "mmap");
		if (madvise(view[i], size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) &&
		    errno != EINVAL)
			return fail(m, "madvise");
		touch_read(view[i], size);
		if (huge && !pagemap_present(view[i] + page_size()))
			return skip(m, "did not get the huge zeropage mapped", "%s", "");
	}
	if (mprotect(view[1], size, PROT_READ))
		return fail(m, "mprotect");
	m->addr = view[0];
	m->ro = view[1];
	m->size = size;
	m->initial = 0;
	return KSFT_PASS;
}

/* Files ----------------------------------------------------------------- */

int backing_tmpfile(const char *dir)
{
	char path[4200];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	snprintf(path, sizeof(path), "%s/pinsuite.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* The file of @m, @size bytes of PAT_INITIAL; KSFT_* */
static int make_file(struct mem *m, size_t size)
{
	const struct backing *bk = m->bk;
	const char *dir = NULL;
	unsigned int hflags;
	char cwd[4096];
	struct statfs sfs;
	char *buf;

	switch (bk->type) {
	case BK_MEMFD:
	case BK_SHMEM_LARGE:
		m->fd = memfd_create("pinsuite", MFD_CLOEXEC);
		break;
	case BK_MEMFD_HUGETLB:
		hflags = MFD_CLOEXEC | MFD_HUGETLB | (ilog2_ul(size) << MFD_HUGE_SHIFT);
		m->fd = memfd_create("pinsuite", hflags);
		if (m->fd < 0)
			return skip(m, "no hugetlb memfd of this size",
				    "memfd_create(MFD_HUGETLB, %zu kB): %s", size >> 10,
				    strerror(errno));
		break;
	case BK_TMPFS_FILE:
		dir = find_dir(TMPFS_MAGIC);
		if (!dir)
			return skip(m, "no writable tmpfs directory (/dev/shm, TMPDIR)", "%s", "");
		m->fd = backing_tmpfile(dir);
		break;
	case BK_CWD_FILE:
		dir = getcwd(cwd, sizeof(cwd));
		if (!dir || access(dir, W_OK))
			return skip(m, "the working directory is not writable", "%s", "");
		m->fd = backing_tmpfile(dir);
		break;
	default:
		dir = find_dir(bk->fs_magic);
		if (!dir)
			return skip(m, bk->fs_magic == EXT4_SUPER_MAGIC ?
				    "no writable ext4 directory (use --disk-dir or PINSUITE_DISK_DIRS)" :
				    bk->fs_magic == XFS_SUPER_MAGIC ?
				    "no writable xfs directory (use --disk-dir or PINSUITE_DISK_DIRS)" :
				    "no writable btrfs directory (use --disk-dir or PINSUITE_DISK_DIRS)",
				    "%s", "");
		m->fd = backing_tmpfile(dir);
		break;
	}
	if (m->fd < 0)
		return fail(m, dir ? "creating a file" : "memfd_create");
	if (!fstatfs(m->fd, &sfs))
		m->fs_magic = (unsigned long)sfs.f_type;
	if (dir)
		ksft_print_msg("file in %s (%s)\n", dir, fs_name(m->fs_magic));
	if (ftruncate(m->fd, (off_t)size))
		return bk->flags & BKF_HUGETLB ?
		       skip(m, "not enough free hugetlb pages", "ftruncate to %zu kB: %s",
			    size >> 10, strerror(errno)) : fail(m, "ftruncate");
	if (bk->flags & (BKF_HUGETLB | BKF_THP))
		return KSFT_PASS;	/* filled through a mapping */
	buf = malloc(size);
	if (!buf)
		return fail(m, "malloc");
	memset(buf, PAT_INITIAL, size);
	errno = -pwrite_full(m->fd, buf, size, 0);
	free(buf);
	if (errno)
		return fail(m, "pwrite");
	return KSFT_PASS;
}

/* Fill a hugetlbfs or large-folio shmem file through a shared mapping. */
static int fill_through_mapping(struct mem *m, size_t size)
{
	char *p = mem_reserve(m, size, size);

	if (!p || mmap(p, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, m->fd, 0) ==
	    MAP_FAILED) {
		if (m->bk->flags & BKF_HUGETLB)
			return skip(m, "not enough free hugetlb pages",
				    "mmap of a %zu kB hugetlb file: %s", size >> 10,
				    strerror(errno));
		return fail(m, "mmap");
	}
	if (m->bk->type == BK_SHMEM_LARGE && madvise(p, size, MADV_HUGEPAGE))
		return fail(m, "madvise(MADV_HUGEPAGE)");
	memset(p, PAT_INITIAL, (m->bk->flags & BKF_HUGETLB) ? fill_len(size) : size);
	if (m->bk->type == BK_SHMEM_LARGE && page_in_large_folio(p) == 0)
		return skip(m, "did not get a shmem large folio", "wanted %zu kB", size >> 10);
	if (m->bk->type == BK_SHMEM_LARGE && !pagemap_present(p + size - page_size()))
		return skip(m, "did not get a shmem large folio mapped", "wanted %zu kB",
			    size >> 10);
	return KSFT_PASS;
}

static int setup_file(struct mem *m)
{
	const struct backing *bk = m->bk;
	size_t size = bk->size ? bk->size : page_size();
	int type = (bk->flags & BKF_SHARED) ? MAP_SHARED : MAP_PRIVATE;
	int ret;

	if (bk->type == BK_SHMEM_LARGE && shmem_allow_size(size) == -EACCES)
		return skip(m, "cannot allow shmem large folios: needs root", "%s", "");
	ret = make_file(m, size);
	if (ret)
		return ret;
	if (bk->flags & (BKF_HUGETLB | BKF_THP)) {
		ret = fill_through_mapping(m, size);
		if (ret)
			return ret;
	}
	m->addr = mem_reserve(m, size, bk->size ? bk->size : page_size());
	if (!m->addr || mmap(m->addr, size, PROT_READ | PROT_WRITE, type | MAP_FIXED, m->fd, 0) ==
	    MAP_FAILED)
		return fail(m, "mmap");
	if (bk->type == BK_SHMEM_LARGE && madvise(m->addr, size, MADV_HUGEPAGE))
		return fail(m, "madvise(MADV_HUGEPAGE)");
	m->ro = track(m, mmap(NULL, size, PROT_READ, MAP_SHARED, m->fd, 0), size);
	if (m->ro == MAP_FAILED)
		return fail(m, "mmap");
	m->size = size;
	m->initial = PAT_INITIAL;
	/* Read faults: a private mapping maps the pagecache page R/O. */
	touch_read(m->addr, size);
	touch_read(m->ro, size);
	return KSFT_PASS;
}

static int setup_anon_shared(struct mem *m)
{
	size_t ps = page_size();

	m->addr = track(m, mmap(NULL, ps, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0), ps);
	if (m->addr == MAP_FAILED)
		return fail(m, "mmap");
	m->size = ps;
	memset(m->addr, PAT_INITIAL, ps);
	m->initial = PAT_INITIAL;
	return KSFT_PASS;
}

static int setup_ksm(struct mem *m)
{
	size_t ps = page_size();
	int ret;

	ret = ksm_start();
	if (ret)
		return skip(m, "cannot start ksmd", "writing /sys/kernel/mm/ksm: %s",
			    strerror(-ret));
	m->addr = track(m, mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 2 * ps);
	if (m->addr == MAP_FAILED)
		return fail(m, "mmap");
	if (madvise(m->addr, 2 * ps, MADV_NOHUGEPAGE) && errno != EINVAL)
		return fail(m, "madvise(MADV_NOHUGEPAGE)");
	memset(m->addr, PAT_INITIAL, 2 * ps);
	if (madvise(m->addr, 2 * ps, MADV_MERGEABLE))
		return skip(m, "madvise(MADV_MERGEABLE) refused", "%s", strerror(errno));
	m->size = ps;
	m->initial = PAT_INITIAL;
	ret = ksm_wait_merged(m->addr, m->addr + ps, 1, KSM_SCANS);
	if (!ret)
		return KSFT_PASS;
	return skip(m, "KSM did not merge the pages", "after %d full scans: %s", KSM_SCANS,
		    ret == -ETIMEDOUT ? "timed out" : "not merged");
}

/* An empty @m for @bk; KSFT_SKIP (the reason in @m) when @bk's needs are unmet. */
static int mem_begin(struct mem *m, const struct backing *bk)
{
	memset(m, 0, sizeof(*m));
	m->bk = bk;
	m->fd = -1;
	if (need_unmet(&bk->need, m->why.reason, sizeof(m->why.reason), m->why.figures,
		       sizeof(m->why.figures))) {
		m->why.code = KSFT_SKIP;
		return KSFT_SKIP;
	}
	return 0;
}

int mem_setup(struct mem *m, const struct backing *bk)
{
	if (mem_begin(m, bk))
		return KSFT_SKIP;

	switch (bk->type) {
	case BK_ANON:
	case BK_ANON_SWAPOUT:
		return setup_anon(m);
	case BK_THP ... BK_THP_SHARED_TAILS:
		return setup_thp(m);
	case BK_HUGETLB:
		return setup_hugetlb(m);
	case BK_ZEROPAGE:
	case BK_HUGE_ZEROPAGE:
		return setup_zeropage(m);
	case BK_MEMFD:
	case BK_SHMEM_LARGE:
	case BK_TMPFS_FILE:
	case BK_DISK_FILE:
	case BK_MEMFD_HUGETLB:
	case BK_CWD_FILE:
		return setup_file(m);
	case BK_ANON_SHARED:
		return setup_anon_shared(m);
	case BK_KSM:
		return setup_ksm(m);
	}
	errno = EINVAL;
	return fail(m, "unknown backing type");
}

void mem_teardown(struct mem *m)
{
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(m->map); i++) {
		if (m->map[i])
			munmap(m->map[i], m->map_len[i]);
		m->map[i] = NULL;
	}
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->addr = NULL;
}

bool mem_setup_obs(struct mem *m, const struct backing *bk)
{
	obs_phase(PH_SETUP);
	if (!mem_setup(m, bk))
		return true;
	if (m->why.code == KSFT_SKIP)
		obs_unmet(m->why.reason, "%s", m->why.figures);
	else
		obs_error(m->why.reason, m->why.err);
	mem_teardown(m);
	return false;
}

/* Helpers ---------------------------------------------------------------- */

const char *backing_dir_of(unsigned long magic)
{
	return find_dir(magic);
}

const struct backing *backing_find(enum bk_type type, unsigned int all, unsigned int none,
				   size_t size)
{
	const struct backing *const *bks;
	int i, nr;

	bks = backings(&nr);
	for (i = 0; i < nr; i++)
		if (bks[i]->type == type && backing_is(bks[i], all, none) &&
		    (!size || bks[i]->size == size))
			return bks[i];
	return NULL;
}

/* Memfds for mechanisms that pin a file --------------------------------- */

#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING	2U
#endif

/* Map @size bytes of @m->fd once, MAP_SHARED, aligned to @align. */
static int memfd_map(struct mem *m, size_t size, size_t align)
{
	m->addr = mem_reserve(m, size, align);
	if (!m->addr || mmap(m->addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, m->fd,
			     0) == MAP_FAILED) {
		if (m->bk->flags & BKF_HUGETLB)
			return skip(m, "not enough free hugetlb pages",
				    "mmap of a %zu kB hugetlb memfd: %s", size >> 10, strerror(errno));
		return fail(m, "mmap");
	}
	return KSFT_PASS;
}

int mem_setup_memfd(struct mem *m, const struct backing *bk, unsigned int seals)
{
	size_t size = bk->size ? bk->size : page_size();
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	bool base_range = bk->type == BK_MEMFD && bk->size;
	int ret;

	if (mem_begin(m, bk))
		return KSFT_SKIP;
	if (!backing_is_memfd(bk)) {
		errno = EINVAL;
		return fail(m, "not a memfd backing");
	}
	if (bk->type == BK_SHMEM_LARGE && shmem_allow_size(size) == -EACCES)
		return skip(m, "cannot allow shmem large folios: needs root", "%s", "");
	if (bk->type == BK_MEMFD_HUGETLB)
		flags |= MFD_HUGETLB | (ilog2_ul(size) << MFD_HUGE_SHIFT);
	m->fd = memfd_create("pinsuite-sealed", flags);
	if (m->fd < 0) {
		if (bk->type == BK_MEMFD_HUGETLB)
			return skip(m, "no hugetlb memfd of this size",
				    "memfd_create(MFD_HUGETLB, %zu kB): %s", size >> 10,
				    strerror(errno));
		return fail(m, "memfd_create(MFD_ALLOW_SEALING)");
	}
	m->fs_magic = bk->type == BK_MEMFD_HUGETLB ? HUGETLBFS_MAGIC : TMPFS_MAGIC;
	if (ftruncate(m->fd, (off_t)size))
		return bk->type == BK_MEMFD_HUGETLB ?
		       skip(m, "not enough free hugetlb pages", "ftruncate to %zu kB: %s",
			    size >> 10, strerror(errno)) : fail(m, "ftruncate");
	if (seals && fcntl(m->fd, F_ADD_SEALS, seals))
		return fail(m, "fcntl(F_ADD_SEALS)");
	ret = memfd_map(m, size, bk->size ? bk->size : page_size());
	if (ret)
		return ret;
	if (bk->type != BK_MEMFD_HUGETLB &&
	    madvise(m->addr, size, bk->type == BK_SHMEM_LARGE ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) &&
	    errno != EINVAL)
		return fail(m, "madvise");
	memset(m->addr, PAT_INITIAL, (bk->flags & BKF_HUGETLB) ? fill_len(size) : size);
	if (bk->type == BK_SHMEM_LARGE && page_in_large_folio(m->addr) == 0)
		return skip(m, "did not get a shmem large folio", "wanted %zu kB", size >> 10);
	if (base_range && page_in_large_folio(m->addr) == 1)
		return skip(m, "got a large folio where base pages were asked for", "%s", "");
	/* Base pages stay what they are; THP may form from them (MADV_COLLAPSE). */
	if (base_range && madvise(m->addr, size, MADV_HUGEPAGE) && errno != EINVAL)
		return fail(m, "madvise(MADV_HUGEPAGE)");
	m->size = size;
	m->initial = PAT_INITIAL;
	return KSFT_PASS;
}

bool mem_setup_memfd_obs(struct mem *m, const struct backing *bk, unsigned int seals)
{
	obs_phase(PH_SETUP);
	if (!mem_setup_memfd(m, bk, seals))
		return true;
	if (m->why.code == KSFT_SKIP)
		obs_unmet(m->why.reason, "%s", m->why.figures);
	else
		obs_error(m->why.reason, m->why.err);
	mem_teardown(m);
	return false;
}
