/* SPDX-License-Identifier: MIT */
/*
 * A tiny user program embedded in the kernel, for the null-syscall cost
 * measurement (kernel/ubench.c): RDI = round trips, RSI = 0 (syscall), 1
 * (int $0x80) or 2 (write(1, NULL, 0) by syscall: the console's write
 * operation, through the per-process trampoline). One getpid marks the
 * start, exit marks the end; the kernel reads the TSC at both kernel
 * entries. Position independent.
 */
	.section .rodata
	.globl ubench_code, ubench_code_end
ubench_code:
	mov %rdi, %r12
	mov %rsi, %r13
	mov $5, %eax /* SYS_getpid: start marker */
	syscall
	cmp $2, %r13
	je 4f
	test %r13, %r13
	jnz 2f
1:	mov $5, %eax
	syscall
	dec %r12
	jnz 1b
	jmp 3f
2:	mov $5, %eax
	int $0x80
	dec %r12
	jnz 2b
	jmp 3f
4:	mov $1, %eax /* SYS_write */
	mov $1, %edi
	xor %esi, %esi
	xor %edx, %edx
	syscall
	dec %r12
	jnz 4b
3:	xor %edi, %edi
	xor %eax, %eax /* SYS_exit */
	syscall
	ud2
ubench_code_end:

/*
 * The same loop for a 32-bit process (compatibility mode, kernel/compat.h):
 * EDI = round trips; int $0x80 with the i386 registers. No stack use.
 */
	.globl ubench32_code, ubench32_code_end
	.code32
ubench32_code:
	mov %edi, %ebp
	mov $5, %eax /* SYS_getpid: start marker */
	int $0x80
1:	mov $5, %eax
	int $0x80
	dec %ebp
	jnz 1b
	xor %ebx, %ebx
	xor %eax, %eax /* SYS_exit */
	int $0x80
	ud2
ubench32_code_end:
	.code64

/*
 * For the TLB-shootdown self-test: increments the quadword at RDI forever,
 * without a system call, so only a fault can stop it.
 */
	.globl tlb_spin_code, tlb_spin_code_end
tlb_spin_code:
1:	incq (%rdi)
	jmp 1b
tlb_spin_code_end:

/*
 * For the page-table isolation self-test (kernel/selftests_pti.c): reads
 * the quadword at RDI (a kernel address: the fault kills the process).
 */
	.globl pti_probe_code, pti_probe_code_end
pti_probe_code:
	mov (%rdi), %rax
	ud2
pti_probe_code_end:

	.section .note.GNU-stack, "", @progbits
