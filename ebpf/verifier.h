/* SPDX-License-Identifier: MIT */
/*
 * Shared between the verifier's files: verifier.c (exploration, arithmetic,
 * jumps, calls), vstate.c (state comparison, relevance, checkpoints) and
 * vmem.c (memory accesses and helper calls). See verifier.c for the design.
 */
#ifndef EBPF_VERIFIER_H
#define EBPF_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include "internal.h"
#include "bounds.h"

/*
 * Work accounting. Every operation of the verifier is charged in proportion
 * to what it touches, so that the budget bounds the time of a load whatever
 * the program's shape (a comparison of two 8-frame states can touch hundreds
 * of times more than one of two 1-frame states):
 *   WORK_INSN            per abstract instruction executed
 *   1                    per register or stack slot a state comparison, an
 *                        id propagation or a frame scan visits, per probe of
 *                        a comparison's id map, per 8 bytes a stack access or
 *                        helper buffer check walks, per instruction visit of
 *                        the relevance pass
 *   1 / WORK_COPY_BYTES  per byte of state copied (branch, checkpoint)
 *   1 / WORK_FRESH_BYTES per byte taken from the arena (the first touch of
 *                        a fresh page costs microseconds here; charged
 *                        also when the thread's cached chunk is reused, so
 *                        that the charge depends on the program only), and
 *                        80 bytes per instruction for the per-instruction
 *                        arrays of the structural and relevance passes
 * The weights make one unit take about the same time whatever it pays for:
 * 2-3.5 ns on the project machine over 288 generated shapes and the
 * verifier corpus (bench/ebpf_bench.c --adversarial-grid), so the budget is
 * about 20 ms of CPU; docs/ebpf.md has the measurements.
 */
#ifndef EBPF_MAX_WORK
#define EBPF_MAX_WORK 6000000 /* work units per load */
#endif
#define MAX_WORK	 EBPF_MAX_WORK
#define WORK_INSN	 8
#define WORK_COPY_BYTES	 64
#define WORK_FRESH_BYTES 4
#define MAX_STATES_INSN	 32 /* newest checkpoints compared per instruction */
#define MAX_LIVE_INSN	 8  /* of which still being explored (see vstate.c) */
#define MAX_STATES_TOTAL 16384
#define MAX_PTR_OFF	 (1 << 29) /* |offset| a pointer may ever carry */
#define MAX_PENDING	 4096	   /* branches waiting to be explored */
#define MAX_MEMORY                                                                                 \
	(64u << 20) /* bytes of states per load (a guest cannot                                    \
		     * make the VMM allocate more) */

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

/*
 * A call frame. Its stack is 64 slots of 8 bytes; slot k holds the bytes
 * 8k..8k+7, at r10 - 512 + 8k. A slot holds either a spilled register (an
 * aligned 8-byte store of a register: its full abstract value is kept) or
 * data bytes (misc), each byte known initialised or not.
 */
struct vframe {
	int callsite;	  /* index of the call that created it; -1 for main */
	uint64_t init;	  /* bit k: slot k holds a spill or some data byte */
	uint64_t spilled; /* bit k: slot k holds the spilled register spill[k] */
	uint64_t written; /* bit k: slot k was overwritten whole since the
			   * path's newest checkpoint (liveness.c) */
	struct reg regs[11];
	uint8_t misc[EBPF_STACK_SIZE / 8];     /* slot not spilled: bit j set if
						* byte j holds data */
	struct reg spill[EBPF_STACK_SIZE / 8]; /* valid only where spilled:
						* the rest is not copied */
};

/* what byte i (0..511) of f's stack holds */
static inline enum stype stack_byte(const struct vframe *f, int64_t i)
{
	if (f->spilled >> (i / 8) & 1)
		return S_SPILL;
	return f->misc[i / 8] >> (i % 8) & 1 ? S_MISC : S_INVALID;
}

struct vstate {
	int insn;
	int nframes;
	struct vframe fr[EBPF_MAX_FRAMES];
};

/* the part of a frame before its spilled registers */
#define FRAME_HEAD offsetof(struct vframe, spill)

/*
 * A frame of a packed state: the initialised registers and the spilled
 * registers only, in order (a frame with six registers and two spills takes
 * 0.6 KiB instead of 4.3). The marks are those of a checkpoint (see
 * "Pruning" in docs/ebpf.md): filled while the paths below it are explored,
 * complete once they all are.
 */
struct pframe {
	int callsite;
	uint16_t regs;	    /* bit r: register r is initialised (stored in r[]) */
	uint16_t scalars;   /* bit r: register r is a number */
	uint16_t prec_regs; /* numbers whose value some path below relied on */
	uint64_t init, spilled;
	uint64_t sspilled;   /* spilled numbers */
	uint64_t prec_slots; /* spilled numbers some path below relied on */
	uint64_t live;	     /* slots some path below read before overwriting */
	uint64_t wr;	     /* slots overwritten whole on the way from the
			      * parent checkpoint (pending branch: since the
			      * owner; vframe.written) */
	uint8_t misc[EBPF_STACK_SIZE / 8];
	struct reg r[]; /* popcount(regs) registers, then popcount(spilled) */
};

/*
 * A stored state (checkpoint or pending branch), packed (vstate.c): frames
 * of variable size, without uninitialised registers and unused slots.
 */
struct packed {
	uint32_t cap; /* bytes of the block that holds it (for recycling) */
	int insn, nframes;
	uint32_t off[EBPF_MAX_FRAMES]; /* each frame, from &packed */
	max_align_t data[];
};

struct checkpoint {
	struct checkpoint *parent; /* nearest enclosing checkpoint */
	struct checkpoint *next;   /* same instruction */
	long branches;		   /* live paths below; 0 = explored */
	uint32_t hits, misses;	   /* comparisons since explored */
	uint32_t hpos;		   /* its instruction's entry in the path history */
	struct packed st;	   /* last: variable size */
};

static inline struct pframe *packed_frame(const struct packed *p, int f)
{
	return (struct pframe *)((char *)p + p->off[f]);
}

/* a branch waiting to be explored */
struct pending {
	struct packed *st;
	struct checkpoint *owner;
	uint32_t hlen; /* entries of the path history it continues */
};

/*
 * One instruction of the current path, for backtracking (precision.c): the
 * frame it ran in and, for an 8-byte spill or reload, the stack slot (of
 * any frame: a callee may spill into its caller's stack through a pointer).
 */
struct hent {
	int32_t insn;
	uint8_t frame;
	uint8_t sframe, slot;
	uint8_t flags;
};
#define H_SPILL	 1 /* an 8-byte aligned store: the slot now holds a spill */
#define H_RELOAD 2 /* an 8-byte reload of the spill in the slot */

/* stored states are allocated in multiples of BLOCK_ALIGN bytes and freed
 * blocks are recycled by size */
#define BLOCK_ALIGN 128
#define PFRAME_MAX  (sizeof(struct pframe) + (11 + EBPF_STACK_SIZE / 8) * sizeof(struct reg))
#define NBLOCK_CLASS                                                                               \
	((offsetof(struct checkpoint, st) + sizeof(struct packed) +                                \
	  EBPF_MAX_FRAMES * PFRAME_MAX) /                                                          \
		 BLOCK_ALIGN +                                                                     \
	 2)

struct verifier {
	const struct ebpf_env *env;
	const struct ebpf_insn *insns;
	size_t n;
	struct ebpf_error *err;
	uint8_t *is_prune;
	uint16_t *rel;			 /* per instruction: registers whose values matter */
	uint16_t *live;			 /* per instruction: registers read before written */
	struct checkpoint **seen;	 /* per instruction */
	struct chunk *chunks;		 /* arena: checkpoints and working states */
	void *free_blocks[NBLOCK_CLASS]; /* recycled blocks, by size / BLOCK_ALIGN */
	struct pending *stack;
	size_t nstack, capstack;
	uint64_t processed, nstates, nlive;
	uint64_t work;	     /* units charged so far (see WORK_INSN) */
	struct idmap *idmap; /* scratch of state comparisons */
	size_t mem;	     /* bytes of checkpoints, working and pending states (arena) */
	uint32_t next_id;
	struct vstate *cur;
	struct checkpoint *owner;
	struct hent *hist; /* the current path, one entry per instruction */
	size_t nhist, caphist;
	int idx; /* instruction being checked */
};

static inline void vfy_charge(struct verifier *v, uint64_t units)
{
	v->work += units;
}

static inline size_t state_size(int nframes)
{
	return offsetof(struct vstate, fr) + (size_t)nframes * sizeof(struct vframe);
}

static inline struct vframe *curf(struct verifier *v)
{
	return &v->cur->fr[v->cur->nframes - 1];
}

static inline struct reg *R(struct verifier *v, int r)
{
	return &curf(v)->regs[r];
}

static inline void set_scalar(struct reg *r, struct bounds b)
{
	r->type = T_SCALAR;
	r->frame = r->region = 0;
	r->id = 0;
	r->b = b;
}

static inline bool is_ptr(const struct reg *r)
{
	return r->type >= T_CTX;
}

static inline const char *type_name(const struct verifier *v, const struct reg *r)
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

static inline bool same_object(const struct reg *a, const struct reg *b)
{
	return a->type == b->type && a->frame == b->frame && a->region == b->region;
}

/* verifier.c */
int vfy_fail(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfy_check_readable(struct verifier *v, int r);
int vfy_check_writable_reg(struct verifier *v, int r);
/* 0, or -E2BIG (with the error set at the current instruction) once the
 * work budget is spent */
int vfy_check_budget(struct verifier *v);

/* vstate.c */
/* copy a state (src->nframes frames), charging for it */
void vfy_copy_state(struct verifier *v, struct vstate *dst, const struct vstate *src);
void vfy_path_done(struct verifier *v);
/* 1: prune the path, 0: continue, <0: reject */
int vfy_visit_prune_point(struct verifier *v);
int vfy_push_branch(struct verifier *v, const struct vstate *st);
/* continue with the newest pending branch; false if there is none */
bool vfy_pop_branch(struct verifier *v);
int vfy_compute_relevance(struct verifier *v);
int vfy_idmap_init(struct verifier *v);
void *vfy_arena_alloc(struct verifier *v, size_t size);
void vfy_arena_release(struct verifier *v);

/* precision.c */
/* record the instruction about to be checked in the path history;
 * 0 or -E2BIG (out of memory budget) / -ENOMEM */
int vfy_hist_push(struct verifier *v);
/* the instruction being checked spills into or reloads from slot k of
 * frame f (H_SPILL / H_RELOAD) */
static inline void vfy_hist_note(struct verifier *v, unsigned flags, int f, int k)
{
	struct hent *e = &v->hist[v->nhist - 1];

	e->flags = (uint8_t)flags;
	e->sframe = (uint8_t)f;
	e->slot = (uint8_t)k;
}
/*
 * The verifier relies on the values of numbers `regs` (a mask of registers
 * of the current frame) in the state before the instruction being checked:
 * mark them, and every number they were computed from, precise in the
 * checkpoints of the current path. 0 or -E2BIG (work budget spent).
 */
int vfy_mark_precise(struct verifier *v, uint16_t regs);
/* the current state was pruned by explored checkpoint o: the numbers o's
 * proof relied on are relied on here too (masks: what was compared) */
int vfy_propagate_precision(struct verifier *v, const struct packed *o, const uint16_t *regs);

/* liveness.c */
/* slots `slots` of frame f are read by the instruction being checked */
int vfy_mark_read(struct verifier *v, int f, uint64_t slots);
/* the current state was pruned by explored checkpoint o: what o's paths
 * read is read here too */
int vfy_propagate_liveness(struct verifier *v, const struct packed *o);

/* vmem.c */
uint32_t vfy_obj_size(struct verifier *v, const struct reg *p, bool *writable, const char **name);
int vfy_do_ldx(struct verifier *v, const struct ebpf_insn *in);
int vfy_do_store(struct verifier *v, const struct ebpf_insn *in);
int vfy_do_atomic(struct verifier *v, const struct ebpf_insn *in);
int vfy_check_helper_call(struct verifier *v, const struct ebpf_insn *in);

#endif
