/* SPDX-License-Identifier: MIT */
/*
 * Program entry. The kernel leaves (docs/syscalls.md, "Initial user state"):
 *   (%rsp) = argc, 8(%rsp) = argv[0], ..., argv[argc] = NULL.
 * __libc_start(argc, argv) runs main and exits with its result.
 */
	.text
	.globl _start
	.type _start, @function
_start:
	/* record the state the kernel gave us (vessel/start.h) */
	movq %rsp, __start_regs+0(%rip)
	movq %rdi, __start_regs+8(%rip)
	movq %rsi, __start_regs+16(%rip)
	movq %rdx, __start_regs+24(%rip)
	movq %rcx, __start_regs+32(%rip)
	movq %rbx, __start_regs+40(%rip)
	movq %rbp, __start_regs+48(%rip)
	movq %r8, __start_regs+56(%rip)
	movq %r9, __start_regs+64(%rip)
	movq %r10, __start_regs+72(%rip)
	movq %r11, __start_regs+80(%rip)
	movq %r12, __start_regs+88(%rip)
	movq %r13, __start_regs+96(%rip)
	movq %r14, __start_regs+104(%rip)
	movq %r15, __start_regs+112(%rip)
	movq %rax, __start_regs+120(%rip)
	pushfq
	popq __start_regs+128(%rip)
	stmxcsr __start_regs+136(%rip)
	fnstcw __start_regs+140(%rip)

	xorl %ebp, %ebp			/* outermost frame for backtraces */
	movq (%rsp), %rdi		/* argc */
	leaq 8(%rsp), %rsi		/* argv */
	andq $-16, %rsp			/* SysV: aligned before the call */
	call __libc_start
	ud2				/* __libc_start does not return */
	.size _start, . - _start

/*
 * First instruction of every thread made by thread_start(): the kernel enters
 * with rdi = the start block, rsp = the top of the new stack.
 */
	.globl __thread_entry
	.type __thread_entry, @function
__thread_entry:
	xorl %ebp, %ebp
	andq $-16, %rsp
	call __thread_main		/* (struct start *) -> never returns */
	ud2
	.size __thread_entry, . - __thread_entry

	.bss
	.balign 16
	.globl __start_regs
	.type __start_regs, @object
	.size __start_regs, 144
__start_regs:
	.zero 144

	.section .note.GNU-stack, "", @progbits
