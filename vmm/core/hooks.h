/* SPDX-License-Identifier: MIT */
/*
 * Per-VM hooks: how subsystems (memory errors, machine checks, migration,
 * hyper-callbacks, protection domains, ...) take part in a VM's life without
 * the core naming any of them.
 *
 * A subsystem attaches a `struct vm_hook_ops` with its own opaque state while
 * the VM is being built (after vm_new(), before vm_start()); the list is
 * fixed from then on, so vCPU threads walk it without a lock. Every callback
 * is optional. The core calls them:
 *
 *   run_enter/run_exit   on the vCPU thread, around every KVM_RUN (errno of
 *                        KVM_RUN is preserved for the caller)
 *   exit                 on the vCPU thread, before the core dispatches an
 *                        exit; returning true means "handled" (res filled)
 *   memory_error         a guest page became known to be poisoned
 *   pause/resume         after vm_pause() parked every vCPU / before
 *                        vm_resume() lets them run
 *   detach               from vm_destroy(), after every vCPU thread has been
 *                        joined and before anything is freed, in reverse
 *                        attach order: stop threads, free the opaque state
 */
#ifndef VMM_CORE_HOOKS_H
#define VMM_CORE_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct kvm_run;
struct exit_result;

#define VM_MAX_HOOKS 16

struct vm_hook_ops {
	const char *name;
	void (*run_enter)(void *opaque, struct vcpu *v);
	void (*run_exit)(void *opaque, struct vcpu *v);
	bool (*exit)(void *opaque, struct vcpu *v, struct kvm_run *run, struct exit_result *res);
	void (*memory_error)(void *opaque, uint64_t gpa);
	void (*pause)(void *opaque);
	void (*resume)(void *opaque);
	void (*detach)(void *opaque);
};

struct vm_hook {
	const struct vm_hook_ops *ops;
	void *opaque;
};

struct vm_hooks {
	struct vm_hook h[VM_MAX_HOOKS];
	unsigned nr;
	bool sealed; /* vm_start() ran: the list is read without a lock */
};

/*
 * vm_hook_attach - add ops/opaque to vm's hooks. Returns 0, -EBUSY once the
 * VM has started, -EEXIST if these ops are attached already, -ENOSPC.
 */
int vm_hook_attach(struct vm *vm, const struct vm_hook_ops *ops, void *opaque);

/* vm_hook_find - the opaque state attached with `ops`, or NULL. */
void *vm_hook_find(struct vm *vm, const struct vm_hook_ops *ops);

/* The core's calls (see above); cheap when nothing is attached. */
void vm_hooks_run_enter(struct vcpu *v);
void vm_hooks_run_exit(struct vcpu *v);
bool vm_hooks_exit(struct vcpu *v, struct kvm_run *run, struct exit_result *res);
void vm_hooks_memory_error(struct vm *vm, uint64_t gpa);
void vm_hooks_pause(struct vm *vm);
void vm_hooks_resume(struct vm *vm);
/* vm_hooks_detach - detach all, newest first (vm_destroy, after the join). */
void vm_hooks_detach(struct vm *vm);

#endif
