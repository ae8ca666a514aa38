/* SPDX-License-Identifier: MIT */
/*
 * Kernel event counters, kept per CPU (no shared cache lines on hot paths)
 * and summed on read. Read by user space through the counters syscall.
 */
#ifndef KERNEL_COUNTERS_H
#define KERNEL_COUNTERS_H

#include <stdint.h>

#define COUNTERS_MAX_SYSCALLS 64

struct counters {
	uint64_t syscalls;	 /* entries through syscall or int $0x80 */
	uint64_t syscalls_ud;	 /* ... of which through the ud2 erratum path */
	uint64_t syscalls_int80; /* ... of which through int $0x80 */
	uint64_t interrupts;	 /* hardware interrupts and IPIs received */
	uint64_t exceptions;	 /* CPU exceptions other than page faults */
	uint64_t page_faults;	 /* #PF */
	uint64_t context_switches;
	uint64_t ipis_sent;
	uint64_t ipis_received;
	uint64_t timer_ticks;
	uint64_t tlb_shootdowns; /* shootdowns that sent IPIs */
	uint64_t nmis;		 /* NMIs outside a panic */

	/* kernel/compat.c: calls of 32-bit processes; 64-bit code descriptor toggles */
	uint64_t syscalls_compat;
	uint64_t compat_gdt_switches;
	/* arch/x86_64/pti.c: entries from user mode with / without a page-table switch */
	uint64_t pti_entries_switched;
	uint64_t pti_entries_unswitched;
	uint64_t per_syscall[COUNTERS_MAX_SYSCALLS];
};

struct vessel_stats;
/* Adds a named mechanism counter to a stats reply (kernel/sys_info.c). */
typedef void named_counter_fn(struct vessel_stats *s, const char *name, uint64_t v);

/* Sums the counters of every CPU into out. */
void counters_sum(struct counters *out);

#endif
