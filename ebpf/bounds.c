// SPDX-License-Identifier: MIT
/* Known bits and ranges of 64-bit values (see bounds.h). */
#include "bounds.h"
#include "isa.h"

#define JSET_FALSE 0xf0 /* internal: "dst & src == 0" */

static struct tnum tn_const(uint64_t v)
{
	return (struct tnum){ v, 0 };
}

static const struct tnum tn_unknown = { 0, ~0ull };

static struct tnum tn_range(uint64_t min, uint64_t max)
{
	uint64_t chi = min ^ max, delta;
	int bits = chi ? 64 - __builtin_clzll(chi) : 0;

	if (bits > 63)
		return tn_unknown;
	delta = (1ull << bits) - 1;
	return (struct tnum){ min & ~delta, delta };
}

static struct tnum tn_add(struct tnum a, struct tnum b)
{
	uint64_t sm = a.m + b.m, sv = a.v + b.v, sigma = sm + sv, chi = sigma ^ sv;
	uint64_t mu = chi | a.m | b.m;

	return (struct tnum){ sv & ~mu, mu };
}

static struct tnum tn_sub(struct tnum a, struct tnum b)
{
	uint64_t dv = a.v - b.v, alpha = dv + a.m, beta = dv - b.m, chi = alpha ^ beta;
	uint64_t mu = chi | a.m | b.m;

	return (struct tnum){ dv & ~mu, mu };
}

static struct tnum tn_and(struct tnum a, struct tnum b)
{
	uint64_t alpha = a.v | a.m, beta = b.v | b.m, v = a.v & b.v;

	return (struct tnum){ v, alpha & beta & ~v };
}

static struct tnum tn_or(struct tnum a, struct tnum b)
{
	uint64_t v = a.v | b.v, mu = a.m | b.m;

	return (struct tnum){ v, mu & ~v };
}

static struct tnum tn_xor(struct tnum a, struct tnum b)
{
	uint64_t v = a.v ^ b.v, mu = a.m | b.m;

	return (struct tnum){ v & ~mu, mu };
}

static struct tnum tn_mul(struct tnum a, struct tnum b)
{
	/* sum of partial products: known where both factors' bits are known */
	struct tnum acc = { a.v * b.v, 0 }, accm = { 0, 0 };

	while (a.v || a.m) {
		if (a.v & 1)
			accm = tn_add(accm, (struct tnum){ 0, b.m });
		else if (a.m & 1)
			accm = tn_add(accm, (struct tnum){ 0, b.v | b.m });
		a.v >>= 1;
		a.m >>= 1;
		b.v <<= 1;
		b.m <<= 1;
	}
	return tn_add(acc, accm);
}

/* false if a and b have a known bit that differs */
static bool tn_intersect(struct tnum a, struct tnum b, struct tnum *out)
{
	if ((a.v ^ b.v) & ~a.m & ~b.m)
		return false;
	out->m = a.m & b.m;
	out->v = (a.v | b.v) & ~out->m;
	return true;
}

struct bounds bounds_const(uint64_t v)
{
	return (struct bounds){ tn_const(v), (int64_t)v, (int64_t)v, v, v };
}

struct bounds bounds_unknown(void)
{
	return (struct bounds){ tn_unknown, INT64_MIN, INT64_MAX, 0, UINT64_MAX };
}

struct bounds bounds_uwidth(unsigned bits)
{
	uint64_t max = bits >= 64 ? UINT64_MAX : (1ull << bits) - 1;
	struct bounds b = bounds_unknown();

	b.t = (struct tnum){ 0, max };
	b.umax = max;
	bounds_sync(&b);
	return b;
}

struct bounds bounds_swidth(unsigned bits)
{
	struct bounds b = bounds_unknown();

	b.smin = -(int64_t)(1ull << (bits - 1));
	b.smax = (int64_t)((1ull << (bits - 1)) - 1);
	bounds_sync(&b);
	return b;
}

bool bounds_is_const(const struct bounds *b)
{
	return b->t.m == 0;
}

bool bounds_sync(struct bounds *b)
{
	for (int round = 0; round < 2; round++) {
		/* known bits -> ranges */
		uint64_t tmax = b->t.v | b->t.m;
		int64_t ts_min = (int64_t)(b->t.v | (b->t.m & (1ull << 63)));
		int64_t ts_max = (int64_t)(b->t.v | (b->t.m & ~(1ull << 63)));

		if (b->umin < b->t.v)
			b->umin = b->t.v;
		if (b->umax > tmax)
			b->umax = tmax;
		if (b->smin < ts_min)
			b->smin = ts_min;
		if (b->smax > ts_max)
			b->smax = ts_max;
		/* signed <-> unsigned */
		if (b->smin >= 0 || b->smax < 0) {
			/* the signed range does not cross the sign boundary */
			if (b->umin < (uint64_t)b->smin)
				b->umin = (uint64_t)b->smin;
			if (b->umax > (uint64_t)b->smax)
				b->umax = (uint64_t)b->smax;
		}
		if ((b->umin >> 63) == (b->umax >> 63)) {
			/* the unsigned range lies on one side of the sign bit */
			if (b->smin < (int64_t)b->umin)
				b->smin = (int64_t)b->umin;
			if (b->smax > (int64_t)b->umax)
				b->smax = (int64_t)b->umax;
		}
		if (b->smin > b->smax || b->umin > b->umax)
			return false;
		if ((b->smin >= 0 || b->smax < 0)) {
			if (b->umin < (uint64_t)b->smin)
				b->umin = (uint64_t)b->smin;
			if (b->umax > (uint64_t)b->smax)
				b->umax = (uint64_t)b->smax;
		}
		if (b->umin > b->umax)
			return false;
		/* ranges -> known bits */
		if (!tn_intersect(b->t, tn_range(b->umin, b->umax), &b->t))
			return false;
	}
	return true;
}

bool bounds_contains(const struct bounds *a, const struct bounds *b)
{
	if (b->t.m & ~a->t.m)
		return false;
	if ((b->t.v & ~a->t.m) != a->t.v)
		return false;
	return a->smin <= b->smin && b->smax <= a->smax && a->umin <= b->umin && b->umax <= a->umax;
}

bool bounds_equal(const struct bounds *a, const struct bounds *b)
{
	return a->t.v == b->t.v && a->t.m == b->t.m && a->smin == b->smin && a->smax == b->smax &&
	       a->umin == b->umin && a->umax == b->umax;
}

static struct bounds from_tnum(struct tnum t)
{
	struct bounds r = bounds_unknown();

	r.t = t;
	bounds_sync(&r);
	return r;
}

static struct bounds b_add(struct bounds a, struct bounds b)
{
	struct bounds r = bounds_unknown();
	int64_t s1, s2;
	uint64_t u1, u2;

	r.t = tn_add(a.t, b.t);
	if (!__builtin_add_overflow(a.smin, b.smin, &s1) &&
	    !__builtin_add_overflow(a.smax, b.smax, &s2)) {
		r.smin = s1;
		r.smax = s2;
	}
	if (!__builtin_add_overflow(a.umin, b.umin, &u1) &&
	    !__builtin_add_overflow(a.umax, b.umax, &u2)) {
		r.umin = u1;
		r.umax = u2;
	}
	return r;
}

static struct bounds b_sub(struct bounds a, struct bounds b)
{
	struct bounds r = bounds_unknown();
	int64_t s1, s2;

	r.t = tn_sub(a.t, b.t);
	if (!__builtin_sub_overflow(a.smin, b.smax, &s1) &&
	    !__builtin_sub_overflow(a.smax, b.smin, &s2)) {
		r.smin = s1;
		r.smax = s2;
	}
	if (a.umin >= b.umax) {
		r.umin = a.umin - b.umax;
		r.umax = a.umax - b.umin;
	}
	return r;
}

static struct bounds b_mul(struct bounds a, struct bounds b)
{
	struct bounds r = bounds_unknown();
	uint64_t hi;

	r.t = tn_mul(a.t, b.t);
	if (!__builtin_mul_overflow(a.umax, b.umax, &hi)) {
		r.umin = a.umin * b.umin;
		r.umax = hi;
	}
	return r;
}

static bool shift_const(struct bounds b, unsigned mask, unsigned *k)
{
	/* the machine masks the amount: only its low bits matter */
	struct tnum t = tn_and(b.t, tn_const(mask));

	if (t.m)
		return false;
	*k = (unsigned)t.v;
	return true;
}

struct bounds bounds_alu(unsigned op, bool is_signed, struct bounds a, struct bounds b)
{
	struct bounds r = bounds_unknown();
	unsigned k;

	if (bounds_is_const(&a) && bounds_is_const(&b)) {
		uint64_t x = a.t.v, y = b.t.v, v;

		switch (op) {
		case EBPF_ADD:
			v = x + y;
			break;
		case EBPF_SUB:
			v = x - y;
			break;
		case EBPF_MUL:
			v = x * y;
			break;
		case EBPF_DIV:
			if (!is_signed)
				v = y ? x / y : 0;
			else if (!y)
				v = 0;
			else if ((int64_t)y == -1)
				v = -x;
			else
				v = (uint64_t)((int64_t)x / (int64_t)y);
			break;
		case EBPF_MOD:
			if (!is_signed)
				v = y ? x % y : x;
			else if (!y)
				v = x;
			else if ((int64_t)y == -1)
				v = 0;
			else
				v = (uint64_t)((int64_t)x % (int64_t)y);
			break;
		case EBPF_OR:
			v = x | y;
			break;
		case EBPF_AND:
			v = x & y;
			break;
		case EBPF_XOR:
			v = x ^ y;
			break;
		case EBPF_LSH:
			v = x << (y & 63);
			break;
		case EBPF_RSH:
			v = x >> (y & 63);
			break;
		case EBPF_ARSH:
			v = (uint64_t)((int64_t)x >> (y & 63));
			break;
		default:
			return r;
		}
		return bounds_const(v);
	}
	switch (op) {
	case EBPF_ADD:
		r = b_add(a, b);
		break;
	case EBPF_SUB:
		r = b_sub(a, b);
		break;
	case EBPF_MUL:
		r = b_mul(a, b);
		break;
	case EBPF_DIV:
		if (is_signed)
			break;
		if (b.umin > 0) {
			r.umin = a.umin / b.umax;
			r.umax = a.umax / b.umin;
		} else {
			r.umax = a.umax; /* x / 0 = 0 <= umax */
		}
		break;
	case EBPF_MOD:
		if (is_signed)
			break;
		/* x % y < y, and x % 0 = x */
		r.umax = a.umax;
		if (b.umin > 0 && b.umax - 1 < r.umax)
			r.umax = b.umax - 1;
		break;
	case EBPF_AND:
		r.t = tn_and(a.t, b.t);
		r.umax = a.umax < b.umax ? a.umax : b.umax;
		if (a.smin >= 0 || b.smin >= 0)
			r.smin = 0;
		break;
	case EBPF_OR:
		r.t = tn_or(a.t, b.t);
		r.umin = a.umin > b.umin ? a.umin : b.umin;
		break;
	case EBPF_XOR:
		r.t = tn_xor(a.t, b.t);
		break;
	case EBPF_LSH:
		if (!shift_const(b, 63, &k))
			break;
		r.t = (struct tnum){ a.t.v << k, a.t.m << k };
		if (k == 0 || a.umax < (1ull << (64 - k))) {
			r.umin = a.umin << k;
			r.umax = a.umax << k;
		}
		break;
	case EBPF_RSH:
		if (!shift_const(b, 63, &k))
			break;
		r.t = (struct tnum){ a.t.v >> k, a.t.m >> k };
		r.umin = a.umin >> k;
		r.umax = a.umax >> k;
		break;
	case EBPF_ARSH:
		if (!shift_const(b, 63, &k))
			break;
		r.t = (struct tnum){ (uint64_t)((int64_t)a.t.v >> k),
				     (uint64_t)((int64_t)a.t.m >> k) };
		r.t.v &= ~r.t.m;
		r.smin = a.smin >> k;
		r.smax = a.smax >> k;
		break;
	}
	if (!bounds_sync(&r))
		return bounds_unknown(); /* cannot happen for sound inputs */
	return r;
}

struct bounds bounds_trunc32(struct bounds a)
{
	struct bounds r = bounds_unknown();
	const uint64_t M = 0xffffffffull;

	r.t = (struct tnum){ a.t.v & M, a.t.m & M };
	r.umin = 0;
	r.umax = M;
	if ((a.umin >> 32) == (a.umax >> 32)) {
		r.umin = a.umin & M;
		r.umax = a.umax & M;
	}
	if ((a.smin >> 32) == (a.smax >> 32)) {
		uint64_t lo = (uint64_t)a.smin & M, hi = (uint64_t)a.smax & M;

		if (lo > r.umin)
			r.umin = lo;
		if (hi < r.umax)
			r.umax = hi;
	}
	if (r.umin > r.umax) /* cannot happen for a consistent input */
		return from_tnum((struct tnum){ 0, M });
	r.smin = 0;
	r.smax = (int64_t)M;
	if (!bounds_sync(&r))
		return from_tnum((struct tnum){ 0, M });
	return r;
}

struct bounds bounds_sext(struct bounds a, unsigned bits)
{
	uint64_t half = 1ull << (bits - 1);
	struct bounds r;

	if (bounds_is_const(&a)) {
		uint64_t v = a.t.v & ((half << 1) - 1);

		return bounds_const((uint64_t)((int64_t)(v ^ half) - (int64_t)half));
	}
	if (a.umax < half)
		return a; /* already a non-negative value of that width */
	r = bounds_swidth(bits);
	return r;
}

struct bounds bounds_bswap(struct bounds a, unsigned bits)
{
	if (bounds_is_const(&a)) {
		uint64_t v = a.t.v;

		if (bits == 16)
			v = __builtin_bswap16((uint16_t)v);
		else if (bits == 32)
			v = __builtin_bswap32((uint32_t)v);
		else
			v = __builtin_bswap64(v);
		return bounds_const(v);
	}
	return bounds_uwidth(bits);
}

unsigned jmp_negate(unsigned op)
{
	switch (op) {
	case EBPF_JEQ:
		return EBPF_JNE;
	case EBPF_JNE:
		return EBPF_JEQ;
	case EBPF_JGT:
		return EBPF_JLE;
	case EBPF_JLE:
		return EBPF_JGT;
	case EBPF_JGE:
		return EBPF_JLT;
	case EBPF_JLT:
		return EBPF_JGE;
	case EBPF_JSGT:
		return EBPF_JSLE;
	case EBPF_JSLE:
		return EBPF_JSGT;
	case EBPF_JSGE:
		return EBPF_JSLT;
	case EBPF_JSLT:
		return EBPF_JSGE;
	case EBPF_JSET:
		return JSET_FALSE;
	default:
		return EBPF_JSET;
	}
}

/* a < b (unsigned, strict when `strict`) */
static bool refine_ult(struct bounds *a, struct bounds *b, bool strict)
{
	uint64_t d = strict;

	if (b->umax < d || a->umin > UINT64_MAX - d)
		return false;
	if (a->umax > b->umax - d)
		a->umax = b->umax - d;
	if (b->umin < a->umin + d)
		b->umin = a->umin + d;
	return true;
}

static bool refine_slt(struct bounds *a, struct bounds *b, bool strict)
{
	int64_t d = strict;

	if (b->smax < INT64_MIN + d || a->smin > INT64_MAX - d)
		return false;
	if (a->smax > b->smax - d)
		a->smax = b->smax - d;
	if (b->smin < a->smin + d)
		b->smin = a->smin + d;
	return true;
}

bool bounds_refine(unsigned op, struct bounds *a, struct bounds *b)
{
	bool ok = true;

	switch (op) {
	case EBPF_JEQ: {
		struct tnum t;

		if (!tn_intersect(a->t, b->t, &t))
			return false;
		a->t = b->t = t;
		a->umin = b->umin = a->umin > b->umin ? a->umin : b->umin;
		a->umax = b->umax = a->umax < b->umax ? a->umax : b->umax;
		a->smin = b->smin = a->smin > b->smin ? a->smin : b->smin;
		a->smax = b->smax = a->smax < b->smax ? a->smax : b->smax;
		break;
	}
	case EBPF_JNE:
		if (bounds_is_const(a) && bounds_is_const(b))
			return a->t.v != b->t.v;
		/* trim a constant from the ends of the other range */
		if (bounds_is_const(b)) {
			if (a->umin == b->t.v)
				a->umin++;
			if (a->umax == b->t.v)
				a->umax--;
		} else if (bounds_is_const(a)) {
			if (b->umin == a->t.v)
				b->umin++;
			if (b->umax == a->t.v)
				b->umax--;
		}
		break;
	case EBPF_JGT:
		ok = refine_ult(b, a, true);
		break;
	case EBPF_JGE:
		ok = refine_ult(b, a, false);
		break;
	case EBPF_JLT:
		ok = refine_ult(a, b, true);
		break;
	case EBPF_JLE:
		ok = refine_ult(a, b, false);
		break;
	case EBPF_JSGT:
		ok = refine_slt(b, a, true);
		break;
	case EBPF_JSGE:
		ok = refine_slt(b, a, false);
		break;
	case EBPF_JSLT:
		ok = refine_slt(a, b, true);
		break;
	case EBPF_JSLE:
		ok = refine_slt(a, b, false);
		break;
	case EBPF_JSET:
		/* some bit in common must be possibly set in both */
		if (!((a->t.v | a->t.m) & (b->t.v | b->t.m)))
			return false;
		if (bounds_is_const(b) && __builtin_popcountll(b->t.v) == 1) {
			a->t.v |= b->t.v;
			a->t.m &= ~b->t.v;
		}
		break;
	case JSET_FALSE:
		if (a->t.v & b->t.v)
			return false;
		if (bounds_is_const(b)) {
			a->t.v &= ~b->t.v;
			a->t.m &= ~b->t.v;
		}
		break;
	default:
		return true;
	}
	return ok && bounds_sync(a) && bounds_sync(b);
}
