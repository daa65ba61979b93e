// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <time.h>

#include "leftover.h"
#include "observe.h"

void leftover_before(struct leftover *l, char *page0, char *page1)
{
	l->vmpin = proc_status_kb("VmPin");
	l->vmlck = proc_status_kb("VmLck");
	l->pages[0] = page0;
	l->pages[1] = page1;
	l->sys_quiet = pins_quiet(&l->sys_base);
}

/* One look by every witness: as leftover_after(), without waiting. */
static int leftover_look(struct leftover *l, char *what, size_t len)
{
	long pin = proc_status_kb("VmPin"), lck = proc_status_kb("VmLck"), sys = 0;
	int witnesses = 0, i, p;

	*what = '\0';
	if (l->vmpin >= 0 && pin >= 0) {
		witnesses++;
		if (pin != l->vmpin) {
			snprintf(what, len, "VmPin %+ld kB", pin - l->vmpin);
			return 1;
		}
	}
	if (l->vmlck >= 0 && lck >= 0) {
		witnesses++;
		if (lck != l->vmlck) {
			snprintf(what, len, "VmLck %+ld kB", lck - l->vmlck);
			return 1;
		}
	}
	for (i = 0; i < 2; i++) {
		if (!l->pages[i])
			continue;
		p = anon_page_pinned(l->pages[i]);
		if (p < 0)
			continue;
		witnesses++;
		if (p) {
			snprintf(what, len, "the anonymous page at %p is still pinned (fork() copies it)",
				 l->pages[i]);
			return 1;
		}
	}
	/* Counted only when nothing else moved the count meanwhile. */
	if (l->sys_quiet && pins_outstanding(&sys) &&
	    (sys == l->sys_base || pins_quiet(&sys))) {
		witnesses++;
		if (sys != l->sys_base) {
			snprintf(what, len, "%+ld FOLL_PIN pins outstanding on the otherwise quiet machine",
				 sys - l->sys_base);
			return 1;
		}
	}
	return witnesses ? 0 : -1;
}

/*
 * Every witness may lag: a ring, a container or a socket is torn down by
 * a worker after close() (AF_XDP unpins its umem from a workqueue), so a
 * witness that still sees something is asked again until @wait_ms passed.
 */
int leftover_after(struct leftover *l, unsigned int wait_ms, char *what, size_t len)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int waited;
	int ret;

	for (waited = 0; ; waited += 10) {
		ret = leftover_look(l, what, len);
		if (ret != 1 || waited >= wait_ms)
			return ret;
		nanosleep(&ts, NULL);
	}
}
