/* SPDX-License-Identifier: MIT */
/*
 * Kernel entry and exit: exception/interrupt stubs, the two syscall entries,
 * the context switch and the errata probes' user-mode round trip.
 *
 * Every entry builds a struct trapframe (arch/x86_64/trapframe.h) on the
 * kernel stack and calls trap_dispatch(tf). GS: the kernel runs with
 * GS.base = this CPU's struct cpu; entries from user mode swapgs. An
 * exception taken at CPL0 checks GS_BASE itself ("paranoid"): the syscall
 * erratum path can fault at CPL0 while GS is still the user's.
 *
 * Page-table isolation (pti.h): while a process runs with PTI, user mode
 * runs on its user page table, which maps only this file's entry code
 * (section .entry.text) and the entry data (.bss.pti). Every entry from user
 * mode switches to the kernel table (SWITCH_TO_KERNEL_CR3) before it touches
 * anything else, and moves the frame the CPU pushed on the entry stack
 * (TSS.RSP0) to the thread's kernel stack; the exit copies the frame back to
 * the entry stack, switches to the user table and returns. CPU_UCR3 = 0:
 * the process runs without PTI (pti=off, 32-bit processes), no switch.
 */
#include "arch/x86_64/layout.h"

#define TF_VECTOR 120
#define TF_CS 144

	.section .entry.text, "ax"
	.code64

/*
 * Switches to the kernel page table if this CPU's process runs with PTI.
 * Kernel GS loaded; clobbers reg.
 */
.macro SWITCH_TO_KERNEL_CR3 reg
	cmpq $0, %gs:CPU_UCR3
	je .Lkcr3_\@
	mov %gs:CPU_KCR3, \reg
	mov \reg, %cr3
.Lkcr3_\@:
.endm

/*
 * Moves the trapframe at %rsp to the top of the stack whose top is at
 * memory operand `top`, and %rsp with it. Interrupts off; clobbers rcx,
 * rsi, rdi (their user values are in the frame).
 */
.macro MOVE_FRAME top
	mov \top, %rdi
	sub $TF_SIZE, %rdi
	mov %rsp, %rsi
	mov %rdi, %rsp
	mov $(TF_SIZE / 8), %ecx
	rep movsq
.endm

/* The general registers of struct trapframe, in its order (r15 at the lowest address). */
.macro PUSH_GPRS
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
.endm
.macro POP_GPRS
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
.endm

/* The registers a SysV callee must preserve. */
.macro PUSH_CALLEE_SAVED
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
.endm
.macro POP_CALLEE_SAVED
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
.endm

/* ---- exception and interrupt stubs ---------------------------------- */

.macro STUB v
	.align 16
stub_\v:
	.if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	.else
	pushq $0
	.endif
	pushq $\v
	jmp trap_common
.endm

	.altmacro
.macro STUB_FOR v
	STUB %v
.endm
.macro STUB_ADDR v
	.quad stub_\v
.endm
.macro STUB_ADDR_FOR v
	STUB_ADDR %v
.endm

	.set vec, 0
	.rept 256
	STUB_FOR vec
	.set vec, vec + 1
	.endr

	.section .rodata
	.align 8
	.globl trap_stub_table
trap_stub_table:
	.set vec, 0
	.rept 256
	STUB_ADDR_FOR vec
	.set vec, vec + 1
	.endr
	.noaltmacro

	.section .entry.text, "ax"
trap_common:
	cld
	PUSH_GPRS
	xor %r12d, %r12d /* 1: we swapped GS at CPL0 and must swap back */
	xor %r13d, %r13d /* not 0: the CR3 to restore on the way out */
	testb $3, TF_CS(%rsp)
	jz 1f
	swapgs
	SWITCH_TO_KERNEL_CR3 %rax
	/* the frame is on the entry stack (PTI): move it to the kernel stack */
	lea TF_SIZE(%rsp), %rax
	cmp %gs:CPU_KSTACK, %rax
	je trap_call
	MOVE_FRAME %gs:CPU_KSTACK
	jmp trap_call
1:	cmpq $32, TF_VECTOR(%rsp)
	jae trap_call
	mov $0xC0000101, %ecx /* GS_BASE: kernel values are negative */
	rdmsr
	test %edx, %edx
	js 2f
	swapgs
	mov $1, %r12d
	/*
	 * An exception at CPL0 between the exit's switch to the user table
	 * and its iretq (an NMI, a machine check, a fault of the iretq):
	 * handle it on the kernel table, return on the user one.
	 */
2:	cmpq $0, %gs:CPU_UCR3
	je trap_call
	mov %cr3, %rax
	cmp %gs:CPU_UCR3, %rax
	jne trap_call
	mov %rax, %r13
	incq %gs:CPU_PTI_KFIX
	mov %gs:CPU_KCR3, %rax
	mov %rax, %cr3
trap_call:
	mov %rsp, %rdi
	call trap_dispatch
	test %r13, %r13
	jz 3f
	mov %r13, %cr3
3:	test %r12d, %r12d
	jz trap_exit
	swapgs
	jmp trap_exit_kernel

/* Returns through the trapframe at %rsp (also the first run of a thread). */
	.globl trap_exit
trap_exit:
	testb $3, TF_CS(%rsp)
	jz trap_exit_kernel
	cli
	cmpq $0, %gs:CPU_UCR3
	jne trap_exit_pti
	swapgs
trap_exit_kernel:
	POP_GPRS
	add $16, %rsp
	iretq

/*
 * Back to a process that runs with PTI: the frame goes to the entry stack
 * (mapped in both tables), then the user table is loaded.
 */
trap_exit_pti:
	MOVE_FRAME %gs:CPU_ESTACK
	mov %gs:CPU_UCR3, %rax
	swapgs
	mov %rax, %cr3
	POP_GPRS
	add $16, %rsp
	iretq

/* Entry from user with GS already swapped, on the kernel table and stack. */
trap_common_user:
	cld
	PUSH_GPRS
	xor %r12d, %r12d
	xor %r13d, %r13d
	jmp trap_call

/*
 * NMI, #DF and #MC run on IST stacks. Taken from user mode, their frame is
 * moved to the thread's kernel stack first (the handler may kill or switch,
 * and the next event on this CPU would overwrite the IST stack).
 */
.macro IST_STUB v, errcode, kernel
	.globl ist_stub_\v
ist_stub_\v:
	.if \errcode == 0
	pushq $0
	.endif
	pushq $\v
	testb $3, 24(%rsp)
	jz \kernel
	swapgs
	mov %rax, %gs:CPU_SCRATCH
	mov %rbx, %gs:CPU_SCRATCH2
	SWITCH_TO_KERNEL_CR3 %rax
	mov %rsp, %rbx
	mov %gs:CPU_KSTACK, %rsp
	pushq 48(%rbx) /* ss */
	pushq 40(%rbx) /* rsp */
	pushq 32(%rbx) /* rflags */
	pushq 24(%rbx) /* cs */
	pushq 16(%rbx) /* rip */
	pushq 8(%rbx)  /* error */
	pushq 0(%rbx)  /* vector */
	mov %gs:CPU_SCRATCH, %rax
	mov %gs:CPU_SCRATCH2, %rbx
	jmp trap_common_user
.endm

	IST_STUB 2, 0, trap_common
	IST_STUB 8, 1, trap_common
	IST_STUB 18, 0, mc_kernel

/*
 * #MC taken in kernel mode. The CPU pushes its frame at the top of the IST
 * stack every time, and the handler clears MCG_STATUS.MCIP before it has
 * returned; a VMM (or hardware) may deliver the next machine check as soon
 * as MCIP is clear, so one can arrive on this CPU while the handler of the
 * previous one is still finishing. Had that handler run at the top, the new
 * frame would overwrite its return frame and stack: it would iretq into its
 * own tail for ever, interrupts off (a burst of memory errors stopped the
 * guest that way). So no handler runs in the landing zone (MC_LANDING bytes
 * at the top): the frame is copied below it, or, when this machine check
 * interrupted a handler on this stack, below the interrupted RSP, as for an
 * exception without IST. MCIP is set until the handler clears it, so no
 * machine check can arrive while this copies.
 */
mc_kernel:
	push %rax
	push %rbx
	/* vector 16(%rsp), error 24, rip 32, cs 40, rflags 48, rsp 56, ss 64 */
	lea (72 - IST_SIZE)(%rsp), %rbx	/* the bottom of this IST stack */
	mov 56(%rsp), %rax
	sub %rbx, %rax
	cmp $(IST_SIZE - MC_LANDING), %rax
	jae 1f
	add %rbx, %rax			/* nested: below the interrupted RSP */
	and $~15, %rax
	jmp 2f
1:	lea (IST_SIZE - MC_LANDING)(%rbx), %rax
2:	sub $56, %rax
	.irp off, 0, 8, 16, 24, 32, 40, 48
	mov (16 + \off)(%rsp), %rbx
	mov %rbx, \off(%rax)
	.endr
	mov %rsp, %rbx
	mov %rax, %rsp
	mov 8(%rbx), %rax
	mov 0(%rbx), %rbx
	jmp trap_common

/* ---- syscall instruction ------------------------------------------- */

/* LSTAR when the host has no syscall erratum: the architectural entry. */
	.globl syscall_entry_fast
syscall_entry_fast:
	swapgs
	mov %rsp, %gs:CPU_SCRATCH
	SWITCH_TO_KERNEL_CR3 %rsp
	mov %gs:CPU_KSTACK, %rsp
	pushq $USER_DS
	pushq %gs:CPU_SCRATCH
	pushq %r11
	pushq $USER_CS
	pushq %rcx
	pushq $0
	pushq $VEC_SYSCALL_FAST
	jmp trap_common_user

/*
 * LSTAR on hosts with the erratum (docs/kernel.md) is USER_STUB_VA, a copy of
 * user_stub_start mapped user-executable: on this host `syscall` reaches
 * LSTAR without leaving CPL3 (the fetch of a supervisor page faults, a
 * privileged instruction faults), so the entry is a ud2 whose #UD, taken
 * through the IDT (which does switch to CPL0), is recognised by ud_entry.
 * Jumping to the stub directly is just another way to make a syscall.
 */
	.section .rodata
	.balign 16
	.globl user_stub_start, user_stub_end, probe_syscall_stub, probe_syscall_stub_end
user_stub_start:
	ud2			/* USER_STUB_VA + 0: the syscall entry */
	.balign 16
probe_syscall_stub:		/* USER_STUB_VA + 16: the errata probe's entry */
	mov %cr3, %rax
	mov %rax, %cr3
	mov $1, %edi		/* no fault: no erratum */
	movabs $probe_return, %rax
	jmp *%rax
probe_syscall_stub_end:
user_stub_end:
	.section .entry.text, "ax"

/* #UD, on IST_UD (the syscall stub runs on the user's stack). */
	.globl ud_entry
ud_entry:
	push %rax
	movabs $USER_STUB_VA, %rax
	cmp %rax, 8(%rsp)
	pop %rax
	je ud_syscall
	testb $3, 8(%rsp)
	jnz ud_user
	pushq $0
	pushq $6
	jmp trap_common
ud_syscall:
	/* user RIP in RCX, RFLAGS in R11, RSP untouched by syscall */
	swapgs
	mov %rax, %gs:CPU_SCRATCH
	SWITCH_TO_KERNEL_CR3 %rax
	mov 24(%rsp), %rax
	mov %gs:CPU_KSTACK, %rsp
	pushq $USER_DS
	push %rax
	push %r11
	pushq $USER_CS
	push %rcx
	mov %gs:CPU_SCRATCH, %rax
	pushq $0
	pushq $VEC_SYSCALL_UD
	jmp trap_common_user
ud_user:
	/* move the frame off the per-CPU IST stack: the handler may sleep */
	swapgs
	mov %rax, %gs:CPU_SCRATCH
	mov %rbx, %gs:CPU_SCRATCH2
	SWITCH_TO_KERNEL_CR3 %rax
	mov %rsp, %rbx
	mov %gs:CPU_KSTACK, %rsp
	pushq 32(%rbx)
	pushq 24(%rbx)
	pushq 16(%rbx)
	pushq 8(%rbx)
	pushq 0(%rbx)
	mov %gs:CPU_SCRATCH, %rax
	mov %gs:CPU_SCRATCH2, %rbx
	pushq $0
	pushq $6
	jmp trap_common_user

/* ---- context switch ------------------------------------------------- */

	.text

/* void arch_switch(uint64_t *save_rsp, uint64_t new_rsp) */
	.globl arch_switch
arch_switch:
	PUSH_CALLEE_SAVED
	mov %rsp, (%rdi)
	mov %rsi, %rsp
	POP_CALLEE_SAVED
	ret

/* First run of a user thread: its stack holds a trapframe above this. */
	.globl user_thread_start
user_thread_start:
	call thread_first_run
	xor %r12d, %r12d
	jmp trap_exit

/* First run of a kernel thread: kthread_main(fn = r12, arg = r13). */
	.globl kthread_trampoline
kthread_trampoline:
	mov %r12, %rdi
	mov %r13, %rsi
	call kthread_main
	ud2

/* ---- errata probes: a user-mode round trip at boot ------------------ */

/*
 * long probe_run_user(uint64_t rip, uint64_t rsp): enters CPL3 at rip with
 * interrupts off; returns the value some handler passes to probe_return().
 */
	.globl probe_run_user
probe_run_user:
	PUSH_CALLEE_SAVED
	mov %rsp, probe_saved_rsp(%rip)
	pushq $USER_DS
	push %rsi
	pushq $0x2
	pushq $USER_CS
	push %rdi
	iretq

/* void probe_return(long value): back into probe_run_user's caller. */
	.globl probe_return
probe_return:
	mov probe_saved_rsp(%rip), %rsp
	mov %rdi, %rax
	POP_CALLEE_SAVED
	ret

/* User code of the probes (copied to a user page). */
	.section .rodata
	.globl probe_user_code, probe_user_int80, probe_user_after_int80, probe_user_code_end
probe_user_code:
	syscall
	ud2
probe_user_int80:
	int $0x80
probe_user_after_int80:
	ud2
probe_user_code_end:

	.data
	.align 8
probe_saved_rsp:
	.quad 0

	.section .note.GNU-stack, "", @progbits
