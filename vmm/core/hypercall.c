// SPDX-License-Identifier: MIT
/* Hypercall dispatch and argument access (see hypercall.h). */
#include "core/hypercall.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/iobus.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include "abi/vessel.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* provided by the linker for the section HYPERCALL_REGISTER() fills */
extern const struct hypercall *const __start_vessel_hypercalls[];
extern const struct hypercall *const __stop_vessel_hypercalls[];

static const struct hypercall *find(unsigned nr)
{
	for (const struct hypercall *const *p = __start_vessel_hypercalls;
	     p < __stop_vessel_hypercalls; p++)
		if ((*p)->nr == nr)
			return *p;
	return NULL;
}

const char *hypercall_name(unsigned nr)
{
	const struct hypercall *hc = find(nr);

	return hc ? hc->name : "unknown";
}

int hc_arg_read(struct vm *vm, unsigned nr, uint64_t gpa, void *dst, size_t size,
		struct exit_result *res)
{
	int err;

	if (gpa % 8) {
		exit_fault(res, "hypercall %s: argument address %#llx is not 8-byte aligned",
			   hypercall_name(nr), (unsigned long long)gpa);
		return -EINVAL;
	}
	err = gmem_read(&vm->mem, gpa, dst, size);
	if (err == -EFAULT)
		exit_fault(res, "hypercall %s: argument [%#llx, +%zu) is outside guest RAM",
			   hypercall_name(nr), (unsigned long long)gpa, size);
	else if (err)
		exit_fault(res,
			   "hypercall %s: argument [%#llx, +%zu) is on a poisoned page "
			   "(uncorrectable memory error)",
			   hypercall_name(nr), (unsigned long long)gpa, size);
	return err;
}

void hc_ret_write(struct vm *vm, unsigned nr, uint64_t gpa, size_t off, int64_t ret,
		  struct exit_result *res)
{
	if (gmem_write(&vm->mem, gpa + off, &ret, sizeof(ret)))
		exit_fault(res, "hypercall %s: cannot write ret at %#llx: poisoned page",
			   hypercall_name(nr), (unsigned long long)(gpa + off));
}

int hc_str(struct vm *vm, unsigned nr, const char *what, uint64_t gpa, char *buf,
	   struct exit_result *res)
{
	int err = gmem_strcpy(&vm->mem, gpa, buf, VESSEL_HC_STR_MAX);

	if (err == -EFAULT)
		exit_fault(res, "hypercall %s: %s string at %#llx is outside guest RAM",
			   hypercall_name(nr), what, (unsigned long long)gpa);
	else if (err == -EHWPOISON)
		exit_fault(res,
			   "hypercall %s: %s string at %#llx runs into a poisoned page "
			   "(uncorrectable memory error)",
			   hypercall_name(nr), what, (unsigned long long)gpa);
	else if (err)
		exit_fault(res, "hypercall %s: %s string at %#llx has no NUL within %u bytes",
			   hypercall_name(nr), what, (unsigned long long)gpa, VESSEL_HC_STR_MAX);
	return err;
}

static void hc_io(void *opaque, struct io_access *acc, struct exit_result *res)
{
	struct vm *vm = opaque;
	unsigned nr = (unsigned)acc->offset;
	const struct hypercall *hc;
	uint32_t gpa;

	if (!acc->write || acc->size != 4) {
		exit_fault(res, "hypercall port %#llx: %u-byte %s (hypercalls are 32-bit OUTs)",
			   (unsigned long long)acc->addr, acc->size, acc->write ? "write" : "read");
		return;
	}
	memcpy(&gpa, acc->data, 4);
	hc = find(nr);
	if (!hc) {
		exit_fault(res, "unknown hypercall %u (port %#llx)", nr,
			   (unsigned long long)acc->addr);
		return;
	}
	hc->fn(vm, acc->vcpu, gpa, res);
}

int hypercall_attach(struct vm *vm)
{
	return iobus_register(&vm->pio, VESSEL_HC_PORT_BASE, VESSEL_HC_PORT_COUNT, "hypercall",
			      hc_io, vm);
}
