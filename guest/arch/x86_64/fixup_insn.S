/* SPDX-License-Identifier: MIT */
/*
 * Instructions the trap code recognises by their address (fixup.c):
 * the safe probe's load, and the privileged mode's halt.
 */
	.text

/*
 * int probe_read_u64(const void *addr, uint64_t *out): RDI = addr,
 * RSI = out. A page fault or general protection fault on the load resumes
 * at probe_fault (fixup.c), which returns -EFAULT.
 */
	.globl probe_read_u64, probe_load, probe_fault
probe_read_u64:
probe_load:
	mov (%rdi), %rax
	mov %rax, (%rsi)
	xor %eax, %eax
	ret
probe_fault:
	mov $-14, %eax		/* -EFAULT */
	ret

/*
 * void halt_for_nmi(void): sti; hlt; cli. The caller masks every other
 * interrupt (TPR): only an NMI wakes it. An NMI taken after the sti but
 * before the hlt would return to the hlt and sleep for ever, so the NMI
 * path skips the hlt (halt_nmi_fixup).
 */
	.globl halt_for_nmi, halt_insn
halt_for_nmi:
	sti
halt_insn:
	hlt
	cli
	ret

	.section .note.GNU-stack, "", @progbits
