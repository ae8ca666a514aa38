/* SPDX-License-Identifier: MIT */
/*
 * Device models register themselves with DEVICE_REGISTER(ops) (an init list
 * in a linker section), so adding a device touches no central table. A
 * device either is always present (option NULL: one instance, like COM1) or
 * names its own `vessel run` option (e.g. "--disk"), which adds one instance
 * per use; `vessel run --help` lists the registered options and the run
 * parser hands each value to the device's check() before anything is built.
 * Every device has a save/restore pair (for live migration) whose round
 * trip is unit-tested; instances are matched in creation order, so both
 * ends of a migration need the same device options.
 */
#ifndef VMM_DEV_DEVICE_H
#define VMM_DEV_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DEVICE_MAX_ARGS 16 /* device options on one command line */

struct vm;
struct vessel_boot_device;

/* One counter of a device instance, for `vessel ctl SOCK stats`. */
struct device_stat {
	const char *name; /* static string */
	uint64_t value;
};

#define DEVICE_STATS_MAX 48

struct device_ops {
	const char *name;
	/* the `vessel run` option adding an instance ("--disk"), its value's
	 * syntax ("PATH[,readonly]") and a one-line help; NULL: always present */
	const char *option;
	const char *option_arg;
	const char *option_help;
	/* validate an option value early; 0 or -EINVAL with err set (may be NULL) */
	int (*check)(const char *arg, char *err, size_t errlen);
	/* create an instance (arg: the option value, NULL when always present)
	 * and claim its I/O ranges; *priv is its state */
	int (*create)(struct vm *vm, const char *arg, void **priv);
	void (*destroy)(void *priv);
	/* save: serialise into buf (cap bytes); returns bytes written or -ENOSPC */
	ssize_t (*save)(void *priv, void *buf, size_t cap);
	/* restore: validate then apply; returns 0 or -EINVAL (state unchanged) */
	int (*restore)(void *priv, const void *buf, size_t len);
	/* optional: the boot-info entry of a device the kernel cannot probe
	 * (include/abi/vessel.h); 1 if filled, 0 if none */
	int (*boot_device)(void *priv, struct vessel_boot_device *out);
	/* optional: the instance's label (e.g. "vda") and up to max counters;
	 * returns how many were filled */
	unsigned (*stats)(void *priv, char *label, size_t lablen, struct device_stat *out,
			  unsigned max);
};

struct device {
	const struct device_ops *ops;
	void *priv;
	struct device *next;
};

#define DEVICE_REGISTER(ops)                                                                       \
	static const struct device_ops *const __vessel_device_##ops                                \
		__attribute__((section("vessel_devices"), used, aligned(sizeof(void *)))) = &ops

/* device_by_option - the registered device whose option is `option`, or NULL. */
const struct device_ops *device_by_option(const char *option);

/* device_options_help - append "  --opt ARG  help" lines for every device option. */
void device_options_help(char *buf, size_t cap);

/*
 * devices_create - create every always-present device and one instance per
 * device option in vm->cfg (in command-line order), in link order.
 */
int devices_create(struct vm *vm);

/* devices_destroy - destroy them in reverse order. */
void devices_destroy(struct vm *vm);

/* device_find - the device named `name`, or NULL. */
struct device *device_find(struct vm *vm, const char *name);

/*
 * device_find_nth - the instance `n` (0-based, creation order) of the devices
 * named `name`, or NULL; device_instance - the inverse: d's index among the
 * devices of its name. Migration matches instances this way.
 */
struct device *device_find_nth(struct vm *vm, const char *name, unsigned n);
unsigned device_instance(struct vm *vm, const struct device *d);

#endif
