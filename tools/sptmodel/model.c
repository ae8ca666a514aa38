// SPDX-License-Identifier: MIT
/*
 * The shadow-paging model (model.h). Two passes over the trace:
 *
 *  1. mapping lifetimes: a leaf entry made present starts an "epoch" that
 *     ends at the next write of that entry; the A and D bits in the old
 *     value of that write say whether the CPU used the mapping meanwhile
 *     (this host's shadow MMU sets them in the guest's entry when user code
 *     first touches the page, exactly when it fills the shadow entry);
 *  2. the replay: a mirror of the guest's page tables (contents, parent
 *     links, which pages are tables) driving the counts of each mode.
 */
#include "model.h"
#include "u64map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* per-record annotations of pass 1 */
#define ANN_EPOCH   1 /* this leaf write makes the entry present */
#define ANN_ACC	    2 /* ... and the mapping was accessed before its next write */
#define ANN_DIRTY   4 /* ... and written */
#define ANN_UNKNOWN 8 /* ... its end is not in the trace */

#define NO_PARENT  UINT64_MAX
#define NO_ROOT	   UINT64_MAX
#define ROOT_CACHE 4 /* KVM keeps a vCPU's current root and 3 previous ones */

struct table {
	uint64_t frame;
	uint8_t level;
	bool live;	 /* the guest uses it as a page table now */
	bool sp;	 /* a shadow page exists: (a) write-protected, (b) in device memory */
	bool stub_done;	 /* (k) root: the syscall stub's first access was counted */
	uint8_t flood;	 /* (k) writes since the shadow page was last used */
	uint64_t parent; /* frame of the table whose entry points here, or NO_PARENT */
	uint16_t pidx;
	uint64_t resident;   /* root: accessed leaf mappings present now */
	bool unsync;	     /* (k) a stale level-1 shadow page KVM let user code write */
	bool a_unsynced;     /* (a, unsync variant) written since the last sync */
	uint64_t spte[8];    /* (k) shadow entries present (bitmap): leaves at level 1,
				links to child shadow pages above */
	uint64_t counted[8]; /* leaf entries counted in their root's `resident` */
	uint64_t e[512];     /* the guest's entries as the trace wrote them */
	uint64_t *pending;   /* root: virtual addresses first touched at its next load */
	size_t npending, cap_pending;
};

struct model {
	const struct spt_params *p;
	struct u64map tables;		   /* frame -> struct table * */
	uint64_t cur[VESSEL_PTF_MAX_CPUS]; /* CR3 per CPU */
	uint64_t fault_va[VESSEL_PTF_MAX_CPUS], fault_err[VESSEL_PTF_MAX_CPUS]; /* last user #PF */
	uint64_t roots[VESSEL_PTF_MAX_CPUS][ROOT_CACHE]; /* (k) each vCPU's root cache */
	struct spt_counts *c;				 /* the segment being replayed */
	struct table **unsynced; /* (a, unsync variant) tables written since a sync */
	size_t nunsynced, cap_unsynced;
	int err;
};

void spt_params_default(struct spt_params *p)
{
	*p = (struct spt_params){
		.flood = 3,
		.tlb_entries = 1536,
		.stub_va = SPT_STUB_VA_DEFAULT,
		.unknown_accessed = true,
		.c_exit = 2500,
		.c_emul = 1500,
		.c_update = 200,
		.c_acc = 300,
		.c_dev_read = 600,
		.reads_per_write = 4,
		.c_move = 2000,
		.c_walk1 = 30,
		.c_walk2 = 100,
		.refill = 0.5,
		.capacity = 0,
		.c_sync = 2000,
		.b_cr3_exit = true,
		.b_invlpg_exit = false,
		.b_pf_exit = true,
	};
}

/* ---- pass 1: mapping lifetimes ---- */

static uint64_t rec_id(size_t seg, size_t i)
{
	return ((uint64_t)seg << 40) | i;
}

static int annotate(const struct ptr_trace *t, uint8_t **ann)
{
	struct u64map open = { 0 }; /* entry gpa -> rec_id of the write that opened it */
	int rc = 0;

	for (size_t s = 0; s < t->nseg && !rc; s++) {
		const struct ptr_segment *seg = &t->seg[s];

		for (size_t i = 0; i < seg->nrec && !rc; i++) {
			const struct vessel_pt_rec *r = &seg->rec[i];
			uint64_t id;

			if (r->kind == VESSEL_PT_FREE && r->level == 1) {
				/* a table freed with mappings in it: their end is unknown */
				for (unsigned k = 0; k < 512 && open.n; k++) {
					if (u64map_get(&open, r->addr + k * 8, &id)) {
						ann[id >> 40][id & ((1ull << 40) - 1)] |=
							ANN_UNKNOWN;
						u64map_del(&open, r->addr + k * 8);
					}
				}
			}
			if (r->kind != VESSEL_PT_WRITE || r->level != 1)
				continue;
			if (u64map_get(&open, r->addr, &id)) {
				uint8_t *a = &ann[id >> 40][id & ((1ull << 40) - 1)];

				if (r->old_val & SPT_A)
					*a |= ANN_ACC;
				if (r->old_val & SPT_D)
					*a |= ANN_DIRTY;
				u64map_del(&open, r->addr);
			}
			if (r->new_val & SPT_P) {
				ann[s][i] |= ANN_EPOCH;
				rc = u64map_put(&open, r->addr, rec_id(s, i));
			}
		}
	}
	for (size_t i = 0; i < open.cap; i++) {
		if (open.used[i])
			ann[open.vals[i] >> 40][open.vals[i] & ((1ull << 40) - 1)] |= ANN_UNKNOWN;
	}
	u64map_free(&open);
	return rc;
}

/* ---- the page-table mirror ---- */

static struct table *table_get(struct model *m, uint64_t frame)
{
	uint64_t v;

	return u64map_get(&m->tables, frame, &v) ? (struct table *)(uintptr_t)v : NULL;
}

/* The table at frame, created (not live) if the model has not seen it. */
static struct table *table_at(struct model *m, uint64_t frame, unsigned level)
{
	struct table *t = table_get(m, frame);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t || u64map_put(&m->tables, frame, (uint64_t)(uintptr_t)t)) {
		free(t);
		m->err = -ENOMEM;
		return NULL;
	}
	t->frame = frame;
	t->level = (uint8_t)level;
	t->parent = NO_PARENT;
	return t;
}

static unsigned sptes_of(const struct table *t)
{
	unsigned n = 0;

	for (int i = 0; i < 8; i++)
		n += (unsigned)__builtin_popcountll(t->spte[i]);
	return n;
}

/* Drop t's shadow entries (the instant count is of leaf entries only). */
static void clear_sptes(struct model *m, struct table *t)
{
	if (t->level == 1)
		m->c->k_sptes -= sptes_of(t);
	memset(t->spte, 0, sizeof(t->spte));
}

static void set_unsync(struct model *m, struct table *t, bool on)
{
	if (t->unsync != on)
		m->c->k_unsync += on ? 1 : (uint64_t)-1;
	t->unsync = on;
}

/* t becomes a live page table of `level` (first write, link, or CR3 load). */
static void make_live(struct model *m, struct table *t, unsigned level)
{
	if (t->live && t->level == level)
		return;
	if (t->level != level) {
		/* another role: KVM keys shadow pages by level; the old one stays as
		 * an orphan no counter sees, unless it was unsync: then it is zapped */
		if (t->sp && t->unsync)
			m->c->k_zapped++;
		set_unsync(m, t, false);
		t->sp = false;
		t->flood = 0;
		clear_sptes(m, t);
		memset(t->counted, 0, sizeof(t->counted));
	}
	t->level = (uint8_t)level;
	t->live = true;
	m->c->new_tables++;
}

static bool bit(const uint64_t *bm, unsigned i)
{
	return bm[i / 64] & (1ull << (i % 64));
}

static void set_bit(uint64_t *bm, unsigned i, bool on)
{
	if (on)
		bm[i / 64] |= 1ull << (i % 64);
	else
		bm[i / 64] &= ~(1ull << (i % 64));
}

/* The child table an entry of a level>1 table points to, or NULL. */
static struct table *child_of(struct model *m, const struct table *t, unsigned idx)
{
	uint64_t e = t->e[idx];

	if (t->level < 2 || !(e & SPT_P) || (e & SPT_PS))
		return NULL;
	return table_at(m, e & SPT_ADDR, t->level - 1u);
}

/* The root (level-4 table) above t through parent links, or NULL; *va gets
 * the virtual address of entry idx of t. */
static struct table *root_of(struct model *m, struct table *t, unsigned idx, uint64_t *va)
{
	uint64_t v = (uint64_t)idx << (12 + 9 * (t->level - 1));

	for (int guard = 0; t && t->level < 4 && guard < 4; guard++) {
		struct table *p = t->parent == NO_PARENT ? NULL : table_get(m, t->parent);

		if (!p || p->level != t->level + 1)
			return NULL;
		v |= (uint64_t)t->pidx << (12 + 9 * (p->level - 1));
		t = p;
	}
	if (!t || t->level != 4)
		return NULL;
	if (v & (1ull << 47))
		v |= 0xffff000000000000ull; /* canonical */
	*va = v;
	return t;
}

/* ---- (k): the host's KVM shadow MMU ---- */

static void k_new_sp(struct model *m, struct table *t)
{
	if (!t->sp) {
		t->sp = true;
		t->flood = 0;
		m->c->k_sp_created++;
	}
}

/*
 * A zapped root that a vCPU still holds in its root cache is only marked
 * invalid; every vCPU drops it before it runs again, and freeing it zaps it
 * a second time (another mmu_shadow_zapped, another remote flush). A vCPU
 * whose current root it was loads a new one for the same CR3.
 */
static void k_drop_cached_root(struct model *m, struct table *t)
{
	bool held = false;

	for (unsigned cpu = 0; cpu < VESSEL_PTF_MAX_CPUS; cpu++) {
		for (unsigned i = 0; i < ROOT_CACHE; i++) {
			if (m->roots[cpu][i] != t->frame)
				continue;
			held = true;
			if (i > 0)
				m->roots[cpu][i] = NO_ROOT;
		}
	}
	if (!held)
		return;
	m->c->k_zapped++;
	m->c->k_remote_flush++;
	for (unsigned cpu = 0; cpu < VESSEL_PTF_MAX_CPUS; cpu++) {
		if (m->roots[cpu][0] == t->frame)
			k_new_sp(m, t);
	}
}

static void k_zap(struct model *m, struct table *t)
{
	struct table *p = t->parent == NO_PARENT ? NULL : table_get(m, t->parent);

	t->sp = false;
	t->flood = 0;
	set_unsync(m, t, false);
	clear_sptes(m, t);
	if (p && p->level == t->level + 1)
		set_bit(p->spte, t->pidx, false); /* unlinked from its parent */
	m->c->k_zapped++;
	if (t->level == 4)
		k_drop_cached_root(m, t);
}

/*
 * A CR3 load on cpu: KVM looks for the root in the vCPU's cache (rotating
 * it: the current root and 3 previous ones); a miss drops the oldest.
 */
static void k_root_switch(struct model *m, unsigned cpu, uint64_t frame)
{
	uint64_t *c = m->roots[cpu];

	if (c[0] == frame)
		return;
	for (unsigned i = 1; i < ROOT_CACHE; i++) {
		uint64_t x = c[0];

		c[0] = c[i];
		c[i] = x;
		if (c[0] == frame)
			return;
	}
	c[0] = frame; /* the oldest goes; a valid root just stays in KVM's hash */
}

/*
 * User code touches va under root r. Where the shadow tables already
 * translate it, nothing happens; otherwise KVM walks the guest tables,
 * creates the missing shadow pages (resetting flood counts on the way) and
 * links them: a fixed shadow fault if the leaf entry had to be filled, a
 * spurious one if only links were missing (a new root reaching shared
 * tables, or a path whose upper page was zapped).
 */
static void k_walk(struct model *m, struct table *r, uint64_t va)
{
	struct table *t = r;
	bool missing = false;

	for (unsigned level = 4; t && level >= 1; level--) {
		unsigned idx = (unsigned)(va >> (12 + 9 * (level - 1))) & 511;

		if (t->level != level)
			return;
		k_new_sp(m, t);
		t->flood = 0;
		if (!bit(t->spte, idx)) {
			missing = true;
			set_bit(t->spte, idx, true);
			if (level == 1) {
				m->c->k_sptes++;
				m->c->k_pf_fixed++;
				return;
			}
		}
		if (level == 1) {
			if (missing)
				m->c->k_pf_spurious++;
			return;
		}
		t = child_of(m, t, idx);
	}
}

static void k_pending(struct model *m, struct table *r, uint64_t va)
{
	if (r->npending == r->cap_pending) {
		size_t cap = r->cap_pending ? r->cap_pending * 2 : 16;
		uint64_t *n = realloc(r->pending, cap * sizeof(*n));

		if (!n) {
			m->err = -ENOMEM;
			return;
		}
		r->pending = n;
		r->cap_pending = cap;
	}
	r->pending[r->npending++] = va;
}

/*
 * An emulated write of entry idx of t (KVM's kvm_mmu_track_write): an upper
 * level shadow page written `flood` times without being used is zapped;
 * otherwise the shadow entry is dropped. Zapping anything present asks
 * every vCPU to flush its TLB (one remote flush request).
 */
static void k_track_write(struct model *m, struct table *t, unsigned idx, uint64_t new_val)
{
	if (!t->sp)
		return;
	m->c->k_tracked_writes++;
	if (t->level > 1 && ++t->flood >= m->p->flood) {
		m->c->k_flooded++;
		m->c->k_remote_flush++;
		k_zap(m, t);
		return;
	}
	if (t->level > 1 && new_val)
		m->c->k_pde_zapped++;
	if (bit(t->spte, idx)) {
		set_bit(t->spte, idx, false);
		if (t->level == 1)
			m->c->k_sptes--;
		m->c->k_remote_flush++;
	}
}

/* Whether every table on the path of va under root r has a shadow page. */
static bool path_shadowed(struct model *m, struct table *r, uint64_t va)
{
	struct table *t = r;

	for (unsigned level = 4; t && level >= 1; level--) {
		if (t->level != level || !t->sp)
			return false;
		if (level == 1)
			return true;
		t = child_of(m, t, (unsigned)(va >> (12 + 9 * (level - 1))) & 511);
	}
	return false;
}

/* ---- the records ---- */

static bool user_half(const struct table *r)
{
	for (unsigned i = 0; i < 256; i++) {
		if (r->e[i] & SPT_P)
			return true;
	}
	return false;
}

/* (a, unsync variant): a TLB flush makes the hypervisor sync the written tables */
static void a_sync(struct model *m)
{
	m->c->a_syncs += m->nunsynced;
	for (size_t i = 0; i < m->nunsynced; i++)
		m->unsynced[i]->a_unsynced = false;
	m->nunsynced = 0;
}

static void a_leaf_write(struct model *m, struct table *t)
{
	m->c->a_traps_leaf++;
	if (t->a_unsynced)
		return;
	if (m->nunsynced == m->cap_unsynced) {
		size_t cap = m->cap_unsynced ? m->cap_unsynced * 2 : 64;
		struct table **n = realloc(m->unsynced, cap * sizeof(*n));

		if (!n) {
			m->err = -ENOMEM;
			return;
		}
		m->unsynced = n;
		m->cap_unsynced = cap;
	}
	t->a_unsynced = true;
	m->unsynced[m->nunsynced++] = t;
	m->c->a_unsync_traps++;
}

static void on_cr3(struct model *m, const struct vessel_pt_rec *r)
{
	struct table *root = table_at(m, r->new_val & SPT_ADDR, 4);
	uint64_t cap, fixed;

	m->c->cr3++;
	a_sync(m);
	m->cur[r->cpu] = r->new_val & SPT_ADDR;
	if (!root)
		return;
	make_live(m, root, 4);
	k_root_switch(m, r->cpu, root->frame);
	k_new_sp(m, root);
	fixed = m->c->k_pf_fixed;
	if (!root->stub_done && m->p->stub_va && user_half(root)) {
		root->stub_done = true;
		k_walk(m, root, m->p->stub_va);
	}
	for (size_t i = 0; i < root->npending; i++)
		k_walk(m, root, root->pending[i]);
	root->npending = 0;
	m->c->b_load_fills += m->c->k_pf_fixed - fixed;
	cap = m->p->tlb_entries;
	m->c->refill_pages += root->resident < cap ? root->resident : cap;
}

static void on_write(struct model *m, const struct vessel_pt_rec *r, uint8_t ann)
{
	struct table *t = table_at(m, r->addr & ~4095ull, r->level), *root, *child;
	unsigned idx = (unsigned)(r->addr & 4095) / 8;
	uint64_t va = 0;

	m->c->writes++;
	if (r->level == 1)
		m->c->writes_leaf++;
	else
		m->c->writes_upper++;
	if (!t)
		return;
	make_live(m, t, r->level);
	t->e[idx] = r->new_val;
	if (t->sp) {
		m->c->a_traps++; /* write-protected: (a) traps, (b) the device takes it */
		if (t->level == 1)
			a_leaf_write(m, t);
	}
	k_track_write(m, t, idx, r->new_val);
	child = child_of(m, t, idx);
	if (child) {
		make_live(m, child, r->level - 1u);
		child->parent = t->frame;
		child->pidx = (uint16_t)idx;
	}
	if (r->level != 1)
		return;
	root = root_of(m, t, idx, &va);
	if (bit(t->counted, idx)) {
		set_bit(t->counted, idx, false);
		if (root && root->resident)
			root->resident--;
	}
	if (!(ann & ANN_EPOCH))
		return;
	m->c->epochs++;
	if (ann & ANN_UNKNOWN)
		m->c->epochs_unknown++;
	if (!(ann & ANN_ACC) && !((ann & ANN_UNKNOWN) && m->p->unknown_accessed))
		return;
	m->c->epochs_accessed++;
	if (ann & ANN_DIRTY)
		m->c->epochs_dirty++;
	if (!root || (va >> 47))
		return; /* the kernel half: user code only enters it at the stub */
	set_bit(t->counted, idx, true);
	root->resident++;
	if (ann & ANN_DIRTY) {
		/* user code writes a frame KVM still shadows as a page table (a
		 * freed one): a level-1 shadow page goes unsync instead of trapping */
		struct table *f = table_get(m, r->new_val & SPT_ADDR);

		if (f && f->sp && f->level == 1 && !f->live)
			set_unsync(m, f, true);
	}
	/* (b): the device writes the shadow entry of a mapping written into a
	 * table it holds, under shadow pages all the way up: no first fault */
	if (path_shadowed(m, root, va))
		m->c->b_prefilled++;
	/* the first access: now if this CPU runs on that root, else at its next load */
	if (m->cur[r->cpu] == root->frame)
		k_walk(m, root, va);
	else
		k_pending(m, root, va);
	/* a demand fault on a read, later written: the shadow entry is read-only
	 * until the guest's D bit is set, so the write faults again */
	if ((ann & ANN_DIRTY) && (m->fault_va[r->cpu] >> 12) == (va >> 12) &&
	    (m->fault_err[r->cpu] & 4) && !(m->fault_err[r->cpu] & 2)) {
		m->c->k_pf_fixed++;
		m->c->k_d_faults++;
	}
}

/* A frame handed out again: its new owner writes it (zeroes it, mostly). */
static void on_alloc(struct model *m, const struct vessel_pt_rec *r)
{
	struct table *t = table_get(m, r->addr);

	m->c->allocs++;
	if (!t || t->live)
		return;
	if (t->sp) {
		/* still shadowed: its new owner's first writes trap (a) or go to the
		 * device (b) until the hypervisor lets go of the page */
		m->c->a_traps += m->p->flood;
		m->c->b_moves_out++;
		if (t->level > 1) {
			m->c->k_tracked_writes += m->p->flood;
			m->c->k_flooded++;
			m->c->k_remote_flush++;
			k_zap(m, t);
		} else {
			/* zeroing drops the shadow entries; the page stays shadowed */
			m->c->k_tracked_writes += 512;
			if (sptes_of(t))
				m->c->k_remote_flush++;
			clear_sptes(m, t);
		}
	}
	memset(t->e, 0, sizeof(t->e));
	memset(t->counted, 0, sizeof(t->counted));
	t->parent = NO_PARENT;
	t->stub_done = false;
	t->npending = 0;
	t->resident = 0;
}

static void on_free(struct model *m, const struct vessel_pt_rec *r)
{
	struct table *t = table_get(m, r->addr);

	m->c->frees++;
	if (t)
		t->live = false; /* the hypervisor does not know: it stays shadowed */
}

static void replay(struct model *m, const struct ptr_segment *seg, const uint8_t *ann)
{
	for (size_t i = 0; i < seg->nrec && !m->err; i++) {
		const struct vessel_pt_rec *r = &seg->rec[i];

		switch (r->kind) {
		case VESSEL_PT_WRITE:
			on_write(m, r, ann[i]);
			break;
		case VESSEL_PT_CR3:
			on_cr3(m, r);
			break;
		case VESSEL_PT_INVLPG:
			m->c->invlpg++;
			a_sync(m);
			break;
		case VESSEL_PT_FAULT:
			m->c->faults++;
			if (r->old_val & 4) { /* U/S: from user mode */
				m->c->faults_user++;
				m->c->k_pf_guest++;
			}
			m->fault_va[r->cpu] = r->addr;
			m->fault_err[r->cpu] = r->old_val;
			break;
		case VESSEL_PT_FREE:
			on_free(m, r);
			break;
		case VESSEL_PT_ALLOC:
			on_alloc(m, r);
			break;
		}
	}
}

/* The modes' counts from the shadow MMU's (k). */
static void modes(struct spt_counts *c, const struct spt_params *p)
{
	c->a_hidden = c->k_pf_fixed;
	c->a_exits = c->a_traps + c->a_hidden + c->faults_user + c->cr3 + c->invlpg;
	c->b_dev_writes = c->a_traps;
	c->b_hidden = c->k_pf_fixed > c->b_prefilled ? c->k_pf_fixed - c->b_prefilled : 0;
	c->b_moves_in = c->k_sp_created;
	c->b_exits = c->b_hidden + c->b_moves_out + (p->b_cr3_exit ? c->cr3 : 0) +
		     (p->b_invlpg_exit ? c->invlpg : 0) + (p->b_pf_exit ? c->faults_user : 0);
	c->c_exits = 0;
}

int spt_run(const struct ptr_trace *t, const struct spt_params *p, struct spt_counts *out)
{
	struct model m = { .p = p };
	uint8_t **ann = calloc(t->nseg ? t->nseg : 1, sizeof(*ann));
	uint64_t sptes = 0, unsync = 0;
	int rc = 0;

	if (!ann)
		return -ENOMEM;
	memset(m.roots, 0xff, sizeof(m.roots)); /* NO_ROOT everywhere */
	for (size_t s = 0; s < t->nseg; s++) {
		ann[s] = calloc(t->seg[s].nrec ? t->seg[s].nrec : 1, 1);
		if (!ann[s])
			rc = -ENOMEM;
	}
	if (!rc)
		rc = annotate(t, ann);
	for (size_t s = 0; s < t->nseg && !rc; s++) {
		memset(&out[s], 0, sizeof(out[s]));
		m.c = &out[s];
		m.c->k_sptes = sptes; /* instant values: carried over */
		m.c->k_unsync = unsync;
		m.c->records = t->seg[s].nrec;
		m.c->lost = t->seg[s].lost;
		replay(&m, &t->seg[s], ann[s]);
		modes(m.c, p);
		sptes = m.c->k_sptes;
		unsync = m.c->k_unsync;
		rc = m.err;
	}
	for (size_t i = 0; i < m.tables.cap; i++) {
		if (m.tables.used[i]) {
			struct table *tb = (struct table *)(uintptr_t)m.tables.vals[i];

			free(tb->pending);
			free(tb);
		}
	}
	u64map_free(&m.tables);
	free(m.unsynced);
	for (size_t s = 0; s < t->nseg; s++)
		free(ann[s]);
	free(ann);
	return rc;
}

void spt_counts_add(struct spt_counts *sum, const struct spt_counts *c)
{
	uint64_t *d = (uint64_t *)sum;
	const uint64_t *s = (const uint64_t *)c;
	for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		d[i] += s[i];
	sum->k_sptes = c->k_sptes; /* instant values: the last one */
	sum->k_unsync = c->k_unsync;
}

void spt_price(const struct spt_counts *c, const struct spt_params *p, struct spt_price *out)
{
	double tlb = (double)c->epochs_accessed * (1 + p->capacity) + (double)c->invlpg +
		     p->refill * (double)c->refill_pages;
	double reflect = (double)(c->faults_user + c->cr3 + c->invlpg);
	double trap = p->c_exit + p->c_emul + p->c_update;
	double b_exits_other = (double)(p->b_cr3_exit ? c->cr3 : 0) * p->c_exit +
			       (double)(p->b_invlpg_exit ? c->invlpg : 0) * p->c_exit +
			       (double)(p->b_pf_exit ? c->faults_user : 0) * p->c_exit;
	double b_common =
		(double)c->b_dev_writes * (p->c_acc + p->reads_per_write * p->c_dev_read) +
		(double)c->b_moves_in * p->c_move +
		(double)c->b_moves_out * (p->c_exit + p->c_move) + tlb * p->c_walk1;
	double a_rest = (double)c->a_hidden * (p->c_exit + p->c_update) + reflect * p->c_exit +
			tlb * p->c_walk1;
	uint64_t load_fills = c->b_load_fills < c->b_hidden ? c->b_load_fills : c->b_hidden;

	out->tlb_misses = tlb;
	out->a = (double)c->a_traps * trap + a_rest;
	out->a_unsync = (double)(c->a_traps - c->a_traps_leaf + c->a_unsync_traps) * trap +
			(double)c->a_syncs * p->c_sync + a_rest;
	out->b = b_common + (double)c->b_hidden * (p->c_exit + p->c_update) + b_exits_other;
	out->b_fill = b_common + (double)(c->b_hidden - load_fills) * (p->c_exit + p->c_update) +
		      (double)load_fills * p->c_acc + b_exits_other;
	out->c = tlb * p->c_walk2;
	/* nested costs more than (a) once every used mapping misses this often */
	out->breakeven = c->epochs_accessed && p->c_walk2 > p->c_walk1 ?
				 (out->a - out->c) /
					 ((double)c->epochs_accessed * (p->c_walk2 - p->c_walk1)) :
				 0;
}
