/* SPDX-License-Identifier: MIT */
/*
 * Device models register themselves with DEVICE_REGISTER(ops) (an init list
 * in a linker section), so adding a device touches no central table. Every
 * device has a save/restore pair (for live migration) whose round trip is
 * unit-tested.
 */
#ifndef VMM_DEV_DEVICE_H
#define VMM_DEV_DEVICE_H

#include <stddef.h>
#include <sys/types.h>

struct vm;

struct device_ops {
	const char *name;
	/* create the device and claim its I/O ranges; *priv is its state */
	int (*create)(struct vm *vm, void **priv);
	void (*destroy)(void *priv);
	/* save: serialise into buf (cap bytes); returns bytes written or -ENOSPC */
	ssize_t (*save)(void *priv, void *buf, size_t cap);
	/* restore: validate then apply; returns 0 or -EINVAL (state unchanged) */
	int (*restore)(void *priv, const void *buf, size_t len);
};

struct device {
	const struct device_ops *ops;
	void *priv;
	struct device *next;
};

#define DEVICE_REGISTER(ops)                                                                       \
	static const struct device_ops *const __vessel_device_##ops                                \
		__attribute__((section("vessel_devices"), used, aligned(sizeof(void *)))) = &ops

/* devices_create - create every registered device, in link order. */
int devices_create(struct vm *vm);

/* devices_destroy - destroy them in reverse order. */
void devices_destroy(struct vm *vm);

/* device_find - the device named `name`, or NULL. */
struct device *device_find(struct vm *vm, const char *name);

#endif
