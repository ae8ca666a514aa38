/* SPDX-License-Identifier: MIT */
/*
 * The system-call search trampoline's fixed parts (kernel/jumpswitch.c,
 * docs/jumpswitch.md): the entry every dispatch calls directly, and two
 * code buffers in .text. The entry picks the live buffer by a data flag
 * (one byte, bit 0), with two direct jumps: a flip of the flag is a data
 * write, never a change to code another CPU may be running. A buffer is
 * rewritten (text_poke) only while it is not live and no CPU can still be
 * in it; at boot both hold just the jump to the miss path.
 *
 * int64_t js_sys_entry(const uint64_t *args, uint64_t nr)
 *   args in %rdi (passed through to the target), nr in %esi.
 */
	.section .note.GNU-stack, "", @progbits
	.text

	.globl js_sys_entry
	.type js_sys_entry, @function
	.balign 64
js_sys_entry:
	testb $1, js_sys_sel(%rip)
	jnz js_sys_buf1
	jmp js_sys_buf0
	.size js_sys_entry, . - js_sys_entry

	.globl js_sys_buf0, js_sys_buf1
	.balign 64
js_sys_buf0:
	jmp jumpswitch_sys_miss
	.fill 256 - 5, 1, 0xcc
js_sys_buf1:
	jmp jumpswitch_sys_miss
	.fill 256 - 5, 1, 0xcc
	.globl js_sys_end
js_sys_end:

	.data
	.globl js_sys_sel
	.balign 64
js_sys_sel:
	.byte 0
	.balign 64
