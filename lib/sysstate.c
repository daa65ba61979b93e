// SPDX-License-Identifier: GPL-2.0
/*
 * The run lock, saved knobs and the guardian that restores them.
 *
 * Protocol on SOCK_SEQPACKET connections, one message per record:
 *   "S<scope><pid>\0<path>\0<value>"  remember the original value of <path>
 *   "A<scope><pid>\0<path>\0<value>"  on restore write <value> to <path> once
 *   "F<scope><pid>\0<path>"           <path> has been put back, forget it
 *   "R<scope><pid>"                   put back what <pid> changed now, answer "K"
 * <scope> is 'c' (the process's change) or 'r' (the run's change).  A
 * record sent just before its sender is killed still sits in the socket
 * and is read before the end of file that triggers the restore.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksft.h"
#include "sysstate.h"
#include "util.h"

#define PATH_LEN	256
#define VALUE_LEN	128
#define MAX_SAVED	256
#define MAX_CONNS	64
#define FALLBACK_LOCK	"/tmp/pinsuite.lock"

struct saved {
	char path[PATH_LEN];
	char value[VALUE_LEN];
	pid_t owner;
	int conn;		/* guardian: the connection it came on */
	bool action;		/* write once, do not read back */
	bool run;		/* put back when the run ends */
};

static struct saved saved[MAX_SAVED];
static int nr_saved;
static int guard_fd = -1;
static int lock_fd = -1;

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

/* The lock ---------------------------------------------------------------- */

static const char *lock_path(bool create)
{
	struct stat st;

	if (!stat("/run", &st) && S_ISDIR(st.st_mode) && (!create || !access("/run", W_OK)))
		return SYSSTATE_LOCK;
	return FALLBACK_LOCK;
}

/*
 * Take the run lock; wait, saying so (unless @who is NULL), while another
 * run holds it.
 * Returns the locked fd, or -errno (-ENOENT: no lock file and we may not
 * create one, so there is no root run to wait for).
 */
static int take_lock(bool exclusive, const char *who)
{
	const char *path = lock_path(exclusive);
	char holder[160] = "";
	int fd, op = exclusive ? LOCK_EX : LOCK_SH;

	fd = open(path, (exclusive ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, op | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			close(fd);
			return -errno;
		}
		if (pread(fd, holder, sizeof(holder) - 1, 0) < 0)
			*holder = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		if (who)
			fprintf(stderr, "%s: waiting for another pinsuite run to finish (%s held by %s)\n",
				who, path, *holder ? holder : "another process");
		while (flock(fd, op))
			if (errno != EINTR) {
				close(fd);
				return -errno;
			}
	}
	return fd;
}

/* Say who holds the lock, for the next run's message. */
static void lock_note(int fd, const char *who)
{
	char buf[160];
	int n;

	n = snprintf(buf, sizeof(buf), "pid %d (%s)\n", (int)getpid(), who);
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n)
		return;
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

static void restore_one(const struct saved *s, const char *who)
{
	int ret = s->action ? write_file(s->path, s->value) : restore_value(s->path, s->value);

	if (ret)
		fprintf(stderr, "%s: cannot restore %s to '%s': %s\n", who, s->path, s->value,
			strerror(-ret));
	else if (!strcmp(who, "pinsuite-guard"))
		fprintf(stderr, "%s: restored %s to '%s'\n", who, s->path, s->value);
}

/* Put back, newest first, the records @match selects. */
static void guardian_restore(struct saved *tab, int *nr, bool all, pid_t owner, int conn)
{
	int i;

	for (i = *nr - 1; i >= 0; i--) {
		if (!all && (tab[i].run || (owner && tab[i].owner != owner) ||
			     (conn >= 0 && tab[i].conn != conn)))
			continue;
		restore_one(&tab[i], "pinsuite-guard");
		drop(tab, nr, i);
	}
}

/* Split "<op><scope><pid>\0<path>\0<value>"; missing parts become "". */
static pid_t parse_msg(char *msg, size_t len, bool *run, const char **path, const char **value)
{
	char *end = msg + len;
	char *p = msg + 2 + strlen(msg + 2) + 1;

	*run = msg[1] == 'r';
	*path = p < end ? p : "";
	p += strlen(*path) + 1;
	*value = p < end ? p : "";
	return (pid_t)atoi(msg + 2);
}

static void guardian_remember(struct saved *tab, int *nr, const struct saved *rec)
{
	int i;

	if (!*rec->path || *nr == MAX_SAVED || find(tab, *nr, rec->owner, rec->path) >= 0)
		return;
	/* The run's original is the value before the run's first change. */
	for (i = 0; rec->run && i < *nr; i++)
		if (tab[i].run && !strcmp(tab[i].path, rec->path))
			return;
	tab[(*nr)++] = *rec;
}

/* Handle one message from connection @conn; false when it is gone. */
static bool guardian_serve(struct saved *tab, int *nr, int fd, int conn)
{
	char msg[PATH_LEN + VALUE_LEN + 32];
	const char *path, *value;
	struct saved rec;
	ssize_t n;
	int i;

	n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n < 3)
		return false;
	msg[n] = '\0';
	memset(&rec, 0, sizeof(rec));
	rec.owner = parse_msg(msg, n, &rec.run, &path, &value);
	rec.conn = conn;
	snprintf(rec.path, PATH_LEN, "%s", path);
	snprintf(rec.value, VALUE_LEN, "%s", value);
	switch (msg[0]) {
	case 'S':
	case 'A':
		rec.action = msg[0] == 'A';
		guardian_remember(tab, nr, &rec);
		break;
	case 'F':
		i = find(tab, *nr, rec.owner, rec.path);
		if (i >= 0)
			drop(tab, nr, i);
		break;
	case 'R':
		guardian_restore(tab, nr, false, rec.owner, -1);
		send(fd, "K", 1, MSG_NOSIGNAL);
		break;
	}
	return true;
}

static bool alive(pid_t pid, int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd >= 0)
		return poll(&p, 1, 0) == 0;
	return !kill(pid, 0) || errno == EPERM;
}

static void guardian_detach(const int *keep, int nkeep)
{
	int fd, max = (int)sysconf(_SC_OPEN_MAX), i;
	bool kept;

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
	for (fd = STDERR_FILENO + 1; fd < max && fd < 4096; fd++) {
		for (i = 0, kept = false; i < nkeep; i++)
			kept |= keep[i] == fd;
		if (!kept)
			close(fd);
	}
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* Whether connection @fd has a message waiting. */
static bool pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/*
 * Serve connections until @owner is gone and no connection is left, then
 * put everything back and exit, which releases the lock.  A connection
 * ends when its binary exits, even while a case process of it that does
 * not die (stuck in the kernel) still holds the socket: what that binary
 * changed is put back then, and the lock is not held for ever.
 */
static void guardian_loop(int listen_fd, int first, pid_t owner, int lock) __noreturn;
static void guardian_loop(int listen_fd, int first, pid_t owner, int lock)
{
	static struct saved tab[MAX_SAVED];
	struct pollfd pfd[MAX_CONNS + 1];
	int conns[MAX_CONNS], peers[MAX_CONNS], nconn = 0, nr = 0, pidfd, i, n, polled;
	bool gone;

	pidfd = pidfd_of(owner);
	if (first >= 0) {
		peers[nconn] = pidfd_of(owner);
		conns[nconn++] = first;
	}
	lock_note(lock, "pinsuite-guard");
	for (;;) {
		if (!nconn && !alive(owner, pidfd))
			break;
		n = 0;
		for (i = 0; i < nconn; i++)
			pfd[n++] = (struct pollfd){ .fd = conns[i], .events = POLLIN };
		/* conns[0..polled) are pfd[0..polled); one accepted below is not. */
		polled = n;
		if (listen_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		if (poll(pfd, n, 200) < 0)
			continue;
		if (listen_fd >= 0 && (pfd[n - 1].revents & POLLIN) && nconn < MAX_CONNS) {
			struct ucred cred;
			socklen_t clen = sizeof(cred);
			int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

			/* Only root may change what root puts back. */
			if (c >= 0 && (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
				       cred.uid != 0)) {
				close(c);
				c = -1;
			}
			if (c >= 0) {
				peers[nconn] = pidfd_of(cred.pid);
				conns[nconn++] = c;
			}
		}
		for (i = nconn - 1; i >= 0; i--) {
			gone = peers[i] >= 0 && !alive(0, peers[i]);
			if (i < polled && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    !guardian_serve(tab, &nr, conns[i], conns[i]))
				gone = true;
			/* What the binary sent before it exited still counts. */
			while (gone && pending(conns[i]) && guardian_serve(tab, &nr, conns[i], conns[i]))
				;
			if (!gone)
				continue;
			/* A binary is gone: so are its case processes. */
			guardian_restore(tab, &nr, false, 0, conns[i]);
			close(conns[i]);
			if (peers[i] >= 0)
				close(peers[i]);
			conns[i] = conns[--nconn];
			peers[i] = peers[nconn];
		}
	}
	guardian_restore(tab, &nr, true, 0, -1);
	_exit(0);
}

/* Fork the guardian (not our child: it must outlive us). */
static int spawn_guardian(int listen_fd, int first, int other_end, pid_t owner, int lock)
{
	int keep[3] = { listen_fd, first, lock };
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (fork())
			_exit(0);
		if (other_end >= 0)
			close(other_end);
		guardian_detach(keep, 3);
		guardian_loop(listen_fd, first, owner, lock);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* "@name" is an abstract socket address. */
static socklen_t state_addr(const char *name, struct sockaddr_un *a)
{
	size_t len = strlen(name);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (len < 2 || len >= sizeof(a->sun_path) || name[0] != '@')
		return 0;
	memcpy(a->sun_path + 1, name + 1, len - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

int sysstate_guard(pid_t owner)
{
	struct sockaddr_un a;
	char name[64];
	socklen_t alen;
	int fd, lock, ret;

	if (geteuid()) {
		fprintf(stderr, "--state-guard: needs root\n");
		return -EPERM;
	}
	lock = take_lock(true, "run_tests.sh");
	if (lock < 0) {
		fprintf(stderr, "--state-guard: %s: %s\n", lock_path(true), strerror(-lock));
		return lock;
	}
	snprintf(name, sizeof(name), "@pinsuite-state-%d-%ld", (int)owner, (long)time(NULL));
	alen = state_addr(name, &a);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, alen) || listen(fd, 16)) {
		ret = -errno;
		fprintf(stderr, "--state-guard: socket %s: %s\n", name, strerror(-ret));
		return ret;
	}
	ret = spawn_guardian(fd, -1, -1, owner, lock);
	if (ret)
		return ret;
	printf("PINSUITE_STATE=%s\n", name);
	return fflush(stdout) ? -errno : 0;
}

int sysstate_wait(void)
{
	int fd = take_lock(false, NULL);

	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		fprintf(stderr, "--state-wait: %s: %s\n", lock_path(false), strerror(-fd));
		return fd;
	}
	close(fd);
	return 0;
}

/* Join the guardian PINSUITE_STATE names; 0 or -errno. */
static int join_guardian(const char *name)
{
	struct sockaddr_un a;
	struct ucred cred;
	socklen_t clen = sizeof(cred), alen = state_addr(name, &a);
	int fd;

	if (!alen)
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, alen) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || cred.uid != 0) {
		close(fd);
		return -ECONNREFUSED;
	}
	guard_fd = fd;
	return 0;
}

int sysstate_join(const char *who)
{
	const char *name = getenv("PINSUITE_STATE");
	int sv[2], ret;

	if (guard_fd >= 0 || lock_fd >= 0)
		return 0;
	if (geteuid()) {
		/* Inside a run (run_tests.sh's, or a test's): it holds the lock. */
		if (name && *name && !join_guardian(name)) {
			close(guard_fd);
			guard_fd = -1;
			return 0;
		}
		/* Changes nothing; waits only while a root run holds the lock. */
		lock_fd = take_lock(false, who);
		return lock_fd == -ENOENT || lock_fd >= 0 ? 0 : lock_fd;
	}
	if (name && *name) {
		if (!join_guardian(name))
			return 0;
		fprintf(stderr, "%s: PINSUITE_STATE=%s names no running guardian: this binary owns its run\n",
			who, name);
	}
	lock_fd = take_lock(true, who);
	if (lock_fd < 0)
		return lock_fd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	ret = spawn_guardian(-1, sv[1], sv[0], getpid(), lock_fd);
	close(sv[1]);
	if (ret) {
		close(sv[0]);
		return ret;
	}
	/* The guardian holds the lock now, until it has put everything back. */
	close(lock_fd);
	lock_fd = -1;
	guard_fd = sv[0];
	return 0;
}

/* This process's side ---------------------------------------------------- */

static void tell_guardian(char op, bool run, pid_t owner, const char *path, const char *value)
{
	char msg[PATH_LEN + VALUE_LEN + 32];
	int len;

	if (guard_fd < 0)
		return;
	len = snprintf(msg, sizeof(msg), "%c%c%d%c%s%c%s", op, run ? 'r' : 'c', (int)owner, 0,
		       path, 0, value);
	if (len > 0 && (size_t)len < sizeof(msg))
		send(guard_fd, msg, len, MSG_NOSIGNAL);
}

static int save_scoped(const char *path, const char *value, bool run);

static int write_scoped(const char *path, const char *value, bool run)
{
	return save_scoped(path, value, run);
}

int sysstate_save(const char *path)
{
	return save_scoped(path, NULL, false);
}

/* Record @path's original (once), then write @value unless it is NULL. */
static int save_scoped(const char *path, const char *value, bool run)
{
	char orig[VALUE_LEN];
	bool fresh = false;
	int ret, i;

	if (guard_fd < 0 && geteuid() == 0)
		return -ENOLCK;
	i = find(saved, nr_saved, getpid(), path);
	if (i < 0) {
		fresh = true;
		if (strlen(path) >= PATH_LEN || nr_saved == MAX_SAVED)
			return -ENOSPC;
		ret = sysstate_read(path, orig, sizeof(orig));
		if (ret)
			return ret;
		if (value && !strcmp(orig, value))
			return 0;
		i = nr_saved++;
		snprintf(saved[i].path, PATH_LEN, "%s", path);
		snprintf(saved[i].value, VALUE_LEN, "%s", orig);
		saved[i].owner = getpid();
		saved[i].action = false;
		saved[i].run = run;
		tell_guardian('S', run, getpid(), path, orig);
	}
	ret = value ? write_file(path, value) : 0;
	if (ret && fresh) {
		/* Nothing changed: forget the record again. */
		tell_guardian('F', run, getpid(), path, "");
		drop(saved, &nr_saved, i);
	}
	return ret;
}

int sysstate_write(const char *path, const char *value)
{
	return write_scoped(path, value, false);
}

int sysstate_write_run(const char *path, const char *value)
{
	return write_scoped(path, value, true);
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
	saved[i].run = true;
	tell_guardian('A', true, getpid(), path, value);
	return 0;
}

static void put_back(int i)
{
	restore_one(&saved[i], "pinsuite");
	tell_guardian('F', saved[i].run, saved[i].owner, saved[i].path, "");
	drop(saved, &nr_saved, i);
}

void sysstate_restore(const char *path)
{
	int i;

	for (i = nr_saved - 1; i >= 0; i--)
		if (saved[i].owner == getpid() && !strcmp(saved[i].path, path))
			put_back(i);
}

void sysstate_restore_all(void)
{
	int i;

	for (i = nr_saved - 1; i >= 0; i--)
		if (saved[i].owner == getpid() && !saved[i].run)
			put_back(i);
}

void sysstate_reaped(pid_t pid)
{
	char k;

	if (guard_fd < 0)
		return;
	tell_guardian('R', false, pid, "", "");
	while (recv(guard_fd, &k, 1, 0) < 0 && errno == EINTR)
		;
}
