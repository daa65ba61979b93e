/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Long-term pins through udmabuf (drivers/dma-buf/udmabuf.c).
 *
 * UDMABUF_CREATE and UDMABUF_CREATE_LIST turn ranges of memfds into a
 * dma-buf and keep their folios pinned for as long as the dma-buf lives:
 * with memfd_pin_folios() since c6a3194c05e7 (v6.11), a pin with
 * FOLL_LONGTERM semantics (folios in ZONE_MOVABLE or CMA are migrated
 * first), with page references before.  The memfd must be sealed against
 * shrinking (F_SEAL_SHRINK) and must not be sealed against writing
 * (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE).  Nothing is charged to memlock.
 *
 * The dma-buf's own mmap maps the PFNs of the pinned folios (the driver
 * inserts them at fault time): reading and writing it is the kernel's view
 * of the pins, which the checks compare with a MAP_SHARED mapping of the
 * memfd.
 *
 * The pin takes a file, not an address range.  The glue: the observer here
 * sets the memfd backings up sealable (mem_setup_memfd()) and binds that
 * set-up (udmabuf_bind()); the pin_ops pin the memfd behind the range they
 * are given, at the offset the range has in that mapping.  Only MAP_SHARED
 * memfd backings apply: in a MAP_PRIVATE mapping a write makes an anonymous
 * copy that udmabuf, which pins the file's folios, never sees.
 */
#ifndef PINSUITE_PIN_UDMABUF_H
#define PINSUITE_PIN_UDMABUF_H

#include <linux/udmabuf.h>
#include <stddef.h>

#include "case.h"

/* need.check: NULL when /dev/udmabuf can be used, else why not. */
const char *udmabuf_unavailable(void);

/*
 * A dma-buf of @len bytes of @memfd from @off: one UDMABUF_CREATE, or with
 * @parts > 1 one UDMABUF_CREATE_LIST of that many consecutive ranges (each
 * a whole number of pages).  The dma-buf fd (close-on-exec) or -errno.
 */
int udmabuf_create(int memfd, size_t off, size_t len, unsigned int parts);
/* UDMABUF_CREATE_LIST of @n items as given; the dma-buf fd or -errno. */
int udmabuf_create_items(const struct udmabuf_create_item *items, unsigned int n);

/* One range; the same range in two parts of one list. */
extern const struct pin_ops pin_udmabuf;
extern const struct pin_ops pin_udmabuf_list;

/* The set-up whose memfd the mechanisms pin (from mem_setup_memfd()), or NULL. */
void udmabuf_bind(const struct mem *m);

/*
 * The observer of udmabuf's reliability cases (pin_matrix.observe):
 * pincheck's observation for a pin that takes a memfd.
 */
void udmabuf_observe(const struct pcase *c);

#endif /* PINSUITE_PIN_UDMABUF_H */
