// SPDX-License-Identifier: GPL-2.0
/*
 * Saved knobs and the guardian that restores them.
 *
 * Protocol on a SOCK_SEQPACKET socket pair, one message per record:
 *   "S<path>\0<value>"  remember the original value of <path>
 *   "F<path>"           <path> has been put back, forget it
 *   "R"                 put everything back now, answer "K"
 *   "A<path>\0<value>"  on restore write <value> to <path> once (an action)
 * A record sent just before its sender is killed still sits in the
 * socket and is read before the end-of-file that starts the restore.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksft.h"
#include "sysstate.h"
#include "util.h"

#define PATH_LEN	256
#define VALUE_LEN	128
#define MAX_SAVED	128

struct saved {
	char path[PATH_LEN];
	char value[VALUE_LEN];
	pid_t owner;
	bool action;		/* write once, do not read back */
};

static struct saved saved[MAX_SAVED];
static int nr_saved;
static int guard_fd = -1;

static int read_raw(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

int sysstate_read(const char *path, char *buf, size_t len)
{
	char raw[1024], *start, *end;
	int ret;

	ret = read_raw(path, raw, sizeof(raw));
	if (ret)
		return ret;
	start = strchr(raw, '[');
	end = start ? strchr(start, ']') : NULL;
	if (start && end) {
		start++;
	} else {
		start = raw;
		end = strchr(raw, '\n');
		if (!end)
			end = raw + strlen(raw);
	}
	if ((size_t)(end - start) >= len)
		return -ENOSPC;
	memcpy(buf, start, end - start);
	buf[end - start] = '\0';
	return 0;
}


/*
 * Put a value back and read it back.  A pool of huge pages cannot shrink
 * below the pages still in use, and a process that just died may still be
 * releasing its pages (io_uring rings are torn down asynchronously), so a
 * restore that does not stick is retried for a few seconds.
 */
static int restore_value(const char *path, const char *value)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	char now[VALUE_LEN];
	int ret, i;

	for (i = 0; i < 100; i++) {
		ret = write_file(path, value);
		if (ret == -EACCES || ret == -EPERM || ret == -EROFS || ret == -ENOENT)
			return ret;
		if (!ret && !sysstate_read(path, now, sizeof(now)) && !strcmp(now, value))
			return 0;
		nanosleep(&ts, NULL);
	}
	return ret ? ret : -EBUSY;
}

/* The guardian ----------------------------------------------------------- */

static int find(struct saved *tab, int nr, pid_t owner, const char *path)
{
	int i;

	for (i = 0; i < nr; i++)
		if (tab[i].owner == owner && !strcmp(tab[i].path, path))
			return i;
	return -1;
}

static void drop(struct saved *tab, int *nr, int i)
{
	memmove(&tab[i], &tab[i + 1], (*nr - i - 1) * sizeof(*tab));
	(*nr)--;
}

/* Put back the records of @owner (all records when @owner is 0). */
static void guardian_restore(struct saved *tab, int *nr, pid_t owner)
{
	int i, ret;

	for (i = *nr - 1; i >= 0; i--) {
		if (owner && tab[i].owner != owner)
			continue;
		ret = tab[i].action ? write_file(tab[i].path, tab[i].value) :
		      restore_value(tab[i].path, tab[i].value);
		if (ret)
			fprintf(stderr, "pinsuite-guard: cannot restore %s to '%s': %s\n",
				tab[i].path, tab[i].value, strerror(-ret));
		else
			fprintf(stderr, "pinsuite-guard: restored %s to '%s'\n",
				tab[i].path, tab[i].value);
		drop(tab, nr, i);
	}
}

/* Split "<op><pid>\0<path>\0<value>"; missing parts become "". */
static pid_t parse_msg(char *msg, size_t len, const char **path, const char **value)
{
	char *end = msg + len;
	char *p = msg + 1 + strlen(msg + 1) + 1;

	*path = p < end ? p : "";
	p += strlen(*path) + 1;
	*value = p < end ? p : "";
	return (pid_t)atoi(msg + 1);
}

static void guardian_remember(struct saved *tab, int *nr, pid_t owner,
			      const char *path, const char *value)
{
	if (!*path || *nr == MAX_SAVED || find(tab, *nr, owner, path) >= 0)
		return;
	snprintf(tab[*nr].path, PATH_LEN, "%s", path);
	snprintf(tab[*nr].value, VALUE_LEN, "%s", value);
	tab[*nr].owner = owner;
	(*nr)++;
}

static void guardian_loop(int fd) __noreturn;
static void guardian_loop(int fd)
{
	static struct saved tab[MAX_SAVED];
	char msg[PATH_LEN + VALUE_LEN + 32];
	const char *path, *value;
	int nr = 0, i;
	pid_t owner;
	ssize_t n;

	for (;;) {
		n = recv(fd, msg, sizeof(msg) - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		msg[n] = '\0';
		owner = parse_msg(msg, n, &path, &value);
		switch (msg[0]) {
		case 'S':
		case 'A':
			i = nr;
			guardian_remember(tab, &nr, owner, path, value);
			if (nr > i)
				tab[i].action = msg[0] == 'A';
			break;
		case 'F':
			i = find(tab, nr, owner, path);
			if (i >= 0)
				drop(tab, &nr, i);
			break;
		case 'R':
			guardian_restore(tab, &nr, owner);
			send(fd, "K", 1, MSG_NOSIGNAL);
			break;
		}
	}
	guardian_restore(tab, &nr, 0);
	_exit(0);
}

static void guardian_detach(int keep)
{
	int fd, max = (int)sysconf(_SC_OPEN_MAX);

	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	/* Keep stderr for the restore messages; close everything else. */
	for (fd = STDERR_FILENO + 1; fd < max && fd < 4096; fd++)
		if (fd != keep)
			close(fd);
}

int sysstate_init(void)
{
	int sv[2];
	pid_t pid;

	if (guard_fd >= 0 || geteuid())
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!pid) {
		/* Double fork: the guardian must not be our child to reap. */
		if (fork())
			_exit(0);
		guardian_detach(sv[1]);
		guardian_loop(sv[1]);
	}
	close(sv[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	guard_fd = sv[0];
	return 0;
}

/* This process's side ---------------------------------------------------- */

static void tell_guardian(char op, pid_t owner, const char *path, const char *value)
{
	char msg[PATH_LEN + VALUE_LEN + 32];
	int len;

	if (guard_fd < 0)
		return;
	len = snprintf(msg, sizeof(msg), "%c%d%c%s%c%s", op, (int)owner, 0, path, 0, value);
	if (len > 0 && (size_t)len < sizeof(msg))
		send(guard_fd, msg, len, MSG_NOSIGNAL);
}

int sysstate_write(const char *path, const char *value)
{
	char orig[VALUE_LEN];
	bool fresh = false;
	int ret, i;

	i = find(saved, nr_saved, getpid(), path);
	if (i < 0) {
		fresh = true;
		if (strlen(path) >= PATH_LEN || nr_saved == MAX_SAVED)
			return -ENOSPC;
		ret = sysstate_read(path, orig, sizeof(orig));
		if (ret)
			return ret;
		if (!strcmp(orig, value))
			return 0;
		i = nr_saved++;
		snprintf(saved[i].path, PATH_LEN, "%s", path);
		snprintf(saved[i].value, VALUE_LEN, "%s", orig);
		saved[i].owner = getpid();
		saved[i].action = false;
		tell_guardian('S', getpid(), path, orig);
	}
	ret = write_file(path, value);
	if (ret && fresh) {
		/* Nothing changed: forget the record again. */
		tell_guardian('F', getpid(), path, "");
		memmove(&saved[i], &saved[i + 1], (nr_saved - i - 1) * sizeof(*saved));
		nr_saved--;
	}
	return ret;
}

int sysstate_undo(const char *path, const char *value)
{
	int i;

	if (find(saved, nr_saved, getpid(), path) >= 0)
		return 0;
	if (strlen(path) >= PATH_LEN || strlen(value) >= VALUE_LEN || nr_saved == MAX_SAVED)
		return -ENOSPC;
	i = nr_saved++;
	snprintf(saved[i].path, PATH_LEN, "%s", path);
	snprintf(saved[i].value, VALUE_LEN, "%s", value);
	saved[i].owner = getpid();
	saved[i].action = true;
	tell_guardian('A', getpid(), path, value);
	return 0;
}

static void restore_one(int i)
{
	int ret = saved[i].action ? write_file(saved[i].path, saved[i].value) :
		  restore_value(saved[i].path, saved[i].value);

	if (ret)
		fprintf(stderr, "pinsuite: cannot restore %s to '%s': %s\n",
			saved[i].path, saved[i].value, strerror(-ret));
	tell_guardian('F', saved[i].owner, saved[i].path, "");
	memmove(&saved[i], &saved[i + 1], (nr_saved - i - 1) * sizeof(*saved));
	nr_saved--;
}

void sysstate_restore(const char *path)
{
	int i;

	for (i = nr_saved - 1; i >= 0; i--)
		if (saved[i].owner == getpid() && !strcmp(saved[i].path, path))
			restore_one(i);
}

void sysstate_restore_all(void)
{
	int i;

	for (i = nr_saved - 1; i >= 0; i--)
		if (saved[i].owner == getpid())
			restore_one(i);
}

void sysstate_guardian_restore(pid_t owner)
{
	char k;

	if (guard_fd < 0)
		return;
	tell_guardian('R', owner, "", "");
	while (recv(guard_fd, &k, 1, 0) < 0 && errno == EINTR)
		;
}
