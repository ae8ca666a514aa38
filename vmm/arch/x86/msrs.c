// SPDX-License-Identifier: MIT
/* MSRs: the list that makes up a vCPU's state, and the initial values. */
#include "arch/x86/arch.h"
#include "arch/x86/internal.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MSR_LIST_MAX 1024

int arch_msr_list_fetch(struct vm *vm)
{
	struct kvm_msr_list *l;

	l = calloc(1, sizeof(*l) + MSR_LIST_MAX * sizeof(l->indices[0]));
	if (!l)
		return -ENOMEM;
	l->nmsrs = MSR_LIST_MAX;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		int err = -errno;

		free(l);
		return vm_set_err(vm, err, "KVM_GET_MSR_INDEX_LIST failed: %s", strerror(-err));
	}
	vm->msr_list = malloc(l->nmsrs * sizeof(uint32_t) + 1);
	if (!vm->msr_list) {
		free(l);
		return -ENOMEM;
	}
	memcpy(vm->msr_list, l->indices, l->nmsrs * sizeof(uint32_t));
	vm->nr_msrs = l->nmsrs;
	free(l);
	return 0;
}

int arch_msr_read(struct vcpu *v, uint32_t index, uint64_t *value)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index };

	if (ioctl(v->fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	*value = m.e.data;
	return 0;
}

int arch_msr_list_filter(struct vcpu *v)
{
	struct vm *vm = v->vm;
	unsigned n = 0;

	for (unsigned i = 0; i < vm->nr_msrs && n < VCPU_MAX_MSRS; i++) {
		uint64_t val;

		if (arch_msr_read(v, vm->msr_list[i], &val) == 0)
			vm->msr_list[n++] = vm->msr_list[i];
	}
	vm->nr_msrs = n;
	return 0;
}

int arch_msr_init(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} m = {
		.hdr.nmsrs = 1,
		.e = { { .index = MSR_IA32_MISC_ENABLE, .data = 1 /* fast strings */ } },
	};

	if (ioctl(v->fd, KVM_SET_MSRS, &m) != 1)
		return vm_set_err(v->vm, -EIO, "KVM_SET_MSRS (vCPU %u) failed", v->id);
	return 0;
}
