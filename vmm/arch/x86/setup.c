// SPDX-License-Identifier: MIT
/* VM-wide and per-vCPU KVM setup for x86. */
#include "arch/x86/arch.h"
#include "arch/x86/internal.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

int arch_vm_init(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = 0 };
	int err;

	/* VMX needs a TSS area for real mode; harmless elsewhere */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)ARCH_TSS_ADDR) < 0 && errno != ENOTTY)
		vm_log(vm, "warning: KVM_SET_TSS_ADDR: %s", strerror(errno));

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0)
		return vm_set_err(vm, -ENOTSUP, "KVM has no in-kernel irqchip (KVM_CAP_IRQCHIP)");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vm_set_err(vm, -errno, "KVM_CREATE_IRQCHIP failed: %s", strerror(errno));

	/* i8254 at ports 0x40-0x43 (+0x61), IRQ 0: a second timer for calibration */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) > 0 &&
	    ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		vm_log(vm, "warning: KVM_CREATE_PIT2: %s (no PIT)", strerror(errno));

	err = arch_cpuid_fetch(vm);
	if (err)
		return err;
	return arch_msr_list_fetch(vm);
}

void arch_vm_free(struct vm *vm)
{
	free(vm->cpuid);
	free(vm->msr_list);
	vm->cpuid = NULL;
	vm->msr_list = NULL;
}

int arch_vcpu_init(struct vcpu *v)
{
	int err, khz;

	err = arch_cpuid_set(v);
	if (err)
		return err;
	if (v->id == 0) {
		arch_msr_list_filter(v);
		khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
		v->vm->tsc_khz = khz > 0 ? (uint64_t)khz : 0;
	}
	return arch_msr_init(v);
}
