/* SPDX-License-Identifier: MIT */
/*
 * Tiny user programs for the TLB self-tests (kernel/selftests_tlb.c),
 * copied to the user image base like ubench.S's. Position independent.
 *
 * tlbt_rw_code: RDI = reader index r | (mode << 8), mode 0 read, 1 write.
 * Watches the quadword r of the page at TLBT_WATCH and keeps a record of
 * 64 bytes at TLBT_CTL + 64 * r: attempts (incremented before each
 * access), last_stale (read mode: the attempt number of the last read that
 * saw a non-zero value), done (incremented after each access). Write mode
 * stores the attempt number (also left in RAX at the faulting write).
 */
#define TLBT_WATCH 0x0000100000000000
#define TLBT_CTL   0x0000100000001000

	.section .rodata
	.globl tlbt_rw_code, tlbt_rw_code_end, tlbt_write_insn
tlbt_rw_code:
	mov %rdi, %rdx
	mov %rdi, %rcx
	and $0xff, %ecx
	movabs $TLBT_WATCH, %rdi
	lea (%rdi, %rcx, 8), %rdi
	shl $6, %rcx
	movabs $TLBT_CTL, %rsi
	add %rcx, %rsi
	test $0x100, %edx
	jnz 3f
1:	incq (%rsi)		/* attempts */
	mov (%rdi), %rax	/* faults once the page is unmapped */
	test %rax, %rax
	jz 2f
	mov (%rsi), %rcx
	mov %rcx, 8(%rsi)	/* last_stale */
2:	incq 16(%rsi)		/* done */
	jmp 1b
3:	incq (%rsi)
	mov (%rsi), %rax
tlbt_write_insn:
	mov %rax, (%rdi)	/* faults once the page is write-protected */
	incq 16(%rsi)
	jmp 3b
tlbt_rw_code_end:

/*
 * tlbt_sleep_code: RDI = nanoseconds. Sleeps, then increments the
 * quadword at TLBT_WATCH, forever.
 */
	.globl tlbt_sleep_code, tlbt_sleep_code_end
tlbt_sleep_code:
	mov %rdi, %r12
	movabs $TLBT_WATCH, %r13
1:	mov %r12, %rdi
	mov $9, %eax		/* SYS_nanosleep */
	syscall
	incq (%r13)
	jmp 1b
tlbt_sleep_code_end:

	.section .note.GNU-stack, "", @progbits
