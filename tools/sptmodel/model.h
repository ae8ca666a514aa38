/* SPDX-License-Identifier: MIT */
/*
 * The shadow-paging model (docs/sptmodel.md): replays a page-table trace
 * (trace.h) and counts, per workload segment, what three ways of
 * virtualising guest page tables would do:
 *
 *   (a) trapping shadow paging: the hypervisor write-protects every guest
 *       page-table page it shadows; each write to one traps (exit, emulate,
 *       update the shadow); the shadow is filled lazily, so the first use
 *       of each mapping is a shadow fault (exit); CR3 loads, invlpg and
 *       guest page faults exit. Its shadow pages follow this host's KVM
 *       (k, below), which the trace validates.
 *   (b) the trapless accelerator (US10114759B2): the page-table pages the
 *       hypervisor shadows live in a device's memory; the device intercepts
 *       each write, translates GVA->GPA into GVA->HPA and writes the shadow
 *       entry: no exit, a per-update device cost, slower reads of entries,
 *       and no first-use fault for mappings it wrote; moving a page into
 *       device memory happens inside the fault that shadows it.
 *   (c) nested paging: no exits for any of it; every TLB miss walks two
 *       dimensions instead of one.
 *
 * (k) is what this host's KVM shadow MMU does with the same trace, under
 * its policies (lazy fill on first use, write-flood detection, zapping on
 * emulated writes), predicted as the counters KVM reports, for validation
 * against the KVM statistics recorded in the trace.
 *
 * Counting (spt_run) is separate from pricing (spt_price), so the
 * sensitivity table re-prices the same counts under other costs.
 */
#ifndef SPTMODEL_MODEL_H
#define SPTMODEL_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"

/* Guest PTE bits the model reads (x86-64). */
#define SPT_P	 (1ull << 0)
#define SPT_A	 (1ull << 5)
#define SPT_D	 (1ull << 6)
#define SPT_PS	 (1ull << 7)
#define SPT_ADDR 0x000ffffffffff000ull

/* The virtual address whose first access the model assumes for every new
 * address space (the syscall stub page user code enters the kernel through,
 * docs/kernel.md); 0: none. */
#define SPT_STUB_VA_DEFAULT 0xffffff0000000000ull

struct spt_params {
	/* counting */
	unsigned flood;	       /* writes to a shadowed table before it is zapped (KVM: 3) */
	unsigned tlb_entries;  /* TLB reach in 4 KiB entries, for refills after a flush */
	uint64_t stub_va;      /* see SPT_STUB_VA_DEFAULT */
	bool unknown_accessed; /* a mapping whose end the trace does not show was accessed */
	/* pricing, in host cycles */
	double c_exit;		/* a VM exit and re-entry with the hypervisor's fault handling
				   (a shadow fault costs this) */
	double c_emul;		/* decoding and emulating the trapping write */
	double c_update;	/* writing one shadow entry (translate, store) */
	double c_acc;		/* (b) the device's cost per intercepted write, seen by the vCPU */
	double c_dev_read;	/* (b) extra latency of reading a PT entry from device memory */
	double reads_per_write; /* (b) PT entry reads per traced write (walks included) */
	double c_move;		/* (b) copying a page into or out of device memory */
	double c_walk1;		/* a TLB miss, one-dimensional walk (native, shadow) */
	double c_walk2;		/* a TLB miss, two-dimensional walk (nested paging) */
	double refill;		/* fraction of an address space's resident pages re-missed
				   after a full TLB flush */
	double capacity;	/* TLB misses per used mapping beyond its first use (the
				   trace has no access sample: a stated rate) */
	double c_sync;		/* (a, unsync variant) re-checking one unsync table */
	bool b_cr3_exit;	/* (b): CR3 loads still exit (the hypervisor picks the root) */
	bool b_invlpg_exit;	/* (b): invlpg still exits */
	bool b_pf_exit;		/* (b): guest page faults still exit and are reflected */
};

/* spt_params_default - the defaults above (docs/sptmodel.md says why). */
void spt_params_default(struct spt_params *p);

struct spt_counts {
	/* the trace */
	uint64_t records, lost;
	uint64_t writes, writes_leaf, writes_upper;
	uint64_t cr3, invlpg, faults, faults_user, frees, allocs;
	uint64_t new_tables;	  /* pages that became page tables */
	uint64_t epochs;	  /* leaf mappings made present */
	uint64_t epochs_accessed; /* ... accessed by the CPU (A bit when replaced) */
	uint64_t epochs_dirty;	  /* ... and written (D bit) */
	uint64_t epochs_unknown;  /* ... whose end is not in the trace */
	uint64_t refill_pages;	  /* sum over full TLB flushes of the resident pages
				     (capped at tlb_entries) */
	/* (a) trapping shadow paging = the shadow MMU below, priced */
	uint64_t a_traps;	 /* writes to shadowed (write-protected) tables; a freed
				    table reused traps `flood` times, then is let go */
	uint64_t a_hidden;	 /* first uses of mappings: shadow faults */
	uint64_t a_exits;	 /* traps + shadow faults + guest faults + CR3 + invlpg */
	uint64_t a_traps_leaf;	 /* ... of the traps, writes to level-1 tables */
	uint64_t a_unsync_traps; /* unsync variant: first leaf-table write per sync */
	uint64_t a_syncs;	 /* unsync variant: tables synced at CR3 loads and invlpg */
	/* (b) trapless accelerator */
	uint64_t b_dev_writes; /* writes the device intercepted (no exit) */
	uint64_t b_prefilled;  /* mappings the device filled at the write: no first fault */
	uint64_t b_hidden;     /* shadow faults left */
	uint64_t b_moves_in;   /* pages moved into device memory (new shadow pages) */
	uint64_t b_moves_out;  /* freed tables moved out when reused (an exit each) */
	uint64_t b_load_fills; /* first uses the device could fill at a root's load */
	uint64_t b_exits;
	/* (c) nested paging */
	uint64_t c_exits;
	/* (k) this host's KVM shadow MMU, predicted */
	uint64_t k_pf_guest;	   /* guest page faults KVM reflects */
	uint64_t k_pf_fixed;	   /* shadow faults KVM fixes (first access of a mapping) */
	uint64_t k_pf_spurious;	   /* shadow faults that only relink existing shadow pages */
	uint64_t k_d_faults;	   /* ... of pf_fixed, second faults to set the D bit after a
				      demand fault on a read */
	uint64_t k_sp_created;	   /* shadow pages created (mmu_cache_miss) */
	uint64_t k_flooded;	   /* shadow pages zapped for write flooding (mmu_flooded) */
	uint64_t k_zapped;	   /* shadow pages zapped (mmu_shadow_zapped) */
	uint64_t k_pde_zapped;	   /* non-leaf shadowed entries written non-zero */
	uint64_t k_sptes;	   /* leaf shadow entries present at the end (pages_4k) */
	uint64_t k_tracked_writes; /* emulated writes to shadowed tables KVM inspected */
	uint64_t k_unsync;	   /* unsync shadow pages at the end (mmu_unsync): stale
				      level-1 ones user code was let write */
	uint64_t k_remote_flush;   /* remote TLB flush requests (zaps of present entries) */
};

/*
 * spt_run - replay every segment of t under params p; out[i] gets segment
 * i's counts (t->nseg entries). State carries over from one segment to the
 * next, as in the VM. 0 or -ENOMEM.
 */
int spt_run(const struct ptr_trace *t, const struct spt_params *p, struct spt_counts *out);

/* spt_counts_add - *sum += *c, field by field (instant k_sptes, k_unsync: c's). */
void spt_counts_add(struct spt_counts *sum, const struct spt_counts *c);

struct spt_price {
	double a, b, c;	 /* modelled cycles of MMU virtualisation per mode */
	double a_unsync; /* (a) with KVM's unsync: a leaf table traps once per TLB flush
			    and is re-checked at the flush */
	double b_fill;	 /* (b) also filling a new root's shadow at its first load */
	double tlb_misses;
	double breakeven; /* capacity misses per used mapping at which (c) costs as much as (a) */
};

/* spt_price - price counts c under p. */
void spt_price(const struct spt_counts *c, const struct spt_params *p, struct spt_price *out);

#endif
