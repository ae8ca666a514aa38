/* SPDX-License-Identifier: MIT */
/*
 * Page-table tracing (`pttrace=on` on the kernel command line, with
 * `vessel run --pt-trace FILE`): every page-table entry the kernel writes
 * (through pt_set(), arch/x86_64/paging.h), every TLB flush (invlpg, CR3
 * loads: the hooks in arch/x86_64/cpu.h), every page fault, and the frames
 * the page allocator hands out and page-table pages it gets back, recorded
 * into a per-CPU buffer the VMM drains (include/abi/vessel.h,
 * VESSEL_HC_PTTRACE). The shadow-paging model tools/sptmodel replays the
 * trace (docs/sptmodel.md). Off, each hook costs one load and a branch.
 */
#ifndef KERNEL_PTTRACE_H
#define KERNEL_PTTRACE_H

#include <stdint.h>

/* pttrace_on - nonzero while tracing (read by the inline hooks). */
extern int pttrace_on;

/*
 * pttrace_init - with `pttrace=on` and the Vessel VMM's hypercalls, give
 * every CPU a buffer, register them and start tracing; prints what it did.
 * After page_alloc_init(), before anything whose page tables are traced.
 */
void pttrace_init(void);

/* The records (callers test pttrace_on first; interrupts may be on or off). */
void pttrace_write(uint64_t entry_pa, int level, uint64_t old_val, uint64_t new_val);
void pttrace_cr3(uint64_t new_cr3);
void pttrace_invlpg(uint64_t va);
void pttrace_fault(uint64_t va, uint64_t error);
void pttrace_free(uint64_t table_pa, int level);
void pttrace_alloc(uint64_t pa, uint64_t pages);

#endif
