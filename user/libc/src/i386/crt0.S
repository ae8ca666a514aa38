/* SPDX-License-Identifier: MIT */
/*
 * Program entry of a 32-bit program (ELF32 i386, run in compatibility
 * mode). The kernel leaves (docs/syscalls.md, "32-bit processes"):
 *   (%esp) = argc, 4(%esp) = argv[0], ..., argv[argc] = NULL.
 * __libc_start(argc, argv) runs main and exits with its result. The
 * registers at entry are not recorded (no __start_regs, vessel/start.h).
 */
	.text
	.globl _start
	.type _start, @function
_start:
	xorl %ebp, %ebp			/* outermost frame for backtraces */
	movl (%esp), %eax		/* argc */
	leal 4(%esp), %edx		/* argv */
	andl $-16, %esp			/* i386 SysV: aligned at the call */
	subl $8, %esp
	pushl %edx
	pushl %eax
	call __libc_start
	ud2				/* __libc_start does not return */
	.size _start, . - _start

/*
 * First instruction of every thread made by thread_start(): the kernel enters
 * with edi = the start block, esp = the top of the new stack.
 */
	.globl __thread_entry
	.type __thread_entry, @function
__thread_entry:
	xorl %ebp, %ebp
	andl $-16, %esp
	subl $12, %esp
	pushl %edi
	call __thread_main		/* (struct start *) -> never returns */
	ud2
	.size __thread_entry, . - __thread_entry

	.section .note.GNU-stack, "", @progbits
