/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Changes to sysfs/procfs knobs that are always put back.
 *
 * Every write goes through sysstate_write(), which remembers the original
 * value twice: in this process, which puts it back on the normal path
 * (sysstate_restore()/sysstate_restore_all()), and in a guardian process
 * started by sysstate_init().  The guardian runs in a session of its own,
 * ignores the signals a runner or a terminal sends, and puts back
 * everything that is still changed once every process of the binary is
 * gone - so a SIGKILL of the binary, of a case, or a timeout cannot leave
 * the machine changed.
 */
#ifndef PINSUITE_SYSSTATE_H
#define PINSUITE_SYSSTATE_H

#include <stddef.h>
#include <sys/types.h>

/* Start the guardian.  Harmless when not root (nothing can be changed). */
int sysstate_init(void);

/*
 * Read a knob: the selected word of a "a [b] c" choice file, otherwise the
 * first line without its newline.  Returns 0 or -errno.
 */
int sysstate_read(const char *path, char *buf, size_t len);

/* Write @value to @path, remembering the original first.  0 or -errno. */
int sysstate_write(const char *path, const char *value);

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
 * Ask the guardian to put back what process @owner changed and did not put
 * back (a case that was killed); waits until it is done.
 */
void sysstate_guardian_restore(pid_t owner);

#endif /* PINSUITE_SYSSTATE_H */
