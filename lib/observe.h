/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Observers: what the kernel tells about a mapping and about pins.
 */
#ifndef PINSUITE_OBSERVE_H
#define PINSUITE_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PFN_MASK		((1ULL << 55) - 1)
#define PM_SOFT_DIRTY		(1ULL << 55)
#define PM_MMAP_EXCLUSIVE	(1ULL << 56)
#define PM_FILE			(1ULL << 61)
#define PM_SWAP			(1ULL << 62)
#define PM_PRESENT		(1ULL << 63)

/* The pagemap entry of the page at @addr, 0 when it cannot be read. */
uint64_t pagemap_entry(const void *addr);
bool pagemap_present(const void *addr);
bool pagemap_swapped(const void *addr);
bool pagemap_exclusive(const void *addr);
/* PFN (0 unless root and present). */
unsigned long pagemap_pfn(const void *addr);
/* True when every page of the range is swapped out / present. */
bool range_swapped(const void *addr, size_t len);
bool range_present(const void *addr, size_t len);

/*
 * Is the private anonymous page at @addr pinned?  fork() copies a pinned
 * page for the child at once (70e806e4e645, v5.9) and shares one that is
 * not, which the parent's pagemap shows: PM_MMAP_EXCLUSIVE stays set only
 * for the copied page.  1 pinned, 0 not, -EAGAIN when the page is not an
 * exclusively mapped present page (the probe cannot tell), other -errno.
 */
int anon_page_pinned(char *addr);

/*
 * The machine's outstanding FOLL_PIN pins, nr_foll_pin_acquired minus
 * nr_foll_pin_released of /proc/vmstat (5.7+), folded first (root only:
 * without /proc/sys/vm/stat_refresh the counters lag).  False when the
 * counters are absent or cannot be folded.
 */
bool pins_outstanding(long *n);
/* The count did not move over a moment: nobody else is pinning. */
bool pins_quiet(long *n);

/* A "Vm...:" line of /proc/self/status in kB, -1 when absent. */
long proc_status_kb(const char *field);

/* A "Name: value kB" line of /proc/meminfo in kB, -1 when absent. */
long meminfo_kb(const char *field);

/*
 * The running kernel's configuration ($KCONFIG_PATH, /proc/config.gz,
 * /boot/config-$(uname -r), /lib/modules/$(uname -r)/config).
 * Returns 'y', 'm' or 'n' for @sym ("CONFIG_GUP_TEST"), or 0 when no
 * configuration can be found.
 */
char kconfig_value(const char *sym);

/* Where the configuration came from, or NULL. */
const char *kconfig_source(void);

/*
 * Describe why a kernel facility that needs @sym is missing, for skip
 * reasons: "CONFIG_X not set" / "CONFIG_X=m but not loaded" /
 * "CONFIG_X unknown (no kernel config found)".
 */
const char *kconfig_why(const char *sym);

#endif /* PINSUITE_OBSERVE_H */
