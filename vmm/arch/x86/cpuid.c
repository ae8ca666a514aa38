// SPDX-License-Identifier: MIT
/* CPUID: what KVM supports, with the per-vCPU topology fields patched. */
#include "arch/x86/arch.h"
#include "arch/x86/internal.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 256

int arch_cpuid_fetch(struct vm *vm)
{
	struct kvm_cpuid2 *c;

	c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int err = -errno;

		free(c);
		return vm_set_err(vm, err, "KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-err));
	}
	vm->cpuid = c;
	return 0;
}

int arch_cpuid_set(struct vcpu *v)
{
	struct vm *vm = v->vm;
	size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int err = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, vm->cpuid, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* initial APIC ID and logical processor count */
			e->ebx = (e->ebx & 0x0000ffffu) | (v->id << 24) |
				 ((vm->cfg.cpus & 0xffu) << 16);
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->id; /* x2APIC ID */
			break;
		default:
			break;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		err = vm_set_err(vm, -errno, "KVM_SET_CPUID2 (vCPU %u) failed: %s", v->id,
				 strerror(errno));
	free(c);
	return err;
}
