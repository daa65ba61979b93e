// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "observe.h"
#include "pin.h"

int pin_take(struct pin *p, const struct pin_ops *ops, char *addr, size_t len, bool writable)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->addr = addr;
	p->len = len;
	p->writable = writable;
	p->fd = -1;
	ret = ops->pin(p);
	if (ret)
		return ret;
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
