// SPDX-License-Identifier: MIT
/* Dispatch of every kernel entry; register dumps. */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fixup.h"
#include "arch/x86_64/pti.h"
#include "kernel/bkl.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/priv.h"
#include "kernel/sched.h"
#include "kernel/proc.h"
#include "kernel/pttrace.h"
#include "kernel/smp.h"
#include "kernel/mce.h"

extern volatile int smp_stopping;

static const char *const exc_names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor overrun",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection",
	"page fault",
	"reserved",
	"x87 FP error",
	"alignment check",
	"machine check",
	"SIMD FP error",
	"virtualization",
	"control protection",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"reserved",
	"hypervisor injection",
	"VMM communication",
	"security",
	"reserved",
};

const char *trap_name(uint64_t v)
{
	return v < 32 ? exc_names[v] : "interrupt";
}

void trap_dump(const struct trapframe *tf)
{
	printk("  vector %lu (%s) error %#lx cpu %d\n", tf->vector, trap_name(tf->vector),
	       tf->error, smp_cpu_id());
	printk("  RIP %04lx:%016lx RSP %04lx:%016lx RFLAGS %08lx\n", tf->cs, tf->rip, tf->ss,
	       tf->rsp, tf->rflags);
	printk("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", tf->rax, tf->rbx, tf->rcx,
	       tf->rdx);
	printk("  RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", tf->rsi, tf->rdi, tf->rbp,
	       tf->r8);
	printk("  R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", tf->r9, tf->r10, tf->r11,
	       tf->r12);
	printk("  R13 %016lx R14 %016lx R15 %016lx\n", tf->r13, tf->r14, tf->r15);
	printk("  CR2 %016lx CR3 %016lx\n", read_cr2(), read_cr3());
}

static void exception(struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	uint64_t cr2 = tf->vector == 14 ? read_cr2() : 0;

	if (tf->vector == 14) {
		c->cnt.page_faults++;
		if (__builtin_expect(pttrace_on, 0))
			pttrace_fault(cr2, tf->error);
	} else
		c->cnt.exceptions++;
	if (tf->vector == 18) { /* machine check: kernel/mce.c */
		mce_handle(tf);
		return;
	}
	if (tf->vector == 2) {
		/* NMI: panic stops the other CPUs with it; otherwise nobody's fault */
		if (smp_stopping) {
			for (;;)
				__asm__ volatile("cli; hlt");
		}
		if (priv_nmi(tf))
			return; /* the privileged mode's release */
		c->cnt.nmis++;
		return;
	}
	if (tf_from_user(tf)) {
		proc_user_exception(tf, cr2);
		return;
	}
	if (probe_fixup(tf))
		return; /* probe_read_u64 */
	printk("\nkernel exception: %s", trap_name(tf->vector));
	if (tf->vector == 14)
		printk(" at address %#lx (%s, %s)", cr2, tf->error & 2 ? "write" : "read",
		       tf->error & 1 ? "protection" : "not present");
	printk("\n");
	trap_dump(tf);
	panic("unhandled kernel exception %lu at %#lx", tf->vector, tf->rip);
}

/*
 * Device interrupts and IPIs: the handler its owner registered
 * (kernel/irq.h), then the acknowledgement. The spurious vector is never in
 * service, so it gets no EOI.
 */
static void interrupt(struct trapframe *tf)
{
	struct cpu *c = this_cpu();

	c->cnt.interrupts++;
	if (tf->vector == VEC_SPURIOUS)
		return;
	if (!irq_handle(tf))
		printk("unexpected interrupt %lu on cpu %d\n", tf->vector, c->id);
	lapic_eoi();
}

void trap_dispatch(struct trapframe *tf)
{
	errata_probe_trap(tf);
	if (tf_from_user(tf))
		pti_count_entry(this_cpu());
	if (tf->vector >= VEC_SYSCALL_FAST || tf->vector == VEC_SYSCALL_INT ||
	    (tf->vector == 6 && errata.int80_ud && tf_from_user(tf))) {
		syscall_trap(tf);
		return;
	}
	if (tf->vector < 32) {
		if (tf_from_user(tf))
			kernel_enter();
		exception(tf);
		if (tf_from_user(tf))
			kernel_exit(tf);
		return;
	}
	/*
	 * Interrupts are handled before (and mostly without) the BKL: a TLB
	 * shootdown's initiator holds the BKL while it waits for our ack.
	 */
	interrupt(tf);
	if (tf_from_user(tf) && kernel_exit_pending()) {
		kernel_enter();
		kernel_exit(tf);
	}
}
