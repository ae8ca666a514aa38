/* SPDX-License-Identifier: MIT */
/*
 * Search trampolines (JumpSwitches) for the system-call table: the dispatch
 * compares the call number against the hot calls and jumps directly to the
 * hit; a miss takes the retpolined table call. The hot set is re-learned
 * from the per-CPU call counts every `jumpswitch.period=` calls on a CPU and
 * installed without stopping the other CPUs. docs/jumpswitch.md.
 */
#ifndef KERNEL_JUMPSWITCH_H
#define KERNEL_JUMPSWITCH_H

#include <stdint.h>
#include "kernel/percpu.h"
#include "kernel/syscall.h"

/* 1 when the trampoline dispatches system calls (`jumpswitch=on`, the default). */
extern int jumpswitch_on;

/* The trampoline entry (arch/x86_64/jumpswitch.S): calls entry nr, which exists. */
int64_t js_sys_entry(const uint64_t *args, uint64_t nr);

/*
 * Reads `jumpswitch=off|on`, `jumpswitch.entries=N` (0..16, default 6) and
 * `jumpswitch.period=N` (calls per CPU between learning steps, default 256)
 * from the kernel command line. Before the first system call.
 */
void jumpswitch_init(void);

/* Per CPU: quiescent points passed, calls until the next learning step. */
struct jumpswitch_cpu {
	volatile uint64_t qs;
	uint32_t countdown;
	uint64_t misses; /* calls that took the table call */
} __attribute__((aligned(64)));

extern struct jumpswitch_cpu jumpswitch_cpus[MAX_CPUS];

/*
 * Holds the learning steps (and so the trampoline's text writes) off until
 * jumpswitch_release(), waiting for a step in progress; for self-tests that
 * count the privileged mode's entries and text writes.
 */
void jumpswitch_hold(void);
void jumpswitch_release(void);

/* One learning step, taken by CPU cpu outside the trampoline. */
void jumpswitch_step(int cpu);

/* After a system call dispatched through the trampoline on CPU cpu. */
static inline void jumpswitch_sys_done(int cpu)
{
	struct jumpswitch_cpu *jc = &jumpswitch_cpus[cpu];

	jc->qs++; /* a quiescent point: the return to user is an iretq */
	if (!--jc->countdown)
		jumpswitch_step(cpu);
}

/*
 * A timer tick on CPU cpu that interrupted the code at rip: if rip is outside
 * the trampoline code, the CPU was not in it, and the interrupt return
 * (iretq) serialises it before it can enter again: a quiescent point.
 */
void jumpswitch_quiescent(int cpu, uint64_t rip);

/* Dispatches system call nr (fn = its table entry) with the trampoline or without. */
static inline int64_t jumpswitch_syscall(int cpu, syscall_fn *fn, const uint64_t *args, uint64_t nr)
{
	int64_t r;

	if (!jumpswitch_on)
		return fn(args); /* retpolined */
	r = js_sys_entry(args, nr);
	jumpswitch_sys_done(cpu);
	return r;
}

struct jumpswitch_counts {
	uint64_t calls;	   /* dispatched through the trampoline */
	uint64_t misses;   /* ... of which took the table call */
	uint64_t rewrites; /* trampolines installed (switches of the live buffer) */
	uint64_t entries;  /* hot entries in the live trampoline */
};

/* Sums the system-call trampoline's counters over the CPUs. */
void jumpswitch_counts(struct jumpswitch_counts *out);

#endif
