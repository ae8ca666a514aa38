/* SPDX-License-Identifier: MIT */
/*
 * The monitor's policies (docs/monitor.md): for every vCPU state field,
 * whether the sandboxed monitor may read it and may write it; for every
 * exit kind, whether the privileged core handles it or routes it to the
 * monitor. Pure tables and lookups: no KVM, no processes, unit-tested
 * (tests/unit/vmm_monitor_policy_test.c checks that every field, every KVM
 * exit reason, every port and MMIO address and every hypercall number has
 * an explicit entry).
 */
#ifndef VMM_MONITOR_POLICY_H
#define VMM_MONITOR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Every field of a vCPU's state the monitor could name. */
enum mon_field {
	/* general-purpose registers, RIP, RFLAGS */
	MF_RAX,
	MF_RBX,
	MF_RCX,
	MF_RDX,
	MF_RSI,
	MF_RDI,
	MF_RSP,
	MF_RBP,
	MF_R8,
	MF_R9,
	MF_R10,
	MF_R11,
	MF_R12,
	MF_R13,
	MF_R14,
	MF_R15,
	MF_RIP,
	MF_RFLAGS,
	/* segments (the selector is the value; the descriptor goes with it) */
	MF_CS,
	MF_DS,
	MF_ES,
	MF_FS,
	MF_GS,
	MF_SS,
	MF_TR,
	MF_LDTR,
	MF_GDTR_BASE,
	MF_IDTR_BASE,
	/* control registers */
	MF_CR0,
	MF_CR2,
	MF_CR3,
	MF_CR4,
	MF_CR8,
	MF_EFER,
	MF_APIC_BASE,
	/* MSRs (MSR index in mon_field_msr()) */
	MF_MSR_TSC,
	MF_MSR_SYSENTER_CS,
	MF_MSR_SYSENTER_ESP,
	MF_MSR_SYSENTER_EIP,
	MF_MSR_MCG_STATUS,
	MF_MSR_MISC_ENABLE,
	MF_MSR_PAT,
	MF_MSR_TSC_DEADLINE,
	MF_MSR_STAR,
	MF_MSR_LSTAR,
	MF_MSR_CSTAR,
	MF_MSR_SFMASK,
	MF_MSR_FS_BASE,
	MF_MSR_GS_BASE,
	MF_MSR_KERNEL_GS_BASE,
	MF_MSR_TSC_AUX,
	/* event injection (struct kvm_vcpu_events) */
	MF_EXC_INJECTED,
	MF_EXC_NR,
	MF_EXC_ERROR_CODE,
	MF_IRQ_INJECTED,
	MF_IRQ_NR,
	MF_NMI_INJECTED,
	MF_NMI_PENDING,
	MF_INT_SHADOW,
	/* the data bytes of the exit being handled (an IN's result, an OUT's value) */
	MF_IO_DATA,
	MF_NR
};

enum mon_field_class { MFC_GPR, MFC_SEG, MFC_CR, MFC_MSR, MFC_EVENT, MFC_EXIT };

struct mon_field_rule {
	const char *name; /* "rax", "msr_lstar", ... */
	enum mon_field_class cls;
	uint32_t msr;	  /* MFC_MSR: the MSR index */
	bool set;	  /* the entry exists (the unit test checks every one) */
	bool read, write; /* what the monitor may do */
};

/* mon_field_rule - the rule of field f, or NULL for f >= MF_NR. */
const struct mon_field_rule *mon_field_rule(unsigned f);

/* mon_may_read/mon_may_write - the policy; false for an unknown field. */
bool mon_may_read(unsigned f);
bool mon_may_write(unsigned f);

/* Who handles an exit. */
enum mon_route {
	ROUTE_NONE = 0 /* no entry: a bug the unit test catches */,
	ROUTE_CORE,
	ROUTE_MONITOR
};

/* An address range rule: [base, base + len) goes to `route`. */
struct mon_range_rule {
	uint64_t base, len;
	enum mon_route route;
	const char *what;
};

#define MON_EXIT_REASONS 38 /* KVM_EXIT_UNKNOWN (0) .. KVM_EXIT_NOTIFY (37) */

/* The tables, for the unit test and docs: reason rules, port and MMIO
 * ranges (each tiles its whole address space in order), hypercall rules. */
enum mon_route mon_reason_route(unsigned reason);
const struct mon_range_rule *mon_port_rules(unsigned *nr);
const struct mon_range_rule *mon_mmio_rules(unsigned *nr);
enum mon_route mon_hypercall_route(unsigned nr);

/*
 * mon_route_exit - the decision for one exit: reason first, then for port
 * I/O the port range (the hypercall ports by hypercall number), for MMIO
 * the address range. Anything without an entry goes to the core.
 */
struct kvm_run;
enum mon_route mon_route_exit(const struct kvm_run *run);

#endif
