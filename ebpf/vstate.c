// SPDX-License-Identifier: MIT
/*
 * Verifier states: comparison for pruning and loop detection, the static
 * relevance analysis that decides which registers' values matter, the
 * checkpoints stored at jump targets, the pending-branch stack and the arena
 * they live in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "verifier.h"

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

int vfy_compute_relevance(struct verifier *v)
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

void vfy_path_done(struct verifier *v)
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

void *vfy_arena_alloc(struct verifier *v, size_t size)
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
	v->mem += size;
	return p;
}

void vfy_arena_release(struct verifier *v)
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
 * checkpoints are referenced by nothing live: vfy_path_done() only walks up from
 * live owners, whose ancestors are all live.
 */
int vfy_visit_prune_point(struct verifier *v)
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
			return vfy_fail(v, "infinite loop: this state repeats without progress "
					   "(the loop is not proven bounded)");
		}
		pp = &c->next;
	}
	if (v->nlive >= MAX_STATES_TOTAL)
		return 0;
	if (!v->free_cp[v->cur->nframes] &&
	    v->mem + offsetof(struct checkpoint, st) + state_size(v->cur->nframes) > MAX_MEMORY)
		return 0; /* out of budget: keep exploring, prune less */
	c = v->free_cp[v->cur->nframes];
	if (c)
		v->free_cp[v->cur->nframes] = c->next;
	else
		c = vfy_arena_alloc(v,
				    offsetof(struct checkpoint, st) + state_size(v->cur->nframes));
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

int vfy_push_branch(struct verifier *v, const struct vstate *st)
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
	if (v->mem + state_size(st->nframes) > MAX_MEMORY)
		return -E2BIG;
	copy = malloc(state_size(st->nframes));
	if (!copy)
		return -ENOMEM;
	v->mem += state_size(st->nframes);
	memcpy(copy, st, state_size(st->nframes));
	v->stack[v->nstack].st = copy;
	v->stack[v->nstack].owner = v->owner;
	v->nstack++;
	if (v->owner)
		v->owner->branches++;
	return 0;
}
