/* SPDX-License-Identifier: MIT */
/*
 * Spinlocks. The kernel runs with interrupts off except where it waits, so
 * plain spin_lock is enough for most locks; spin_lock_irqsave is for code
 * that may run with interrupts on (printk from anywhere).
 */
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdint.h>
#include "arch/x86_64/cpu.h"

struct spinlock {
	volatile uint32_t locked;
	int32_t owner_cpu; /* for diagnostics; -1 when free */
};

#define SPINLOCK_INIT                                                                              \
	{                                                                                          \
		0, -1                                                                              \
	}

static inline int spin_trylock(struct spinlock *l)
{
	return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void spin_lock(struct spinlock *l)
{
	while (!spin_trylock(l)) {
		while (l->locked)
			cpu_relax();
	}
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t flags = read_rflags();

	irq_disable();
	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
	spin_unlock(l);
	if (flags & RFLAGS_IF)
		irq_enable();
}

#endif
