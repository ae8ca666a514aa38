/* SPDX-License-Identifier: MIT */
/*
 * The big kernel lock (BKL). A CPU takes it when it enters the kernel from
 * user mode (kernel_enter) and when its idle loop looks for work; it drops
 * it when it returns to user mode (kernel_exit in sched.h) or halts. Kernel
 * code otherwise runs with interrupts off, so it is never preempted; user
 * code is preempted by the LAPIC timer.
 *
 * Two rules keep it from deadlocking SMP: interrupt handlers run without it
 * (kernel/irq.h), and a CPU spinning for it answers cross-CPU calls itself,
 * because the holder may be waiting for exactly that CPU's acknowledgement.
 */
#ifndef KERNEL_BKL_H
#define KERNEL_BKL_H

/*
 * Takes the BKL (interrupts off). While it waits it answers this CPU's
 * pending cross-CPU calls (smp_poll, kernel/xcall.h) and briefly enables interrupts.
 * Once it holds the lock it runs the deferred work that interrupt handlers
 * raised (deferred_run).
 */
void kernel_enter(void);
/* Drops the BKL (the caller holds it). */
void kernel_unlock(void);
/* 1 if this CPU holds the BKL. */
int kernel_locked(void);
/* The CPU holding the BKL, -1 if it is free (diagnostics: read without it). */
int bkl_owner(void);

#endif
