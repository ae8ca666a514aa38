/* SPDX-License-Identifier: MIT */
/*
 * Hyper-callbacks (H2): verified eBPF programs the guest kernel registers
 * with VESSEL_HC_HCB_REGISTER (include/abi/vessel.h), run by the VMM at its
 * own events without entering the guest. A subsystem on ebpf/, attached to
 * the VM as a hook; docs/hcb.md has the design.
 *
 * What a callback says is a hint read from racy guest memory: callers act on
 * it only where a wrong answer is harmless (migration re-sends pages the
 * guest writes after the check; reclaim pauses the VM while it drops pages).
 */
#ifndef VMM_HCB_HCB_H
#define VMM_HCB_HCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/vessel.h"

struct vm;

/*
 * hcb_attach - make vm accept hyper-callback registrations (enabled) or
 * refuse every one with -EPERM (vessel run --no-hyper-callbacks, the
 * baseline). Before vm_start(). 0 or -errno with vm->err set.
 */
int hcb_attach(struct vm *vm, bool enabled);

struct hcb_run_stats {
	uint64_t runs;	 /* program runs (one per chunk for FREE_PAGES) */
	uint64_t insns;	 /* instructions executed */
	uint64_t ns;	 /* host time spent running them */
};

/*
 * hcb_free_pages - ask the FREE_PAGES callback which of the page frames
 * [0, nframes) are free; OR them into bitmap (bit f = frame f, 1 = free).
 * Returns the number of frames reported free, -ENOENT when no callback is
 * registered (or hyper-callbacks are off), or -errno when it failed (then
 * bitmap is unchanged: nothing is assumed free). st may be NULL.
 */
int64_t hcb_free_pages(struct vm *vm, uint64_t *bitmap, uint64_t nframes,
		       struct hcb_run_stats *st);

/*
 * hcb_page_owner - ask the PAGE_OWNER callback who owns the page at gpa.
 * 0 with *out filled, -ENOENT without a callback, -errno on failure.
 */
int hcb_page_owner(struct vm *vm, uint64_t gpa, struct vessel_hcb_owner *out);

/* hcb_owner_text - "process 3 (memtest)", "free", "the kernel" or "unknown". */
const char *hcb_owner_text(const struct vessel_hcb_owner *o, char *buf, size_t len);

/*
 * hcb_roundtrip_attach - the baseline the callbacks replace: `free-pages
 * guest` asks the kernel by interrupt and hypercall (free_pages_cmd.c).
 * Called by hcb_attach(). 0 or -errno.
 */
int hcb_roundtrip_attach(struct vm *vm);

/* hcb_registered - whether a callback for event is registered. */
bool hcb_registered(struct vm *vm, unsigned event);

struct hcb_counts {
	bool enabled;
	uint64_t accepted, rejected, refused; /* registrations */
	uint64_t runs, insns, ns;	      /* all program runs (host time) */
	char last_owner[96]; /* the last memory error's page owner, "" if none */
};

/* hcb_counts - the counters above (zeros when not attached). */
void hcb_counts(struct vm *vm, struct hcb_counts *c);

#endif
