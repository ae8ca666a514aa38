/* SPDX-License-Identifier: MIT */
/*
 * Entries of the trusted computing base (guest/tcb/tcb.c): the VMM starts
 * the secure domain's vCPU here with the arguments in RDI, RSI, RDX and a
 * stack of the TCB's own; the result goes back in RAX through the
 * domain-return hypercall. Nothing after it runs (the VMM resets the vCPU
 * before the next call); the hlt is a stop if it ever did.
 */
#include "tcb/tcb.h"

	.section .note.GNU-stack, "", @progbits
	.section .tcb.text, "ax", @progbits

	.macro TCB_ENTRY name, fn
	.globl \name
	.type \name, @function
\name:
	call \fn
	mov $TCB_RETURN_PORT, %dx
	out %eax, %dx
1:	hlt
	jmp 1b
	.size \name, . - \name
	.endm

	TCB_ENTRY tcb_entry_text_write, tcb_text_write
	TCB_ENTRY tcb_entry_echo, tcb_echo
	TCB_ENTRY tcb_entry_handshake, tcb_handshake

	/* the recorded measurement: filled after linking (tools/tcb_seal.c) */
	.section .tcb_sha256, "", @progbits
	.globl tcb_sha256
tcb_sha256:
	.zero 32
