// SPDX-License-Identifier: MIT
/*
 * Emulation of the x86dec subset (see x86emu.h). Each instruction reads its
 * sources (registers, then memory), computes, writes memory if it must, and
 * only then commits registers, RIP and RFLAGS: a fault from a memory
 * callback leaves the state untouched.
 */
#include "lib/errno.h"
#include "lib/x86emu.h"

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t msb(uint64_t v, unsigned size)
{
	return (v >> (8 * size - 1)) & 1;
}

static uint64_t sext(uint64_t v, unsigned size)
{
	unsigned sh = 64 - 8 * size;

	return size >= 8 ? v : (uint64_t)((int64_t)(v << sh) >> sh);
}

static int canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static uint64_t reg_get(const struct x86emu_state *s, const struct x86_opnd *o)
{
	uint64_t v = s->r[o->reg];

	if (o->high8)
		return (v >> 8) & 0xff;
	return v & size_mask(o->size);
}

/* Register write with the x86-64 rules: 8/16-bit keep the rest, 32-bit zero-extends. */
static void reg_set(struct x86emu_state *s, const struct x86_opnd *o, uint64_t v)
{
	uint64_t *r = &s->r[o->reg];

	switch (o->size) {
	case 1:
		if (o->high8)
			*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
		else
			*r = (*r & ~0xffull) | (v & 0xff);
		break;
	case 2:
		*r = (*r & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		*r = v & 0xffffffffull;
		break;
	default:
		*r = v;
	}
}

static uint64_t eff_addr(const struct x86emu_state *s, const struct x86_insn *in)
{
	uint64_t a = (uint64_t)(int64_t)in->disp;

	if (in->base == X86_RIP)
		a += s->rip + in->len;
	else if (in->base != X86_NOREG)
		a += s->r[in->base];
	if (in->index != X86_NOREG)
		a += s->r[in->index] * in->scale;
	return a;
}

/* Reads operand i (register, immediate or memory), truncated to its size. */
static int opnd_get(const struct x86emu_state *s, const struct x86_insn *in, unsigned i,
		    const struct x86emu_env *env, uint64_t *v)
{
	const struct x86_opnd *o = &in->opnd[i];

	switch (o->kind) {
	case X86_OPND_REG:
		*v = reg_get(s, o);
		return 0;
	case X86_OPND_IMM:
		*v = (uint64_t)in->imm & size_mask(o->size);
		return 0;
	case X86_OPND_MEM: {
		int r = env->read(env->ctx, eff_addr(s, in), v, o->size);

		*v &= size_mask(o->size);
		return r;
	}
	}
	return -EINVAL;
}

/*
 * Writes operand 0. A memory destination is written at once (it may
 * fault); a register destination is written by the caller's commit.
 */
static int dest_mem_put(const struct x86emu_state *s, const struct x86_insn *in,
			const struct x86emu_env *env, uint64_t v)
{
	return env->write(env->ctx, eff_addr(s, in), v & size_mask(in->opnd[0].size),
			  in->opnd[0].size);
}

static uint32_t parity_flag(uint64_t v)
{
	v &= 0xff;
	v ^= v >> 4;
	return ((0x6996u >> (v & 0xf)) & 1) ? 0 : X86_PF;
}

/* SF, ZF, PF of a result of `size` bytes. */
static uint32_t szp(uint64_t r, unsigned size)
{
	r &= size_mask(size);
	return (r ? 0 : X86_ZF) | (msb(r, size) ? X86_SF : 0) | parity_flag(r);
}

/*
 * The flags of r = a + b (+ carry-in) or, with `sub`, r = a - b (- borrow-in),
 * of `size` bytes: CF is the carry or borrow out (with a carry-in, r == a
 * carries too), OF the signed overflow.
 */
static uint32_t arith_flags(uint64_t a, uint64_t b, uint64_t r, unsigned size, int cin, int sub)
{
	uint64_t m = size_mask(size);
	uint32_t f;

	a &= m;
	b &= m;
	r &= m;
	f = szp(r, size) | (((a ^ b ^ r) & 0x10) ? X86_AF : 0);
	if (sub ? (cin ? a <= b : a < b) : (cin ? r <= a : r < a))
		f |= X86_CF;
	if (msb(sub ? (a ^ b) & (a ^ r) : (a ^ r) & (b ^ r), size))
		f |= X86_OF;
	return f;
}

static uint32_t add_flags(uint64_t a, uint64_t b, uint64_t r, unsigned size, int cin)
{
	return arith_flags(a, b, r, size, cin, 0);
}

static uint32_t sub_flags(uint64_t a, uint64_t b, uint64_t r, unsigned size, int cin)
{
	return arith_flags(a, b, r, size, cin, 1);
}

int x86_cond_true(unsigned cc, uint64_t f)
{
	int cf = !!(f & X86_CF), zf = !!(f & X86_ZF), sf = !!(f & X86_SF), of = !!(f & X86_OF);
	int t;

	switch (cc >> 1) {
	case 0:
		t = of;
		break;
	case 1:
		t = cf;
		break;
	case 2:
		t = zf;
		break;
	case 3:
		t = cf || zf;
		break;
	case 4:
		t = sf;
		break;
	case 5:
		t = !!(f & X86_PF);
		break;
	case 6:
		t = sf != of;
		break;
	default:
		t = zf || sf != of;
		break;
	}
	return (cc & 1) ? !t : t;
}

/* The RFLAGS bits condition cc reads. */
static uint32_t cond_flags(unsigned cc)
{
	static const uint32_t f[8] = { X86_OF, X86_CF, X86_ZF,		X86_CF | X86_ZF,
				       X86_SF, X86_PF, X86_SF | X86_OF, X86_ZF | X86_SF | X86_OF };

	return f[(cc >> 1) & 7];
}

/* Shift/rotate count as the CPU masks it (5 bits, 6 for 64-bit operands). */
static unsigned shift_count(uint64_t c, unsigned size)
{
	return (unsigned)(c & (size == 8 ? 63 : 31));
}

/*
 * Shifts and rotates: *res, and the flags in *set (all bits in *wr are
 * replaced by *set; the rest of RFLAGS is kept); *undef the undefined ones.
 * count is already masked and not 0.
 */
static void shift(unsigned op, uint64_t a, unsigned count, unsigned size, uint64_t *res,
		  uint32_t *set, uint32_t *wr, uint32_t *undef)
{
	unsigned bits = 8 * size;
	uint64_t m = size_mask(size), r, cf;

	a &= m;
	*undef = 0;
	if (op == X86_OP_ROL || op == X86_OP_ROR) {
		unsigned tc = count % bits;

		if (op == X86_OP_ROL) {
			r = tc ? ((a << tc) | (a >> (bits - tc))) & m : a;
			cf = r & 1;
			*set = (cf ? X86_CF : 0) | ((msb(r, size) ^ cf) ? X86_OF : 0);
		} else {
			r = tc ? ((a >> tc) | (a << (bits - tc))) & m : a;
			cf = msb(r, size);
			*set = (cf ? X86_CF : 0) | ((cf ^ ((r >> (bits - 2)) & 1)) ? X86_OF : 0);
		}
		*wr = X86_CF | X86_OF;
		if (count != 1)
			*undef = X86_OF;
		*res = r;
		return;
	}
	if (op == X86_OP_SHL) {
		r = count < bits ? (a << count) & m : 0;
		cf = count <= bits ? (a >> (bits - count)) & 1 : 0;
		*set = (cf ? X86_CF : 0) | ((msb(r, size) ^ cf) ? X86_OF : 0);
	} else if (op == X86_OP_SHR) {
		r = count < bits ? a >> count : 0;
		cf = count <= bits ? (a >> (count - 1)) & 1 : 0;
		*set = (cf ? X86_CF : 0) | (msb(a, size) ? X86_OF : 0);
	} else { /* SAR */
		int64_t sa = (int64_t)sext(a, size);

		r = (uint64_t)(sa >> (count < 64 ? count : 63)) & m;
		cf = (uint64_t)(sa >> (count - 1 < 63 ? count - 1 : 63)) & 1;
		*set = cf ? X86_CF : 0;
	}
	*set |= szp(r, size);
	*wr = X86_ARITH_FLAGS;
	*undef = X86_AF;
	if (count != 1)
		*undef |= X86_OF;
	if (count >= bits)
		*undef |= X86_CF;
	*res = r;
}

/* The accumulator and rdx of `size` bytes (al and ah for size 1). */
static struct x86_opnd acc_reg(unsigned reg, unsigned size)
{
	struct x86_opnd o = { X86_OPND_REG, (uint8_t)size, (uint8_t)reg, 0 };

	if (size == 1 && reg == X86_RDX) { /* the high half of ax */
		o.reg = X86_RAX;
		o.high8 = 1;
	}
	return o;
}

/* hi:lo / d, unsigned; -1 if the quotient does not fit 64 bits (or d is 0). */
static int udiv128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *q, uint64_t *r)
{
	if (hi >= d)
		return -1;
	__asm__("divq %4" : "=a"(*q), "=d"(*r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
	return 0;
}

/*
 * mul, imul (one operand), div, idiv of `size` bytes. Returns 0, or
 * -EINVAL where the CPU raises #DE (zero divisor, quotient too wide): the
 * CPU must do that itself. Sets *ovf (CF and OF) for the multiplications.
 */
static int muldiv(struct x86emu_state *s, unsigned op, uint64_t src, unsigned size, int *ovf,
		  uint64_t *lo_out)
{
	struct x86_opnd ax = acc_reg(X86_RAX, size), dx = acc_reg(X86_RDX, size);
	uint64_t m = size_mask(size), a = reg_get(s, &ax), d = reg_get(s, &dx), lo, hi, q, r;
	unsigned bits = 8 * size;

	if (op == X86_OP_MUL || op == X86_OP_IMUL1) {
		if (op == X86_OP_MUL) {
			unsigned __int128 p = (unsigned __int128)a * src;

			lo = (uint64_t)p;
			hi = size == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> bits);
			*ovf = (hi & m) != 0;
		} else {
			__int128 p = (__int128)(int64_t)sext(a, size) * (int64_t)sext(src, size);

			lo = (uint64_t)p;
			hi = size == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> bits);
			*ovf = (__int128)(int64_t)sext(lo & m, size) != p;
		}
		*lo_out = lo;
		if (size == 1) { /* ax = al * r/m8 */
			struct x86_opnd ax16 = { X86_OPND_REG, 2, X86_RAX, 0 };

			reg_set(s, &ax16, lo);
			return 0;
		}
		reg_set(s, &ax, lo);
		reg_set(s, &dx, hi);
		return 0;
	}
	/* the dividend: dx:ax, or ax for bytes */
	if (size == 1) {
		d = (s->r[X86_RAX] >> 8) & 0xff;
		a = s->r[X86_RAX] & 0xff;
	}
	if (size == 8) {
		hi = d;
		lo = a;
	} else {
		hi = 0;
		lo = (d << bits) | a;
	}
	if (op == X86_OP_DIV) {
		if (udiv128(hi, lo, src, &q, &r) || q > m)
			return -EINVAL;
	} else {
		int neg, dneg = (int)msb(src, size);
		uint64_t dm = dneg ? (0 - sext(src, size)) : src;

		if (size < 8) /* sign-extend the 2*bits dividend to 128 bits */
			hi = (uint64_t)((int64_t)(lo << (64 - 2 * bits)) >> 63),
			lo = sext(lo, 2 * size);
		neg = (int)(hi >> 63);
		if (neg) { /* the magnitude of hi:lo */
			lo = 0 - lo;
			hi = ~hi + (lo == 0);
		}
		if (udiv128(hi, lo, dm, &q, &r))
			return -EINVAL;
		if (neg != dneg) {
			if (q > (1ull << (bits - 1)))
				return -EINVAL;
			q = 0 - q;
		} else if (q > (1ull << (bits - 1)) - 1) {
			return -EINVAL;
		}
		if (neg)
			r = 0 - r;
	}
	if (size == 1) {
		s->r[X86_RAX] = (s->r[X86_RAX] & ~0xffffull) | ((r & 0xff) << 8) | (q & 0xff);
		return 0;
	}
	reg_set(s, &ax, q);
	reg_set(s, &dx, r);
	return 0;
}

static int push64(struct x86emu_state *s, const struct x86emu_env *env, uint64_t v)
{
	int r = env->write(env->ctx, s->r[X86_RSP] - 8, v, 8);

	if (!r)
		s->r[X86_RSP] -= 8;
	return r;
}

int x86emu_exec(struct x86emu_state *s, const struct x86_insn *in, const struct x86emu_env *env,
		uint32_t *undef)
{
	const struct x86_opnd *d = &in->opnd[0];
	uint64_t next = s->rip + in->len, a = 0, b = 0, res = 0;
	uint32_t set = 0, wr = 0; /* flags: the bits in wr become those in set */
	int dest = 0;		  /* 1: write res to operand 0 */
	int r;

	*undef = 0;
	switch (in->op) {
	case X86_OP_ADD:
	case X86_OP_OR:
	case X86_OP_ADC:
	case X86_OP_SBB:
	case X86_OP_AND:
	case X86_OP_SUB:
	case X86_OP_XOR:
	case X86_OP_CMP:
	case X86_OP_TEST: {
		int cin = !!(s->rflags & X86_CF);

		if ((r = opnd_get(s, in, 0, env, &a)) || (r = opnd_get(s, in, 1, env, &b)))
			return r;
		wr = X86_ARITH_FLAGS;
		dest = in->op != X86_OP_CMP && in->op != X86_OP_TEST;
		switch (in->op) {
		case X86_OP_ADD:
			res = a + b;
			set = add_flags(a, b, res, in->osize, 0);
			break;
		case X86_OP_ADC:
			res = a + b + (uint64_t)cin;
			set = add_flags(a, b, res, in->osize, cin);
			break;
		case X86_OP_SUB:
		case X86_OP_CMP:
			res = a - b;
			set = sub_flags(a, b, res, in->osize, 0);
			break;
		case X86_OP_SBB:
			res = a - b - (uint64_t)cin;
			set = sub_flags(a, b, res, in->osize, cin);
			break;
		case X86_OP_OR:
			res = a | b;
			set = szp(res, in->osize);
			break;
		case X86_OP_XOR:
			res = a ^ b;
			set = szp(res, in->osize);
			break;
		default: /* AND, TEST */
			res = a & b;
			set = szp(res, in->osize);
			break;
		}
		break;
	}
	case X86_OP_INC:
	case X86_OP_DEC:
		if ((r = opnd_get(s, in, 0, env, &a)))
			return r;
		if (in->op == X86_OP_INC) {
			res = a + 1;
			set = add_flags(a, 1, res, in->osize, 0);
		} else {
			res = a - 1;
			set = sub_flags(a, 1, res, in->osize, 0);
		}
		wr = X86_ARITH_FLAGS & ~X86_CF;
		dest = 1;
		break;
	case X86_OP_NEG:
		if ((r = opnd_get(s, in, 0, env, &a)))
			return r;
		res = 0 - a;
		set = sub_flags(0, a, res, in->osize, 0);
		wr = X86_ARITH_FLAGS;
		dest = 1;
		break;
	case X86_OP_NOT:
		if ((r = opnd_get(s, in, 0, env, &a)))
			return r;
		res = ~a;
		dest = 1;
		break;
	case X86_OP_ROL:
	case X86_OP_ROR:
	case X86_OP_SHL:
	case X86_OP_SHR:
	case X86_OP_SAR: {
		unsigned count;

		if ((r = opnd_get(s, in, 1, env, &b)))
			return r;
		count = shift_count(b, in->osize);
		/* count 0: no flag changes; a memory operand is still accessed: not ours */
		if (!count && d->kind == X86_OPND_MEM)
			return -EINVAL;
		if ((r = opnd_get(s, in, 0, env, &a)))
			return r;
		res = a; /* a 32-bit register is still written (bits 63..32 cleared) */
		if (count)
			shift(in->op, a, count, in->osize, &res, &set, &wr, undef);
		dest = 1;
		break;
	}
	case X86_OP_IMUL: {
		int64_t x, y, p;
		int ovf;

		if ((r = opnd_get(s, in, in->nopnd == 3 ? 1 : 0, env, &a)) ||
		    (r = opnd_get(s, in, in->nopnd == 3 ? 2 : 1, env, &b)))
			return r;
		x = (int64_t)sext(a, in->osize);
		y = (int64_t)sext(b, in->osize);
		ovf = __builtin_mul_overflow(x, y, &p);
		res = (uint64_t)p;
		if (!ovf && in->osize < 8)
			ovf = (int64_t)sext(res & size_mask(in->osize), in->osize) != p;
		set = (ovf ? X86_CF | X86_OF : 0) | szp(res, in->osize);
		wr = X86_ARITH_FLAGS;
		*undef = X86_SF | X86_ZF | X86_AF | X86_PF;
		dest = 1;
		break;
	}
	case X86_OP_MUL:
	case X86_OP_IMUL1:
	case X86_OP_DIV:
	case X86_OP_IDIV: {
		struct x86emu_state t = *s;
		int ovf = 0;

		if ((r = opnd_get(s, in, 0, env, &b)))
			return r;
		if ((r = muldiv(&t, in->op, b, in->osize, &ovf, &res)))
			return r;
		*s = t;
		wr = X86_ARITH_FLAGS;
		if (in->op == X86_OP_MUL || in->op == X86_OP_IMUL1) {
			set = (ovf ? X86_CF | X86_OF : 0) | szp(res, in->osize);
			*undef = X86_SF | X86_ZF | X86_AF | X86_PF;
		} else {
			set = (uint32_t)s->rflags; /* kept, but all undefined */
			*undef = X86_ARITH_FLAGS;
		}
		break;
	}
	case X86_OP_MOV:
		if ((r = opnd_get(s, in, 1, env, &res)))
			return r;
		dest = 1;
		break;
	case X86_OP_MOVZX:
	case X86_OP_MOVSX:
		if ((r = opnd_get(s, in, 1, env, &a)))
			return r;
		res = in->op == X86_OP_MOVSX ? sext(a, in->opnd[1].size) : a;
		dest = 1;
		break;
	case X86_OP_LEA:
		res = eff_addr(s, in);
		dest = 1;
		break;
	case X86_OP_CMOV:
		if ((r = opnd_get(s, in, 1, env, &res)))
			return r;
		if (!x86_cond_true(in->cond, s->rflags))
			res = reg_get(s, d); /* a 32-bit cmov still clears bits 63..32 */
		dest = 1;
		break;
	case X86_OP_SETCC:
		res = (uint64_t)x86_cond_true(in->cond, s->rflags);
		dest = 1;
		break;
	case X86_OP_XCHG:
		a = reg_get(s, &in->opnd[0]);
		b = reg_get(s, &in->opnd[1]);
		reg_set(s, &in->opnd[1], a);
		res = b;
		dest = 1;
		break;
	case X86_OP_CWDE: {
		struct x86_opnd acc = { X86_OPND_REG, in->osize, X86_RAX, 0 };

		reg_set(s, &acc, sext(s->r[X86_RAX] & size_mask(in->osize / 2u), in->osize / 2u));
		break;
	}
	case X86_OP_CDQ: {
		struct x86_opnd dx = { X86_OPND_REG, in->osize, X86_RDX, 0 };

		reg_set(s, &dx, msb(s->r[X86_RAX], in->osize) ? ~0ull : 0);
		break;
	}
	case X86_OP_PUSH:
		if ((r = opnd_get(s, in, 0, env, &a)))
			return r;
		if (in->opnd[0].kind == X86_OPND_IMM)
			a = (uint64_t)in->imm;
		if ((r = push64(s, env, a)))
			return r;
		break;
	case X86_OP_POP:
		if ((r = env->read(env->ctx, s->r[X86_RSP], &res, 8)))
			return r;
		s->r[X86_RSP] += 8;
		dest = 1; /* pop %rsp: the popped value wins */
		break;
	case X86_OP_LEAVE:
		if ((r = env->read(env->ctx, s->r[X86_RBP], &a, 8)))
			return r;
		s->r[X86_RSP] = s->r[X86_RBP] + 8;
		s->r[X86_RBP] = a;
		break;
	case X86_OP_CALL:
	case X86_OP_CALL_IND:
		if (in->op == X86_OP_CALL)
			a = next + (uint64_t)in->imm;
		else if ((r = opnd_get(s, in, 0, env, &a)))
			return r;
		if (!canonical(a))
			return -EFAULT; /* the CPU raises #GP at the call */
		if ((r = push64(s, env, next)))
			return r;
		next = a;
		break;
	case X86_OP_RET:
		if ((r = env->read(env->ctx, s->r[X86_RSP], &a, 8)))
			return r;
		if (!canonical(a))
			return -EFAULT;
		s->r[X86_RSP] += 8;
		next = a;
		break;
	case X86_OP_JMP:
	case X86_OP_JMP_IND:
	case X86_OP_JCC:
		if (in->op == X86_OP_JMP_IND) {
			if ((r = opnd_get(s, in, 0, env, &a)))
				return r;
		} else {
			a = next + (uint64_t)in->imm;
			if (in->op == X86_OP_JCC && !x86_cond_true(in->cond, s->rflags))
				break;
		}
		if (!canonical(a))
			return -EFAULT;
		next = a;
		break;
	case X86_OP_NOP:
		break;
	default:
		return -EINVAL; /* X86_OP_NONE, and SYSCALL/INT80 belong to x86emu_run */
	}
	if (dest) {
		if (d->kind == X86_OPND_MEM) {
			if ((r = dest_mem_put(s, in, env, res)))
				return r;
		} else {
			reg_set(s, d, res);
		}
	}
	s->rflags = (s->rflags & ~(uint64_t)wr) | (set & wr);
	s->rip = next;
	return 0;
}

/*
 * Static view of an instruction's flags: those it may leave undefined
 * (worst case over its inputs), those it always writes, those it reads.
 */
static uint32_t may_undef(const struct x86_insn *in)
{
	unsigned c, bits = 8u * in->osize;

	switch (in->op) {
	case X86_OP_IMUL:
	case X86_OP_MUL:
	case X86_OP_IMUL1:
		return X86_SF | X86_ZF | X86_AF | X86_PF;
	case X86_OP_DIV:
	case X86_OP_IDIV:
		return X86_ARITH_FLAGS;
	case X86_OP_ROL:
	case X86_OP_ROR:
		if (in->opnd[1].kind != X86_OPND_IMM)
			return X86_OF;
		c = shift_count((uint64_t)in->imm, in->osize);
		return c > 1 ? X86_OF : 0;
	case X86_OP_SHL:
	case X86_OP_SHR:
	case X86_OP_SAR:
		if (in->opnd[1].kind != X86_OPND_IMM)
			return X86_AF | X86_OF | (bits < 32 ? X86_CF : 0);
		c = shift_count((uint64_t)in->imm, in->osize);
		if (!c)
			return 0;
		return X86_AF | (c > 1 ? X86_OF : 0) | (c >= bits ? X86_CF : 0);
	}
	return 0;
}

static uint32_t always_writes(const struct x86_insn *in)
{
	switch (in->op) {
	case X86_OP_ADD:
	case X86_OP_OR:
	case X86_OP_ADC:
	case X86_OP_SBB:
	case X86_OP_AND:
	case X86_OP_SUB:
	case X86_OP_XOR:
	case X86_OP_CMP:
	case X86_OP_TEST:
	case X86_OP_NEG:
	case X86_OP_IMUL:
	case X86_OP_MUL:
	case X86_OP_IMUL1:
	case X86_OP_DIV:
	case X86_OP_IDIV:
		return X86_ARITH_FLAGS;
	case X86_OP_INC:
	case X86_OP_DEC:
		return X86_ARITH_FLAGS & ~X86_CF;
	case X86_OP_ROL:
	case X86_OP_ROR:
	case X86_OP_SHL:
	case X86_OP_SHR:
	case X86_OP_SAR:
		if (in->opnd[1].kind != X86_OPND_IMM || !shift_count((uint64_t)in->imm, in->osize))
			return 0; /* a zero count leaves every flag as it was */
		return in->op <= X86_OP_ROR ? X86_CF | X86_OF : X86_ARITH_FLAGS;
	}
	return 0;
}

static uint32_t reads_flags(const struct x86_insn *in)
{
	switch (in->op) {
	case X86_OP_ADC:
	case X86_OP_SBB:
		return X86_CF;
	case X86_OP_CMOV:
	case X86_OP_SETCC:
	case X86_OP_JCC:
		return cond_flags(in->cond);
	}
	return 0;
}

/* Register-only, not control flow: cannot fault or stop. */
static int group_member_ok(const struct x86_insn *in)
{
	switch (in->op) {
	case X86_OP_NONE:
	case X86_OP_SYSCALL:
	case X86_OP_INT80:
	case X86_OP_CALL:
	case X86_OP_CALL_IND:
	case X86_OP_RET:
	case X86_OP_JMP:
	case X86_OP_JMP_IND:
	case X86_OP_JCC:
		return 0;
	}
	return !x86_insn_has_mem(in);
}

#define GROUP_MAX 4 /* instructions after an undefined-flags producer */

/*
 * An instruction that may leave flags `taint` undefined starts at s->rip
 * (decoded in *first). Returns how many instructions after it (straight
 * line, register-only) it takes until every tainted flag is overwritten
 * without having been read, or -1 if that does not happen within
 * min(GROUP_MAX, budget).
 */
static int group_len(const struct x86emu_state *s, const struct x86emu_env *env,
		     const struct x86_insn *first, uint32_t taint, unsigned budget)
{
	uint64_t rip = s->rip + first->len;
	const struct x86_insn *in;

	for (int k = 1; k <= GROUP_MAX && (unsigned)k <= budget; k++) {
		if (env->fetch(env->ctx, rip, &in) || !group_member_ok(in) ||
		    (reads_flags(in) & taint))
			return -1;
		taint = (taint & ~always_writes(in)) | may_undef(in);
		if (!taint)
			return k;
		rip += in->len;
	}
	return -1;
}

enum x86emu_stop x86emu_run(struct x86emu_state *s, const struct x86emu_env *env, unsigned max,
			    unsigned *count)
{
	unsigned n = 0;
	enum x86emu_stop stop;

	for (;;) {
		const struct x86_insn *in;
		struct x86_insn producer;
		uint32_t taint, u;
		int r, k;

		if (n >= max) {
			stop = X86EMU_WINDOW;
			break;
		}
		r = env->fetch(env->ctx, s->rip, &in);
		if (r) {
			stop = r == -EFAULT ? X86EMU_FAULT : X86EMU_UNSUPPORTED;
			break;
		}
		if (in->op == X86_OP_SYSCALL || in->op == X86_OP_INT80) {
			int sc = in->op == X86_OP_SYSCALL;

			s->rip += in->len;
			if (sc) {
				s->r[X86_RCX] = s->rip;
				s->r[X86_R11] = s->rflags;
			}
			n++;
			stop = X86EMU_SYSCALL;
			break;
		}
		taint = may_undef(in);
		k = 0;
		if (taint) {
			producer = *in; /* the fetches below may reuse *in */
			in = &producer;
			k = group_len(s, env, in, taint, max - n - 1);
			if (k < 0) {
				stop = X86EMU_FLAGS;
				break;
			}
		}
		r = x86emu_exec(s, in, env, &u);
		if (r) {
			stop = r == -EFAULT ? X86EMU_FAULT : X86EMU_UNSUPPORTED;
			break;
		}
		n++;
		/* the group: register-only instructions that cannot fail */
		while (k-- > 0) {
			if (env->fetch(env->ctx, s->rip, &in) || x86emu_exec(s, in, env, &u))
				break; /* not reached: group_len decoded and vetted them */
			n++;
		}
	}
	*count = n;
	return stop;
}

const char *x86emu_stop_name(unsigned stop)
{
	static const char *const names[X86EMU_NSTOPS] = {
		[X86EMU_SYSCALL] = "syscall", [X86EMU_UNSUPPORTED] = "insn",
		[X86EMU_FAULT] = "fault",     [X86EMU_WINDOW] = "window",
		[X86EMU_FLAGS] = "flags",
	};

	return stop < X86EMU_NSTOPS ? names[stop] : "?";
}
