/* SPDX-License-Identifier: MIT */
/*
 * The pre-decoded operations of the interpreter: one per (opcode, operand
 * kind), so that no handler tests its instruction's encoding at run time.
 * X(name) list, used for the enum (interp.c, predecode) and the label table.
 */
#ifndef EBPF_OPS_H
#define EBPF_OPS_H

/* clang-format off */
#define EBPF_ALU_OPS(X, w)                                                                         \
	X(ADD##w##_K) X(ADD##w##_X) X(SUB##w##_K) X(SUB##w##_X) X(MUL##w##_K) X(MUL##w##_X)         \
	X(DIV##w##_K) X(DIV##w##_X) X(SDIV##w##_K) X(SDIV##w##_X) X(OR##w##_K) X(OR##w##_X)         \
	X(AND##w##_K) X(AND##w##_X) X(LSH##w##_K) X(LSH##w##_X) X(RSH##w##_K) X(RSH##w##_X)         \
	X(NEG##w) X(MOD##w##_K) X(MOD##w##_X) X(SMOD##w##_K) X(SMOD##w##_X) X(XOR##w##_K)           \
	X(XOR##w##_X) X(MOV##w##_K) X(MOV##w##_X) X(ARSH##w##_K) X(ARSH##w##_X)                     \
	X(MOVSX8_##w) X(MOVSX16_##w)

#define EBPF_JMP_OPS(X, w)                                                                         \
	X(JEQ##w##_K) X(JEQ##w##_X) X(JGT##w##_K) X(JGT##w##_X) X(JGE##w##_K) X(JGE##w##_X)         \
	X(JSET##w##_K) X(JSET##w##_X) X(JNE##w##_K) X(JNE##w##_X) X(JSGT##w##_K) X(JSGT##w##_X)     \
	X(JSGE##w##_K) X(JSGE##w##_X) X(JLT##w##_K) X(JLT##w##_X) X(JLE##w##_K) X(JLE##w##_X)       \
	X(JSLT##w##_K) X(JSLT##w##_X) X(JSLE##w##_K) X(JSLE##w##_X)

#define EBPF_OPS(X)                                                                                \
	EBPF_ALU_OPS(X, 64)                                                                         \
	EBPF_ALU_OPS(X, 32)                                                                         \
	X(MOVSX32_64)                                                                               \
	X(ZEXT16) X(ZEXT32) X(NOP) X(BSWAP16) X(BSWAP32) X(BSWAP64)                                 \
	X(LDXB) X(LDXH) X(LDXW) X(LDXDW) X(LDXSB) X(LDXSH) X(LDXSW)                                 \
	X(STB) X(STH) X(STW) X(STDW) X(STXB) X(STXH) X(STXW) X(STXDW)                               \
	X(AADD_W) X(AOR_W) X(AAND_W) X(AXOR_W) X(FADD_W) X(FOR_W) X(FAND_W) X(FXOR_W)               \
	X(XCHG_W) X(CMPXCHG_W)                                                                      \
	X(AADD_DW) X(AOR_DW) X(AAND_DW) X(AXOR_DW) X(FADD_DW) X(FOR_DW) X(FAND_DW) X(FXOR_DW)       \
	X(XCHG_DW) X(CMPXCHG_DW)                                                                    \
	X(LDDW) X(JA)                                                                               \
	EBPF_JMP_OPS(X, 64)                                                                         \
	EBPF_JMP_OPS(X, 32)                                                                         \
	X(CALL_HELPER) X(CALL_LOCAL) X(EXIT) X(INVALID)

/* clang-format on */

#define EBPF_OP_ENUM(name) OP_##name,
enum ebpf_op { EBPF_OPS(EBPF_OP_ENUM) OP__COUNT };

#endif
