/* SPDX-License-Identifier: MIT */
/*
 * An I/O bus: non-overlapping address ranges (ports or MMIO addresses), each
 * owned by one device handler. Ranges are registered while the VM is being
 * built (single-threaded); lookups from vCPU threads take no lock.
 */
#ifndef VMM_CORE_IOBUS_H
#define VMM_CORE_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct exit_result;

/* One guest access, as the exit dispatcher hands it to a device. */
struct io_access {
	uint64_t addr;	   /* port or guest-physical address */
	uint64_t offset;   /* addr - range base */
	uint32_t size;	   /* 1, 2, 4 (8 for MMIO) */
	bool write;	   /* guest writes data[] / reads into data[] */
	uint8_t *data;	   /* little-endian bytes, `size` of them */
	struct vcpu *vcpu; /* the vCPU that exited (NULL in some unit tests) */
};

/*
 * A device's access handler. It may set res->action to stop the VM (e.g. a
 * bad hypercall); leaving `res` alone means "continue".
 */
typedef void (*io_handler_fn)(void *opaque, struct io_access *acc, struct exit_result *res);

struct io_range {
	uint64_t base;
	uint64_t len;
	const char *name;
	io_handler_fn fn;
	void *opaque;
};

struct iobus {
	struct io_range *ranges; /* sorted by base */
	unsigned nr, cap;
};

/*
 * iobus_register - claim [base, base + len) for a handler. Returns 0,
 * -EINVAL (len 0 or wraps), -EEXIST (overlaps a registered range), -ENOMEM.
 */
int iobus_register(struct iobus *bus, uint64_t base, uint64_t len, const char *name,
		   io_handler_fn fn, void *opaque);

/* iobus_find - the range containing all of [addr, addr + size), or NULL. */
const struct io_range *iobus_find(const struct iobus *bus, uint64_t addr, uint32_t size);

/* iobus_free - release the table (the bus is empty afterwards). */
void iobus_free(struct iobus *bus);

#endif
