// SPDX-License-Identifier: MIT
#include "dev/device.h"
#include "core/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* provided by the linker for the section DEVICE_REGISTER() fills */
extern const struct device_ops *const __start_vessel_devices[];
extern const struct device_ops *const __stop_vessel_devices[];

const struct device_ops *device_by_option(const char *option)
{
	for (const struct device_ops *const *p = __start_vessel_devices; p < __stop_vessel_devices;
	     p++)
		if ((*p)->option && !strcmp((*p)->option, option))
			return *p;
	return NULL;
}

void device_options_help(char *buf, size_t cap)
{
	size_t len = strlen(buf);

	for (const struct device_ops *const *p = __start_vessel_devices; p < __stop_vessel_devices;
	     p++) {
		if (!(*p)->option || len >= cap)
			continue;
		len += (size_t)snprintf(buf + len, cap - len, "  %s %s\n                  %s\n",
					(*p)->option, (*p)->option_arg ?: "VALUE",
					(*p)->option_help ?: "");
	}
}

static int create_one(struct vm *vm, struct device ***tail, const struct device_ops *ops,
		      const char *arg)
{
	struct device *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return vm_set_err(vm, -ENOMEM, "out of memory");
	d->ops = ops;
	err = ops->create(vm, arg, &d->priv);
	if (err) {
		free(d);
		/* a device that explains itself leaves vm->err set */
		if (!vm->err[0])
			vm_set_err(vm, err, "device %s: %s", ops->name, strerror(-err));
		return err;
	}
	**tail = d;
	*tail = &d->next;
	return 0;
}

int devices_create(struct vm *vm)
{
	struct device **tail = &vm->devices;

	for (const struct device_ops *const *p = __start_vessel_devices; p < __stop_vessel_devices;
	     p++) {
		int err = 0;

		if (!(*p)->option) {
			err = create_one(vm, &tail, *p, NULL);
		} else {
			for (unsigned i = 0; !err && i < vm->cfg.nr_device_args; i++)
				if (!strcmp(vm->cfg.device_args[i].option, (*p)->option))
					err = create_one(vm, &tail, *p, vm->cfg.device_args[i].arg);
		}
		if (err)
			return err;
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

struct device *device_find_nth(struct vm *vm, const char *name, unsigned n)
{
	for (struct device *d = vm->devices; d; d = d->next)
		if (!strcmp(d->ops->name, name) && n-- == 0)
			return d;
	return NULL;
}

unsigned device_instance(struct vm *vm, const struct device *d)
{
	unsigned n = 0;

	for (struct device *e = vm->devices; e && e != d; e = e->next)
		n += !strcmp(e->ops->name, d->ops->name);
	return n;
}
