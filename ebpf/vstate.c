// SPDX-License-Identifier: MIT
/*
 * Verifier states: comparison for pruning and loop detection, copies, the
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
 * must have them linked too. Two hash tables (old -> cur, cur -> old), so a
 * comparison is linear in the registers and slots it visits; an entry is
 * valid only when its gen is the comparison's, so nothing is cleared between
 * comparisons. One comparison meets at most EBPF_MAX_FRAMES * (11 + 64) =
 * 600 ids: the tables (1024 entries) always have a free entry.
 */
#define IDMAP_BITS 10
#define IDMAP_SIZE (1u << IDMAP_BITS)

struct idmap_ent {
	uint32_t gen, key, val;
};

struct idmap {
	uint32_t gen;
	uint32_t probes; /* in this comparison: each costs about one unit */
	struct idmap_ent o2c[IDMAP_SIZE], c2o[IDMAP_SIZE];
};

int vfy_idmap_init(struct verifier *v)
{
	v->idmap = vfy_arena_alloc(v, sizeof(*v->idmap));
	if (!v->idmap)
		return -ENOMEM;
	memset(v->idmap, 0, sizeof(*v->idmap));
	vfy_charge(v, sizeof(*v->idmap) / WORK_COPY_BYTES);
	return 0;
}

/*
 * The entry of key, or the free entry where it would go. Ids are handed out
 * in sequence, so the ids of one state are mostly close together: indexing
 * by their low bits keeps the entries used by a comparison close together
 * too (a multiplicative hash scattered them over the table, and a comparison
 * of one-frame states spent most of its time in cache misses). A program can
 * make ids collide; every probe is charged, so that only costs it budget.
 */
static struct idmap_ent *idmap_slot(struct idmap *m, struct idmap_ent *t, uint32_t key)
{
	uint32_t h = key & (IDMAP_SIZE - 1);

	m->probes++;
	while (t[h].gen == m->gen && t[h].key != key) {
		h = (h + 1) & (IDMAP_SIZE - 1);
		m->probes++;
	}
	return &t[h];
}

static bool ids_match(struct idmap *m, uint32_t old, uint32_t cur)
{
	struct idmap_ent *o, *c;

	if (!old)
		return true;
	if (!cur)
		return false;
	o = idmap_slot(m, m->o2c, old);
	if (o->gen == m->gen)
		return o->val == cur;
	c = idmap_slot(m, m->c2o, cur);
	if (c->gen == m->gen)
		return false; /* cur already stands for another old id */
	*o = (struct idmap_ent){ m->gen, old, cur };
	*c = (struct idmap_ent){ m->gen, cur, old };
	return true;
}

/*
 * Register or spill c (current state) is contained in o (checkpoint). A
 * number o holds is compared only if `precise`: otherwise no check and no
 * branch decision below the checkpoint depended on its value (precision.c),
 * and any number will do.
 */
static bool reg_leq(const struct reg *c, const struct reg *o, bool precise, struct idmap *m)
{
	if (o->type == T_NOINIT)
		return true; /* the old path never read it, or it failed */
	if (!same_object(c, o))
		return false;
	if (o->type == T_SCALAR && !precise)
		return true;
	if (o->type == T_SCALAR && !ids_match(m, o->id, c->id))
		return false;
	return bounds_contains(&o->b, &c->b);
}

/* what a comparison looks at in one frame */
struct cmp_mask {
	uint16_t regs;	     /* registers compared at all */
	uint16_t prec_regs;  /* numbers among them compared by value */
	uint64_t slots;	     /* stack slots compared at all */
	uint64_t prec_slots; /* spilled numbers among them compared by value */
};

/*
 * Frame c (working state) is contained in frame o of a packed state, as far
 * as mask k says. *visited counts the registers and slots looked at (the
 * work done).
 */
static bool frame_leq(const struct vframe *c, const struct pframe *o, const struct cmp_mask *k,
		      struct idmap *m, uint64_t *visited)
{
	const struct reg *oreg = o->r;
	uint64_t init = o->init & k->slots;

	*visited += 1;
	if (c->callsite != o->callsite)
		return false;
	/* a slot that holds something in old must hold something in cur,
	 * and a spill a spill */
	if ((init & ~c->init) || (o->spilled & k->slots & ~c->spilled))
		return false;
	/* registers old has not initialised can be anything in cur */
	for (unsigned regs = o->regs; regs; regs &= regs - 1) {
		int r = __builtin_ctz(regs);
		const struct reg *oldr = oreg++;

		*visited += 1;
		if ((k->regs >> r & 1) && !reg_leq(&c->regs[r], oldr, k->prec_regs >> r & 1, m))
			return false;
	}
	/* ascending slots: old's spills come in the order they are packed */
	for (uint64_t slots = o->init; slots; slots &= slots - 1) {
		int s = __builtin_ctzll(slots);
		const struct reg *oldr = o->spilled >> s & 1 ? oreg++ : NULL;

		*visited += 1;
		if (!(k->slots >> s & 1))
			continue; /* no path below reads it before overwriting it */
		if (oldr) {
			if (!reg_leq(&c->spill[s], oldr, k->prec_slots >> s & 1, m))
				return false;
		} else if (c->spilled >> s & 1) {
			/* old has data bytes there: any spilled number will do */
			if (c->spill[s].type != T_SCALAR)
				return false;
		} else if (o->misc[s] & ~c->misc[s]) {
			return false; /* old's data bytes must be data in cur too */
		}
	}
	return true;
}

#define REL_CALLEE_SAVED 0x3c0 /* r6-r9 */

/*
 * The registers of frame f that can be read before they are written, in a
 * state at instruction `insn` with `nframes` frames created by the calls at
 * callsite[]: for the innermost frame, those live at the instruction; for a
 * caller, r6-r9 live where it resumes (r0-r5 are replaced when the callee
 * returns). r10 always.
 */
static uint16_t live_regs(const struct verifier *v, int insn, int nframes, const int *callsite,
			  int f)
{
	uint16_t live =
		f == nframes - 1 ? v->live[insn] : v->live[callsite[f + 1] + 1] & REL_CALLEE_SAVED;

	return (uint16_t)(live | 1u << 10);
}

/*
 * cur is contained in checkpoint o. An explored checkpoint (its paths all
 * done) is compared where its paths looked: live registers and slots, and
 * the values of precise numbers only. A checkpoint still being explored (an
 * ancestor: a match means a loop that makes no progress) is compared on
 * everything it holds, numbers by value where relevance.c says they may
 * matter. Frames are compared innermost first: that is where the current
 * path has been changing things. Charges what it visits.
 */
static bool state_leq(struct verifier *v, const struct vstate *c, const struct packed *o,
		      bool explored)
{
	struct idmap *m = v->idmap;
	uint64_t visited = 1;
	int callsite[EBPF_MAX_FRAMES];
	bool leq = true;

	if (c->nframes != o->nframes) {
		vfy_charge(v, visited);
		return false;
	}
	m->gen++;
	m->probes = 0;
	for (int f = 0; f < c->nframes; f++)
		callsite[f] = c->fr[f].callsite;
	for (int f = c->nframes - 1; f >= 0 && leq; f--) {
		const struct pframe *pf = packed_frame(o, f);
		struct cmp_mask k;

		if (explored) {
			k.regs = live_regs(v, c->insn, c->nframes, callsite, f);
			k.prec_regs = pf->prec_regs;
			k.slots = pf->live;
			k.prec_slots = pf->prec_slots;
		} else {
			k.regs = 0x7ff;
			k.prec_regs = f == c->nframes - 1 ?
					      v->rel[c->insn] :
					      v->rel[callsite[f + 1] + 1] & REL_CALLEE_SAVED;
			k.slots = k.prec_slots = ~0ull;
		}
		leq = frame_leq(&c->fr[f], pf, &k, m, &visited);
	}
	vfy_charge(v, visited + m->probes);
	return leq;
}

/* the registers of each frame that state_leq compares in explored
 * checkpoint o */
static void explored_regs(const struct verifier *v, const struct packed *o, uint16_t *regs)
{
	int callsite[EBPF_MAX_FRAMES];

	for (int f = 0; f < o->nframes; f++)
		callsite[f] = packed_frame(o, f)->callsite;
	for (int f = 0; f < o->nframes; f++)
		regs[f] = live_regs(v, o->insn, o->nframes, callsite, f);
}

/* ---- copies ---- */

/* everything but the slots below the lowest spill, which nothing reads */
void vfy_copy_state(struct verifier *v, struct vstate *dst, const struct vstate *src)
{
	size_t bytes = offsetof(struct vstate, fr);

	dst->insn = src->insn;
	dst->nframes = src->nframes;
	for (int f = 0; f < src->nframes; f++) {
		const struct vframe *s = &src->fr[f];
		struct vframe *d = &dst->fr[f];
		int lo = s->spilled ? __builtin_ctzll(s->spilled) : EBPF_STACK_SIZE / 8;
		size_t n = (size_t)(EBPF_STACK_SIZE / 8 - lo) * sizeof(s->spill[0]);

		memcpy(d, s, FRAME_HEAD);
		memcpy(&d->spill[lo], &s->spill[lo], n);
		bytes += FRAME_HEAD + n;
	}
	vfy_charge(v, bytes / WORK_COPY_BYTES);
}

static unsigned reg_mask(const struct vframe *fr)
{
	unsigned m = 0;

	for (int r = 0; r < 11; r++)
		if (fr->regs[r].type != T_NOINIT)
			m |= 1u << r;
	return m;
}

static size_t packed_size(const struct vstate *s)
{
	size_t size = sizeof(struct packed);

	for (int f = 0; f < s->nframes; f++)
		size += sizeof(struct pframe) + (size_t)(__builtin_popcount(reg_mask(&s->fr[f])) +
							 __builtin_popcountll(s->fr[f].spilled)) *
							sizeof(struct reg);
	return size;
}

/* store s into d (packed_size(s) bytes; d->cap is left alone) */
static void pack(struct verifier *v, struct packed *d, const struct vstate *s)
{
	char *p = (char *)d->data;

	d->insn = s->insn;
	d->nframes = s->nframes;
	for (int f = 0; f < s->nframes; f++) {
		const struct vframe *fr = &s->fr[f];
		struct pframe *pf = (struct pframe *)p;
		struct reg *r = pf->r;

		d->off[f] = (uint32_t)(p - (char *)d);
		pf->callsite = fr->callsite;
		pf->regs = (uint16_t)reg_mask(fr);
		pf->scalars = pf->prec_regs = 0;
		pf->init = fr->init;
		pf->spilled = fr->spilled;
		pf->sspilled = pf->prec_slots = pf->live = 0;
		pf->wr = fr->written;
		memcpy(pf->misc, fr->misc, sizeof(pf->misc));
		for (unsigned m = pf->regs; m; m &= m - 1) {
			int k = __builtin_ctz(m);

			if (fr->regs[k].type == T_SCALAR)
				pf->scalars |= (uint16_t)(1u << k);
			*r++ = fr->regs[k];
		}
		for (uint64_t sl = fr->spilled; sl; sl &= sl - 1) {
			int k = __builtin_ctzll(sl);

			if (fr->spill[k].type == T_SCALAR)
				pf->sspilled |= 1ull << k;
			*r++ = fr->spill[k];
		}
		p = (char *)r;
	}
	vfy_charge(v, (uint64_t)(p - (char *)d) / WORK_COPY_BYTES + (uint64_t)s->nframes);
}

static void unpack(struct verifier *v, struct vstate *d, const struct packed *s)
{
	size_t bytes = sizeof(*s);

	d->insn = s->insn;
	d->nframes = s->nframes;
	for (int f = 0; f < s->nframes; f++) {
		struct vframe *fr = &d->fr[f];
		const struct pframe *pf = packed_frame(s, f);
		const struct reg *r = pf->r;

		fr->callsite = pf->callsite;
		fr->init = pf->init;
		fr->spilled = pf->spilled;
		fr->written = pf->wr;
		memcpy(fr->misc, pf->misc, sizeof(fr->misc));
		for (int k = 0; k < 11; k++) {
			if (pf->regs >> k & 1)
				fr->regs[k] = *r++;
			else
				memset(&fr->regs[k], 0, sizeof(fr->regs[k]));
		}
		for (uint64_t sl = fr->spilled; sl; sl &= sl - 1)
			fr->spill[__builtin_ctzll(sl)] = *r++;
		bytes += FRAME_HEAD + (size_t)(r - pf->r) * sizeof(*r);
	}
	vfy_charge(v, bytes / WORK_COPY_BYTES + (uint64_t)s->nframes);
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
 * (the first touch of a page costs microseconds in a nested VM): reusing it
 * makes loading a 1000-instruction program about five times faster. Every
 * byte taken from the arena is charged as if fresh (WORK_FRESH_BYTES).
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
	/* as if fresh, also in the cached chunk: the charge of a program
	 * must not depend on what the thread loaded before */
	vfy_charge(v, size / WORK_FRESH_BYTES);
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

/* ---- blocks for stored states: recycled by size ---- */

/* a block of at least `size` bytes (NULL: the memory budget is spent, or
 * -ENOMEM in *rc); its capacity in *cap */
static void *block_alloc(struct verifier *v, size_t size, uint32_t *cap, int *rc)
{
	size_t k = (size + BLOCK_ALIGN - 1) / BLOCK_ALIGN;
	void *b = v->free_blocks[k];

	*rc = 0;
	*cap = (uint32_t)(k * BLOCK_ALIGN);
	if (b) {
		memcpy(&v->free_blocks[k], b, sizeof(void *));
		return b;
	}
	if (v->mem + *cap > MAX_MEMORY)
		return NULL;
	b = vfy_arena_alloc(v, *cap);
	if (!b)
		*rc = -ENOMEM;
	return b;
}

static void block_free(struct verifier *v, void *b, uint32_t cap)
{
	size_t k = cap / BLOCK_ALIGN;

	memcpy(b, &v->free_blocks[k], sizeof(void *));
	v->free_blocks[k] = b;
}

/* ---- checkpoints ---- */

/*
 * 1: prune the path, 0: continue, <0: reject.
 * The newest MAX_STATES_INSN checkpoints of an instruction are compared with
 * the current state, of them at most MAX_LIVE_INSN still being explored (an
 * ancestor on the current path: a match means an infinite loop, so they
 * matter only for that, and a loop's own iterations fill the window with
 * them). An explored checkpoint that contains the current state prunes it,
 * and what its paths read and relied on becomes read and relied on by the
 * current path (liveness.c, precision.c). An explored checkpoint that keeps
 * missing (more than 3 misses per hit, plus 3; as Linux does) is dropped,
 * and the one just past the window is recycled if explored: in a loop, the
 * states of early iterations do not match again. Explored checkpoints are
 * referenced by nothing live: vfy_path_done() only walks up from live
 * owners, whose ancestors are all live.
 */
int vfy_visit_prune_point(struct verifier *v)
{
	int i = v->cur->insn, pos = 0, live = 0, rc;
	struct checkpoint *c, **pp = &v->seen[i];
	uint32_t cap;

	while ((c = *pp) && pos < MAX_STATES_INSN) {
		pos++;
		/* one still being explored cannot prune, only show an infinite
		 * loop: the newest few are enough for that */
		if (c->branches && live++ >= MAX_LIVE_INSN) {
			vfy_charge(v, 1);
			pp = &c->next;
			continue;
		}
		if (vfy_check_budget(v))
			return -E2BIG; /* comparisons are work too: bound them */
		if (state_leq(v, v->cur, &c->st, !c->branches)) {
			uint16_t regs[EBPF_MAX_FRAMES];

			if (c->branches)
				return vfy_fail(v, "infinite loop: this state repeats without "
						   "progress (the loop is not proven bounded)");
			c->hits++;
			/* what c's paths read and relied on, this path would */
			explored_regs(v, &c->st, regs);
			if ((rc = vfy_propagate_liveness(v, &c->st)) ||
			    (rc = vfy_propagate_precision(v, &c->st, regs)))
				return rc;
			return 1;
		}
		if (!c->branches && ++c->misses > 3 * c->hits + 3) {
			/* explored and rarely matching (a past loop iteration):
			 * drop it, nothing refers to it */
			*pp = c->next;
			block_free(v, c, c->st.cap);
			v->nlive--;
			continue;
		}
		pp = &c->next;
	}
	/* the one just past the window: recycle it if explored (amortised:
	 * one per visit, no list walk) */
	if (c && !c->branches) {
		*pp = c->next;
		block_free(v, c, c->st.cap);
		v->nlive--;
	}
	if (v->nlive >= MAX_STATES_TOTAL)
		return 0;
	c = block_alloc(v, offsetof(struct checkpoint, st) + packed_size(v->cur), &cap, &rc);
	if (!c)
		return rc; /* 0: out of memory budget: keep exploring, prune less */
	pack(v, &c->st, v->cur);
	/* a new segment of the path starts: nothing written in it yet */
	for (int f = 0; f < v->cur->nframes; f++)
		v->cur->fr[f].written = 0;
	c->st.cap = cap;
	c->hpos = (uint32_t)(v->nhist - 1);
	c->parent = v->owner;
	c->branches = 1;
	c->hits = c->misses = 0;
	c->next = v->seen[i];
	v->seen[i] = c;
	v->nstates++;
	v->nlive++;
	v->owner = c;
	return 0;
}

/* ---- pending branches ---- */

int vfy_push_branch(struct verifier *v, const struct vstate *st)
{
	struct packed *copy;
	uint32_t cap;
	int rc;

	if (v->nstack >= MAX_PENDING)
		return -E2BIG;
	if (v->nstack == v->capstack) {
		size_t n = v->capstack ? v->capstack * 2 : 64;
		struct pending *p = realloc(v->stack, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->stack = p;
		v->capstack = n;
	}
	copy = block_alloc(v, packed_size(st), &cap, &rc);
	if (!copy)
		return rc ? rc : -E2BIG;
	pack(v, copy, st);
	copy->cap = cap;
	v->stack[v->nstack].st = copy;
	v->stack[v->nstack].owner = v->owner;
	v->stack[v->nstack].hlen = (uint32_t)v->nhist;
	v->nstack++;
	if (v->owner)
		v->owner->branches++;
	return 0;
}

bool vfy_pop_branch(struct verifier *v)
{
	struct packed *s;

	if (!v->nstack)
		return false;
	v->nstack--;
	s = v->stack[v->nstack].st;
	unpack(v, v->cur, s);
	v->owner = v->stack[v->nstack].owner;
	v->nhist = v->stack[v->nstack].hlen;
	block_free(v, s, s->cap);
	return true;
}
