// SPDX-License-Identifier: MIT
/*
 * Verifier: memory accesses (context, regions, stack with spill tracking),
 * loads, stores, atomics, and helper calls with their typed arguments.
 */
#include <inttypes.h>
#include <string.h>
#include "verifier.h"

/* ---- memory ---- */

uint32_t vfy_obj_size(struct verifier *v, const struct reg *p, bool *writable, const char **name)
{
	if (p->type == T_CTX) {
		*writable = v->env->ctx_flags & EBPF_CTX_WRITABLE;
		*name = "context";
		return v->env->ctx_size;
	}
	*writable = v->env->regions[p->region].flags & EBPF_REGION_WRITABLE;
	*name = v->env->regions[p->region].name;
	return v->env->regions[p->region].size;
}

/* ctx field holding a region pointer that overlaps [lo, hi), or -1 */
static int ctx_field_in(struct verifier *v, int64_t lo, int64_t hi)
{
	for (unsigned k = 0; k < v->env->nregions; k++) {
		int64_t f = v->env->regions[k].ctx_offset;

		if (lo < f + 8 && f < hi)
			return (int)k;
	}
	return -1;
}

enum acc { ACC_READ, ACC_WRITE, ACC_ATOMIC };

/* the bits of the bytes of slot k that are in [from, to) */
static uint8_t slot_mask(int64_t k, int64_t from, int64_t to)
{
	int64_t a = from > 8 * k ? from - 8 * k : 0, b = to < 8 * k + 8 ? to - 8 * k : 8;

	return (uint8_t)(((1u << b) - 1) & ~((1u << a) - 1));
}

/* bytes [from, to) of frame f's stack, in slots that are not spilled, hold
 * data now */
static void stack_set_misc(struct vframe *f, int64_t from, int64_t to)
{
	for (int64_t k = from / 8; from < to && k <= (to - 1) / 8; k++) {
		f->misc[k] |= slot_mask(k, from, to);
		f->init |= 1ull << k;
	}
}

/* bytes [from, to) of frame f's stack may be read as data: each is a data
 * byte or part of a spilled number. Slot by slot, charged per slot. */
static int stack_check_read(struct verifier *v, const struct vframe *f, int64_t from, int64_t to)
{
	vfy_charge(v, (uint64_t)(to - from) / 8 + 1);
	for (int64_t k = from / 8; from < to && k <= (to - 1) / 8; k++) {
		uint8_t missing = slot_mask(k, from, to) & (uint8_t)~f->misc[k];

		if (f->spilled >> k & 1) {
			if (f->spill[k].type != T_SCALAR)
				return vfy_fail(v,
						"partial read of a spilled pointer at r10%+" PRId64,
						(from > 8 * k ? from : 8 * k) - EBPF_STACK_SIZE);
		} else if (missing) {
			return vfy_fail(v, "read of uninitialised stack at r10%+" PRId64,
					8 * k + __builtin_ctz(missing) - EBPF_STACK_SIZE);
		}
	}
	return 0;
}

/* the slots that bytes [from, to) of a stack touch (from < to) */
static uint64_t slot_range(int64_t from, int64_t to)
{
	int lo = (int)(from / 8), hi = (int)((to - 1) / 8);

	if (to <= from)
		return 0;
	return (hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1);
}

/* the slots that bytes [from, to) of a stack cover whole */
static uint64_t slots_covered(int64_t from, int64_t to)
{
	from = (from + 7) / 8 * 8;
	to = to / 8 * 8;
	return from < to ? slot_range(from, to) : 0;
}

/* slot k's spilled register is partly overwritten: its bytes become data */
static void stack_unspill(struct vframe *f, int k)
{
	f->misc[k] = 0xff;
	f->spilled &= ~(1ull << k);
}

/*
 * Check an access of `size` bytes at ptr + off (size_max for helper buffers
 * of variable size) and perform its effect on the state: for reads, *out
 * receives the loaded value; for stack writes, val (may be NULL: unknown
 * data, e.g. written by a helper over [0, size_min)) is recorded.
 */
static int access_mem(struct verifier *v, int preg, const struct reg *p, int off, uint64_t size,
		      enum acc acc, bool sx, const struct reg *val, struct reg *out)
{
	int64_t lo, hi;

	if (p->type == T_NOINIT)
		return vfy_fail(v, "r%d is read before it is initialised", preg);
	if (p->type == T_SCALAR)
		return vfy_fail(v, "invalid memory access: r%d is a number, not a pointer", preg);
	lo = p->b.smin + off;
	hi = p->b.smax + off + (int64_t)size;
	if (acc == ACC_ATOMIC) {
		struct bounds a = bounds_alu(EBPF_ADD, false, p->b, bounds_const((uint64_t)off));
		struct bounds m = bounds_alu(EBPF_AND, false, a, bounds_const(size - 1));

		if (!bounds_is_const(&m) || m.t.v != 0)
			return vfy_fail(v, "misaligned atomic access of %" PRIu64 " bytes via r%d",
					size, preg);
	}
	if (p->type == T_STACK) {
		struct vframe *f = &v->cur->fr[p->frame];
		int64_t base = lo + EBPF_STACK_SIZE;

		if (lo < -EBPF_STACK_SIZE || hi > 0)
			return vfy_fail(v,
					"stack access out of bounds: [%" PRId64 ", %" PRId64
					") relative to r10 (stack is 512 bytes)",
					lo, hi);
		if (!bounds_is_const(&p->b) && acc != ACC_READ)
			return vfy_fail(v, "variable-offset stack write via r%d", preg);
		if (acc != ACC_WRITE) {
			int64_t b1 = hi + EBPF_STACK_SIZE;
			int rc = vfy_mark_read(v, p->frame, slot_range(base, b1));

			if (rc)
				return rc;
		}
		if (acc == ACC_READ) {
			int64_t b0 = base, b1 = hi + EBPF_STACK_SIZE;
			int rc;

			/* a register reload; helpers (out == NULL) read bytes */
			if (out && bounds_is_const(&p->b) && size == 8 && (b0 & 7) == 0 &&
			    stack_byte(f, b0) == S_SPILL) {
				*out = f->spill[b0 / 8];
				vfy_hist_note(v, H_RELOAD, p->frame, (int)(b0 / 8));
				return 0;
			}
			if ((rc = stack_check_read(v, f, b0, b1)))
				return rc;
			if (out)
				set_scalar(out, sx ? bounds_swidth((unsigned)size * 8) :
						     bounds_uwidth((unsigned)size * 8));
			return 0;
		}
		/* write or atomic at a constant offset */
		if (val && is_ptr(val) && (size != 8 || (base & 7)))
			return vfy_fail(
				v, "misaligned store of a pointer to the stack at r10%+" PRId64,
				lo);
		if (val && val->type == T_STACK && val->frame > p->frame)
			return vfy_fail(v, "pointer to a callee stack frame escapes to its caller");
		for (int64_t i = base; i < base + (int64_t)size; i++) {
			if (stack_byte(f, i) == S_SPILL) {
				struct reg *s = &f->spill[i / 8];

				if (s->type != T_SCALAR &&
				    !(size == 8 && acc == ACC_WRITE && (base & 7) == 0))
					return vfy_fail(v,
							"partial overwrite of a spilled pointer at "
							"r10%+" PRId64,
							i - EBPF_STACK_SIZE);
				if (acc == ACC_ATOMIC && s->type != T_SCALAR)
					return vfy_fail(v, "atomic operation on a spilled pointer");
				stack_unspill(f, (int)(i / 8));
			}
			if (acc == ACC_ATOMIC && stack_byte(f, i) == S_INVALID)
				return vfy_fail(
					v,
					"atomic operation on uninitialised stack at r10%+" PRId64,
					i - EBPF_STACK_SIZE);
		}
		if (val && acc == ACC_WRITE && size == 8 && (base & 7) == 0) {
			f->misc[base / 8] = 0;
			f->spill[base / 8] = *val;
			f->spilled |= 1ull << (base / 8);
			f->init |= 1ull << (base / 8);
			f->written |= 1ull << (base / 8);
			vfy_hist_note(v, H_SPILL, p->frame, (int)(base / 8));
		} else if (acc == ACC_WRITE && val) {
			stack_set_misc(f, base, base + (int64_t)size);
		}
		return 0;
	}
	/* context or region */
	{
		bool writable;
		const char *name;
		uint32_t osz = vfy_obj_size(v, p, &writable, &name);
		int k;

		if (lo < 0 || hi > (int64_t)osz)
			return vfy_fail(v,
					"out-of-bounds access to %s: bytes [%" PRId64 ", %" PRId64
					") of %u via r%d",
					name, lo, hi, osz, preg);
		if (acc != ACC_READ && !writable)
			return vfy_fail(v, "write to read-only %s", name);
		if (val && is_ptr(val))
			return vfy_fail(v, "storing a pointer into %s would leak its address",
					name);
		k = p->type == T_CTX ? ctx_field_in(v, lo, hi) : -1;
		if (k >= 0) {
			if (acc != ACC_READ)
				return vfy_fail(v, "write to the %s pointer field of the context",
						v->env->regions[k].name);
			if (!bounds_is_const(&p->b) || size != 8 ||
			    lo != (int64_t)v->env->regions[k].ctx_offset || sx)
				return vfy_fail(v,
						"partial or variable read of the %s pointer field",
						v->env->regions[k].name);
			if (out) {
				memset(out, 0, sizeof(*out));
				out->type = T_REGION;
				out->region = (uint8_t)k;
				out->frame = 0;
				out->b = bounds_const(0);
			}
			return 0;
		}
		if (out)
			set_scalar(out, sx ? bounds_swidth((unsigned)size * 8) :
					     bounds_uwidth((unsigned)size * 8));
		return 0;
	}
}

int vfy_do_ldx(struct verifier *v, const struct ebpf_insn *in)
{
	struct reg out, p;
	int rc;

	if ((rc = vfy_check_writable_reg(v, in->dst)))
		return rc;
	p = *R(v, in->src);
	rc = access_mem(v, in->src, &p, in->off, ebpf_size_bytes(in->code), ACC_READ,
			EBPF_MODE(in->code) == EBPF_MEMSX, NULL, &out);
	if (rc)
		return rc;
	*R(v, in->dst) = out;
	return 0;
}

int vfy_do_store(struct verifier *v, const struct ebpf_insn *in)
{
	struct reg val, p;
	unsigned size = ebpf_size_bytes(in->code);
	int rc;

	if (EBPF_CLASS(in->code) == EBPF_ST) {
		uint64_t imm = (uint64_t)(int64_t)in->imm;

		if (size < 8)
			imm &= (1ull << (size * 8)) - 1;
		set_scalar(&val, bounds_const(imm));
	} else {
		if ((rc = vfy_check_readable(v, in->src)))
			return rc;
		val = *R(v, in->src);
		if (is_ptr(&val) && size != 8)
			return vfy_fail(v, "partial store of pointer r%d would leak its address",
					in->src);
		if (val.type == T_SCALAR && size < 8) {
			val.b = bounds_alu(EBPF_AND, false, val.b,
					   bounds_const((1ull << (size * 8)) - 1));
			val.id = 0;
		} else if (val.type == T_SCALAR) {
			/* a spill keeps the link to the register (same value) */
			struct reg *sr = R(v, in->src);

			if (!sr->id)
				sr->id = ++v->next_id;
			val.id = sr->id;
		}
	}
	if ((rc = vfy_check_readable(v, in->dst)))
		return rc;
	p = *R(v, in->dst);
	return access_mem(v, in->dst, &p, in->off, size, ACC_WRITE, false, &val, NULL);
}

int vfy_do_atomic(struct verifier *v, const struct ebpf_insn *in)
{
	unsigned size = ebpf_size_bytes(in->code);
	struct reg p, val, old;
	int rc;

	if ((rc = vfy_check_readable(v, in->src)) || (rc = vfy_check_readable(v, in->dst)))
		return rc;
	val = *R(v, in->src);
	if (is_ptr(&val))
		return vfy_fail(v, "atomic operation with pointer r%d would leak its address",
				in->src);
	if (in->imm == EBPF_CMPXCHG) {
		if ((rc = vfy_check_readable(v, 0)))
			return rc;
		if (is_ptr(R(v, 0)))
			return vfy_fail(v, "cmpxchg compares pointer r0 (would leak its address)");
	}
	if ((in->imm & EBPF_FETCH) && in->imm != EBPF_CMPXCHG &&
	    (rc = vfy_check_writable_reg(v, in->src)))
		return rc;
	p = *R(v, in->dst);
	rc = access_mem(v, in->dst, &p, in->off, size, ACC_ATOMIC, false, NULL, NULL);
	if (rc)
		return rc;
	set_scalar(&old, bounds_uwidth(size * 8));
	if (in->imm == EBPF_CMPXCHG)
		*R(v, 0) = old;
	else if (in->imm & EBPF_FETCH)
		*R(v, in->src) = old;
	return 0;
}

int vfy_check_helper_call(struct verifier *v, const struct ebpf_insn *in)
{
	const struct ebpf_helper *h = ebpf_env_helper(v->env, (uint32_t)in->imm);
	int rc;

	for (int a = 0; a < 5; a++) {
		enum ebpf_arg_type t = h->args[a];
		int r = a + 1;
		struct reg *reg = R(v, r);

		if (t == EBPF_ARG_NONE || t == EBPF_ARG_SIZE)
			continue;
		if (reg->type == T_NOINIT)
			return vfy_fail(v, "helper %s: argument r%d is not initialised", h->name,
					r);
		if (t == EBPF_ARG_SCALAR) {
			if (reg->type != T_SCALAR)
				return vfy_fail(v,
						"helper %s: argument r%d must be a number, not %s",
						h->name, r, type_name(v, reg));
			continue;
		}
		if (t == EBPF_ARG_CTX) {
			if (reg->type != T_CTX || !bounds_is_const(&reg->b) || reg->b.t.v != 0)
				return vfy_fail(
					v, "helper %s: argument r%d must be the context pointer",
					h->name, r);
			continue;
		}
		/* buffer + size */
		{
			struct reg *sz = R(v, r + 1), p = *reg;
			enum acc acc = t == EBPF_ARG_MEM_WO ? ACC_WRITE : ACC_READ;

			if (sz->type != T_SCALAR)
				return vfy_fail(
					v, "helper %s: size argument r%d must be a number%s",
					h->name, r + 1,
					sz->type == T_NOINIT ? " (it is uninitialised)" : "");
			if (!is_ptr(reg))
				return vfy_fail(
					v, "helper %s: argument r%d must point to memory, not %s",
					h->name, r, type_name(v, reg));
			if (sz->b.umax > EBPF_MAX_MEM_SIZE)
				return vfy_fail(
					v, "helper %s: size r%d is not bounded (max %" PRIu64 ")",
					h->name, r + 1, sz->b.umax);
			/* the buffer checks below rely on the size's bounds */
			if ((rc = vfy_mark_precise(v, (uint16_t)(1u << (r + 1)))))
				return rc;
			if (reg->type == T_STACK && !bounds_is_const(&reg->b))
				return vfy_fail(v, "helper %s: variable-offset stack buffer r%d",
						h->name, r);
			if (acc == ACC_READ) {
				rc = access_mem(v, r, &p, 0, sz->b.umax, ACC_READ, false, NULL,
						NULL);
				if (rc)
					return rc;
				if (p.type == T_CTX &&
				    ctx_field_in(v, p.b.smin, p.b.smax + (int64_t)sz->b.umax) >= 0)
					return vfy_fail(
						v, "helper %s: buffer r%d covers a pointer field",
						h->name, r);
			} else if (reg->type == T_STACK) {
				/* the bytes the helper certainly writes become data;
				 * the others it may write lose their spilled values */
				struct vframe *f = &v->cur->fr[reg->frame];
				int64_t lo = reg->b.smin + EBPF_STACK_SIZE;

				if (reg->b.smin < -EBPF_STACK_SIZE ||
				    reg->b.smin + (int64_t)sz->b.umax > 0)
					return vfy_fail(
						v,
						"helper %s: stack buffer r%d of up to %" PRIu64
						" bytes at r10%+" PRId64 " out of bounds",
						h->name, r, sz->b.umax, reg->b.smin);
				int64_t hi = lo + (int64_t)sz->b.umax;

				vfy_charge(v, sz->b.umax / 8 + 1);
				for (int64_t k = lo / 8; lo < hi && k <= (hi - 1) / 8; k++) {
					if (!(f->spilled >> k & 1))
						continue;
					if (f->spill[k].type != T_SCALAR)
						return vfy_fail(
							v,
							"helper %s: buffer r%d overwrites a "
							"spilled pointer",
							h->name, r);
					stack_unspill(f, (int)k);
				}
				stack_set_misc(f, lo, lo + (int64_t)sz->b.umin);
				f->written |= slots_covered(lo, lo + (int64_t)sz->b.umin);
			} else {
				struct reg dummy;

				set_scalar(&dummy, bounds_const(0));
				rc = access_mem(v, r, &p, 0, sz->b.umax, ACC_WRITE, false, &dummy,
						NULL);
				if (rc)
					return rc;
			}
		}
	}
	for (int r = 1; r <= 5; r++)
		R(v, r)->type = T_NOINIT;
	set_scalar(R(v, 0), bounds_unknown());
	return 0;
}
