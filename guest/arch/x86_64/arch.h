/* SPDX-License-Identifier: MIT */
/* The x86-64 layer as seen by the generic kernel. */
#ifndef ARCH_X86_64_ARCH_H
#define ARCH_X86_64_ARCH_H

#include <stdint.h>
#include "arch/x86_64/layout.h"
#include "arch/x86_64/trapframe.h"

struct cpu;

/* ---- descriptor tables (gdt.c, idt.c) ---- */
/* Builds and loads c's GDT and TSS (IST stacks included). */
void gdt_init_cpu(struct cpu *c);
/* Sets the stack the CPU switches to on entry from user mode. */
void tss_set_rsp0(struct cpu *c, uint64_t rsp0);
/* Fills the shared IDT (once, on the BSP). */
void idt_init(void);
/* Loads the shared IDT on this CPU. */
void idt_load(void);

/* ---- per-CPU setup (cpu_init.c) ---- */
/*
 * Everything a CPU needs before it takes interrupts: GDT/TSS/IDT, GS base,
 * EFER, CR0/CR4 (SSE for user space only), syscall MSRs.
 */
void arch_cpu_init(struct cpu *c);
/* Points LSTAR at the ud2 erratum stub (on=1) or the direct entry (on=0). */
void arch_set_syscall_entry(int erratum_stub);
/* FPU/SSE state image of a fresh thread (512 bytes, fxsave format). */
extern uint8_t fpu_initial_state[512];
/* Saves / restores the user FPU state (16-byte aligned 512-byte area). */
void fpu_save(void *area);
void fpu_restore(const void *area);

/* ---- local APIC (lapic.c) ---- */
/* Enables this CPU's LAPIC (spurious vector, LVTs masked). */
void lapic_init(void);
/* APIC ID of this CPU. */
uint32_t lapic_id(void);
/* Acknowledges the interrupt being handled. */
void lapic_eoi(void);
/*
 * Sets this CPU's task priority: interrupts whose vector >> 4 is not above
 * tpr >> 4 stay pending (0xf0 holds every one back, 0 none). Returns the old.
 */
uint8_t lapic_set_tpr(uint8_t tpr);
/*
 * Measures the LAPIC timer rate against the TSC (tsc_khz known) or the PIT;
 * fills *tsc_khz when it was 0. Returns LAPIC timer counts per millisecond.
 */
uint32_t lapic_timer_calibrate(uint64_t *tsc_khz);
/* Starts the periodic timer on this CPU at hz, given the calibration. */
void lapic_timer_start(uint32_t counts_per_ms, uint32_t hz);
/* Sends a fixed IPI with `vector` to the CPU with APIC ID `apic_id`. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
/* Sends an NMI to the CPU with APIC ID apic_id. */
void lapic_send_nmi(uint32_t apic_id);
/* INIT-SIPI-SIPI to apic_id with the trampoline at AP_TRAMPOLINE_PHYS. */
void lapic_start_ap(uint32_t apic_id);
/* Sends an NMI to every other CPU (panic). */
void lapic_nmi_others(void);

/* ---- IOAPIC (ioapic.c) ---- */
/* Masks every IOAPIC pin and the legacy PICs. */
void ioapic_init(void);
/* Routes ISA irq to vector on the CPU with APIC ID dest (edge, active high). */
void ioapic_route(uint32_t irq, uint8_t vector, uint32_t dest);
/*
 * Routes IOAPIC pin irq to vector on CPU dest, level-triggered, active high
 * (a virtio-mmio line: it stays up until the driver acknowledges it).
 */
void ioapic_route_level(uint32_t irq, uint8_t vector, uint32_t dest);

/* ---- time (tsc) ---- */
/* Busy-waits us microseconds (TSC based, after calibration). */
void udelay(uint64_t us);

/* ---- hypercalls and power (hypercall.c) ---- */
/* 1 if the Vessel VMM's hypercall ports are live. */
int hc_available(void);
/* Issues hypercall nr with the argument struct at kernel address arg. */
void hc_call(uint32_t nr, void *arg);

/* ---- traps (trap.c) ---- */
/* Called by entry.S for every kernel entry. */
void trap_dispatch(struct trapframe *tf);
/* Human name of exception vector v ("interrupt" for v >= 32). */
const char *trap_name(uint64_t v);
/* Prints a register dump of tf. */
void trap_dump(const struct trapframe *tf);

/* ---- errata (errata.c) ---- */
struct errata {
	int syscall_priv;   /* privileged instructions fault after syscall entry */
	int syscall_ud2_ok; /* the ud2-stub workaround was verified */
	int int80_rip;	    /* int $n from user pushes the RIP of the int */
	int int80_ud;	    /* ... and arrives as #UD instead of vector 0x80 */
	int forced_off;	    /* `noerrata` on the command line */
};
extern struct errata errata;
/* Runs the boot-time probes (BSP, before processes exist) and prints the result. */
void errata_probe(int force_off);
/* Hook from trap_dispatch: returns only if tf is not a probe event. */
void errata_probe_trap(struct trapframe *tf);
/* errata_syscall_fixup's slow path. */
int errata_int80_fixup(struct trapframe *tf);
/*
 * The int $0x80 erratum's fix-ups on a system-call entry (BKL held): a user
 * #UD (vector 6, errata.int80_ud) on the bytes CD 80 becomes an int $0x80
 * call resuming after the instruction; a vector-0x80 entry whose saved RIP
 * is at the int (errata.int80_rip) gets + 2. Returns 1 if tf is a system
 * call now, 0 if it is a genuine #UD.
 */
static inline int errata_syscall_fixup(struct trapframe *tf)
{
	if (tf->vector == 6 || (tf->vector == VEC_SYSCALL_INT && errata.int80_rip))
		return errata_int80_fixup(tf);
	return 1; /* nothing to fix */
}

/* ---- system calls (syscall_trap.c) ---- */
/*
 * Every system-call entry (syscall through LSTAR or the ud2 stub, int $0x80,
 * a #UD that may be the int $0x80 erratum): takes the BKL, applies the
 * erratum fix-ups, counts the entry, runs the call from the table, returns
 * the result in tf->rax and leaves through kernel_exit.
 */
void syscall_trap(struct trapframe *tf);

/* ---- entry.S ---- */
extern char syscall_entry_fast[]; /* LSTAR without the erratum */
void arch_switch(uint64_t *save_rsp, uint64_t new_rsp);
void user_thread_start(void);
void trap_exit(void);

#endif
