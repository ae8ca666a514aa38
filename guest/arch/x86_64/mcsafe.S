/* SPDX-License-Identifier: MIT */
/*
 * Accesses to user memory that survive a machine check (see mcsafe.h).
 * Everything between mc_safe_begin and mc_safe_end may take an
 * action-required #MC; kernel/mce.c then resumes at mc_safe_fixup, which
 * returns -EFAULT from whichever of these functions was running. They use
 * no stack of their own, so the fixup's ret returns to their caller.
 */
	.text
	.globl mc_safe_begin, mc_safe_end, mc_safe_fixup, mc_safe_load, mc_safe_store

/* int mc_safe_load(const void *src, uint64_t *val, unsigned size) */
mc_safe_begin:
mc_safe_load:
	cmp $8, %edx
	je 8f
	cmp $4, %edx
	je 4f
	cmp $2, %edx
	je 2f
	movzbl (%rdi), %eax
	jmp 9f
2:	movzwl (%rdi), %eax
	jmp 9f
4:	movl (%rdi), %eax
	jmp 9f
8:	movq (%rdi), %rax
9:	movq %rax, (%rsi)
	xor %eax, %eax
	ret

/* int mc_safe_store(void *dst, uint64_t val, unsigned size) */
mc_safe_store:
	cmp $8, %edx
	je 8f
	cmp $4, %edx
	je 4f
	cmp $2, %edx
	je 2f
	movb %sil, (%rdi)
	jmp 9f
2:	movw %si, (%rdi)
	jmp 9f
4:	movl %esi, (%rdi)
	jmp 9f
8:	movq %rsi, (%rdi)
9:	xor %eax, %eax
	ret
mc_safe_end:

mc_safe_fixup:
	mov $-14, %eax		/* -EFAULT */
	ret

	.section .note.GNU-stack, "", @progbits
