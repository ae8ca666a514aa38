/* SPDX-License-Identifier: MIT */
/*
 * x86 hooks called by the generic core: VM-wide KVM setup, per-vCPU CPUID
 * and MSRs, the boot state of include/abi/vessel.h, and register dumps.
 */
#ifndef VMM_ARCH_X86_ARCH_H
#define VMM_ARCH_X86_ARCH_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* Guest-physical layout owned by the VMM (see include/abi/vessel.h). */
#define ARCH_BOOT_PML4	 0x1000ull /* PML4, PDPT, 4 PDs: 0x1000..0x6fff */
#define ARCH_BOOT_GDT	 0x9000ull
#define ARCH_KERNEL_MIN	 0x100000ull   /* lowest address a kernel segment may use */
#define ARCH_BOOT_MAP_LIMIT 0x100000000ull /* the boot page tables map [0, 4 GiB) */
#define ARCH_TSS_ADDR	 0xfffbd000ull /* KVM's VMX real-mode TSS (3 pages) */
#define ARCH_IOAPIC_BASE 0xfec00000ull
#define ARCH_LAPIC_BASE	 0xfee00000ull

/* Boot GDT selectors */
#define ARCH_BOOT_CS 0x08
#define ARCH_BOOT_DS 0x10

/*
 * arch_vm_init - VM-wide setup after KVM_CREATE_VM and before any vCPU:
 * TSS address, in-kernel irqchip (PIC + IOAPIC + LAPICs), PIT, the supported
 * CPUID table and the list of MSRs that make up a vCPU's state.
 */
int arch_vm_init(struct vm *vm);

/* arch_vm_free - release what arch_vm_init() allocated. */
void arch_vm_free(struct vm *vm);

/* arch_vcpu_init - CPUID (APIC ID, topology) and initial MSRs of a new vCPU. */
int arch_vcpu_init(struct vcpu *v);

/*
 * arch_boot_write - write the VMM-owned boot area into guest RAM: identity
 * page tables for [0, 4 GiB), the boot GDT, struct vessel_boot_info and the
 * command line. Uses vm->entry, image and initrd fields, cfg.cpus.
 */
int arch_boot_write(struct vm *vm);

/*
 * arch_vcpu_boot_state - put a vCPU in the 64-bit entry state of the ABI
 * (long mode, CPL0, paging with `cr3`, boot GDT, IF=0) at rip/rsp with
 * RDI = rdi, RSI = VESSEL_BOOT_MAGIC, and mark it runnable.
 */
int arch_vcpu_boot_state(struct vcpu *v, uint64_t rip, uint64_t rsp, uint64_t cr3, uint64_t rdi);

/* arch_vcpu_dump - register dump text (see vcpu_dump()). */
void arch_vcpu_dump(struct vcpu *v, char *buf, size_t len);

/*
 * arch_boot_info_fill - fill struct vessel_boot_info (pure: no KVM, used by
 * arch_boot_write() and the unit tests).
 */
struct vessel_boot_info;
void arch_boot_info_fill(const struct vm *vm, struct vessel_boot_info *bi);

/*
 * Machine checks (mce.c). arch_mce_attach - KVM_X86_SETUP_MCE on every vCPU
 * (10 banks, memory errors in bank 9 as QEMU reports them) and the queue of
 * action-optional reports, attached as a VM hook. Called by vm_kvm_create();
 * -ENOTSUP (vm->err says why) when KVM cannot emulate machine checks: the VM
 * still runs, but a memory error then stops it.
 */
int arch_mce_attach(struct vm *vm);

/*
 * arch_mce_inject_ar - on v's own thread: inject the action-required
 * machine check a load of poisoned memory at gpa raises (SRAR, RIPV clear).
 * 0 or -errno (-ENOTSUP without machine-check support).
 */
int arch_mce_inject_ar(struct vcpu *v, uint64_t gpa);

/*
 * arch_mce_queue_ao - report gpa to the guest as an action-optional error
 * (what a memory scrubber finds). Reports are queued without limit and
 * delivered one at a time: to a vCPU with CR4.MCE set, and only once the
 * guest has finished the previous report (MCG_STATUS.MCIP clear), and never
 * to a vCPU whose MCIP is set for another reason (an action-required check),
 * because a machine check while MCIP is set shuts an x86 CPU down. Any
 * thread.
 * 0, -ENOMEM or -ENOTSUP.
 */
int arch_mce_queue_ao(struct vm *vm, uint64_t gpa);

struct arch_mce_stats {
	uint64_t ar_injected;  /* action-required machine checks injected */
	uint64_t ao_queued;    /* action-optional reports queued */
	uint64_t ao_delivered; /* ... and injected */
	uint64_t ao_waits;     /* deliveries put off: the guest was still handling one */
	uint64_t ao_pending;   /* queued, not delivered yet */
};

/* arch_mce_stats - the counters above (zeros without machine-check support). */
void arch_mce_stats(struct vm *vm, struct arch_mce_stats *st);

#endif
