// SPDX-License-Identifier: MIT
/*
 * The `regs` control command: every vCPU's registers (vcpu_dump()), to see
 * where a guest that no longer answers is: the VM is paused for the dump and
 * resumed afterwards if it was running. Map RIP to a kernel symbol with
 * `nm -n` or addr2line on the kernel ELF.
 */
#include "control/ctl.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "migrate/live/live.h"

#include <stdio.h>

static int c_regs(void *ctx, const struct ctl_args *a, json_t *res, char *err, size_t errlen)
{
	struct vm *vm = ctx;
	json_t *dumps;
	bool was_running;
	char buf[4096];
	int rc = live_busy(vm, err, errlen);

	if (rc)
		return rc;
	pthread_mutex_lock(&vm->lock);
	was_running = vm->state == VM_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	rc = vm_pause(vm);
	if (rc) {
		snprintf(err, errlen, "cannot pause the VM for the dump: %s", vm->err);
		return rc;
	}
	dumps = json_array();
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		vcpu_dump(vm->vcpus[i], buf, sizeof(buf));
		json_array_append_new(dumps, json_string(buf));
	}
	json_object_set_new(res, "vcpus", dumps);
	if (was_running && vm_resume(vm))
		json_object_set_new(res, "resumed", json_false());
	return 0;
}

static const struct ctl_command regs_cmd = {
	"regs",
	"every vCPU's registers (the VM is paused for the dump, then resumed)",
	{},
	c_regs,
};
CTL_COMMAND(regs_cmd);
