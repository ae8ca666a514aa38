/* SPDX-License-Identifier: MIT */
/*
 * TLB shootdowns on top of the cross-CPU calls (kernel/xcall.h,
 * lib/shootdown.h). An address space (struct vm) carries a generation and
 * the mask of CPUs that hold it. A CPU running an idle or kernel thread
 * keeps the last address space loaded in lazy TLB mode: shootdowns skip it,
 * and it flushes once when it next runs a thread of that space, if one
 * skipped it. `tlb.layout=split|consolidated` on the command line chooses
 * where the lazy indicator and the flush information live (default
 * consolidated; see lib/shootdown.h).
 */
#ifndef KERNEL_TLB_H
#define KERNEL_TLB_H

#include <stdint.h>
#include "kernel/counters.h"
#include "lib/shootdown.h"

struct vm;

/* Sets up cross-CPU calls with the command line's layout (BSP, before the APs start). */
void tlb_init(void);
/*
 * The page tables of vm changed in [start, end): returns once no CPU can
 * use a translation from before the change (BKL held).
 */
void tlb_flush_range(struct vm *vm, uint64_t start, uint64_t end);
/*
 * Before vm's page tables are freed: every CPU still holding them, lazily
 * or not (this one included), loads the kernel's page table (BKL held).
 */
void tlb_release(struct vm *vm);
/*
 * The scheduler switches this CPU to a thread of vm (NULL: a kernel or idle
 * thread, which keeps the loaded space lazily). Interrupts off.
 */
void tlb_switch(struct vm *vm);
/* The layout in use (enum sd_layout). */
int tlb_layout(void);
/*
 * Switches the layout (self-tests and benchmarks compare both in one boot).
 * BKL held; no other CPU may be sending a shootdown (none can without it).
 */
void tlb_set_layout(int layout);
/* Adds the tlb.* counters (summed over the CPUs) through add. */
void tlb_report(named_counter_fn *add, struct vessel_stats *s);

/* lib/shootdown.h's platform operations (used by kernel/xcall.c). */
void tlb_arch_flush(struct sd_sys *s, int self, uint64_t start, uint64_t end);
void tlb_arch_load(struct sd_sys *s, int self, struct sd_mm *mm);

#endif
