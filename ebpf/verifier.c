// SPDX-License-Identifier: MIT
/*
 * The verifier: abstract interpretation of every path of the program.
 *
 * Each register holds a type (uninitialised, number, pointer to the
 * context, to a stack frame, or to a declared region) and, for numbers, the
 * value's known bits and signed/unsigned ranges; for pointers, the same
 * domain describes the offset from the start of the object. The stack of
 * each frame is tracked byte by byte (uninitialised, data, or part of a
 * spilled register whose full abstract value is kept).
 *
 * Paths are explored depth first. At branch targets the state is compared
 * with the states already seen there: if one whose exploration is complete
 * contains the current state, the path is pruned (everything it could do
 * was already proven safe); if one that is still being explored (an
 * ancestor on the current path) contains it, the program may loop forever
 * and is rejected. Bounded loops are thus unrolled by exploration, and the
 * total work is capped, so termination of every accepted program is proven
 * at load time and the interpreter needs no instruction budget.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "bounds.h"

#ifndef EBPF_MAX_PROCESSED
#define EBPF_MAX_PROCESSED 1000000 /* abstract instructions per load */
#endif
#define MAX_PROCESSED	 EBPF_MAX_PROCESSED
#define MAX_STATES_INSN	 32 /* newest checkpoints compared per instruction */
#define MAX_STATES_TOTAL 16384
#define MAX_PTR_OFF	 (1 << 29) /* |offset| a pointer may ever carry */
#define MAX_PENDING	 4096	   /* branches waiting to be explored */

enum rtype { T_NOINIT, T_SCALAR, T_CTX, T_STACK, T_REGION };
enum stype { S_INVALID, S_MISC, S_SPILL };

struct reg {
	uint8_t type;
	uint8_t frame;	 /* T_STACK: which frame's stack */
	uint8_t region;	 /* T_REGION: index in env->regions */
	uint32_t id;	 /* scalars: registers with the same id hold the same
			  * value (copies), so a bound learned on one holds
			  * for all; 0: none */
	struct bounds b; /* value (scalar) or offset (pointer) */
};

struct vframe {
	int callsite; /* index of the call that created it; -1 for main */
	int lo;	      /* lowest stack byte that is not S_INVALID (512: none) */
	struct reg regs[11];
	uint8_t stype[EBPF_STACK_SIZE]; /* byte i is at fp - 512 + i */
	struct reg spill[EBPF_STACK_SIZE / 8];
};

struct vstate {
	int insn;
	int nframes;
	struct vframe fr[EBPF_MAX_FRAMES];
};

struct checkpoint {
	struct checkpoint *parent; /* nearest enclosing checkpoint */
	struct checkpoint *next;   /* same instruction */
	long branches;		   /* live paths below; 0 = explored */
	struct vstate st;	   /* truncated to st.nframes frames */
};

struct pending {
	struct vstate *st;
	struct checkpoint *owner;
};

struct verifier {
	const struct ebpf_env *env;
	const struct ebpf_insn *insns;
	size_t n;
	struct ebpf_error *err;
	uint8_t *is_prune;
	uint16_t *rel;		  /* per instruction: registers whose values matter */
	struct checkpoint **seen; /* per instruction */
	struct chunk *chunks;	  /* arena: checkpoints and working states */
	struct checkpoint *free_cp[EBPF_MAX_FRAMES + 1]; /* recycled, by frames */
	struct pending *stack;
	size_t nstack, capstack;
	uint64_t processed, nstates, nlive;
	uint32_t next_id;
	struct vstate *cur;
	struct checkpoint *owner;
	int idx; /* instruction being checked */
};

static size_t state_size(int nframes)
{
	return offsetof(struct vstate, fr) + (size_t)nframes * sizeof(struct vframe);
}

static int fail(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct verifier *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->err)
		return -EINVAL;
	v->err->insn = v->idx;
	va_start(ap, fmt);
	vsnprintf(v->err->msg, sizeof(v->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static struct vframe *curf(struct verifier *v)
{
	return &v->cur->fr[v->cur->nframes - 1];
}

static struct reg *R(struct verifier *v, int r)
{
	return &curf(v)->regs[r];
}

static void set_scalar(struct reg *r, struct bounds b)
{
	r->type = T_SCALAR;
	r->frame = r->region = 0;
	r->id = 0;
	r->b = b;
}

static bool is_ptr(const struct reg *r)
{
	return r->type >= T_CTX;
}

static const char *type_name(const struct verifier *v, const struct reg *r)
{
	switch (r->type) {
	case T_NOINIT:
		return "uninitialised";
	case T_SCALAR:
		return "a number";
	case T_CTX:
		return "a context pointer";
	case T_STACK:
		return "a stack pointer";
	default:
		return "a region pointer";
	}
}

static bool same_object(const struct reg *a, const struct reg *b)
{
	return a->type == b->type && a->frame == b->frame && a->region == b->region;
}

/* ---- state comparison ---- */

/*
 * Old and current ids must correspond one to one where old relied on them:
 * if old had two registers linked, its proof may have used the link, so cur
 * must have them linked too.
 */
struct idmap {
	uint32_t old[EBPF_MAX_FRAMES * (11 + EBPF_STACK_SIZE / 8)];
	uint32_t cur[EBPF_MAX_FRAMES * (11 + EBPF_STACK_SIZE / 8)];
	unsigned n;
};

static bool ids_match(struct idmap *m, uint32_t old, uint32_t cur)
{
	if (!old)
		return true;
	if (!cur)
		return false;
	for (unsigned i = 0; i < m->n; i++) {
		if (m->old[i] == old)
			return m->cur[i] == cur;
		if (m->cur[i] == cur)
			return false;
	}
	m->old[m->n] = old;
	m->cur[m->n++] = cur;
	return true;
}

static bool reg_leq(const struct reg *c, const struct reg *o, bool relevant, struct idmap *m)
{
	if (o->type == T_NOINIT)
		return true; /* the old path never read it, or it failed */
	if (!same_object(c, o))
		return false;
	if (relevant && o->type == T_SCALAR && !ids_match(m, o->id, c->id))
		return false;
	/* a number whose value can influence no check and no branch from
	 * here on (see compute_relevance) may differ arbitrarily */
	if (!relevant && o->type == T_SCALAR)
		return true;
	return bounds_contains(&o->b, &c->b);
}

static bool frame_leq(const struct vframe *c, const struct vframe *o, uint16_t rel, struct idmap *m)
{
	if (c->callsite != o->callsite)
		return false;
	for (int r = 0; r < 11; r++)
		if (!reg_leq(&c->regs[r], &o->regs[r], rel & (1u << r), m))
			return false;
	if (c->lo > o->lo) {
		/* quick reject: old has initialised bytes where cur has none */
		for (int i = o->lo; i < c->lo; i++)
			if (o->stype[i] != S_INVALID)
				return false;
	}
	for (int i = o->lo; i < EBPF_STACK_SIZE; i++) {
		uint8_t ot = o->stype[i], ct = c->stype[i];

		if (ot == S_INVALID)
			continue;
		if (ot == S_MISC) {
			if (ct == S_MISC)
				continue;
			if (ct == S_SPILL && c->spill[i / 8].type == T_SCALAR)
				continue;
			return false;
		}
		/* old slot is a spilled register */
		if (ct != S_SPILL)
			return false;
		if ((i & 7) == 0 && !reg_leq(&c->spill[i / 8], &o->spill[i / 8], true, m))
			return false;
	}
	return true;
}

#define REL_CALLEE_SAVED 0x3c0 /* r6-r9 */

static bool state_leq(const struct verifier *v, const struct vstate *c, const struct vstate *o)
{
	struct idmap m;

	m.n = 0;
	if (c->nframes != o->nframes)
		return false;
	for (int f = 0; f < c->nframes; f++) {
		/* a caller frame resumes after its call with r0-r5 replaced */
		uint16_t rel = f == c->nframes - 1 ?
				       v->rel[c->insn] :
				       v->rel[c->fr[f + 1].callsite + 1] & REL_CALLEE_SAVED;

		if (!frame_leq(&c->fr[f], &o->fr[f], rel, &m))
			return false;
	}
	return true;
}

/*
 * Relevance: rel[i] has bit r set if the value register r holds before
 * instruction i may, on some path, flow into something the verifier checks
 * or decides on: a jump condition, a memory access base or pointer offset,
 * a helper or local-call argument, a value stored to memory (it may be
 * reloaded with its bounds), or a function's result. Everything else (e.g. an
 * accumulator that only ends up in r0 of the main program) cannot change
 * which paths are feasible or whether a check passes, so states that differ
 * only there are equivalent for pruning. A backward may-analysis to a fixpoint.
 */
static uint16_t rel_uses(const struct ebpf_insn *in, bool in_main, uint16_t out, uint16_t *kill)
{
	unsigned cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	bool x = EBPF_SRC(in->code) == EBPF_X;

	*kill = 0;
	switch (cls) {
	case EBPF_ALU:
	case EBPF_ALU64:
		if (op == EBPF_MOV) {
			*kill = d;
			return (out & d) && x ? s : 0;
		}
		if (!(out & d))
			return 0; /* the result matters nowhere (even if a pointer) */
		return (uint16_t)(d | (x ? s : 0));
	case EBPF_LD:
		*kill = d;
		return 0;
	case EBPF_LDX:
		*kill = d;
		return s;
	case EBPF_ST:
		return d;
	case EBPF_STX:
		if (EBPF_MODE(in->code) == EBPF_ATOMIC && in->imm == EBPF_CMPXCHG)
			return (uint16_t)(d | s | 1u);
		return (uint16_t)(d | s);
	}
	/* jumps */
	if (op == EBPF_JA)
		return 0;
	if (op == EBPF_EXIT)
		return in_main ? 0 : 1u;
	if (op == EBPF_CALL) {
		*kill = 0x3f; /* r0-r5 are replaced or clobbered */
		return 0x3e;  /* r1-r5: arguments */
	}
	return (uint16_t)(d | (x ? s : 0));
}

static int compute_relevance(struct verifier *v)
{
	const struct ebpf_insn *insns = v->insns;
	size_t n = v->n;
	uint8_t *in_main = calloc(n, 1);
	bool changed = true;

	if (!in_main)
		return -ENOMEM;
	/* instructions of the main function: reachable from 0 without calls;
	 * cfg.c already proved that functions are contiguous and closed */
	{
		size_t end = n;

		for (size_t i = 0; i < n; i++) {
			const struct ebpf_insn *in = &insns[i];

			if (in->code == (EBPF_JMP | EBPF_CALL) &&
			    in->src == EBPF_PSEUDO_CALL_LOCAL) {
				size_t t = (size_t)((int64_t)i + 1 + in->imm);

				if (t < end && t > 0)
					end = t;
			}
		}
		memset(in_main, 1, end);
	}
	memset(v->rel, 0, n * sizeof(*v->rel));
	while (changed) {
		changed = false;
		for (size_t k = n; k-- > 0;) {
			const struct ebpf_insn *in = &insns[k];
			unsigned cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
			uint16_t out = 0, kill, use, nv;

			if (k > 0 && insns[k - 1].code == EBPF_OPC_LDDW)
				continue; /* second half of lddw */
			if (cls == EBPF_JMP || cls == EBPF_JMP32) {
				int64_t t =
					(int64_t)k + 1 +
					(cls == EBPF_JMP32 && op == EBPF_JA ? in->imm : in->off);

				if (op == EBPF_EXIT) {
					out = 0;
				} else if (op == EBPF_CALL) {
					out = k + 1 < n ? v->rel[k + 1] : 0;
				} else {
					if (t >= 0 && t < (int64_t)n)
						out = v->rel[t];
					if (op != EBPF_JA && k + 1 < n)
						out |= v->rel[k + 1];
				}
			} else {
				size_t next = k + (in->code == EBPF_OPC_LDDW ? 2 : 1);

				out = next < n ? v->rel[next] : 0;
			}
			use = rel_uses(in, in_main[k], out, &kill);
			nv = (uint16_t)((out & ~kill) | use);
			if (nv != v->rel[k]) {
				v->rel[k] = nv;
				changed = true;
			}
		}
	}
	free(in_main);
	return 0;
}

/* ---- path bookkeeping ---- */

static void path_done(struct verifier *v)
{
	struct checkpoint *c = v->owner;

	while (c && --c->branches == 0)
		c = c->parent;
}

/*
 * Checkpoints and working states come from an arena of 1 MiB chunks; each
 * thread keeps one chunk for its next load. Fresh memory is expensive here
 * (page faults cost microseconds in a nested VM): reusing it makes loading a
 * 1000-instruction program about five times faster.
 */
#define ARENA_CHUNK (1u << 20)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

static __thread struct chunk *chunk_cache;

static void *arena_alloc(struct verifier *v, size_t size)
{
	struct chunk *c = v->chunks;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < size) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		if (chunk_cache && chunk_cache->cap >= size) {
			c = chunk_cache;
			chunk_cache = NULL;
		} else {
			c = malloc(offsetof(struct chunk, data) + cap);
			if (!c)
				return NULL;
			c->cap = cap;
		}
		c->used = 0;
		c->next = v->chunks;
		v->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

static void arena_release(struct verifier *v)
{
	while (v->chunks) {
		struct chunk *c = v->chunks;

		v->chunks = c->next;
		if (!chunk_cache && c->cap == ARENA_CHUNK)
			chunk_cache = c;
		else
			free(c);
	}
}

static void free_checkpoint(struct verifier *v, struct checkpoint *c)
{
	c->next = v->free_cp[c->st.nframes];
	v->free_cp[c->st.nframes] = c;
	v->nlive--;
}

/*
 * 1: prune the path, 0: continue, <0: reject.
 * The newest MAX_STATES_INSN checkpoints of an instruction are compared with
 * the current state; the next one, if fully explored, is recycled (in a
 * loop, the states of early iterations do not match again). Explored
 * checkpoints are referenced by nothing live: path_done() only walks up from
 * live owners, whose ancestors are all live.
 */
static int visit_prune_point(struct verifier *v)
{
	int i = v->cur->insn, pos = 0;
	struct checkpoint *c, **pp = &v->seen[i];

	while ((c = *pp)) {
		if (pos++ >= MAX_STATES_INSN) {
			/* the one that just fell out of the window: recycle it
			 * if explored (amortised: one per visit, no list walk) */
			if (c->branches == 0) {
				*pp = c->next;
				free_checkpoint(v, c);
			}
			break;
		}
		v->processed++; /* comparisons are work too: bound them */
		if (state_leq(v, v->cur, &c->st)) {
			if (c->branches == 0)
				return 1;
			return fail(v, "infinite loop: this state repeats without progress "
				       "(the loop is not proven bounded)");
		}
		pp = &c->next;
	}
	if (v->nlive >= MAX_STATES_TOTAL)
		return 0;
	c = v->free_cp[v->cur->nframes];
	if (c)
		v->free_cp[v->cur->nframes] = c->next;
	else
		c = arena_alloc(v, offsetof(struct checkpoint, st) + state_size(v->cur->nframes));
	if (!c)
		return -ENOMEM;
	memcpy(&c->st, v->cur, state_size(v->cur->nframes));
	c->parent = v->owner;
	c->branches = 1;
	c->next = v->seen[i];
	v->seen[i] = c;
	v->nstates++;
	v->nlive++;
	v->owner = c;
	return 0;
}

static int push_branch(struct verifier *v, const struct vstate *st)
{
	struct vstate *copy;

	if (v->nstack >= MAX_PENDING)
		return -E2BIG;
	if (v->nstack == v->capstack) {
		size_t cap = v->capstack ? v->capstack * 2 : 64;
		struct pending *p = realloc(v->stack, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->stack = p;
		v->capstack = cap;
	}
	copy = malloc(state_size(st->nframes));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, st, state_size(st->nframes));
	v->stack[v->nstack].st = copy;
	v->stack[v->nstack].owner = v->owner;
	v->nstack++;
	if (v->owner)
		v->owner->branches++;
	return 0;
}

/* ---- registers ---- */

static int check_readable(struct verifier *v, int r)
{
	if (R(v, r)->type == T_NOINIT)
		return fail(v, "r%d is read before it is initialised", r);
	return 0;
}

static int check_writable_reg(struct verifier *v, int r)
{
	if (r == 10)
		return fail(v, "r10 (frame pointer) is read-only");
	return 0;
}

static int check_ptr_off(struct verifier *v, const struct bounds *b, int r)
{
	if (b->smin < -MAX_PTR_OFF || b->smax > MAX_PTR_OFF)
		return fail(v,
			    "pointer arithmetic on r%d: offset range [%" PRId64 ", %" PRId64
			    "] is not bounded",
			    r, b->smin, b->smax);
	return 0;
}

static const char *op_name(unsigned op)
{
	static const char *const names[] = { "add", "sub", "mul", "div", "or",	"and",	"lsh",
					     "rsh", "neg", "mod", "xor", "mov", "arsh", "end" };

	return names[(op >> 4) < 14 ? op >> 4 : 0];
}

static int do_alu(struct verifier *v, const struct ebpf_insn *in)
{
	bool is64 = EBPF_CLASS(in->code) == EBPF_ALU64, x = EBPF_SRC(in->code) == EBPF_X;
	unsigned op = EBPF_OP(in->code);
	struct reg *d = R(v, in->dst), srcv;
	int rc;

	if ((rc = check_writable_reg(v, in->dst)))
		return rc;
	if (op == EBPF_MOV) {
		if (!x) {
			set_scalar(d, bounds_const(is64 ? (uint64_t)(int64_t)in->imm :
							  (uint32_t)in->imm));
			return 0;
		}
		if ((rc = check_readable(v, in->src)))
			return rc;
		srcv = *R(v, in->src);
		if (is_ptr(&srcv) && (!is64 || in->off))
			return fail(v, "%s of pointer r%d would leak its address",
				    in->off ? "sign-extending move" : "32-bit move", in->src);
		srcv.id = 0;
		if (srcv.type == T_SCALAR && !in->off && (is64 || srcv.b.umax <= UINT32_MAX)) {
			/* a plain copy: link the two registers */
			struct reg *sr = R(v, in->src);

			if (!sr->id)
				sr->id = ++v->next_id;
			srcv.id = sr->id;
		}
		if (in->off)
			srcv.b = bounds_sext(srcv.b, in->off);
		if (!is64)
			srcv.b = bounds_trunc32(srcv.b);
		*d = srcv;
		return 0;
	}
	if ((rc = check_readable(v, in->dst)))
		return rc;
	if (op == EBPF_NEG || op == EBPF_END) {
		if (is_ptr(d))
			return fail(v, "%s on pointer r%d prohibited", op_name(op), in->dst);
		if (op == EBPF_NEG) {
			struct bounds a = is64 ? d->b : bounds_trunc32(d->b);

			a = bounds_alu(EBPF_SUB, false, bounds_const(0), a);
			set_scalar(d, is64 ? a : bounds_trunc32(a));
		} else if (is64 || EBPF_SRC(in->code) == EBPF_TO_BE) {
			set_scalar(d, bounds_bswap(d->b, (unsigned)in->imm));
		} else if (in->imm < 64) {
			set_scalar(d, bounds_alu(EBPF_AND, false, d->b,
						 bounds_const((1ull << in->imm) - 1)));
		}
		return 0;
	}
	if (x) {
		if ((rc = check_readable(v, in->src)))
			return rc;
		srcv = *R(v, in->src);
	} else {
		set_scalar(&srcv,
			   bounds_const(is64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm));
	}
	if (is_ptr(d) || is_ptr(&srcv)) {
		bool dp = is_ptr(d), sp = is_ptr(&srcv);

		if (!is64)
			return fail(v, "32-bit %s on pointer r%d prohibited", op_name(op),
				    dp ? in->dst : in->src);
		if (op == EBPF_ADD && !(dp && sp)) {
			struct reg p = dp ? *d : srcv, s = dp ? srcv : *d;

			p.b = bounds_alu(EBPF_ADD, false, p.b, s.b);
			if ((rc = check_ptr_off(v, &p.b, in->dst)))
				return rc;
			p.id = 0;
			*d = p;
			return 0;
		}
		if (op == EBPF_SUB && dp && !sp) {
			d->b = bounds_alu(EBPF_SUB, false, d->b, srcv.b);
			return check_ptr_off(v, &d->b, in->dst);
		}
		if (op == EBPF_SUB && dp && sp && same_object(d, &srcv)) {
			set_scalar(d, bounds_alu(EBPF_SUB, false, d->b, srcv.b));
			return 0;
		}
		if (dp && sp)
			return fail(v, "%s of two pointers r%d, r%d prohibited", op_name(op),
				    in->dst, in->src);
		return fail(v, "%s on pointer r%d prohibited (only add/sub of a number)",
			    op_name(op), dp ? in->dst : in->src);
	}
	/* both numbers */
	{
		bool sgn = (op == EBPF_DIV || op == EBPF_MOD) && in->off == 1;
		struct bounds a = d->b, b = srcv.b, r;

		if (is64) {
			r = bounds_alu(op, sgn, a, b);
		} else {
			a = bounds_trunc32(a);
			b = bounds_trunc32(b);
			if (op == EBPF_LSH || op == EBPF_RSH || op == EBPF_ARSH)
				b = bounds_alu(EBPF_AND, false, b, bounds_const(31));
			if (op == EBPF_ARSH || sgn) {
				a = bounds_sext(a, 32);
				if (sgn)
					b = bounds_sext(b, 32);
			}
			r = bounds_trunc32(bounds_alu(op, sgn, a, b));
		}
		set_scalar(d, r);
	}
	return 0;
}

/* ---- memory ---- */

static uint32_t obj_size(struct verifier *v, const struct reg *p, bool *writable, const char **name)
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
		return fail(v, "r%d is read before it is initialised", preg);
	if (p->type == T_SCALAR)
		return fail(v, "invalid memory access: r%d is a number, not a pointer", preg);
	lo = p->b.smin + off;
	hi = p->b.smax + off + (int64_t)size;
	if (acc == ACC_ATOMIC) {
		struct bounds a = bounds_alu(EBPF_ADD, false, p->b, bounds_const((uint64_t)off));
		struct bounds m = bounds_alu(EBPF_AND, false, a, bounds_const(size - 1));

		if (!bounds_is_const(&m) || m.t.v != 0)
			return fail(v, "misaligned atomic access of %" PRIu64 " bytes via r%d",
				    size, preg);
	}
	if (p->type == T_STACK) {
		struct vframe *f = &v->cur->fr[p->frame];
		int64_t base = lo + EBPF_STACK_SIZE;

		if (lo < -EBPF_STACK_SIZE || hi > 0)
			return fail(v,
				    "stack access out of bounds: [%" PRId64 ", %" PRId64
				    ") relative to r10 (stack is 512 bytes)",
				    lo, hi);
		if (!bounds_is_const(&p->b) && acc != ACC_READ)
			return fail(v, "variable-offset stack write via r%d", preg);
		if (acc == ACC_READ) {
			int64_t b0 = base, b1 = hi + EBPF_STACK_SIZE;

			/* a register reload; helpers (out == NULL) read bytes */
			if (out && bounds_is_const(&p->b) && size == 8 && (b0 & 7) == 0 &&
			    f->stype[b0] == S_SPILL) {
				*out = f->spill[b0 / 8];
				return 0;
			}
			for (int64_t i = b0; i < b1; i++) {
				if (f->stype[i] == S_INVALID)
					return fail(v,
						    "read of uninitialised stack at r10%+" PRId64,
						    i - EBPF_STACK_SIZE);
				if (f->stype[i] == S_SPILL && f->spill[i / 8].type != T_SCALAR)
					return fail(
						v,
						"partial read of a spilled pointer at r10%+" PRId64,
						i - EBPF_STACK_SIZE);
			}
			if (out)
				set_scalar(out, sx ? bounds_swidth((unsigned)size * 8) :
						     bounds_uwidth((unsigned)size * 8));
			return 0;
		}
		/* write or atomic at a constant offset */
		if (val && is_ptr(val) && (size != 8 || (base & 7)))
			return fail(v, "misaligned store of a pointer to the stack at r10%+" PRId64,
				    lo);
		if (val && val->type == T_STACK && val->frame > p->frame)
			return fail(v, "pointer to a callee stack frame escapes to its caller");
		for (int64_t i = base; i < base + (int64_t)size; i++) {
			if (f->stype[i] == S_SPILL) {
				struct reg *s = &f->spill[i / 8];

				if (s->type != T_SCALAR &&
				    !(size == 8 && acc == ACC_WRITE && (base & 7) == 0))
					return fail(v,
						    "partial overwrite of a spilled pointer at "
						    "r10%+" PRId64,
						    i - EBPF_STACK_SIZE);
				if (acc == ACC_ATOMIC && s->type != T_SCALAR)
					return fail(v, "atomic operation on a spilled pointer");
				memset(&f->stype[i & ~7], S_MISC, 8);
			}
			if (acc == ACC_ATOMIC && f->stype[i] == S_INVALID)
				return fail(
					v,
					"atomic operation on uninitialised stack at r10%+" PRId64,
					i - EBPF_STACK_SIZE);
		}
		if (base < f->lo)
			f->lo = (int)base;
		if (val && acc == ACC_WRITE && size == 8 && (base & 7) == 0) {
			memset(&f->stype[base], S_SPILL, 8);
			f->spill[base / 8] = *val;
		} else if (acc == ACC_WRITE && val) {
			memset(&f->stype[base], S_MISC, size);
		}
		return 0;
	}
	/* context or region */
	{
		bool writable;
		const char *name;
		uint32_t osz = obj_size(v, p, &writable, &name);
		int k;

		if (lo < 0 || hi > (int64_t)osz)
			return fail(v,
				    "out-of-bounds access to %s: bytes [%" PRId64 ", %" PRId64
				    ") of %u via r%d",
				    name, lo, hi, osz, preg);
		if (acc != ACC_READ && !writable)
			return fail(v, "write to read-only %s", name);
		if (val && is_ptr(val))
			return fail(v, "storing a pointer into %s would leak its address", name);
		k = p->type == T_CTX ? ctx_field_in(v, lo, hi) : -1;
		if (k >= 0) {
			if (acc != ACC_READ)
				return fail(v, "write to the %s pointer field of the context",
					    v->env->regions[k].name);
			if (!bounds_is_const(&p->b) || size != 8 ||
			    lo != (int64_t)v->env->regions[k].ctx_offset || sx)
				return fail(v, "partial or variable read of the %s pointer field",
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

static int do_ldx(struct verifier *v, const struct ebpf_insn *in)
{
	struct reg out, p;
	int rc;

	if ((rc = check_writable_reg(v, in->dst)))
		return rc;
	p = *R(v, in->src);
	rc = access_mem(v, in->src, &p, in->off, ebpf_size_bytes(in->code), ACC_READ,
			EBPF_MODE(in->code) == EBPF_MEMSX, NULL, &out);
	if (rc)
		return rc;
	*R(v, in->dst) = out;
	return 0;
}

static int do_store(struct verifier *v, const struct ebpf_insn *in)
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
		if ((rc = check_readable(v, in->src)))
			return rc;
		val = *R(v, in->src);
		if (is_ptr(&val) && size != 8)
			return fail(v, "partial store of pointer r%d would leak its address",
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
	if ((rc = check_readable(v, in->dst)))
		return rc;
	p = *R(v, in->dst);
	return access_mem(v, in->dst, &p, in->off, size, ACC_WRITE, false, &val, NULL);
}

static int do_atomic(struct verifier *v, const struct ebpf_insn *in)
{
	unsigned size = ebpf_size_bytes(in->code);
	struct reg p, val, old;
	int rc;

	if ((rc = check_readable(v, in->src)) || (rc = check_readable(v, in->dst)))
		return rc;
	val = *R(v, in->src);
	if (is_ptr(&val))
		return fail(v, "atomic operation with pointer r%d would leak its address", in->src);
	if (in->imm == EBPF_CMPXCHG) {
		if ((rc = check_readable(v, 0)))
			return rc;
		if (is_ptr(R(v, 0)))
			return fail(v, "cmpxchg compares pointer r0 (would leak its address)");
	}
	if ((in->imm & EBPF_FETCH) && in->imm != EBPF_CMPXCHG &&
	    (rc = check_writable_reg(v, in->src)))
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

/* ---- calls ---- */

static int check_helper_call(struct verifier *v, const struct ebpf_insn *in)
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
			return fail(v, "helper %s: argument r%d is not initialised", h->name, r);
		if (t == EBPF_ARG_SCALAR) {
			if (reg->type != T_SCALAR)
				return fail(v, "helper %s: argument r%d must be a number, not %s",
					    h->name, r, type_name(v, reg));
			continue;
		}
		if (t == EBPF_ARG_CTX) {
			if (reg->type != T_CTX || !bounds_is_const(&reg->b) || reg->b.t.v != 0)
				return fail(v,
					    "helper %s: argument r%d must be the context pointer",
					    h->name, r);
			continue;
		}
		/* buffer + size */
		{
			struct reg *sz = R(v, r + 1), p = *reg;
			enum acc acc = t == EBPF_ARG_MEM_WO ? ACC_WRITE : ACC_READ;

			if (sz->type != T_SCALAR)
				return fail(v, "helper %s: size argument r%d must be a number%s",
					    h->name, r + 1,
					    sz->type == T_NOINIT ? " (it is uninitialised)" : "");
			if (!is_ptr(reg))
				return fail(v,
					    "helper %s: argument r%d must point to memory, not %s",
					    h->name, r, type_name(v, reg));
			if (sz->b.umax > EBPF_MAX_MEM_SIZE)
				return fail(v,
					    "helper %s: size r%d is not bounded (max %" PRIu64 ")",
					    h->name, r + 1, sz->b.umax);
			if (reg->type == T_STACK && !bounds_is_const(&reg->b))
				return fail(v, "helper %s: variable-offset stack buffer r%d",
					    h->name, r);
			if (acc == ACC_READ) {
				rc = access_mem(v, r, &p, 0, sz->b.umax, ACC_READ, false, NULL,
						NULL);
				if (rc)
					return rc;
				if (p.type == T_CTX &&
				    ctx_field_in(v, p.b.smin, p.b.smax + (int64_t)sz->b.umax) >= 0)
					return fail(v,
						    "helper %s: buffer r%d covers a pointer field",
						    h->name, r);
			} else if (reg->type == T_STACK) {
				/* the bytes the helper certainly writes become data;
				 * the others it may write lose their spilled values */
				struct vframe *f = &v->cur->fr[reg->frame];
				int64_t lo = reg->b.smin + EBPF_STACK_SIZE;

				if (sz->b.umin > 0 && lo < f->lo)
					f->lo = (int)lo;

				if (reg->b.smin < -EBPF_STACK_SIZE ||
				    reg->b.smin + (int64_t)sz->b.umax > 0)
					return fail(v,
						    "helper %s: stack buffer r%d of up to %" PRIu64
						    " bytes at r10%+" PRId64 " out of bounds",
						    h->name, r, sz->b.umax, reg->b.smin);
				for (int64_t i = lo; i < lo + (int64_t)sz->b.umax; i++) {
					if (f->stype[i] == S_SPILL) {
						if (f->spill[i / 8].type != T_SCALAR)
							return fail(v,
								    "helper %s: buffer r%d "
								    "overwrites a spilled pointer",
								    h->name, r);
						memset(&f->stype[i & ~7], S_MISC, 8);
					}
					if (i < lo + (int64_t)sz->b.umin)
						f->stype[i] = S_MISC;
				}
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

static int do_local_call(struct verifier *v, const struct ebpf_insn *in)
{
	struct vstate *s = v->cur;
	struct vframe *caller = curf(v), *callee;

	if (s->nframes >= EBPF_MAX_FRAMES)
		return fail(v, "call depth exceeds %d frames (recursion?)", EBPF_MAX_FRAMES);
	callee = &s->fr[s->nframes++];
	memset(callee, 0, sizeof(*callee));
	callee->callsite = v->idx;
	callee->lo = EBPF_STACK_SIZE;
	for (int r = 1; r <= 5; r++)
		callee->regs[r] = caller->regs[r];
	callee->regs[10].type = T_STACK;
	callee->regs[10].frame = (uint8_t)(s->nframes - 1);
	callee->regs[10].b = bounds_const(0);
	s->insn = v->idx + 1 + in->imm;
	return 0;
}

/* 1: the path ended (exit of main) */
static int do_exit(struct verifier *v)
{
	struct vstate *s = v->cur;
	struct reg *r0 = R(v, 0);
	struct vframe *caller;

	if (r0->type == T_NOINIT)
		return fail(v, "r0 is not initialised at exit");
	if (r0->type != T_SCALAR)
		return fail(v, "r0 is %s at exit: returning a pointer would leak its address",
			    type_name(v, r0));
	if (s->nframes == 1)
		return 1;
	caller = &s->fr[s->nframes - 2];
	caller->regs[0] = *r0;
	for (int r = 1; r <= 5; r++)
		caller->regs[r].type = T_NOINIT;
	s->insn = s->fr[s->nframes - 1].callsite + 1;
	s->nframes--;
	/* no register or slot of the caller may point into the dead frame */
	for (int f = 0; f < s->nframes; f++) {
		for (int r = 0; r < 11; r++)
			if (s->fr[f].regs[r].type == T_STACK &&
			    s->fr[f].regs[r].frame >= s->nframes)
				s->fr[f].regs[r].type = T_NOINIT;
	}
	return 0;
}

/* ---- conditional jumps ---- */

static unsigned signed_version(unsigned op)
{
	switch (op) {
	case EBPF_JGT:
		return EBPF_JSGT;
	case EBPF_JGE:
		return EBPF_JSGE;
	case EBPF_JLT:
		return EBPF_JSLT;
	case EBPF_JLE:
		return EBPF_JSLE;
	default:
		return op;
	}
}

static bool is_signed_jmp(unsigned op)
{
	return op == EBPF_JSGT || op == EBPF_JSGE || op == EBPF_JSLT || op == EBPF_JSLE;
}

/*
 * Refine registers `d` and `s` (s may be a temporary for an immediate) in
 * state st assuming `op` holds. Returns false if impossible.
 */
static bool refine(unsigned op, bool j32, struct reg *d, struct reg *s)
{
	if (is_ptr(d)) {
		/* same object: addresses compare like their offsets, which
		 * are small; unsigned order equals signed order of offsets */
		return bounds_refine(signed_version(op), &d->b, &s->b);
	}
	if (!j32)
		return bounds_refine(op, &d->b, &s->b);
	{
		bool sg = is_signed_jmp(op);
		struct bounds a = bounds_trunc32(d->b), b = bounds_trunc32(s->b);
		/* the 64-bit value equals its 32-bit view: refinement carries over */
		bool dex = sg ? d->b.umax <= INT32_MAX : d->b.umax <= UINT32_MAX;
		bool sex = sg ? s->b.umax <= INT32_MAX : s->b.umax <= UINT32_MAX;

		if (sg) {
			a = bounds_sext(a, 32);
			b = bounds_sext(b, 32);
		}
		if (!bounds_refine(op, &a, &b))
			return false;
		if (dex)
			d->b = a;
		if (sex)
			s->b = b;
		return true;
	}
}

static bool ptr_in_object(struct verifier *v, const struct reg *p)
{
	bool w;
	const char *name;

	if (p->type == T_STACK)
		return p->b.smin >= -EBPF_STACK_SIZE && p->b.smax <= 0;
	return p->b.smin >= 0 && p->b.smax <= (int64_t)obj_size(v, p, &w, &name);
}

/* give every copy of r (same id) the bounds just learned on r */
static void propagate_id(struct vstate *st, const struct reg *r)
{
	if (r->type != T_SCALAR || !r->id)
		return;
	for (int f = 0; f < st->nframes; f++) {
		struct vframe *fr = &st->fr[f];

		for (int k = 0; k < 11; k++)
			if (fr->regs[k].type == T_SCALAR && fr->regs[k].id == r->id)
				fr->regs[k].b = r->b;
		for (int k = fr->lo / 8; k < EBPF_STACK_SIZE / 8; k++)
			if (fr->stype[k * 8] == S_SPILL && fr->spill[k].type == T_SCALAR &&
			    fr->spill[k].id == r->id)
				fr->spill[k].b = r->b;
	}
}

static int do_cond_jmp(struct verifier *v, const struct ebpf_insn *in, bool *taken_only,
		       bool *fall_only, struct vstate *taken)
{
	bool j32 = EBPF_CLASS(in->code) == EBPF_JMP32, x = EBPF_SRC(in->code) == EBPF_X;
	unsigned op = EBPF_OP(in->code);
	struct reg sv, *d, *s;
	bool t_ok, f_ok;
	int rc;

	if ((rc = check_readable(v, in->dst)))
		return rc;
	if (x) {
		if ((rc = check_readable(v, in->src)))
			return rc;
		sv = *R(v, in->src);
	} else {
		set_scalar(&sv, bounds_const(j32 ? (uint32_t)in->imm : (uint64_t)(int64_t)in->imm));
	}
	d = R(v, in->dst);
	if (is_ptr(d) || is_ptr(&sv)) {
		if (!is_ptr(d) || !is_ptr(&sv) || !same_object(d, &sv))
			return fail(v, "comparison of %s with %s would leak an address",
				    type_name(v, d), type_name(v, &sv));
		if (j32 || op == EBPF_JSET)
			return fail(v, "%s comparison of pointers would leak an address",
				    j32 ? "32-bit" : "jset");
		/* offsets compare like addresses only if neither can wrap:
		 * both must point into the object or one past its end */
		if (!ptr_in_object(v, d) || !ptr_in_object(v, &sv))
			return fail(v, "comparison of pointers outside their object");
	}
	/* taken branch: a copy of the state with the condition assumed */
	memcpy(taken, v->cur, state_size(v->cur->nframes));
	{
		struct reg *td = &taken->fr[taken->nframes - 1].regs[in->dst];
		struct reg tsv = sv, *ts = x ? &taken->fr[taken->nframes - 1].regs[in->src] : &tsv;

		t_ok = refine(op, j32, td, ts);
		if (t_ok) {
			propagate_id(taken, td);
			if (x)
				propagate_id(taken, ts);
		}
	}
	s = x ? R(v, in->src) : &sv;
	f_ok = refine(jmp_negate(op), j32, d, s);
	if (f_ok) {
		propagate_id(v->cur, d);
		if (x)
			propagate_id(v->cur, s);
	}
	*taken_only = t_ok && !f_ok;
	*fall_only = f_ok && !t_ok;
	if (!t_ok && !f_ok)
		return 1; /* dead path (inconsistent state): nothing to explore */
	return 0;
}

/* ---- main loop ---- */

static int step(struct verifier *v, struct vstate *scratch)
{
	const struct ebpf_insn *in = &v->insns[v->idx];
	unsigned cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
	int rc;

	switch (cls) {
	case EBPF_ALU:
	case EBPF_ALU64:
		rc = do_alu(v, in);
		v->cur->insn++;
		return rc;
	case EBPF_LD: /* lddw */
		if ((rc = check_writable_reg(v, in->dst)))
			return rc;
		set_scalar(R(v, in->dst),
			   bounds_const((uint32_t)in->imm | ((uint64_t)(uint32_t)in[1].imm << 32)));
		v->cur->insn += 2;
		return 0;
	case EBPF_LDX:
		rc = do_ldx(v, in);
		v->cur->insn++;
		return rc;
	case EBPF_ST:
		rc = do_store(v, in);
		v->cur->insn++;
		return rc;
	case EBPF_STX:
		rc = EBPF_MODE(in->code) == EBPF_ATOMIC ? do_atomic(v, in) : do_store(v, in);
		v->cur->insn++;
		return rc;
	}
	/* jumps */
	if (op == EBPF_JA) {
		v->cur->insn = v->idx + 1 + (cls == EBPF_JMP32 ? in->imm : in->off);
		return 0;
	}
	if (op == EBPF_EXIT)
		return do_exit(v);
	if (op == EBPF_CALL) {
		if (in->src == EBPF_PSEUDO_CALL_LOCAL)
			return do_local_call(v, in);
		rc = check_helper_call(v, in);
		v->cur->insn++;
		return rc;
	}
	{
		bool taken_only = false, fall_only = false;
		int target = v->idx + 1 + in->off;

		rc = do_cond_jmp(v, in, &taken_only, &fall_only, scratch);
		if (rc)
			return rc;
		if (taken_only) {
			memcpy(v->cur, scratch, state_size(scratch->nframes));
			v->cur->insn = target;
			return 0;
		}
		v->cur->insn = v->idx + 1;
		if (fall_only)
			return 0;
		scratch->insn = target;
		rc = push_branch(v, scratch);
		return rc;
	}
}

static void init_state(struct verifier *v, struct vstate *s)
{
	memset(s, 0, state_size(1));
	s->insn = 0;
	s->nframes = 1;
	s->fr[0].callsite = -1;
	s->fr[0].lo = EBPF_STACK_SIZE;
	s->fr[0].regs[1].type = T_CTX;
	s->fr[0].regs[1].b = bounds_const(0);
	set_scalar(&s->fr[0].regs[2], bounds_const(v->env->ctx_size));
	s->fr[0].regs[10].type = T_STACK;
	s->fr[0].regs[10].b = bounds_const(0);
}

static int explore(struct verifier *v)
{
	struct vstate *scratch = arena_alloc(v, sizeof(struct vstate));
	int rc = 0;

	v->cur = arena_alloc(v, sizeof(struct vstate));
	if (!scratch || !v->cur) {
		rc = -ENOMEM;
		goto out;
	}
	init_state(v, v->cur);
	v->owner = NULL;
	for (;;) {
		bool ended = false;

		v->idx = v->cur->insn;
		if (++v->processed > MAX_PROCESSED) {
			fail(v,
			     "program too complex: more than %d instructions explored "
			     "(loop not proven bounded?)",
			     MAX_PROCESSED);
			rc = -E2BIG;
			goto out;
		}
		if (v->is_prune[v->idx]) {
			rc = visit_prune_point(v);
			if (rc < 0)
				goto out;
			ended = rc == 1;
		}
		if (!ended) {
			rc = step(v, scratch);
			if (rc == -E2BIG)
				fail(v,
				     "program too complex: more than %d branches pending "
				     "(loop not proven bounded?)",
				     MAX_PENDING);
			if (rc < 0)
				goto out;
			ended = rc == 1;
		}
		if (!ended)
			continue;
		path_done(v);
		if (!v->nstack)
			break;
		v->nstack--;
		memcpy(v->cur, v->stack[v->nstack].st, state_size(v->stack[v->nstack].st->nframes));
		free(v->stack[v->nstack].st);
		v->owner = v->stack[v->nstack].owner;
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		fail(v, "out of memory");
	while (v->nstack)
		free(v->stack[--v->nstack].st);
	return rc;
}

int ebpf_verify(const struct ebpf_env *env, const struct ebpf_insn *insns, size_t n,
		struct ebpf_error *err, uint64_t *insns_processed, uint64_t *states_stored)
{
	struct verifier v = { .env = env, .insns = insns, .n = n, .err = err, .idx = -1 };
	int rc = -ENOMEM;

	v.is_prune = malloc(n);
	v.rel = malloc(n * sizeof(*v.rel));
	v.seen = calloc(n, sizeof(*v.seen));
	if (!v.is_prune || !v.seen || !v.rel) {
		ebpf_fail(err, -1, "out of memory");
		goto out;
	}
	rc = ebpf_check_cfg(env, insns, n, v.is_prune, err);
	if (!rc) {
		rc = compute_relevance(&v);
		if (rc)
			ebpf_fail(err, -1, "out of memory");
	}
	if (!rc)
		rc = explore(&v);
out:
	arena_release(&v);
	free(v.is_prune);
	free(v.rel);
	free(v.seen);
	free(v.stack);
	if (insns_processed)
		*insns_processed = v.processed;
	if (states_stored)
		*states_stored = v.nstates;
	return rc;
}
