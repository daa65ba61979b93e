// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "observe.h"
#include "util.h"

static int pagemap_fd = -1;
static pid_t pagemap_pid;

uint64_t pagemap_entry(const void *addr)
{
	uint64_t ent;
	off_t off = (off_t)((uintptr_t)addr / page_size()) * sizeof(ent);

	/*
	 * An open /proc/self/pagemap stays the opener's: a forked case or
	 * child must open its own, or it reads its parent's page tables.
	 */
	if (pagemap_fd >= 0 && pagemap_pid != getpid()) {
		close(pagemap_fd);
		pagemap_fd = -1;
	}
	if (pagemap_fd < 0) {
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		pagemap_pid = getpid();
	}
	if (pagemap_fd < 0 || pread_full(pagemap_fd, &ent, sizeof(ent), off))
		return 0;
	return ent;
}

bool pagemap_present(const void *addr)
{
	return pagemap_entry(addr) & PM_PRESENT;
}

bool pagemap_swapped(const void *addr)
{
	return pagemap_entry(addr) & PM_SWAP;
}

bool pagemap_exclusive(const void *addr)
{
	return pagemap_entry(addr) & PM_MMAP_EXCLUSIVE;
}

unsigned long pagemap_pfn(const void *addr)
{
	uint64_t ent = pagemap_entry(addr);

	return (ent & PM_PRESENT) ? (unsigned long)(ent & PM_PFN_MASK) : 0;
}

bool range_swapped(const void *addr, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += page_size())
		if (!pagemap_swapped((const char *)addr + off))
			return false;
	return true;
}

bool range_present(const void *addr, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += page_size())
		if (!pagemap_present((const char *)addr + off))
			return false;
	return true;
}

/* Find "@key<sep>" at the start of a line of @path and parse the number. */
static long keyed_number(const char *path, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) &&
		    (line[klen] == ':' || line[klen] == ' ')) {
			val = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

int anon_page_pinned(char *addr)
{
	uint64_t before = pagemap_entry(addr), after;
	struct kid k;
	pid_t pid;

	if (!(before & PM_PRESENT) || !(before & PM_MMAP_EXCLUSIVE) || (before & PM_FILE))
		return -EAGAIN;
	pid = kid_fork(&k);
	if (pid < 0)
		return -errno;
	if (!pid) {
		kid_tell_parent(&k, 'r');
		kid_wait_parent(&k);
		_exit(0);
	}
	if (kid_wait_child(&k) < 0) {
		kid_finish(&k, true);
		return -ECHILD;
	}
	after = pagemap_entry(addr);
	kid_finish(&k, false);
	return !!(after & PM_MMAP_EXCLUSIVE);
}

bool pins_outstanding(long *n)
{
	long a, r;

	if (write_file("/proc/sys/vm/stat_refresh", "1"))
		return false;
	a = keyed_number("/proc/vmstat", "nr_foll_pin_acquired");
	r = keyed_number("/proc/vmstat", "nr_foll_pin_released");
	if (a < 0 || r < 0)
		return false;
	*n = a - r;
	return true;
}

bool pins_quiet(long *n)
{
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	long a, b, c;

	if (!pins_outstanding(&a))
		return false;
	nanosleep(&ts, NULL);
	if (!pins_outstanding(&b))
		return false;
	nanosleep(&ts, NULL);
	if (!pins_outstanding(&c))
		return false;
	*n = c;
	return a == b && b == c;
}

long proc_status_kb(const char *field)
{
	return keyed_number("/proc/self/status", field);
}

long meminfo_kb(const char *field)
{
	return keyed_number("/proc/meminfo", field);
}

/* Kernel configuration ---------------------------------------------------- */

static char *config_text;
static char *config_from;
static bool config_loaded;

static char *slurp(FILE *f)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	size_t n;

	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *nbuf = realloc(buf, cap * 2);

			if (!nbuf) {
				free(buf);
				return NULL;
			}
			buf = nbuf;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

static char *load_plain(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text;

	if (!f)
		return NULL;
	text = slurp(f);
	fclose(f);
	return text;
}

static char *load_gz(const char *path)
{
	char cmd[300];
	char *text;
	FILE *f;

	if (access(path, R_OK))
		return NULL;
	snprintf(cmd, sizeof(cmd), "gzip -dc %s 2>/dev/null", path);
	f = popen(cmd, "re");
	if (!f)
		return NULL;
	text = slurp(f);
	if (pclose(f) || (text && !*text)) {
		free(text);
		return NULL;
	}
	return text;
}

static void load_config(void)
{
	const char *env = getenv("KCONFIG_PATH");
	char path[3][300];
	struct utsname u;
	int i;

	config_loaded = true;
	if (env) {
		config_text = strstr(env, ".gz") ? load_gz(env) : load_plain(env);
		if (config_text) {
			config_from = strdup(env);
			return;
		}
	}
	config_text = load_gz("/proc/config.gz");
	if (config_text) {
		config_from = strdup("/proc/config.gz");
		return;
	}
	if (uname(&u))
		return;
	snprintf(path[0], sizeof(path[0]), "/boot/config-%s", u.release);
	snprintf(path[1], sizeof(path[1]), "/lib/modules/%s/config", u.release);
	snprintf(path[2], sizeof(path[2]), "/lib/modules/%s/build/.config", u.release);
	for (i = 0; i < 3; i++) {
		config_text = load_plain(path[i]);
		if (config_text) {
			config_from = strdup(path[i]);
			return;
		}
	}
}

char kconfig_value(const char *sym)
{
	size_t len = strlen(sym);
	const char *p;

	if (!config_loaded)
		load_config();
	if (!config_text)
		return 0;
	for (p = config_text; (p = strstr(p, sym)); p += len) {
		bool bol = p == config_text || p[-1] == '\n';

		if (bol && p[len] == '=')
			return p[len + 1] == 'm' ? 'm' : 'y';
	}
	return 'n';
}

const char *kconfig_source(void)
{
	if (!config_loaded)
		load_config();
	return config_text ? config_from : NULL;
}

const char *kconfig_why(const char *sym)
{
	static char buf[160];

	switch (kconfig_value(sym)) {
	case 'y':
		snprintf(buf, sizeof(buf), "%s=y", sym);
		break;
	case 'm':
		snprintf(buf, sizeof(buf), "%s=m but not loaded", sym);
		break;
	case 'n':
		snprintf(buf, sizeof(buf), "%s not set", sym);
		break;
	default:
		snprintf(buf, sizeof(buf), "%s unknown (no kernel config found)", sym);
		break;
	}
	return buf;
}
