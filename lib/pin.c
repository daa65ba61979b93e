// SPDX-License-Identifier: GPL-2.0
/*
 * Taking and dropping pins, whatever the mechanism.
 *
 * The pin is taken in a thread of its own while this thread watches it.  A
 * kernel can get stuck in GUP: fault the range in, find it still not
 * pinnable, fault again - forever, with the mmap lock held (6.12.117 does
 * this for a R/O long-term pin of a PMD-mapped file THP in a MAP_PRIVATE
 * mapping).  Such a pin shows as a flood of page faults without progress;
 * the case then fails with a diagnosis right away instead of running into
 * the runner's timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ksft.h"
#include "observe.h"
#include "pin.h"
#include "util.h"

/* Faults while pinning that no pin of ours needs: at most a few per page. */
#define STUCK_FAULTS	50000UL

struct pin_job {
	int (*fn)(void *arg);
	void *arg;
	int ret;
	bool done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* Minor faults of this process (all threads), from /proc/self/stat. */
static unsigned long minor_faults(void)
{
	char buf[1024], *p;
	int field;

	if (read_file("/proc/self/stat", buf, sizeof(buf)))
		return 0;
	/* The command may contain blanks: count fields after its ')'. */
	p = strrchr(buf, ')');
	for (field = 2; p && field < 10; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoul(p + 1, NULL, 10) : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *job_thread(void *arg)
{
	struct pin_job *job = arg;
	int ret = job->fn(job->arg);

	pthread_mutex_lock(&job->lock);
	job->ret = ret;
	job->done = true;
	pthread_cond_signal(&job->cond);
	pthread_mutex_unlock(&job->lock);
	return NULL;
}

/* Wait for the pinning thread; its result, or PIN_STUCK. */
static int watch(struct pin_job *job, const char *what, size_t len)
{
	unsigned long start = minor_faults(), faults = 0;
	struct timespec until;
	double t0 = now_s();
	bool done;

	pthread_mutex_lock(&job->lock);
	while (!job->done) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000 * 1000 * 1000) {
			until.tv_sec++;
			until.tv_nsec -= 1000 * 1000 * 1000;
		}
		if (pthread_cond_timedwait(&job->cond, &job->lock, &until) != ETIMEDOUT)
			continue;
		faults = minor_faults() - start;
		if (faults >= STUCK_FAULTS)
			break;
	}
	done = job->done;
	pthread_mutex_unlock(&job->lock);
	if (done)
		return job->ret;
	ksft_print_msg("%s of %zu kB: %lu page faults in %.1f s without the pin returning\n",
		       what, len >> 10, faults, now_s() - t0);
	return PIN_STUCK;
}

int pin_call_watched(int (*fn)(void *arg), void *arg, const char *what, size_t len)
{
	struct pin_job *job = calloc(1, sizeof(*job));
	pthread_t tid;
	int ret;

	if (!job)
		return -ENOMEM;
	job->fn = fn;
	job->arg = arg;
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->cond, NULL);
	if (pthread_create(&tid, NULL, job_thread, job)) {
		free(job);
		return fn(arg);
	}
	ret = watch(job, what, len);
	if (ret == PIN_STUCK)
		return ret;	/* the thread and the job stay: the process must end */
	pthread_join(tid, NULL);
	free(job);
	return ret;
}

static int pin_fn(void *arg)
{
	struct pin *p = arg;

	return p->ops->pin(p);
}

static int pin_watched(struct pin *p)
{
	char what[96];

	snprintf(what, sizeof(what), "%s %s pin", p->ops->name, p->writable ? "R/W" : "R/O");
	return pin_call_watched(pin_fn, p, what, p->len);
}

int pin_take(struct pin *p, const struct pin_ops *ops, char *addr, size_t len, bool writable)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->addr = addr;
	p->len = len;
	p->writable = writable;
	p->fd = -1;
	ret = pin_watched(p);
	if (ret)
		return ret;	/* 0 from the mechanism is the only success */
	p->pinned = true;
	p->pfn = pagemap_pfn(addr);
	return 0;
}

void pin_drop(struct pin *p)
{
	if (!p->pinned)
		return;
	p->ops->unpin(p);
	p->pinned = false;
}

int pin_extents(const struct pin *p, struct pin_extent *ext)
{
	if (p->ops->extents)
		return p->ops->extents(p, ext);
	ext[0].off = 0;
	ext[0].len = p->len;
	return 1;
}
