/* SPDX-License-Identifier: MIT */
/*
 * The trusted computing base's own check of the code a patch writes
 * (tcb_check.c): the TCB refuses any byte it cannot account for, whatever
 * the VMM decided before entering it.
 */
#ifndef GUEST_TCB_TCB_CHECK_H
#define GUEST_TCB_TCB_CHECK_H

#include <stdint.h>

/*
 * tcb_code_allowed - 1 if code[0 .. len), to be written at kernel address
 * at, is a sequence of whole instructions of the allowed forms, else 0:
 *   int3, nop (90), ret (c3);
 *   mov r32/r64, imm (b8+r, REX allowed);
 *   cmp r/m, imm32 or imm8 (81 /7, 83 /7) and cmp/test/mov between two
 *   registers (39, 3b, 85, 89, 8b) -- register operands only (ModRM mod 3);
 *   cmp eax/rax, imm32 (3d);
 *   jmp rel8/rel32 (eb, e9) and jcc rel8/rel32 (70-7f, 0f 80-8f) whose
 *   target lies in [text_lo, text_hi).
 * One optional REX prefix (40-4f) before mov/cmp/test. A subset of what the
 * VMM's decoder allows (vmm/domain/integrity.c), kept small enough to read
 * whole: a patch must pass both.
 */
int tcb_code_allowed(const uint8_t *code, uint64_t len, uint64_t at, uint64_t text_lo,
		     uint64_t text_hi);

#endif
