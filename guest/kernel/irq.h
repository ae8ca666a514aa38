/* SPDX-License-Identifier: MIT */
/*
 * Interrupt handlers, registered by the subsystem that owns the interrupt
 * (the timer, the scheduler's reschedule IPI, TLB shootdowns, the console's
 * UART, a future device). The arch trap code looks the vector up here; it
 * counts the interrupt, calls the handler and then acknowledges it (LAPIC
 * EOI). Exceptions (vectors 0..31), the system-call vector and the spurious
 * vector are the arch code's own and cannot be registered.
 */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include "arch/x86_64/trapframe.h"

/*
 * An interrupt handler. It runs on the CPU that took the interrupt, with
 * interrupts off and WITHOUT the big kernel lock (a TLB-shootdown initiator
 * may hold it while it waits for this CPU): it may touch per-CPU state,
 * device registers and its own spinlock-protected data, set need_resched or
 * raise deferred work (kernel/deferred.h); nothing else.
 */
typedef void irq_handler_fn(struct trapframe *tf);

/* Vectors irq_alloc hands out (fixed vectors live in arch/x86_64/layout.h). */
#define IRQ_DYN_FIRST 0x30
#define IRQ_DYN_LAST  0xdf

/*
 * Installs fn for `vector` (32..254, not the system-call vector).
 * Returns 0, -EINVAL (vector not registrable, fn NULL) or -EBUSY (the
 * vector already has a handler). Call it before the source can fire.
 */
int irq_register(unsigned int vector, irq_handler_fn *fn);
/*
 * Installs fn on a free vector of IRQ_DYN_FIRST..IRQ_DYN_LAST and returns
 * that vector (for the device to route its interrupt to), or -EINVAL (fn
 * NULL) or -ENOSPC (none free).
 */
int irq_alloc(irq_handler_fn *fn);
/*
 * Removes the handler of vector. The caller has silenced the source first;
 * an interrupt arriving later is reported as unexpected. Returns 0 or
 * -EINVAL (no handler there).
 */
int irq_unregister(unsigned int vector);
/*
 * Runs the handler of tf->vector (through the interrupt table's search
 * trampoline when jumpswitch is on). Returns 1 if there was one, 0 if not.
 */
int irq_handle(struct trapframe *tf);

/*
 * Sets up the table's search trampoline (kernel/jumpswitch.h), after
 * jumpswitch_init and before the first interrupt. Counters in stats:
 * jumpswitch.irq.{hits,misses,rewrites,entries}.
 */
void irq_init(void);

struct js_table;
/* The interrupt handler table's search trampoline (for self-tests). */
extern struct js_table js_irq;

/* Its entry (arch/x86_64/jumpswitch.S): runs the handler of vector, which must exist. */
void js_irq_entry(struct trapframe *tf, uint64_t vector);

#endif
