/* SPDX-License-Identifier: MIT */
/* Helpers shared by the files of vmm/arch/x86 only. */
#ifndef VMM_ARCH_X86_INTERNAL_H
#define VMM_ARCH_X86_INTERNAL_H

#include <stdint.h>

struct vm;
struct vcpu;

#define MSR_IA32_TSC	      0x00000010u
#define MSR_IA32_APICBASE     0x0000001bu
#define MSR_IA32_MISC_ENABLE  0x000001a0u
#define MSR_IA32_TSC_DEADLINE 0x000006e0u

/* arch_cpuid_fetch - KVM_GET_SUPPORTED_CPUID into vm->cpuid. */
int arch_cpuid_fetch(struct vm *vm);

/* arch_cpuid_set - the supported CPUID with this vCPU's APIC ID, set in KVM. */
int arch_cpuid_set(struct vcpu *v);

/* arch_msr_list_fetch - KVM_GET_MSR_INDEX_LIST into vm->msr_list. */
int arch_msr_list_fetch(struct vm *vm);

/*
 * arch_msr_list_filter - keep only the MSRs this vCPU can read (done once,
 * on vCPU 0), so a whole-state KVM_GET_MSRS never stops half way.
 */
int arch_msr_list_filter(struct vcpu *v);

/* arch_msr_init - initial MSR values of a new vCPU. */
int arch_msr_init(struct vcpu *v);

/* arch_msr_read - read one MSR of a vCPU. */
int arch_msr_read(struct vcpu *v, uint32_t index, uint64_t *value);

#endif
