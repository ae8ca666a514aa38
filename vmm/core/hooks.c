// SPDX-License-Identifier: MIT
/* Per-VM hook list (see hooks.h). */
#include "core/hooks.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>

int vm_hook_attach(struct vm *vm, const struct vm_hook_ops *ops, void *opaque)
{
	struct vm_hooks *hs = &vm->hooks;

	if (hs->sealed)
		return -EBUSY;
	if (vm_hook_find(vm, ops))
		return -EEXIST;
	if (hs->nr == VM_MAX_HOOKS)
		return -ENOSPC;
	hs->h[hs->nr++] = (struct vm_hook){ ops, opaque };
	return 0;
}

void *vm_hook_find(struct vm *vm, const struct vm_hook_ops *ops)
{
	for (unsigned i = 0; i < vm->hooks.nr; i++)
		if (vm->hooks.h[i].ops == ops)
			return vm->hooks.h[i].opaque;
	return NULL;
}

#define FOR_EACH_HOOK(vm, hk) for (const struct vm_hook *hk = (vm)->hooks.h; hk < (vm)->hooks.h + (vm)->hooks.nr; hk++)

void vm_hooks_run_enter(struct vcpu *v)
{
	FOR_EACH_HOOK(v->vm, hk)
	if (hk->ops->run_enter)
		hk->ops->run_enter(hk->opaque, v);
}

void vm_hooks_run_exit(struct vcpu *v)
{
	int saved = errno; /* the caller looks at KVM_RUN's errno */

	FOR_EACH_HOOK(v->vm, hk)
	if (hk->ops->run_exit)
		hk->ops->run_exit(hk->opaque, v);
	errno = saved;
}

bool vm_hooks_exit(struct vcpu *v, struct kvm_run *run, struct exit_result *res)
{
	FOR_EACH_HOOK(v->vm, hk)
	if (hk->ops->exit && hk->ops->exit(hk->opaque, v, run, res))
		return true;
	return false;
}

void vm_hooks_memory_error(struct vm *vm, uint64_t gpa)
{
	FOR_EACH_HOOK(vm, hk)
	if (hk->ops->memory_error)
		hk->ops->memory_error(hk->opaque, gpa);
}

void vm_hooks_pause(struct vm *vm)
{
	FOR_EACH_HOOK(vm, hk)
	if (hk->ops->pause)
		hk->ops->pause(hk->opaque);
}

void vm_hooks_resume(struct vm *vm)
{
	FOR_EACH_HOOK(vm, hk)
	if (hk->ops->resume)
		hk->ops->resume(hk->opaque);
}

void vm_hooks_detach(struct vm *vm)
{
	while (vm->hooks.nr) {
		const struct vm_hook *hk = &vm->hooks.h[--vm->hooks.nr];

		if (hk->ops->detach)
			hk->ops->detach(hk->opaque);
	}
}
