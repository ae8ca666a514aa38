// SPDX-License-Identifier: MIT
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/percpu.h"
#include "kernel/mce.h"

uint8_t fpu_initial_state[512] __attribute__((aligned(16)));

#define CR0_MP	       (1ul << 1)
#define CR0_EM	       (1ul << 2)
#define CR0_TS	       (1ul << 3)
#define CR0_WP	       (1ul << 16)
#define CR4_OSFXSR     (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_SMEP       (1ul << 20) /* off: the syscall stub page is user-executable */
#define CR4_SMAP       (1ul << 21)

static uint64_t lstar_value;

void arch_set_syscall_entry(int erratum_stub)
{
	lstar_value = erratum_stub ? USER_STUB_VA : (uint64_t)syscall_entry_fast;
	wrmsr(MSR_LSTAR, lstar_value);
}

void arch_cpu_init(struct cpu *c)
{
	c->self = c;
	gdt_init_cpu(c);
	idt_load();
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 0x901); /* SCE | LME | NXE */
	/* user programs may use SSE; the kernel itself is built without it */
	write_cr0((read_cr0() | CR0_MP | CR0_WP) & ~(CR0_EM | CR0_TS));
	write_cr4((read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT) & ~(CR4_SMEP | CR4_SMAP));
	mce_cpu_init(); /* CR4.MCE and bank controls: kernel/mce.c */
	/* sysret: CS = 0x20|3, SS = 0x18|3; syscall: CS = 0x08, SS = 0x10 */
	wrmsr(MSR_STAR, ((uint64_t)0x10 << 48) | ((uint64_t)KERNEL_CS << 32));
	/*
	 * NT too: user code may set it (popf), and the kernel's iretq with
	 * NT set in its own RFLAGS is a #GP in long mode.
	 */
	wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC | RFLAGS_NT);
	wrmsr(MSR_LSTAR, lstar_value ? lstar_value : (uint64_t)syscall_entry_fast);
	/*
	 * `syscall` from compatibility mode enters at CSTAR (AMD; Intel raises
	 * #UD): a page that jumps to the LSTAR entry, where syscall_trap kills
	 * a 32-bit process (kernel/compat.c).
	 */
	wrmsr(MSR_CSTAR, COMPAT_SYSCALL_VA);
	if (c->id == 0) {
		__asm__ volatile("fninit; fxsave64 %0" : "=m"(fpu_initial_state));
		*(uint32_t *)&fpu_initial_state[24] = 0x1f80; /* MXCSR: all masked */
	}
}

void fpu_save(void *area)
{
	__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void fpu_restore(const void *area)
{
	__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}
