/* SPDX-License-Identifier: MIT */
/*
 * The verifier's abstract domain for one 64-bit value: known bits (a
 * "tristate number": value v with unknown bits m) plus signed and unsigned
 * 64-bit ranges. Every operation over-approximates: the concrete result of
 * any concrete inputs inside the operands is inside the result. 32-bit
 * operations are computed on the zero-extended low halves (bounds_trunc32).
 */
#ifndef EBPF_BOUNDS_H
#define EBPF_BOUNDS_H

#include <stdbool.h>
#include <stdint.h>

struct tnum {
	uint64_t v, m;
};

struct bounds {
	struct tnum t;
	int64_t smin, smax;
	uint64_t umin, umax;
};

struct bounds bounds_const(uint64_t v);
struct bounds bounds_unknown(void);
/* [0, 2^bits - 1] */
struct bounds bounds_uwidth(unsigned bits);
/* [-2^(bits-1), 2^(bits-1) - 1] */
struct bounds bounds_swidth(unsigned bits);
bool bounds_is_const(const struct bounds *b);
/* Tighten each component from the others; false if no value fits (dead). */
bool bounds_sync(struct bounds *b);
/* a contains every value of b */
bool bounds_contains(const struct bounds *a, const struct bounds *b);
bool bounds_equal(const struct bounds *a, const struct bounds *b);

/* ALU, 64-bit; op is an EBPF_* operation code (EBPF_DIV with sign for
 * SDIV via the signed flag). */
struct bounds bounds_alu(unsigned op, bool is_signed, struct bounds a, struct bounds b);
/* The low 32 bits, zero-extended. */
struct bounds bounds_trunc32(struct bounds a);
/* Sign-extend the low `bits` bits. */
struct bounds bounds_sext(struct bounds a, unsigned bits);
/* Byte swap of the low `bits` bits (the rest cleared). */
struct bounds bounds_bswap(struct bounds a, unsigned bits);

/*
 * Refine a and b on the assumption that `a op b` holds (op a jump code
 * EBPF_JEQ..EBPF_JSLE; pass the negated op for the fall-through). Returns
 * false if the assumption is impossible (the branch is dead).
 */
bool bounds_refine(unsigned op, struct bounds *a, struct bounds *b);
/* The jump op that holds exactly when `op` does not. */
unsigned jmp_negate(unsigned op);

#endif
