/* SPDX-License-Identifier: MIT */
/*
 * The fixed parts of the search trampolines (kernel/jumpswitch.c,
 * docs/jumpswitch.md), one set per table: the entry every dispatch calls
 * directly, and two code buffers in .text. A buffer is rewritten
 * (text_poke) only while it is not live and no CPU can still be in it; at
 * boot both hold just the jump to the miss path.
 *
 * A table without removals (bypass=0, the system-call table) has an entry
 * that is one `jmp rel32` to the live buffer: the flip rewrites it with
 * text_poke, which writes image text with every other CPU stopped (the
 * privileged mode), so a hit runs no data test. A table whose entries can be
 * removed (bypass=1) picks the live buffer by a data word instead, with
 * direct jumps only: bit 0 the live buffer, bit 1 set when a target was
 * removed (every call goes to the miss path until a trampoline built after
 * the removal is live); irq_unregister sets it with a data write.
 *
 * The key is in %esi; every other argument register passes through.
 *   int64_t js_sys_entry(const uint64_t *args, uint64_t nr)
 *   void js_irq_entry(struct trapframe *tf, uint64_t vector)
 */
#include "arch/x86_64/layout.h"

	.section .note.GNU-stack, "", @progbits

	.macro JS_TABLE name, miss, bypass
	.text
	.globl js_\name\()_entry
	.type js_\name\()_entry, @function
	.balign 64
js_\name\()_entry:
	.if \bypass
	testb $2, js_\name\()_sel(%rip)
	jnz \miss
	testb $1, js_\name\()_sel(%rip)
	jnz js_\name\()_buf1
	jmp js_\name\()_buf0
	.else
	/* jmp rel32 to the live buffer, rewritten by the flip (text_poke) */
	.byte 0xe9
	.long js_\name\()_buf0 - (. + 4)
	.endif
	.size js_\name\()_entry, . - js_\name\()_entry

	.globl js_\name\()_buf0, js_\name\()_buf1, js_\name\()_end
	.balign 64
js_\name\()_buf0:
	jmp \miss
	.fill 256 - 5, 1, 0xcc
js_\name\()_buf1:
	jmp \miss
	.fill 256 - 5, 1, 0xcc
js_\name\()_end:

	.data
	.globl js_\name\()_sel
	.balign 64
js_\name\()_sel:
	.long 0
	.balign 64
	.endm

	JS_TABLE sys, jumpswitch_sys_miss, 0
	JS_TABLE irq, irq_jumpswitch_miss, 1

/*
 * The per-process trampolines' fixed first trampoline
 * (kernel/jumpswitch_proc.h): a direct jump to the region mapped at
 * JS_PROC_VA, whose contents differ per address space.
 *   int64_t js_proc_entry(struct fd *f, uint64_t buf, uint64_t len, fd_op_fn *fn,
 *                         uint64_t *misses)
 */
	.text
	.globl js_proc_entry
	.type js_proc_entry, @function
	.balign 16
js_proc_entry:
	jmp JS_PROC_VA
	.size js_proc_entry, . - js_proc_entry
