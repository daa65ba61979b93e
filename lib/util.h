/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by every binary: sizes, byte patterns and their
 * comparison, reading numbers from files, and a forked helper process
 * that can be told when to go on.
 */
#ifndef PINSUITE_UTIL_H
#define PINSUITE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB		4U
#endif

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define KB(x)			((size_t)(x) << 10)

/* Read one byte in a way the compiler cannot drop. */
#define FORCE_READ(x)		((void)__atomic_load_n(&(x), __ATOMIC_RELAXED))

size_t page_size(void);
/* log2 of a power of two. */
unsigned int ilog2_ul(unsigned long v);

/* Fault in every page of a range for read, or for write (keeping data). */
void touch_read(const char *p, size_t len);
void touch_write(char *p, size_t len);
/*
 * @len bytes of private anonymous base pages (no THP), written with
 * PAT_INITIAL, or only read-faulted (the shared zeropage) without @write.
 * NULL with errno set when mmap() fails.
 */
char *anon_pages(size_t len, bool write);

/* Byte patterns: every byte of a region set to one marker value. */
#define PAT_INITIAL	0x11	/* what a backing holds after set-up */
#define PAT_PARENT	0xa2	/* written through the mapping by the test */
#define PAT_CHILD	0xc3	/* written by a forked child */
#define PAT_DEVICE	0xd4	/* written through the pin (device, ring) */
#define PAT_OTHER	0x5e	/* anything else */

/* Offset of the first byte where a and b differ, or -1. */
ssize_t first_diff(const void *a, const void *b, size_t len);
/* Offset of the first byte that is not @byte, or -1. */
ssize_t first_not(const void *p, int byte, size_t len);

/* Files */
int read_file(const char *path, char *buf, size_t len);
int read_ulong(const char *path, unsigned long *val);
int write_file(const char *path, const char *s);

/*
 * A forked helper.  kid_fork() returns 0 in the child and the pid in the
 * parent.  Either side can tell the other one byte and wait for one.
 * kid_finish() lets the child go, reaps it and returns its exit status
 * (or -1 when it died), killing it first if @kill is set.
 */
struct kid {
	pid_t pid;
	int status;		/* wait status, after kid_finish() */
	int to_child[2];
	int to_parent[2];
};

pid_t kid_fork(struct kid *k);
int kid_tell_parent(struct kid *k, char c);
int kid_tell_child(struct kid *k, char c);
/* Wait for one byte from the other side; -1 on EOF or error. */
int kid_wait_parent(struct kid *k);
int kid_wait_child(struct kid *k);
int kid_finish(struct kid *k, bool kill);

/* Read or write exactly @len bytes at @off; 0 or -errno. */
int pread_full(int fd, void *buf, size_t len, off_t off);
int pwrite_full(int fd, const void *buf, size_t len, off_t off);

/*
 * Become an unprivileged user with RLIMIT_MEMLOCK set to @memlock bytes.
 * As root: a fresh uid/gid from UNPRIV_UID_BASE on (no passwd entry
 * needed), dropping every capability, CAP_IPC_LOCK included.
 * Irreversible: call it in a process of its own.  0 or -errno.
 */
#define UNPRIV_UID_BASE	1900000000u
int drop_privileges(unsigned long memlock);

/* "ENOMEM" for ENOMEM and the other errnos verdicts name; else strerror(). */
const char *errno_name(int err);

#endif /* PINSUITE_UTIL_H */
