// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

size_t page_size(void)
{
	static size_t ps;

	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

unsigned int ilog2_ul(unsigned long v)
{
	return v ? (unsigned int)(8 * sizeof(v) - 1 - __builtin_clzl(v)) : 0;
}

void touch_read(const char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += page_size())
		FORCE_READ(p[off]);
}

char *anon_pages(size_t len, bool write)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	if (write)
		memset(p, PAT_INITIAL, len);
	else
		touch_read(p, len);
	return p;
}

void touch_write(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += page_size())
		__atomic_store_n(&p[off], __atomic_load_n(&p[off], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
}

ssize_t first_diff(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	if (!memcmp(a, b, len))
		return -1;
	for (i = 0; i < len; i++)
		if (x[i] != y[i])
			return (ssize_t)i;
	return -1;
}

ssize_t first_not(const void *p, int byte, size_t len)
{
	const unsigned char *x = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (x[i] != (unsigned char)byte)
			return (ssize_t)i;
	return -1;
}

int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return 0;
}

int read_ulong(const char *path, unsigned long *val)
{
	char buf[64], *end;
	int ret;

	ret = read_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoul(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

int write_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

pid_t kid_fork(struct kid *k)
{
	pid_t parent = getpid();

	if (pipe2(k->to_child, O_CLOEXEC))
		return -1;
	if (pipe2(k->to_parent, O_CLOEXEC)) {
		close(k->to_child[0]);
		close(k->to_child[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	k->pid = fork();
	if (k->pid < 0)
		return -1;
	if (!k->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* The parent may have died between fork() and prctl(). */
		if (getppid() != parent)
			_exit(1);
		close(k->to_child[1]);
		close(k->to_parent[0]);
		k->to_child[1] = k->to_parent[0] = -1;
		return 0;
	}
	/* Only the other side keeps these, so that its death reads as EOF. */
	close(k->to_child[0]);
	close(k->to_parent[1]);
	k->to_child[0] = k->to_parent[1] = -1;
	return k->pid;
}

static int put(int fd, char c)
{
	ssize_t n;

	do {
		n = write(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

static int get(int fd)
{
	unsigned char c;
	ssize_t n;

	do {
		n = read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? c : -1;
}

int kid_tell_parent(struct kid *k, char c)
{
	return put(k->to_parent[1], c);
}

int kid_tell_child(struct kid *k, char c)
{
	return put(k->to_child[1], c);
}

int kid_wait_parent(struct kid *k)
{
	return get(k->to_child[0]);
}

int kid_wait_child(struct kid *k)
{
	return get(k->to_parent[0]);
}

int kid_finish(struct kid *k, bool kill_it)
{
	int status;

	if (k->pid <= 0)
		return -1;
	if (kill_it)
		kill(k->pid, SIGKILL);
	else
		put(k->to_child[1], 'x');
	close(k->to_child[1]);
	close(k->to_parent[0]);
	while (waitpid(k->pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	k->pid = 0;
	k->status = status;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int drop_privileges(unsigned long memlock)
{
	struct rlimit rl = { .rlim_cur = memlock, .rlim_max = memlock };
	uid_t uid;

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return -errno;
	if (geteuid())
		return 0;
	/*
	 * A user of our own: the memlock charge is per user, and another
	 * process of a shared one (nobody) may hold some of it, or a ring of
	 * ours that is still being torn down.
	 */
	uid = UNPRIV_UID_BASE + (uid_t)(getpid() % 100000);
	if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
		return -errno;
	return 0;
}

const char *errno_name(int err)
{
	static char buf[64];

	switch (err) {
	case 0:
		return "success";
	case EFAULT:
		return "EFAULT";
	case EINVAL:
		return "EINVAL";
	case ENOMEM:
		return "ENOMEM";
	case EEXIST:
		return "EEXIST";
	case ENOSPC:
		return "ENOSPC";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EPERM:
		return "EPERM";
	case EAGAIN:
		return "EAGAIN";
	case ENOBUFS:
		return "ENOBUFS";
	}
	snprintf(buf, sizeof(buf), "%s", strerror(err));
	return buf;
}
