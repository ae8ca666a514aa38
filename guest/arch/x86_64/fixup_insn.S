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
 * void halt_for_nmi(const volatile uint64_t *word, uint64_t old):
 * if *word == old, sti; hlt; cli. The caller masks every other interrupt
 * (TPR): only an NMI wakes it, and the NMI is sent after *word changed. An
 * NMI taken anywhere from the compare to the hlt would return there and
 * halt for ever (the compare already read the old value), so the NMI path
 * resumes such an NMI at halt_done (halt_nmi_fixup); the caller checks
 * *word again.
 */
	.globl halt_for_nmi, halt_insn, halt_done
halt_for_nmi:
	cmp %rsi, (%rdi)
	jne halt_done
	sti
halt_insn:
	hlt
halt_done:
	cli
	ret

	.section .note.GNU-stack, "", @progbits
