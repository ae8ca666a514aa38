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

#ifndef EBPF_MAX_PROCESSED
#define EBPF_MAX_PROCESSED 1000000 /* abstract instructions per load */
#endif
#define MAX_PROCESSED	 EBPF_MAX_PROCESSED
#define MAX_STATES_INSN	 32 /* newest checkpoints compared per instruction */
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
	size_t mem; /* bytes of checkpoints, working and pending states */
	uint32_t next_id;
	struct vstate *cur;
	struct checkpoint *owner;
	int idx; /* instruction being checked */
};

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

/* vstate.c */
void vfy_path_done(struct verifier *v);
/* 1: prune the path, 0: continue, <0: reject */
int vfy_visit_prune_point(struct verifier *v);
int vfy_push_branch(struct verifier *v, const struct vstate *st);
int vfy_compute_relevance(struct verifier *v);
void *vfy_arena_alloc(struct verifier *v, size_t size);
void vfy_arena_release(struct verifier *v);

/* vmem.c */
uint32_t vfy_obj_size(struct verifier *v, const struct reg *p, bool *writable, const char **name);
int vfy_do_ldx(struct verifier *v, const struct ebpf_insn *in);
int vfy_do_store(struct verifier *v, const struct ebpf_insn *in);
int vfy_do_atomic(struct verifier *v, const struct ebpf_insn *in);
int vfy_check_helper_call(struct verifier *v, const struct ebpf_insn *in);

#endif
