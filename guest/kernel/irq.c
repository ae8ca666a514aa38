// SPDX-License-Identifier: MIT
/*
 * The interrupt handler table: one slot per vector, filled by irq_register.
 * With jumpswitch on, a dispatch goes through the table's search trampoline
 * (kernel/jumpswitch.h, docs/jumpswitch.md): direct jumps to the handlers
 * of the vectors hot now (the timer, IPIs), the retpolined table call for
 * the rest. Its learning steps run at the end of a system call: they write
 * kernel text, which an interrupt handler may not.
 */
#include <stddef.h>
#include "arch/x86_64/layout.h"
#include "kernel/irq.h"
#include "kernel/jumpswitch.h"
#include "kernel/percpu.h"
#include "lib/errno.h"

#define IRQ_VECTORS 256

static irq_handler_fn *handlers[IRQ_VECTORS];

/* Per CPU: dispatches through the trampoline per vector (its learning input). */
static struct {
	uint64_t n[IRQ_VECTORS];
} __attribute__((aligned(64))) irq_counts[MAX_CPUS];

JS_TABLE_DECLARE(irq);
void irq_jumpswitch_miss(struct trapframe *tf, uint64_t vector);
static const uint64_t *irq_table_counts(int cpu);
static uint64_t irq_target(uint32_t vector);
static uint64_t irq_seen[IRQ_VECTORS];

struct js_table js_irq = JS_TABLE_INIT(irq, irq_jumpswitch_miss, IRQ_VECTORS, irq_table_counts,
				       irq_target, 0, 1, irq_seen);

static const uint64_t *irq_table_counts(int cpu)
{
	return irq_counts[cpu].n;
}

static uint64_t irq_target(uint32_t vector)
{
	return vector < IRQ_VECTORS ?
		       (uint64_t)__atomic_load_n(&handlers[vector], __ATOMIC_ACQUIRE) :
		       0;
}

/* The trampoline's miss path: the table call, or nothing if the handler just left. */
void irq_jumpswitch_miss(struct trapframe *tf, uint64_t vector)
{
	irq_handler_fn *fn = __atomic_load_n(&handlers[vector & 0xff], __ATOMIC_ACQUIRE);

	js_irq.cpu[this_cpu()->id].misses++;
	if (fn)
		fn(tf); /* retpolined */
}

void irq_init(void)
{
	jumpswitch_table_init(&js_irq);
}

static int registrable(unsigned int vector)
{
	return vector >= 32 && vector < VEC_SPURIOUS && vector != VEC_SYSCALL_INT;
}

static int install(unsigned int vector, irq_handler_fn *fn)
{
	irq_handler_fn *none = NULL;

	/* a compare-exchange: two registrations of one vector cannot both win */
	return __atomic_compare_exchange_n(&handlers[vector], &none, fn, 0, __ATOMIC_RELEASE,
					   __ATOMIC_RELAXED) ?
		       0 :
		       -EBUSY;
}

int irq_register(unsigned int vector, irq_handler_fn *fn)
{
	if (!fn || !registrable(vector))
		return -EINVAL;
	return install(vector, fn);
}

int irq_alloc(irq_handler_fn *fn)
{
	if (!fn)
		return -EINVAL;
	for (unsigned int v = IRQ_DYN_FIRST; v <= IRQ_DYN_LAST; v++) {
		if (registrable(v) && install(v, fn) == 0)
			return (int)v;
	}
	return -ENOSPC;
}

int irq_unregister(unsigned int vector)
{
	if (!registrable(vector) || !__atomic_exchange_n(&handlers[vector], NULL, __ATOMIC_ACQ_REL))
		return -EINVAL;
	/* the live trampoline may still jump to the old handler: not from now on */
	jumpswitch_invalidate(&js_irq);
	return 0;
}

int irq_handle(struct trapframe *tf)
{
	irq_handler_fn *fn = tf->vector < IRQ_VECTORS ?
				     __atomic_load_n(&handlers[tf->vector], __ATOMIC_ACQUIRE) :
				     NULL;
	int cpu;

	if (!fn)
		return 0;
	if (!jumpswitch_on) {
		fn(tf); /* retpolined */
		return 1;
	}
	cpu = this_cpu()->id;
	irq_counts[cpu].n[tf->vector]++;
	js_irq_entry(tf, tf->vector);
	jumpswitch_done(&js_irq, cpu);
	return 1;
}
