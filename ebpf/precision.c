// SPDX-License-Identifier: MIT
/*
 * Precision: which numbers of a checkpoint the verifier relied on.
 *
 * A number held in a register or a spilled slot is "precise" at a
 * checkpoint if some path explored below it used its value (or a value
 * computed from it) for something the verifier decided: an offset added to
 * a pointer, a helper's buffer size, or a conditional jump one side of
 * which was found impossible (the path taken depended on the value).
 * Everything else about the value only fed other numbers that decided
 * nothing, so a later state that differs there (counter = 3 here, 5 there)
 * is just as safe: vstate.c compares explored checkpoints by value on their
 * precise numbers only.
 *
 * The marks are made by backtracking, as Linux does: when the verifier
 * relies on a value, it walks the current path backwards through its
 * history (one entry per instruction), turning "r2 is needed after
 * r2 += r3" into "r2 and r3 are needed before it", and so on, and marks
 * what is needed in every checkpoint the path passed. When a path is pruned
 * by an explored checkpoint, that checkpoint's marks are needed at the
 * point of pruning and are backtracked the same way. Since every path below
 * a checkpoint has ended (exit, pruning, dead branch) before the checkpoint
 * is used to prune, its marks are complete by then.
 *
 * Registers linked by a copy (same id) get the bounds a jump learns on one
 * of them: a jump that refines a register with copies makes its operands
 * precise (verifier.c), so that whatever a copy's bounds came from is
 * precise too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "verifier.h"

int vfy_hist_push(struct verifier *v)
{
	struct hent *e;

	if (v->nhist == v->caphist) {
		size_t n = v->caphist ? v->caphist * 2 : 1024;
		size_t grow = (n - v->caphist) * sizeof(*e);

		if (v->mem + grow > MAX_MEMORY)
			return -E2BIG;
		e = realloc(v->hist, n * sizeof(*e));
		if (!e)
			return -ENOMEM;
		v->hist = e;
		v->caphist = n;
		v->mem += grow;
		vfy_charge(v, grow / WORK_FRESH_BYTES);
	}
	e = &v->hist[v->nhist++];
	e->insn = v->cur->insn;
	e->frame = (uint8_t)(v->cur->nframes - 1);
	e->sframe = e->slot = e->flags = 0;
	return 0;
}

/* what is needed precise, per frame */
struct need {
	uint16_t regs[EBPF_MAX_FRAMES];
	uint64_t slots[EBPF_MAX_FRAMES];
};

/* nothing is needed in frames 0..top (no frame above exists there) */
static bool need_empty(const struct need *n, int top)
{
	for (int f = 0; f <= top; f++)
		if (n->regs[f] || n->slots[f])
			return false;
	return true;
}

/*
 * n holds what is needed after history entry e; make it what is needed
 * before. Only numbers matter: a pointer's offset is always compared, and
 * what it was computed from was marked when it was computed.
 */
static void backtrack_insn(const struct verifier *v, const struct hent *e, struct need *n)
{
	const struct ebpf_insn *in = &v->insns[e->insn];
	unsigned cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
	int f = e->frame;
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	bool x = EBPF_SRC(in->code) == EBPF_X;
	uint64_t slot = 1ull << e->slot;

	switch (cls) {
	case EBPF_ALU:
	case EBPF_ALU64:
		if (!(n->regs[f] & d))
			return;
		if (op == EBPF_MOV) {
			n->regs[f] &= (uint16_t)~d;
			if (x)
				n->regs[f] |= s;
		} else if (x && op != EBPF_NEG && op != EBPF_END) {
			n->regs[f] |= s; /* d op= s: d's old value and s */
		}
		return;
	case EBPF_LD: /* lddw: a constant */
		n->regs[f] &= (uint16_t)~d;
		return;
	case EBPF_LDX:
		if (!(n->regs[f] & d))
			return;
		n->regs[f] &= (uint16_t)~d;
		if (e->flags & H_RELOAD)
			n->slots[e->sframe] |= slot;
		return;
	case EBPF_ST:
		if (e->flags & H_SPILL)
			n->slots[e->sframe] &= ~slot;
		return;
	case EBPF_STX:
		if (EBPF_MODE(in->code) == EBPF_ATOMIC) {
			/* the fetched old value is unknown, whatever it was */
			if (in->imm == EBPF_CMPXCHG)
				n->regs[f] &= (uint16_t)~1u;
			else if (in->imm & EBPF_FETCH)
				n->regs[f] &= (uint16_t)~s;
			return;
		}
		if ((e->flags & H_SPILL) && (n->slots[e->sframe] & slot)) {
			n->slots[e->sframe] &= ~slot;
			n->regs[f] |= s;
		}
		return;
	}
	/* jumps */
	if (op == EBPF_JA)
		return;
	if (op == EBPF_CALL) {
		if (in->src == EBPF_PSEUDO_CALL_LOCAL) {
			/* the callee's r1-r5 were the caller's; nothing of
			 * the callee existed before */
			n->regs[f] |= n->regs[f + 1] & 0x3e;
			n->regs[f + 1] = 0;
			n->slots[f + 1] = 0;
		} else {
			/* r0 is the helper's result, r1-r5 are cleared (the
			 * size argument was marked when it was checked) */
			n->regs[f] &= (uint16_t)~0x3fu;
		}
		return;
	}
	if (op == EBPF_EXIT) {
		/* from callee f to caller f - 1 (main's exit ends a path) */
		n->regs[f] = n->regs[f - 1] & 1u;
		n->slots[f] = 0;
		n->regs[f - 1] &= (uint16_t)~0x3fu;
		return;
	}
	/* a conditional jump refines both operands from each other */
	if (x && (n->regs[f] & (d | s)))
		n->regs[f] |= (uint16_t)(d | s);
}

/*
 * Mark n in checkpoint c (its state is the one before history entry
 * c->hpos) and drop from n what c already had: what c's marks were
 * computed from was marked above c when they were made.
 */
static void mark_checkpoint(struct verifier *v, struct checkpoint *c, struct need *n)
{
	for (int f = 0; f < EBPF_MAX_FRAMES; f++) {
		struct pframe *pf;
		uint16_t r;
		uint64_t s;

		if (f >= c->st.nframes) {
			n->regs[f] = 0;
			n->slots[f] = 0;
			continue;
		}
		pf = packed_frame(&c->st, f);
		r = n->regs[f] & pf->scalars;
		s = n->slots[f] & pf->sspilled;
		n->regs[f] = r & (uint16_t)~pf->prec_regs;
		n->slots[f] = s & ~pf->prec_slots;
		pf->prec_regs |= r;
		pf->prec_slots |= s;
	}
	vfy_charge(v, (uint64_t)c->st.nframes);
}

/* n is needed in the state before history entry pos of the current path */
static int backtrack(struct verifier *v, size_t pos, struct need *n)
{
	struct checkpoint *c = v->owner;
	size_t next = c ? c->hpos : SIZE_MAX; /* checkpoints precede pos */

	for (;;) {
		if (pos == next) {
			mark_checkpoint(v, c, n);
			c = c->parent;
			next = c ? c->hpos : SIZE_MAX;
		}
		if (pos == 0 || need_empty(n, v->hist[pos].frame))
			return 0;
		pos--;
		vfy_charge(v, 1);
		if ((pos & 1023) == 0 && vfy_check_budget(v))
			return -E2BIG;
		backtrack_insn(v, &v->hist[pos], n);
	}
}

int vfy_mark_precise(struct verifier *v, uint16_t regs)
{
	struct need n;

	memset(&n, 0, sizeof(n));
	n.regs[v->cur->nframes - 1] = regs;
	return backtrack(v, v->nhist - 1, &n);
}

int vfy_propagate_precision(struct verifier *v, const struct packed *o, const uint16_t *regs)
{
	struct need n;

	memset(&n, 0, sizeof(n));
	for (int f = 0; f < o->nframes; f++) {
		const struct pframe *pf = packed_frame(o, f);

		n.regs[f] = pf->prec_regs & regs[f];
		n.slots[f] = pf->prec_slots & pf->live;
	}
	vfy_charge(v, (uint64_t)o->nframes);
	return backtrack(v, v->nhist - 1, &n);
}
