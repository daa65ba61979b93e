/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Targets of direct I/O: a file on ext4 or xfs, and a block device (a
 * loop device over a file of our own).
 *
 * O_DIRECT pins the user buffer for the time of the transfer: a
 * short-term FOLL_PIN through iov_iter_extract_pages() (since
 * a7e689dd1c06, v6.5; a FOLL_GET reference before), FOLL_WRITE for a
 * read into the buffer.  The bytes go between the pinned pages and the
 * device without the page cache.
 *
 * The loop device is configured with LO_FLAGS_AUTOCLEAR on a file that has
 * no name: the kernel detaches it when its last descriptor is closed,
 * which at the latest is when the case process is gone (SIGKILL too), and
 * the file goes with it.  Nothing to restore.
 */
#ifndef PINSUITE_ODIRECT_H
#define PINSUITE_ODIRECT_H

#include <stddef.h>
#include <sys/types.h>

enum dio_kind {
	DIO_EXT4,
	DIO_XFS,
	DIO_BLOCK,
	DIO_NR
};

struct dio_target {
	enum dio_kind kind;
	int fd;			/* opened O_DIRECT */
	int check_fd;		/* the same bytes without O_DIRECT (the file, the loop's file) */
	size_t len;
	char where[160];	/* for diagnostics */
};

/* "an ext4 file", "an xfs file", "a loop block device" */
const char *dio_kind_name(enum dio_kind kind);

/* The feature probe of a kind: NULL when it can be had, else why not (fixed per cause). */
const char *dio_unavailable(enum dio_kind kind);
/* The same as a need.check for each kind. */
const char *dio_ext4_unavailable(void);
const char *dio_xfs_unavailable(void);
const char *dio_block_unavailable(void);

/*
 * Make a target of @len bytes (a multiple of the page size), each byte
 * @fill.  0, or -errno with the failing step in @step.
 */
int dio_open(struct dio_target *t, enum dio_kind kind, size_t len, int fill, const char **step);
void dio_close(struct dio_target *t);

/* Set every byte of the target to @fill (not through O_DIRECT): 0 or -errno. */
int dio_fill(struct dio_target *t, int fill);
/* Read the target's bytes (not through O_DIRECT) into @buf: 0 or -errno. */
int dio_check_read(struct dio_target *t, void *buf);

/* One direct transfer of @len bytes at offset 0: 0, -errno, or -EIO when short. */
int dio_pwrite(struct dio_target *t, const void *buf, size_t len);
int dio_pread(struct dio_target *t, void *buf, size_t len);

#endif /* PINSUITE_ODIRECT_H */
