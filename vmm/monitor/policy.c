// SPDX-License-Identifier: MIT
/*
 * The policy tables. The principle: the monitor runs device models, so it
 * may read what a device or an instruction decoder needs to know about the
 * vCPU (general registers, RIP, flags, the mode in CR0/CR4/EFER, segment
 * selectors) and write only what completes an access (the exit's data,
 * the registers a device returns results in). Everything that moves the
 * guest's control flow, its address space or its privilege (RIP, RSP,
 * segments, CR3, system MSRs, event injection) stays with the core.
 */
#include "monitor/policy.h"

#include "abi/vessel.h"

#include <linux/kvm.h>
#include <stddef.h>

#define R(id, n, c, rd, wr) [id] = { .name = n, .cls = c, .set = true, .read = rd, .write = wr }
#define M(id, n, idx, rd, wr)                                                                      \
	[id] = { .name = n, .cls = MFC_MSR, .msr = idx, .set = true, .read = rd, .write = wr }

static const struct mon_field_rule fields[MF_NR] = {
	R(MF_RAX, "rax", MFC_GPR, true, true),
	R(MF_RBX, "rbx", MFC_GPR, true, true),
	R(MF_RCX, "rcx", MFC_GPR, true, true),
	R(MF_RDX, "rdx", MFC_GPR, true, true),
	R(MF_RSI, "rsi", MFC_GPR, true, true),
	R(MF_RDI, "rdi", MFC_GPR, true, true),
	R(MF_RSP, "rsp", MFC_GPR, true, false),
	R(MF_RBP, "rbp", MFC_GPR, true, false),
	R(MF_R8, "r8", MFC_GPR, true, false),
	R(MF_R9, "r9", MFC_GPR, true, false),
	R(MF_R10, "r10", MFC_GPR, true, false),
	R(MF_R11, "r11", MFC_GPR, true, false),
	R(MF_R12, "r12", MFC_GPR, true, false),
	R(MF_R13, "r13", MFC_GPR, true, false),
	R(MF_R14, "r14", MFC_GPR, true, false),
	R(MF_R15, "r15", MFC_GPR, true, false),
	R(MF_RIP, "rip", MFC_GPR, true, false),
	R(MF_RFLAGS, "rflags", MFC_GPR, true, false),
	R(MF_CS, "cs", MFC_SEG, true, false),
	R(MF_DS, "ds", MFC_SEG, true, false),
	R(MF_ES, "es", MFC_SEG, true, false),
	R(MF_FS, "fs", MFC_SEG, true, false),
	R(MF_GS, "gs", MFC_SEG, true, false),
	R(MF_SS, "ss", MFC_SEG, true, false),
	R(MF_TR, "tr", MFC_SEG, false, false),
	R(MF_LDTR, "ldtr", MFC_SEG, false, false),
	R(MF_GDTR_BASE, "gdtr_base", MFC_SEG, false, false),
	R(MF_IDTR_BASE, "idtr_base", MFC_SEG, false, false),
	R(MF_CR0, "cr0", MFC_CR, true, false),
	R(MF_CR2, "cr2", MFC_CR, false, false),
	R(MF_CR3, "cr3", MFC_CR, false, false),
	R(MF_CR4, "cr4", MFC_CR, true, false),
	R(MF_CR8, "cr8", MFC_CR, false, false),
	R(MF_EFER, "efer", MFC_CR, true, false),
	R(MF_APIC_BASE, "apic_base", MFC_CR, false, false),
	M(MF_MSR_TSC, "msr_tsc", 0x10, true, false),
	M(MF_MSR_SYSENTER_CS, "msr_sysenter_cs", 0x174, false, false),
	M(MF_MSR_SYSENTER_ESP, "msr_sysenter_esp", 0x175, false, false),
	M(MF_MSR_SYSENTER_EIP, "msr_sysenter_eip", 0x176, false, false),
	M(MF_MSR_MCG_STATUS, "msr_mcg_status", 0x17a, false, false),
	M(MF_MSR_MISC_ENABLE, "msr_misc_enable", 0x1a0, false, false),
	M(MF_MSR_PAT, "msr_pat", 0x277, false, false),
	M(MF_MSR_TSC_DEADLINE, "msr_tsc_deadline", 0x6e0, false, false),
	M(MF_MSR_STAR, "msr_star", 0xc0000081, false, false),
	M(MF_MSR_LSTAR, "msr_lstar", 0xc0000082, false, false),
	M(MF_MSR_CSTAR, "msr_cstar", 0xc0000083, false, false),
	M(MF_MSR_SFMASK, "msr_sfmask", 0xc0000084, false, false),
	M(MF_MSR_FS_BASE, "msr_fs_base", 0xc0000100, false, false),
	M(MF_MSR_GS_BASE, "msr_gs_base", 0xc0000101, false, false),
	M(MF_MSR_KERNEL_GS_BASE, "msr_kernel_gs_base", 0xc0000102, false, false),
	M(MF_MSR_TSC_AUX, "msr_tsc_aux", 0xc0000103, false, false),
	R(MF_EXC_INJECTED, "exc_injected", MFC_EVENT, true, false),
	R(MF_EXC_NR, "exc_nr", MFC_EVENT, true, false),
	R(MF_EXC_ERROR_CODE, "exc_error_code", MFC_EVENT, true, false),
	R(MF_IRQ_INJECTED, "irq_injected", MFC_EVENT, true, false),
	R(MF_IRQ_NR, "irq_nr", MFC_EVENT, true, false),
	R(MF_NMI_INJECTED, "nmi_injected", MFC_EVENT, true, false),
	R(MF_NMI_PENDING, "nmi_pending", MFC_EVENT, true, false),
	R(MF_INT_SHADOW, "int_shadow", MFC_EVENT, true, false),
	R(MF_IO_DATA, "io_data", MFC_EXIT, true, true),
};

const struct mon_field_rule *mon_field_rule(unsigned f)
{
	return f < MF_NR ? &fields[f] : NULL;
}

bool mon_may_read(unsigned f)
{
	return f < MF_NR && fields[f].set && fields[f].read;
}

bool mon_may_write(unsigned f)
{
	return f < MF_NR && fields[f].set && fields[f].write;
}

/* Exits by reason: only port I/O and MMIO can reach a device model. */
static const enum mon_route reasons[MON_EXIT_REASONS] = {
	[KVM_EXIT_UNKNOWN] = ROUTE_CORE,
	[KVM_EXIT_EXCEPTION] = ROUTE_CORE,
	[KVM_EXIT_IO] = ROUTE_MONITOR, /* then by port: mon_port_rules() */
	[KVM_EXIT_HYPERCALL] = ROUTE_CORE,
	[KVM_EXIT_DEBUG] = ROUTE_CORE,
	[KVM_EXIT_HLT] = ROUTE_CORE,
	[KVM_EXIT_MMIO] = ROUTE_MONITOR, /* then by address: mon_mmio_rules() */
	[KVM_EXIT_IRQ_WINDOW_OPEN] = ROUTE_CORE,
	[KVM_EXIT_SHUTDOWN] = ROUTE_CORE,
	[KVM_EXIT_FAIL_ENTRY] = ROUTE_CORE,
	[KVM_EXIT_INTR] = ROUTE_CORE, /* kicks drive pause, stop, migration */
	[KVM_EXIT_SET_TPR] = ROUTE_CORE,
	[KVM_EXIT_TPR_ACCESS] = ROUTE_CORE,
	[KVM_EXIT_S390_SIEIC] = ROUTE_CORE,
	[KVM_EXIT_S390_RESET] = ROUTE_CORE,
	[KVM_EXIT_DCR] = ROUTE_CORE,
	[KVM_EXIT_NMI] = ROUTE_CORE,
	[KVM_EXIT_INTERNAL_ERROR] = ROUTE_CORE,
	[KVM_EXIT_OSI] = ROUTE_CORE,
	[KVM_EXIT_PAPR_HCALL] = ROUTE_CORE,
	[KVM_EXIT_S390_UCONTROL] = ROUTE_CORE,
	[KVM_EXIT_WATCHDOG] = ROUTE_CORE,
	[KVM_EXIT_S390_TSCH] = ROUTE_CORE,
	[KVM_EXIT_EPR] = ROUTE_CORE,
	[KVM_EXIT_SYSTEM_EVENT] = ROUTE_CORE, /* shutdown, reset, crash */
	[KVM_EXIT_S390_STSI] = ROUTE_CORE,
	[KVM_EXIT_IOAPIC_EOI] = ROUTE_CORE,
	[KVM_EXIT_HYPERV] = ROUTE_CORE,
	[KVM_EXIT_ARM_NISV] = ROUTE_CORE,
	[KVM_EXIT_X86_RDMSR] = ROUTE_CORE, /* MSRs are the core's (field policy) */
	[KVM_EXIT_X86_WRMSR] = ROUTE_CORE,
	[KVM_EXIT_DIRTY_RING_FULL] = ROUTE_CORE, /* dirty tracking: migration */
	[KVM_EXIT_AP_RESET_HOLD] = ROUTE_CORE,
	[KVM_EXIT_X86_BUS_LOCK] = ROUTE_CORE,
	[KVM_EXIT_XEN] = ROUTE_CORE,
	[KVM_EXIT_RISCV_SBI] = ROUTE_CORE,
	[KVM_EXIT_RISCV_CSR] = ROUTE_CORE,
	[KVM_EXIT_NOTIFY] = ROUTE_CORE,
};

/* Ports, in order, tiling [0, 0x10000). */
static const struct mon_range_rule ports[] = {
	{ 0, VESSEL_COM1_PORT, ROUTE_CORE, "PIC, PIT (in KVM) and unassigned ports" },
	{ VESSEL_COM1_PORT, 8, ROUTE_MONITOR, "COM1 (16550A UART)" },
	{ VESSEL_COM1_PORT + 8, VESSEL_HC_PORT_BASE - (VESSEL_COM1_PORT + 8), ROUTE_CORE,
	  "unassigned ports" },
	{ VESSEL_HC_PORT_BASE, VESSEL_HC_PORT_COUNT, ROUTE_CORE,
	  "hypercalls (then by number: mon_hypercall_route)" },
	{ VESSEL_HC_PORT_BASE + VESSEL_HC_PORT_COUNT,
	  0x10000 - (VESSEL_HC_PORT_BASE + VESSEL_HC_PORT_COUNT), ROUTE_CORE, "unassigned ports" },
};

/* Guest-physical addresses, in order, tiling [0, 2^64). */
static const struct mon_range_rule mmio[] = {
	{ 0, VESSEL_VIRTIO_MMIO_BASE, ROUTE_CORE,
	  "RAM (an MMIO exit there is a consumed memory error: core)" },
	{ VESSEL_VIRTIO_MMIO_BASE, VESSEL_VIRTIO_MMIO_STRIDE *VESSEL_VIRTIO_MMIO_MAX, ROUTE_MONITOR,
	  "virtio-mmio window (virtio-blk)" },
	{ VESSEL_VIRTIO_MMIO_BASE + VESSEL_VIRTIO_MMIO_STRIDE * VESSEL_VIRTIO_MMIO_MAX,
	  0 - (VESSEL_VIRTIO_MMIO_BASE + VESSEL_VIRTIO_MMIO_STRIDE * VESSEL_VIRTIO_MMIO_MAX),
	  ROUTE_CORE, "IOAPIC, LAPIC (in KVM), above 4 GiB RAM, unassigned" },
};

/* Hypercalls: each touches VM-wide state (power, CPUs, memory, migration). */
static const enum mon_route hypercalls[VESSEL_HC_NR] = {
	[VESSEL_HC_POWEROFF] = ROUTE_CORE,	/* stops the VM */
	[VESSEL_HC_TEST] = ROUTE_CORE,		/* pauses the VM at SYNC */
	[VESSEL_HC_CPU_START] = ROUTE_CORE,	/* sets another vCPU's state */
	[VESSEL_HC_HCB_REGISTER] = ROUTE_CORE,	/* loads eBPF run by the core */
	[VESSEL_HC_FREE_REPORT] = ROUTE_CORE,	/* memory: migration skips free pages */
	[VESSEL_HC_PTTRACE] = ROUTE_CORE,	/* writes the trace file */
	[VESSEL_HC_TEXT_PATCH] = ROUTE_CORE,	/* code integrity: writes kernel text */
	[VESSEL_HC_DOMAIN_CALL] = ROUTE_CORE,	/* enters the secure domain */
	[VESSEL_HC_DOMAIN_RETURN] = ROUTE_CORE, /* leaves it */
};

enum mon_route mon_reason_route(unsigned reason)
{
	return reason < MON_EXIT_REASONS ? reasons[reason] : ROUTE_NONE;
}

const struct mon_range_rule *mon_port_rules(unsigned *nr)
{
	*nr = sizeof(ports) / sizeof(ports[0]);
	return ports;
}

const struct mon_range_rule *mon_mmio_rules(unsigned *nr)
{
	*nr = sizeof(mmio) / sizeof(mmio[0]);
	return mmio;
}

enum mon_route mon_hypercall_route(unsigned nr)
{
	return nr < VESSEL_HC_NR ? hypercalls[nr] : ROUTE_NONE;
}

static enum mon_route range_route(const struct mon_range_rule *r, unsigned nr, uint64_t addr,
				  uint64_t len)
{
	for (unsigned i = 0; i < nr; i++)
		if (addr - r[i].base < r[i].len)
			/* an access straddling two rules stays with the core */
			return len <= r[i].len - (addr - r[i].base) ? r[i].route : ROUTE_CORE;
	return ROUTE_CORE;
}

enum mon_route mon_route_exit(const struct kvm_run *run)
{
	enum mon_route r = mon_reason_route(run->exit_reason);

	if (r != ROUTE_MONITOR)
		return ROUTE_CORE;
	if (run->exit_reason == KVM_EXIT_IO) {
		unsigned nr;
		const struct mon_range_rule *p = mon_port_rules(&nr);

		if (run->io.port >= VESSEL_HC_PORT_BASE &&
		    run->io.port < VESSEL_HC_PORT_BASE + VESSEL_HC_PORT_COUNT)
			return mon_hypercall_route(run->io.port - VESSEL_HC_PORT_BASE) ==
					       ROUTE_MONITOR ?
				       ROUTE_MONITOR :
				       ROUTE_CORE;
		return range_route(p, nr, run->io.port, run->io.size);
	}
	if (run->exit_reason == KVM_EXIT_MMIO) {
		unsigned nr;
		const struct mon_range_rule *m = mon_mmio_rules(&nr);

		return range_route(m, nr, run->mmio.phys_addr, run->mmio.len);
	}
	return ROUTE_CORE;
}
