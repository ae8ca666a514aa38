/* SPDX-License-Identifier: MIT */
/*
 * Cross-CPU calls (kernel side of lib/shootdown.h): every CPU has a
 * lock-free call-function queue; a sender queues an entry it owns, sends
 * VEC_CALL (VEC_TLB for a TLB flush) only if that queue was empty, and the
 * target acknowledges each entry after running its function. The handler
 * runs without the BKL, interrupts off, so call functions follow the rules
 * of kernel/irq.h.
 *
 * Every CPU that spins waiting for another (the BKL spin loop, a sender
 * waiting for its acknowledgements, the privileged mode's waits) calls
 * smp_poll(), so two CPUs that wait for each other with interrupts off both
 * make progress: under QEMU TCG an interrupt is never delivered inside a
 * short sti; pause; cli window.
 */
#ifndef KERNEL_XCALL_H
#define KERNEL_XCALL_H

#include "lib/shootdown.h"

/* The cross-CPU call and shootdown state of the kernel. */
extern struct sd_sys xcall_sys;

/* Registers the IPI handlers (BSP, before the APs start); layout: enum sd_layout. */
void xcall_init(int layout);
/*
 * Serves what other CPUs may be waiting for from this one: runs its
 * call-function queue and enters the privileged mode's stop state if asked
 * (kernel/priv.h). Interrupts off; any context.
 */
void smp_poll(void);
/*
 * Runs fn(&xcall_sys, cpu, entry) on CPU cpu (not this one) and waits until
 * it has; entry->arg is arg. Interrupts off; the BKL may be held.
 */
void smp_call(int cpu, sd_call_fn *fn, void *arg);
/*
 * Queues the caller's entry c on CPU cpu to run fn there, without waiting
 * (smp_call_wait). Entries one CPU queues on another run in queue order.
 */
void smp_call_async(int cpu, struct sd_csd *c, sd_call_fn *fn, void *arg);
/* Waits until the target of c has run it (serving this CPU meanwhile). */
void smp_call_wait(struct sd_csd *c);

#endif
