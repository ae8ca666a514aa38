/* SPDX-License-Identifier: MIT */
/*
 * The jumpswitch native replica's fixed parts, laid out as the guest's
 * (guest/arch/x86_64/jumpswitch.S, JS_TABLE sys): in .text, called
 * directly, an entry that is one jmp rel32 to the live buffer and two
 * 256-byte buffers that jumpswitch_native.c fills with the bytes
 * guest/lib/jswitch.c emits. Also the entry the guest had before, which
 * picked the buffer by a data flag, for comparison. One 4 KiB page of
 * .text, which the program makes writable to fill it.
 *   int64_t js_native_entry(const uint64_t *args, uint64_t key)
 */
	.section .note.GNU-stack, "", @progbits

	.text
	.balign 4096
	.globl js_native_page, js_native_entry, js_native_flag_entry
	.globl js_native_buf0, js_native_buf1
js_native_page:
	.type js_native_entry, @function
js_native_entry:
	.byte 0xe9			/* jmp rel32, rewritten by the flip */
	.long js_native_buf0 - (. + 4)
	.size js_native_entry, . - js_native_entry

	.balign 64
	.type js_native_flag_entry, @function
js_native_flag_entry:			/* the data-flag entry */
	testb $1, js_native_sel(%rip)
	jnz js_native_buf1
	jmp js_native_buf0
	.size js_native_flag_entry, . - js_native_flag_entry

	.balign 64
js_native_buf0:
	.fill 256, 1, 0xcc
js_native_buf1:
	.fill 256, 1, 0xcc
	.balign 4096

	.data
	.balign 64
js_native_sel:
	.long 0
