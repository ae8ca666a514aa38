// SPDX-License-Identifier: MIT
/*
 * Liveness of stack slots: which slots of a checkpoint some path below it
 * reads before overwriting them whole. Only those are compared when the
 * checkpoint prunes (vstate.c): a slot that is overwritten, or never read,
 * on every path from there can hold anything, initialised or not (a buffer
 * a helper filled on one side of a branch, dead after the join).
 *
 * Registers are named by the instructions, so their liveness is computed
 * once per program (relevance.c). Stack slots are reached through pointers
 * whose frame and offset only the exploration knows, so their liveness is
 * marked during it, as Linux does: a read walks up the checkpoints of the
 * current path and marks the slot live in each, until one whose segment of
 * the path (from its parent to it) overwrote the slot whole. Each frame of
 * the working state tracks the slots overwritten since the newest
 * checkpoint (vframe.written): a read of those marks nothing. A path pruned
 * by an explored checkpoint reads what that checkpoint's paths read.
 *
 * "Overwritten whole" is an aligned 8-byte store or a helper writing every
 * byte of the slot (the minimum of its size argument); a narrower write
 * keeps part of the old slot, so it does not stop the walk. A check that a
 * write does not clobber a spilled pointer is no read: the pointer's
 * remaining bytes matter only if they are read later, and that read marks
 * the slot live past the partial write.
 */
#include <errno.h>
#include "verifier.h"

/* mark slots[f] read in the current path's checkpoints */
static int mark(struct verifier *v, uint64_t *slots)
{
	int depth = 0;

	for (struct checkpoint *c = v->owner; c; c = c->parent) {
		bool any = false;

		for (int f = 0; f < c->st.nframes; f++) {
			struct pframe *pf = packed_frame(&c->st, f);
			uint64_t s = slots[f] & ~pf->live;

			/* already live: marked above when it became so */
			pf->live |= s;
			slots[f] = s & ~pf->wr;
			any |= slots[f] != 0;
		}
		for (int f = c->st.nframes; f < EBPF_MAX_FRAMES; f++)
			slots[f] = 0; /* frames created below c */
		vfy_charge(v, (uint64_t)c->st.nframes);
		if (!any)
			break;
		if ((++depth & 1023) == 0 && vfy_check_budget(v))
			return -E2BIG;
	}
	return 0;
}

int vfy_mark_read(struct verifier *v, int f, uint64_t slots)
{
	uint64_t s[EBPF_MAX_FRAMES] = { 0 };

	s[f] = slots & ~v->cur->fr[f].written;
	if (!s[f])
		return 0;
	return mark(v, s);
}

int vfy_propagate_liveness(struct verifier *v, const struct packed *o)
{
	uint64_t s[EBPF_MAX_FRAMES] = { 0 };
	bool any = false;

	for (int f = 0; f < o->nframes; f++) {
		s[f] = packed_frame(o, f)->live & ~v->cur->fr[f].written;
		any |= s[f] != 0;
	}
	vfy_charge(v, (uint64_t)o->nframes);
	return any ? mark(v, s) : 0;
}
