/* SPDX-License-Identifier: GPL-2.0 */
/*
 * System settings the suite changes, and the one owner that puts them back.
 *
 * One run at a time per machine: a run takes /run/pinsuite.lock (shared
 * for an unprivileged run, which changes nothing; exclusive for root) and
 * waits, saying so, while another run holds it.  The owner of a root run
 * is a guardian process: it holds the lock, records the original value of
 * every knob before its first change, and puts everything back once the
 * run is over - when the process that started it is gone and no binary is
 * connected any more - however they ended (SIGKILL included).  Only then
 * does the next run get the lock, so no run ever records another's
 * temporary value as "original".
 *
 * run_tests.sh starts the guardian for the whole run (a binary's
 * --state-guard=PID) and exports PINSUITE_STATE; the binaries join it.  A
 * binary run on its own starts a guardian for itself.
 *
 * Two scopes: sysstate_write() changes are the writing process's (a case
 * puts them back when it ends; the guardian does it when the process dies
 * or its binary goes away); sysstate_write_run() changes last until the
 * run ends (hugetlb pools reserved once for all binaries).
 */
#ifndef PINSUITE_SYSSTATE_H
#define PINSUITE_SYSSTATE_H

#include <stddef.h>
#include <sys/types.h>

/* Where runs queue. */
#define SYSSTATE_LOCK	"/run/pinsuite.lock"

/*
 * Join the run (root: PINSUITE_STATE's guardian, or lock and start one;
 * other users: the shared lock).  @who names the binary in messages.
 * 0 or -errno (then nothing can be changed).
 */
int sysstate_join(const char *who);

/*
 * For run_tests.sh: take the lock, start a guardian that owns the run for
 * as long as process @owner lives, print "PINSUITE_STATE=NAME" and return.
 * 0 or -errno.
 */
int sysstate_guard(pid_t owner);

/*
 * For run_tests.sh, once its owner process is gone: wait, quietly, until
 * the run lock is free - the guardian has put everything back.  0 or
 * -errno.
 */
int sysstate_wait(void);

/*
 * Read a knob: the selected word of a "a [b] c" choice file, otherwise the
 * first line without its newline.  Returns 0 or -errno.
 */
int sysstate_read(const char *path, char *buf, size_t len);

/* Write @value to @path, the original recorded first.  0 or -errno. */
int sysstate_write(const char *path, const char *value);
/*
 * Record @path's value to be put back, without changing it: for a knob
 * the kernel changes on its own when another one changes (min_free_kbytes,
 * recomputed when khugepaged starts).  0 or -errno.
 */
int sysstate_save(const char *path);
/* The same, put back only when the run ends. */
int sysstate_write_run(const char *path, const char *value);

/*
 * Register an undo action: when this process's changes are put back (or
 * the guardian puts them back), write @value to @path once, without
 * reading it back - for write-only files such as a driver's bind/unbind.
 * Actions and saved knobs are undone together, newest first, so register
 * an action before the change it undoes.  0 or -errno.
 */
int sysstate_undo(const char *path, const char *value);

/* Put back one knob this process changed (no-op when unchanged). */
void sysstate_restore(const char *path);

/* Put back everything this process changed, newest first. */
void sysstate_restore_all(void);

/*
 * Process @pid (a case) ended abnormally: have the guardian put back what
 * it changed and did not put back; waits until that is done.
 */
void sysstate_reaped(pid_t pid);

#endif /* PINSUITE_SYSSTATE_H */
