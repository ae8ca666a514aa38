/* SPDX-License-Identifier: MIT */
/*
 * The kernel's retpolines: every indirect call and jump the compiler emits
 * in kernel C code (GUEST_CFLAGS: -mindirect-branch=thunk-extern) becomes a
 * call or jump to __x86_indirect_thunk_<reg>. The thunk reaches the target
 * through a return whose predicted target (the return stack buffer) is the
 * capture loop below, so a poisoned indirect-branch predictor (Spectre v2)
 * cannot steer speculative execution anywhere: speculation spins on
 * pause; lfence until the real target, written over the return address,
 * is resolved. Hand-written assembly keeps its few indirect jumps (boot,
 * the errata probe), which run once at boot, before any user code.
 */
	.section .note.GNU-stack, "", @progbits
	.text

.macro THUNK reg
	.balign 32
	.globl __x86_indirect_thunk_\reg
	.type __x86_indirect_thunk_\reg, @function
__x86_indirect_thunk_\reg:
	call 1f
2:	pause
	lfence
	jmp 2b
	.balign 16
1:	mov %\reg, (%rsp)
	ret
	.size __x86_indirect_thunk_\reg, . - __x86_indirect_thunk_\reg
.endm

	THUNK rax
	THUNK rbx
	THUNK rcx
	THUNK rdx
	THUNK rsi
	THUNK rdi
	THUNK rbp
	THUNK r8
	THUNK r9
	THUNK r10
	THUNK r11
	THUNK r12
	THUNK r13
	THUNK r14
	THUNK r15
