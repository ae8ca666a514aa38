// SPDX-License-Identifier: MIT
#include "core/iobus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int iobus_register(struct iobus *bus, uint64_t base, uint64_t len, const char *name,
		   io_handler_fn fn, void *opaque)
{
	unsigned pos;

	if (len == 0 || base + len < base || !fn)
		return -EINVAL;
	for (pos = 0; pos < bus->nr; pos++) {
		const struct io_range *r = &bus->ranges[pos];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
		if (r->base > base)
			break;
	}
	if (bus->nr == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 8;
		struct io_range *n = realloc(bus->ranges, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos], (bus->nr - pos) * sizeof(*bus->ranges));
	bus->ranges[pos] = (struct io_range){ base, len, name, fn, opaque };
	bus->nr++;
	return 0;
}

const struct io_range *iobus_find(const struct iobus *bus, uint64_t addr, uint32_t size)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct io_range *r = &bus->ranges[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			if (size > r->len - (addr - r->base))
				return NULL;
			return r;
		}
	}
	return NULL;
}

void iobus_free(struct iobus *bus)
{
	free(bus->ranges);
	memset(bus, 0, sizeof(*bus));
}
