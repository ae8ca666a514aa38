/* SPDX-License-Identifier: MIT */
/*
 * A freestanding decoder for the subset of x86-64 user code that system-call
 * lookahead emulates (docs/lookahead.md has the list and why). It decodes
 * one instruction of 64-bit mode and either describes it completely (length,
 * operation, operand size, operands) or refuses it: it never guesses.
 * Everything outside the subset (other opcodes, segment/lock/address-size
 * prefixes, SSE, string instructions, ...) is X86_OP_NONE.
 *
 * Also built for the host: unit tests, a Zydis oracle on millions of fuzzed
 * byte strings (tests/unit/x86dec_oracle.c) and a libFuzzer target.
 */
#ifndef GUEST_LIB_X86DEC_H
#define GUEST_LIB_X86DEC_H

#include <stddef.h>
#include <stdint.h>

#define X86_MAX_LEN 15

/* General registers in encoding order (rax = 0 ... r15 = 15). */
enum x86_reg {
	X86_RAX,
	X86_RCX,
	X86_RDX,
	X86_RBX,
	X86_RSP,
	X86_RBP,
	X86_RSI,
	X86_RDI,
	X86_R8,
	X86_R9,
	X86_R10,
	X86_R11,
	X86_R12,
	X86_R13,
	X86_R14,
	X86_R15,
	X86_NREGS,
	X86_RIP = 16,  /* only as a memory base: RIP-relative */
	X86_NOREG = 17 /* no base / no index */
};

enum x86_op {
	X86_OP_NONE, /* not in the subset */
	/* two operands, flags like the ALU group (order = ModRM reg of 0x80) */
	X86_OP_ADD,
	X86_OP_OR,
	X86_OP_ADC,
	X86_OP_SBB,
	X86_OP_AND,
	X86_OP_SUB,
	X86_OP_XOR,
	X86_OP_CMP,
	X86_OP_TEST,
	/* shifts and rotates: opnd[0] by opnd[1] (an immediate or CL) */
	X86_OP_ROL,
	X86_OP_ROR,
	X86_OP_SHL,
	X86_OP_SHR,
	X86_OP_SAR,
	/* one operand */
	X86_OP_INC,
	X86_OP_DEC,
	X86_OP_NEG,
	X86_OP_NOT,
	/* moves */
	X86_OP_MOV,   /* also movabs */
	X86_OP_MOVZX, /* opnd[1].size < opnd[0].size */
	X86_OP_MOVSX, /* also movsxd */
	X86_OP_LEA,
	X86_OP_CMOV,  /* cond */
	X86_OP_SETCC, /* cond */
	X86_OP_XCHG,  /* register with register only */
	X86_OP_CWDE,  /* cbw/cwde/cdqe: rax = sign-extend the lower half, by osize */
	X86_OP_CDQ,   /* cwd/cdq/cqo: rdx = sign of rax, by osize */
	X86_OP_IMUL,  /* 3 operands: opnd[0] = opnd[1] * opnd[2]; 2: opnd[0] *= opnd[1] */
	X86_OP_MUL,   /* one operand: rdx:rax = rax * opnd[0] (ax = al * r/m8) */
	X86_OP_IMUL1, /* the same, signed */
	X86_OP_DIV,   /* rax, rdx = rdx:rax / opnd[0], remainder (al, ah = ax / r/m8) */
	X86_OP_IDIV,  /* the same, signed */
	/* stack and control flow (64-bit operand size) */
	X86_OP_PUSH,
	X86_OP_POP,
	X86_OP_LEAVE,
	X86_OP_CALL,	 /* rel32 in imm */
	X86_OP_CALL_IND, /* target in opnd[0] */
	X86_OP_RET,
	X86_OP_JMP,	/* rel8/rel32 in imm */
	X86_OP_JMP_IND, /* target in opnd[0] */
	X86_OP_JCC,	/* cond, rel in imm */
	X86_OP_NOP,	/* 90, 0F 1F /0, F3 0F 1E FA (endbr64) */
	/* the system-call instructions that end a window */
	X86_OP_SYSCALL, /* 0F 05 */
	X86_OP_INT80,	/* CD 80 */
	X86_OP_COUNT
};

enum x86_opnd_kind {
	X86_OPND_NONE,
	X86_OPND_REG, /* reg, size; high8: AH/CH/DH/BH */
	X86_OPND_MEM, /* the insn's one memory operand, size bytes */
	X86_OPND_IMM  /* insn.imm, already sign- or zero-extended as the CPU uses it */
};

struct x86_opnd {
	uint8_t kind;  /* enum x86_opnd_kind */
	uint8_t size;  /* bytes: 1, 2, 4, 8 */
	uint8_t reg;   /* enum x86_reg for REG */
	uint8_t high8; /* REG of size 1: bits 8..15 of reg (AH, CH, DH, BH) */
};

struct x86_insn {
	uint8_t op;    /* enum x86_op */
	uint8_t len;   /* bytes, 1..15 */
	uint8_t osize; /* operand size in bytes (8 for stack and branch ops) */
	uint8_t cond;  /* JCC/SETCC/CMOV: the condition code 0..15 (O, NO, B, ... G) */
	uint8_t nopnd; /* explicit operands in Intel order (destination first) */
	/* the memory operand, if an opnd has kind MEM */
	uint8_t base;	  /* enum x86_reg, X86_RIP or X86_NOREG */
	uint8_t index;	  /* enum x86_reg or X86_NOREG */
	uint8_t scale;	  /* 1, 2, 4, 8 */
	uint8_t disp_off; /* byte offset of the displacement in the insn, 0 if none */
	uint8_t imm_off;  /* byte offset of the immediate / rel, 0 if none */
	int32_t disp;
	int64_t imm; /* IMM operand value; for CALL/JMP/JCC the displacement */
	struct x86_opnd opnd[3];
};

/*
 * x86_decode - decode the instruction at code[0..avail) of 64-bit user code.
 * Returns its length (1..15) with *in filled, -EINVAL if it is not in the
 * subset (or not a valid instruction at all), or -ERANGE if it would extend
 * past avail bytes (fetch more and try again, or stop).
 */
int x86_decode(const uint8_t *code, size_t avail, struct x86_insn *in);

/* x86_insn_has_mem - 1 if the instruction reads or writes memory explicitly or via the stack. */
int x86_insn_has_mem(const struct x86_insn *in);

/* x86_op_name - lower-case mnemonic of op (for tests and messages). */
const char *x86_op_name(unsigned op);

#endif
