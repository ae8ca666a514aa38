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

	.section .note.GNU-stack, "", @progbits
