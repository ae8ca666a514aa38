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
#include "verifier.h"

int vfy_fail(struct verifier *v, const char *fmt, ...)
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

/* ---- registers ---- */

int vfy_check_readable(struct verifier *v, int r)
{
	if (R(v, r)->type == T_NOINIT)
		return vfy_fail(v, "r%d is read before it is initialised", r);
	return 0;
}

int vfy_check_budget(struct verifier *v)
{
	if (v->work <= MAX_WORK)
		return 0;
	vfy_fail(v,
		 "program too complex: verifying it takes more than %d work units "
		 "(%" PRIu64 " instructions explored, %" PRIu64 " states stored): too many "
		 "paths, or a loop not proven bounded",
		 MAX_WORK, v->processed, v->nstates);
	return -E2BIG;
}

int vfy_check_writable_reg(struct verifier *v, int r)
{
	if (r == 10)
		return vfy_fail(v, "r10 (frame pointer) is read-only");
	return 0;
}

static int check_ptr_off(struct verifier *v, const struct bounds *b, int r)
{
	if (b->smin < -MAX_PTR_OFF || b->smax > MAX_PTR_OFF)
		return vfy_fail(v,
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

	if ((rc = vfy_check_writable_reg(v, in->dst)))
		return rc;
	if (op == EBPF_MOV) {
		if (!x) {
			set_scalar(d, bounds_const(is64 ? (uint64_t)(int64_t)in->imm :
							  (uint32_t)in->imm));
			return 0;
		}
		if ((rc = vfy_check_readable(v, in->src)))
			return rc;
		srcv = *R(v, in->src);
		if (is_ptr(&srcv) && (!is64 || in->off))
			return vfy_fail(v, "%s of pointer r%d would leak its address",
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
	if ((rc = vfy_check_readable(v, in->dst)))
		return rc;
	if (op == EBPF_NEG || op == EBPF_END) {
		if (is_ptr(d))
			return vfy_fail(v, "%s on pointer r%d prohibited", op_name(op), in->dst);
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
		if ((rc = vfy_check_readable(v, in->src)))
			return rc;
		srcv = *R(v, in->src);
	} else {
		set_scalar(&srcv,
			   bounds_const(is64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm));
	}
	if (is_ptr(d) || is_ptr(&srcv)) {
		bool dp = is_ptr(d), sp = is_ptr(&srcv);

		if (!is64)
			return vfy_fail(v, "32-bit %s on pointer r%d prohibited", op_name(op),
					dp ? in->dst : in->src);
		if (op == EBPF_ADD && !(dp && sp)) {
			struct reg p = dp ? *d : srcv, s = dp ? srcv : *d;

			/* the offset depends on the number's value */
			if ((x || !dp) &&
			    (rc = vfy_mark_precise(v, (uint16_t)(1u << (dp ? in->src : in->dst)))))
				return rc;
			p.b = bounds_alu(EBPF_ADD, false, p.b, s.b);
			if ((rc = check_ptr_off(v, &p.b, in->dst)))
				return rc;
			p.id = 0;
			*d = p;
			return 0;
		}
		if (op == EBPF_SUB && dp && !sp) {
			if (x && (rc = vfy_mark_precise(v, (uint16_t)(1u << in->src))))
				return rc;
			d->b = bounds_alu(EBPF_SUB, false, d->b, srcv.b);
			return check_ptr_off(v, &d->b, in->dst);
		}
		if (op == EBPF_SUB && dp && sp && same_object(d, &srcv)) {
			set_scalar(d, bounds_alu(EBPF_SUB, false, d->b, srcv.b));
			return 0;
		}
		if (dp && sp)
			return vfy_fail(v, "%s of two pointers r%d, r%d prohibited", op_name(op),
					in->dst, in->src);
		return vfy_fail(v, "%s on pointer r%d prohibited (only add/sub of a number)",
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

/* ---- calls ---- */

static int do_local_call(struct verifier *v, const struct ebpf_insn *in)
{
	struct vstate *s = v->cur;
	struct vframe *caller = curf(v), *callee;

	if (s->nframes >= EBPF_MAX_FRAMES)
		return vfy_fail(v, "call depth exceeds %d frames (recursion?)", EBPF_MAX_FRAMES);
	callee = &s->fr[s->nframes++];
	memset(callee, 0, offsetof(struct vframe, spill)); /* no spills */
	vfy_charge(v, offsetof(struct vframe, spill) / WORK_COPY_BYTES);
	callee->callsite = v->idx;
	callee->written = ~0ull; /* a new frame: nothing of it is older */
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
		return vfy_fail(v, "r0 is not initialised at exit");
	if (r0->type != T_SCALAR)
		return vfy_fail(v, "r0 is %s at exit: returning a pointer would leak its address",
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
	vfy_charge(v, (uint64_t)s->nframes * 11);
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
	return p->b.smin >= 0 && p->b.smax <= (int64_t)vfy_obj_size(v, p, &w, &name);
}

/* give every copy of r (same id) the bounds just learned on r; returns
 * how many copies there are besides r */
static int propagate_id(struct verifier *v, struct vstate *st, const struct reg *r)
{
	int copies = 0;

	if (r->type != T_SCALAR || !r->id)
		return 0;
	for (int f = 0; f < st->nframes; f++) {
		struct vframe *fr = &st->fr[f];

		vfy_charge(v, 11);
		for (int k = 0; k < 11; k++)
			if (fr->regs[k].type == T_SCALAR && fr->regs[k].id == r->id) {
				copies += &fr->regs[k] != r;
				fr->regs[k].b = r->b;
			}
		for (uint64_t sl = fr->spilled; sl; sl &= sl - 1) {
			int k = __builtin_ctzll(sl);

			vfy_charge(v, 1);
			if (fr->spill[k].type == T_SCALAR && fr->spill[k].id == r->id) {
				copies++;
				fr->spill[k].b = r->b;
			}
		}
	}
	return copies;
}

static int do_cond_jmp(struct verifier *v, const struct ebpf_insn *in, bool *taken_only,
		       bool *fall_only, struct vstate *taken)
{
	bool j32 = EBPF_CLASS(in->code) == EBPF_JMP32, x = EBPF_SRC(in->code) == EBPF_X;
	unsigned op = EBPF_OP(in->code);
	struct reg sv, *d, *s;
	bool t_ok, f_ok;
	int rc, copies = 0;

	if ((rc = vfy_check_readable(v, in->dst)))
		return rc;
	if (x) {
		if ((rc = vfy_check_readable(v, in->src)))
			return rc;
		sv = *R(v, in->src);
	} else {
		set_scalar(&sv, bounds_const(j32 ? (uint32_t)in->imm : (uint64_t)(int64_t)in->imm));
	}
	d = R(v, in->dst);
	if (is_ptr(d) || is_ptr(&sv)) {
		if (!is_ptr(d) || !is_ptr(&sv) || !same_object(d, &sv))
			return vfy_fail(v, "comparison of %s with %s would leak an address",
					type_name(v, d), type_name(v, &sv));
		if (j32 || op == EBPF_JSET)
			return vfy_fail(v, "%s comparison of pointers would leak an address",
					j32 ? "32-bit" : "jset");
		/* offsets compare like addresses only if neither can wrap:
		 * both must point into the object or one past its end */
		if (!ptr_in_object(v, d) || !ptr_in_object(v, &sv))
			return vfy_fail(v, "comparison of pointers outside their object");
	}
	/* taken branch: a copy of the state with the condition assumed */
	vfy_copy_state(v, taken, v->cur);
	{
		struct reg *td = &taken->fr[taken->nframes - 1].regs[in->dst];
		struct reg tsv = sv, *ts = x ? &taken->fr[taken->nframes - 1].regs[in->src] : &tsv;

		t_ok = refine(op, j32, td, ts);
		if (t_ok) {
			copies += propagate_id(v, taken, td);
			if (x)
				copies += propagate_id(v, taken, ts);
		}
	}
	s = x ? R(v, in->src) : &sv;
	f_ok = refine(jmp_negate(op), j32, d, s);
	if (f_ok) {
		copies += propagate_id(v, v->cur, d);
		if (x)
			copies += propagate_id(v, v->cur, s);
	}
	/*
	 * The paths explored depend on the operands' values if a side is
	 * impossible; copies of them get bounds computed from both. Either
	 * way the operands' values are relied on (precision.c).
	 */
	if ((!t_ok || !f_ok || copies) &&
	    (rc = vfy_mark_precise(v, (uint16_t)(1u << in->dst | (x ? 1u << in->src : 0)))))
		return rc;
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
		if ((rc = vfy_check_writable_reg(v, in->dst)))
			return rc;
		set_scalar(R(v, in->dst),
			   bounds_const((uint32_t)in->imm | ((uint64_t)(uint32_t)in[1].imm << 32)));
		v->cur->insn += 2;
		return 0;
	case EBPF_LDX:
		rc = vfy_do_ldx(v, in);
		v->cur->insn++;
		return rc;
	case EBPF_ST:
		rc = vfy_do_store(v, in);
		v->cur->insn++;
		return rc;
	case EBPF_STX:
		rc = EBPF_MODE(in->code) == EBPF_ATOMIC ? vfy_do_atomic(v, in) :
							  vfy_do_store(v, in);
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
		rc = vfy_check_helper_call(v, in);
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
			vfy_copy_state(v, v->cur, scratch);
			v->cur->insn = target;
			return 0;
		}
		v->cur->insn = v->idx + 1;
		if (fall_only)
			return 0;
		scratch->insn = target;
		rc = vfy_push_branch(v, scratch);
		return rc;
	}
}

static void init_state(struct verifier *v, struct vstate *s)
{
	memset(s, 0, state_size(1));
	s->insn = 0;
	s->nframes = 1;
	s->fr[0].callsite = -1;
	s->fr[0].regs[1].type = T_CTX;
	s->fr[0].regs[1].b = bounds_const(0);
	set_scalar(&s->fr[0].regs[2], bounds_const(v->env->ctx_size));
	s->fr[0].regs[10].type = T_STACK;
	s->fr[0].regs[10].b = bounds_const(0);
}

static int explore(struct verifier *v)
{
	struct vstate *scratch = vfy_arena_alloc(v, sizeof(struct vstate));
	int rc = 0;

	v->cur = vfy_arena_alloc(v, sizeof(struct vstate));
	if (!scratch || !v->cur) {
		rc = -ENOMEM;
		goto out;
	}
	init_state(v, v->cur);
	v->owner = NULL;
	for (;;) {
		bool ended = false;

		v->idx = v->cur->insn;
		v->processed++;
		vfy_charge(v, WORK_INSN);
		if ((rc = vfy_check_budget(v)))
			goto out;
		if ((rc = vfy_hist_push(v))) {
			if (rc == -E2BIG)
				vfy_fail(v,
					 "program too complex: more than %u MiB of states and "
					 "path history (a path of %zu instructions)",
					 MAX_MEMORY >> 20, v->nhist);
			goto out;
		}
		if (v->is_prune[v->idx]) {
			rc = vfy_visit_prune_point(v);
			if (rc < 0)
				goto out;
			ended = rc == 1;
		}
		if (!ended) {
			rc = step(v, scratch);
			if (rc == -E2BIG && !vfy_check_budget(v))
				vfy_fail(v,
					 "program too complex: more than %d branches pending or "
					 "%u MiB of states (loop not proven bounded?)",
					 MAX_PENDING, MAX_MEMORY >> 20);
			if (rc < 0)
				goto out;
			ended = rc == 1;
		}
		if (!ended)
			continue;
		vfy_path_done(v);
		if (!vfy_pop_branch(v))
			break;
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		vfy_fail(v, "out of memory");
	return rc;
}

/*
 * A prune point (where checkpoints are stored) at least every PRUNE_EVERY
 * instructions of straight-line code, besides jump targets: backtracking
 * (precision.c) walks a path back to the nearest checkpoint at least, so
 * with no checkpoint in a long stretch, every value the verifier relies on
 * there would walk back all of it (quadratic: 15,000 instructions of
 * index arithmetic ran out of budget).
 */
#define PRUNE_EVERY 64

static void add_prune_points(struct verifier *v)
{
	size_t last = 0;

	for (size_t i = 0; i < v->n; i += v->insns[i].code == EBPF_OPC_LDDW ? 2 : 1) {
		if (v->is_prune[i] || i - last >= PRUNE_EVERY) {
			v->is_prune[i] = v->is_prune[i] ? v->is_prune[i] : 1;
			last = i;
		}
	}
}

int ebpf_verify(const struct ebpf_env *env, const struct ebpf_insn *insns, size_t n,
		struct ebpf_error *err, struct ebpf_verify_stats *stats)
{
	struct verifier v = { .env = env, .insns = insns, .n = n, .err = err, .idx = -1 };
	int rc = -ENOMEM;

	v.is_prune = malloc(n);
	v.rel = malloc(n * sizeof(*v.rel));
	v.live = malloc(n * sizeof(*v.live));
	v.seen = calloc(n, sizeof(*v.seen));
	if (!v.is_prune || !v.seen || !v.rel || !v.live) {
		ebpf_fail(err, -1, "out of memory");
		goto out;
	}
	/* the structural pass and the per-instruction arrays of cfg.c, this
	 * file and relevance.c: about 80 bytes of fresh memory per instruction */
	vfy_charge(&v, (uint64_t)n * 80 / WORK_FRESH_BYTES);
	rc = ebpf_check_cfg(env, insns, n, v.is_prune, err);
	if (!rc) {
		add_prune_points(&v);
		rc = vfy_idmap_init(&v);
		if (!rc)
			rc = vfy_compute_relevance(&v);
		if (rc)
			ebpf_fail(err, -1, "out of memory");
	}
	if (!rc)
		rc = explore(&v);
out:
	vfy_arena_release(&v);
	free(v.is_prune);
	free(v.rel);
	free(v.live);
	free(v.seen);
	free(v.stack);
	free(v.hist);
	if (stats) {
		stats->insns = v.processed;
		stats->states = v.nstates;
		stats->work = v.work;
		stats->max_work = MAX_WORK;
	}
	return rc;
}
