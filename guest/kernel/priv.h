/* SPDX-License-Identifier: MIT */
/*
 * The privileged CPU mode (issue K6). A CPU enters it by taking the
 * interrupt VEC_PRIV: its own request (priv_call) or another CPU's
 * (priv_request). One CPU at a time is in the mode; a request that finds
 * it taken waits (answering the mode's stop request meanwhile). The CPU in
 * the mode:
 *   1. stops every other CPU: VEC_PRIV with a stop request, or the stop
 *      request seen from a wait loop (smp_poll); a stopped CPU raises its
 *      task priority so that every interrupt stays pending, and halts until
 *      the mode's release NMI;
 *   2. maps the region (arch/x86_64/priv_map.h): the privileged code and
 *      its data, at PRIV_VA, in the kernel half every address space shares;
 *      the region is mapped at no other time and its frames are in no other
 *      mapping;
 *   3. runs the privileged function, which must lie in the region;
 *   4. unmaps the region and flushes it from its TLB;
 *   5. releases the others (an NMI each); they flush the region's pages,
 *      drop their task priority and take their pending interrupts.
 * The others are stopped before the region is mapped, so no other CPU ever
 * runs while it is.
 *
 * Clients: kernel text patching (priv_text_write, text_poke's
 * stop-the-world step) and the self-tests (kernel/selftests_priv.c).
 * Counters (stats): priv.entries, priv.waits (requests that found the mode
 * taken), priv.ipis (entry and stop IPIs and release NMIs sent),
 * priv.stopped_cycles (TSC cycles the other CPUs spent stopped, summed),
 * priv.text_writes.
 */
#ifndef KERNEL_PRIV_H
#define KERNEL_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include "arch/x86_64/trapframe.h"
#include "kernel/counters.h"

/* Puts a function (data) in the region: mapped only while a CPU is in the mode. */
#define PRIV_TEXT __attribute__((section(".priv.text"), noinline))
#define PRIV_DATA __attribute__((section(".priv.data")))

/* A privileged function: runs in the mode, interrupts off, without the BKL. */
typedef void priv_fn(void *arg);

struct priv_req {
	priv_fn *fn; /* in the region */
	void *arg;
	volatile int done; /* set once fn ran and the others are released */
};

/*
 * Sets up the region and the VEC_PRIV handler (BSP, after tlb_init, before
 * the APs start). 0 or -errno (the mode stays unavailable).
 */
int priv_init(void);
/*
 * Enters the mode on this CPU through its interrupt and runs fn(arg) there;
 * returns once the others are released. Thread context with interrupts off
 * (it opens them while it waits); the BKL may be held. Inside the mode it
 * calls fn directly. Returns 0, -EINVAL (fn not in the region), -EAGAIN
 * (the mode is not set up), -EBUSY (a request is already pending here).
 */
int priv_call(priv_fn *fn, void *arg);
/*
 * Asks CPU cpu (this one included) to enter the mode and run r->fn(r->arg),
 * by sending it VEC_PRIV; r->done is set when it has. Returns 0, -EINVAL,
 * -EAGAIN, or -EBUSY (cpu has a request pending).
 */
int priv_request(int cpu, struct priv_req *r);
/* The CPU in the mode, -1 if none. */
int priv_owner(void);
/*
 * From smp_poll: stops here if the CPU in the mode asked, and enters the
 * mode if this CPU was asked to (its VEC_PRIV may not get through: a CPU
 * spinning for the BKL under QEMU TCG takes no interrupt). Interrupts off.
 */
void priv_poll(void);
/* From the NMI path: 1 if this CPU is stopped for the mode (the NMI is its release). */
int priv_nmi(struct trapframe *tf);
/*
 * text_poke's stop-the-world step: writes len bytes of code to dst (the
 * direct-map alias of kernel text) in the mode, then serialises. Returns 0
 * or -EAGAIN (the mode is not set up yet: the caller writes it itself).
 */
int priv_text_write(void *dst, const void *src, size_t len);
/*
 * The same step with code integrity on (arch/x86_64/text_patch.h): in the
 * mode, issues the VMM's patch hypercall whose argument (struct
 * vessel_hc_text_patch, for len bytes at dst) is at physical hc_phys; the
 * VMM checks and writes. Returns 0 (the answer is in the argument's ret) or
 * -EAGAIN (the mode is not set up yet).
 */
int priv_text_patch_hc(void *dst, size_t len, uint64_t hc_phys);
/* Adds the priv.* counters through add. */
void priv_report(named_counter_fn *add, struct vessel_stats *s);

/*
 * Command line `privbench`: enters the mode 20 times with a privileged
 * function that does nothing and prints one entry's cost: IPIs, TSC cycles
 * on the CPU in the mode, TSC cycles the others spent stopped (BKL held).
 */
void priv_bench_report(void);

struct priv_counts {
	uint64_t entries, waits, ipis, stopped_cycles, stops, text_writes;
};
/* Sums the counters over the CPUs. */
void priv_counts(struct priv_counts *out);

#endif
