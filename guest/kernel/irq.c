// SPDX-License-Identifier: MIT
/* The interrupt handler table: one slot per vector, filled by irq_register. */
#include <stddef.h>
#include "arch/x86_64/layout.h"
#include "kernel/irq.h"
#include "lib/errno.h"

static irq_handler_fn *handlers[256];

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
	return 0;
}

int irq_handle(struct trapframe *tf)
{
	irq_handler_fn *fn =
		tf->vector < 256 ? __atomic_load_n(&handlers[tf->vector], __ATOMIC_ACQUIRE) : NULL;

	if (!fn)
		return 0;
	fn(tf);
	return 1;
}
