// SPDX-License-Identifier: MIT
/*
 * Soundness of the verifier's abstract domain (ebpf/bounds.c), checked by
 * sampling: build random abstract values together with a concrete member,
 * apply every operation to both, and require the concrete result to be a
 * member of the abstract result. Same for branch refinement: whichever way
 * a concrete comparison goes, that side's refinement must be feasible and
 * still contain the operands. A failure here is a verifier soundness bug.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "ebpf/bounds.h"
#include "ebpf/isa.h"
#include "tests/ebpf/unit.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int member(const struct bounds *b, uint64_t x)
{
	return (x & ~b->t.m) == b->t.v && (int64_t)x >= b->smin && (int64_t)x <= b->smax &&
	       x >= b->umin && x <= b->umax;
}

static uint64_t interesting(void)
{
	static const uint64_t v[] = { 0,
				      1,
				      2,
				      7,
				      8,
				      31,
				      32,
				      63,
				      64,
				      100,
				      255,
				      256,
				      4095,
				      0x7fffffff,
				      0x80000000,
				      0xffffffff,
				      0x100000000ull,
				      0x7fffffffffffffffull,
				      0x8000000000000000ull,
				      0xffffffffffffffffull,
				      0xfffffffffffffff0ull };

	return rnd() & 1 ? v[rnd() % (sizeof(v) / sizeof(v[0]))] : rnd() >> (rnd() % 64);
}

/* an abstract value and one concrete member of it */
static void sample(struct bounds *b, uint64_t *x)
{
	switch (rnd() % 6) {
	case 0:
		*x = interesting();
		*b = bounds_const(*x);
		return;
	case 1: {
		unsigned bits = 1 + (unsigned)(rnd() % 64);

		*b = bounds_uwidth(bits);
		*x = rnd() & (bits == 64 ? ~0ull : (1ull << bits) - 1);
		return;
	}
	case 2: {
		unsigned bits = 2 + (unsigned)(rnd() % 62);
		int64_t half = (int64_t)(1ull << (bits - 1));

		*b = bounds_swidth(bits);
		*x = (uint64_t)((int64_t)(rnd() % (uint64_t)(2 * half)) - half);
		return;
	}
	case 3: {
		/* a range, with the member inside */
		uint64_t lo = interesting(), hi = interesting();

		if (lo > hi) {
			uint64_t t = lo;

			lo = hi;
			hi = t;
		}
		*b = bounds_unknown();
		b->umin = lo;
		b->umax = hi;
		bounds_sync(b);
		*x = lo + (hi > lo ? rnd() % (hi - lo + 1 ? hi - lo + 1 : 1) : 0);
		return;
	}
	case 4:
		*b = bounds_unknown();
		*x = interesting();
		return;
	default: {
		/* an operation applied to a sample */
		struct bounds a, c;
		uint64_t y, z;

		sample(&a, &y);
		c = bounds_const(z = interesting());
		switch (rnd() % 4) {
		case 0:
			*b = bounds_alu(EBPF_AND, false, a, c);
			*x = y & z;
			return;
		case 1:
			*b = bounds_alu(EBPF_ADD, false, a, c);
			*x = y + z;
			return;
		case 2:
			*b = bounds_alu(EBPF_RSH, false, a, c);
			*x = y >> (z & 63);
			return;
		default:
			*b = bounds_alu(EBPF_OR, false, a, c);
			*x = y | z;
			return;
		}
	}
	}
}

static uint64_t concrete(unsigned op, bool sgn, uint64_t x, uint64_t y)
{
	switch (op) {
	case EBPF_ADD:
		return x + y;
	case EBPF_SUB:
		return x - y;
	case EBPF_MUL:
		return x * y;
	case EBPF_DIV:
		if (!sgn)
			return y ? x / y : 0;
		if (!y)
			return 0;
		return (int64_t)y == -1 ? -x : (uint64_t)((int64_t)x / (int64_t)y);
	case EBPF_MOD:
		if (!sgn)
			return y ? x % y : x;
		if (!y)
			return x;
		return (int64_t)y == -1 ? 0 : (uint64_t)((int64_t)x % (int64_t)y);
	case EBPF_OR:
		return x | y;
	case EBPF_AND:
		return x & y;
	case EBPF_XOR:
		return x ^ y;
	case EBPF_LSH:
		return x << (y & 63);
	case EBPF_RSH:
		return x >> (y & 63);
	default: /* ARSH */
		return (uint64_t)((int64_t)x >> (y & 63));
	}
}

static void test_alu_sound(void **state)
{
	static const unsigned ops[] = { EBPF_ADD, EBPF_SUB, EBPF_MUL, EBPF_DIV, EBPF_MOD, EBPF_OR,
					EBPF_AND, EBPF_XOR, EBPF_LSH, EBPF_RSH, EBPF_ARSH };

	for (int i = 0; i < 400000; i++) {
		struct bounds a, b, r;
		uint64_t x, y, z;
		unsigned op = ops[rnd() % (sizeof(ops) / sizeof(ops[0]))];
		bool sgn = (op == EBPF_DIV || op == EBPF_MOD) && (rnd() & 1);

		sample(&a, &x);
		sample(&b, &y);
		assert_true(member(&a, x));
		assert_true(member(&b, y));
		r = bounds_alu(op, sgn, a, b);
		z = concrete(op, sgn, x, y);
		if (!member(&r, z))
			fail_msg("op %#x%s: %#llx, %#llx -> %#llx not in t=(%#llx,%#llx) "
				 "s=[%lld,%lld] "
				 "u=[%#llx,%#llx]",
				 op, sgn ? " signed" : "", (unsigned long long)x,
				 (unsigned long long)y, (unsigned long long)z,
				 (unsigned long long)r.t.v, (unsigned long long)r.t.m,
				 (long long)r.smin, (long long)r.smax, (unsigned long long)r.umin,
				 (unsigned long long)r.umax);
	}
}

static void test_unary_sound(void **state)
{
	for (int i = 0; i < 200000; i++) {
		struct bounds a, r;
		uint64_t x, z;
		unsigned bits = 8u << (rnd() % 3); /* 8, 16, 32 */

		sample(&a, &x);
		r = bounds_trunc32(a);
		assert_true(member(&r, (uint32_t)x));
		r = bounds_sext(a, bits);
		z = (uint64_t)(((int64_t)(x << (64 - bits))) >> (64 - bits));
		assert_true(member(&r, z));
		bits = 16u << (rnd() % 3); /* 16, 32, 64 */
		r = bounds_bswap(a, bits);
		z = bits == 16 ? __builtin_bswap16((uint16_t)x) :
		    bits == 32 ? __builtin_bswap32((uint32_t)x) :
				 __builtin_bswap64(x);
		assert_true(member(&r, z));
	}
}

static int holds(unsigned op, uint64_t x, uint64_t y)
{
	switch (op) {
	case EBPF_JEQ:
		return x == y;
	case EBPF_JNE:
		return x != y;
	case EBPF_JGT:
		return x > y;
	case EBPF_JGE:
		return x >= y;
	case EBPF_JLT:
		return x < y;
	case EBPF_JLE:
		return x <= y;
	case EBPF_JSGT:
		return (int64_t)x > (int64_t)y;
	case EBPF_JSGE:
		return (int64_t)x >= (int64_t)y;
	case EBPF_JSLT:
		return (int64_t)x < (int64_t)y;
	case EBPF_JSLE:
		return (int64_t)x <= (int64_t)y;
	default:
		return (x & y) != 0;
	}
}

static void test_refine_sound(void **state)
{
	static const unsigned ops[] = { EBPF_JEQ,  EBPF_JNE,  EBPF_JGT,	 EBPF_JGE,
					EBPF_JLT,  EBPF_JLE,  EBPF_JSGT, EBPF_JSGE,
					EBPF_JSLT, EBPF_JSLE, EBPF_JSET };

	for (int i = 0; i < 400000; i++) {
		struct bounds a, b;
		uint64_t x, y;
		unsigned op = ops[rnd() % (sizeof(ops) / sizeof(ops[0]))];

		sample(&a, &x);
		if (rnd() % 3 == 0) {
			y = x + (rnd() % 3) - 1; /* near-equal operands */
			b = bounds_const(y);
		} else {
			sample(&b, &y);
		}
		if (!holds(op, x, y))
			op = jmp_negate(op);
		/* the side the concrete values take must stay feasible */
		if (!bounds_refine(op, &a, &b) || !member(&a, x) || !member(&b, y))
			fail_msg("refine %#x lost %#llx, %#llx", op, (unsigned long long)x,
				 (unsigned long long)y);
	}
}

int unit_bounds_tests(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_alu_sound),
		cmocka_unit_test(test_unary_sound),
		cmocka_unit_test(test_refine_sound),
	};

	return cmocka_run_group_tests_name("ebpf-bounds", t, NULL, NULL);
}
