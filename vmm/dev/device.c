// SPDX-License-Identifier: MIT
#include "dev/device.h"
#include "core/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* provided by the linker for the section DEVICE_REGISTER() fills */
extern const struct device_ops *const __start_vessel_devices[];
extern const struct device_ops *const __stop_vessel_devices[];

int devices_create(struct vm *vm)
{
	struct device **tail = &vm->devices;

	for (const struct device_ops *const *p = __start_vessel_devices; p < __stop_vessel_devices;
	     p++) {
		struct device *d = calloc(1, sizeof(*d));
		int err;

		if (!d)
			return -ENOMEM;
		d->ops = *p;
		err = d->ops->create(vm, &d->priv);
		if (err) {
			free(d);
			return vm_set_err(vm, err, "device %s: %s", (*p)->name, strerror(-err));
		}
		*tail = d;
		tail = &d->next;
	}
	return 0;
}

static void destroy_list(struct device *d)
{
	if (!d)
		return;
	destroy_list(d->next);
	if (d->ops->destroy)
		d->ops->destroy(d->priv);
	free(d);
}

void devices_destroy(struct vm *vm)
{
	destroy_list(vm->devices);
	vm->devices = NULL;
}

struct device *device_find(struct vm *vm, const char *name)
{
	for (struct device *d = vm->devices; d; d = d->next)
		if (!strcmp(d->ops->name, name))
			return d;
	return NULL;
}
