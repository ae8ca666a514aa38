/* SPDX-License-Identifier: MIT */
/*
 * Search trampolines (JumpSwitches) for the kernel's large call tables: a
 * dispatch compares the key (system-call number, interrupt vector) against
 * the hot keys and jumps directly to the hit; a miss takes the retpolined
 * table call. Each table is one struct js_table run by the same code: its
 * hot set is re-learned from per-CPU counts every `period` dispatches on a
 * CPU and installed without stopping the other CPUs. Tables: the
 * system-call table (here) and the interrupt handler table (kernel/irq.c).
 * docs/jumpswitch.md.
 */
#ifndef KERNEL_JUMPSWITCH_H
#define KERNEL_JUMPSWITCH_H

#include <stdint.h>
#include "kernel/counters.h"
#include "kernel/percpu.h"
#include "kernel/syscall.h"
#include "lib/jswitch.h"

/* 1 when the trampolines dispatch (`jumpswitch=on`, the default); 0: table calls only. */
extern int jumpswitch_on;

/* Per CPU and table: quiescent points passed, dispatches until the next learning step. */
struct js_cpu {
	volatile uint64_t qs;
	uint32_t countdown;
	uint64_t misses; /* dispatches that took the table call */
} __attribute__((aligned(64)));

enum js_stage { JS_IDLE, JS_WRITTEN, JS_FLIPPED };

/*
 * One table's trampoline. The fixed parts come from JS_TABLE in
 * arch/x86_64/jumpswitch.S; the rest is filled by the table's owner
 * (JS_TABLE_INIT) and by the learning steps.
 */
struct js_table {
	const char *name; /* stats: jumpswitch.<name>.* ; cmdline jumpswitch.<name>.* */
	char *entry, *buf[2], *end;
	volatile uint32_t *sel; /* bit 0 live buffer, bit 1 bypass, bits 8.. removal count */
	/*
	 * 1: the entry is a jmp rel32 to the live buffer, rewritten by the flip
	 * (no data test on a hit); 0: it tests sel. Bit 0 of sel names the live
	 * buffer either way.
	 */
	int entry_jumps;
	uint64_t miss; /* the miss path's address */
	int nkeys;     /* keys 0 .. nkeys - 1 */
	/* CPU cpu's dispatch counts, nkeys of them */
	const uint64_t *(*counts)(int cpu);
	/* the target of key (0: none); read after the removal count */
	uint64_t (*target)(uint32_t key);
	/* 1 if a CPU running its idle thread cannot be in the trampoline (see grace_done) */
	int idle_is_quiescent;
	/*
	 * 1: a dispatch cannot step itself (interrupt context may not write
	 * text); its steps run at the end of the next system call instead
	 */
	int step_elsewhere;
	volatile int step_wanted;
	uint64_t *seen; /* nkeys counts at the last learning */

	int lock; /* one step at a time; a CPU that finds it taken skips */
	int entries;
	uint32_t period;
	enum js_stage stage;
	uint32_t live[JSW_MAX_ENTRIES], pending[JSW_MAX_ENTRIES];
	uint64_t live_t[JSW_MAX_ENTRIES], pending_t[JSW_MAX_ENTRIES];
	int nlive, npending;
	uint32_t built_gen; /* removal count the pending trampoline was built at */
	uint64_t snap[MAX_CPUS];
	uint64_t rewrites;
	struct js_table *next;
	struct js_cpu cpu[MAX_CPUS];
};

/*
 * Names the fixed parts of table `tname` (JS_TABLE tname in jumpswitch.S)
 * but its entry, which the owner declares as the function it is.
 */
#define JS_TABLE_DECLARE(tname)                                                                    \
	extern char js_##tname##_buf0[], js_##tname##_buf1[], js_##tname##_end[];                  \
	extern volatile uint32_t js_##tname##_sel

/* The initializer of table tname's struct js_table; seen_arr has nk elements. */
#define JS_TABLE_INIT(tname, missfn, nk, countsfn, targetfn, idle_q, elsewhere, seen_arr)          \
	{                                                                                          \
		.name = #tname, .entry = (char *)js_##tname##_entry,                               \
		.buf = { js_##tname##_buf0, js_##tname##_buf1 }, .end = js_##tname##_end,          \
		.sel = &js_##tname##_sel, .miss = (uint64_t)(missfn), .nkeys = (nk),               \
		.counts = (countsfn), .target = (targetfn), .idle_is_quiescent = (idle_q),         \
		.step_elsewhere = (elsewhere), .seen = (seen_arr)                                  \
	}

/*
 * Reads `jumpswitch=off|on`, `jumpswitch.entries=N` (0..16, default 6) and
 * `jumpswitch.period=N` (dispatches per CPU between learning steps, default
 * 256) from the kernel command line, and `jumpswitch.<name>.entries=` /
 * `.period=` for one table; links the system-call table and sets up the
 * per-process one (kernel/jumpswitch_proc.h). Before the first system call.
 */
void jumpswitch_init(void);

/*
 * The kernel command-line value of key (e.g. "jumpswitch.fd.period="), 0 ..
 * max, or def when absent or malformed (with a message).
 */
uint64_t jumpswitch_param(const char *key, uint64_t def, uint64_t max);

/* The hot entries a table gets unless told otherwise (`jumpswitch.entries=`). */
int jumpswitch_default_entries(void);

/*
 * Sets t up from the command line (as jumpswitch_init) and links it for
 * jumpswitch_hold and jumpswitch_report. Once per table, at boot,
 * after jumpswitch_init and before its first dispatch.
 */
void jumpswitch_table_init(struct js_table *t);

/*
 * Holds the learning steps of every table (and so the trampolines' text
 * writes) off until jumpswitch_release(), waiting for a step in progress;
 * for self-tests that count the privileged mode's entries and text writes.
 */
void jumpswitch_hold(void);
void jumpswitch_release(void);

/*
 * One learning step of t, taken by CPU cpu in thread context (it may write
 * text, which enters the privileged mode), outside t's trampoline. Skips if
 * another CPU is stepping t.
 */
void jumpswitch_step(struct js_table *t, int cpu);

/*
 * Sets t's learning period (dispatches per CPU between steps; 0 keeps it)
 * and returns the old one; for self-tests that drive the steps themselves.
 */
uint32_t jumpswitch_set_period(struct js_table *t, uint32_t period);

/*
 * A target of t was removed (its key now has another target, or none):
 * until a trampoline built after this call is live, every dispatch takes
 * the miss path. Any context. Only for tables built with bypass=1.
 */
void jumpswitch_invalidate(struct js_table *t);

/* Set when a step_elsewhere table wants a learning step. */
extern volatile int jumpswitch_steps_wanted;

/* Takes the wanted steps of step_elsewhere tables (thread context, as jumpswitch_step). */
void jumpswitch_run_wanted(int cpu);

/* After a dispatch through t's trampoline on CPU cpu. */
static inline void jumpswitch_done(struct js_table *t, int cpu)
{
	struct js_cpu *jc = &t->cpu[cpu];

	jc->qs++; /* a quiescent point: an iretq comes before the next entry */
	if (!--jc->countdown) {
		if (t->step_elsewhere) {
			jc->countdown = t->period;
			t->step_wanted = 1;
			jumpswitch_steps_wanted = 1;
		} else {
			jumpswitch_step(t, cpu);
		}
	}
}

/* The system-call table's trampoline. */
extern struct js_table js_sys;

/* The trampoline entry (arch/x86_64/jumpswitch.S): calls entry nr, which exists. */
int64_t js_sys_entry(const uint64_t *args, uint64_t nr);

/*
 * A timer tick on CPU cpu that interrupted the code at rip: if rip is outside
 * the system-call trampoline, the CPU was not in it, and the interrupt return
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
	jumpswitch_done(&js_sys, cpu);
	if (jumpswitch_steps_wanted)
		jumpswitch_run_wanted(cpu);
	return r;
}

struct jumpswitch_counts {
	uint64_t calls;	   /* dispatched through the trampoline (its counts, while on) */
	uint64_t misses;   /* ... of which took the table call */
	uint64_t rewrites; /* trampolines installed (switches of the live buffer) */
	uint64_t entries;  /* hot entries in the live trampoline */
};

/* Sums t's counters over the CPUs. */
void jumpswitch_counts(const struct js_table *t, struct jumpswitch_counts *out);

/* Adds jumpswitch.on and jumpswitch.<table>.{hits,misses,rewrites,entries} of every table. */
void jumpswitch_report(named_counter_fn *add, struct vessel_stats *s);

#endif
