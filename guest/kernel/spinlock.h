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

/*
 * An owner-recording lock: `locked` holds the owner's CPU number + 1, set
 * in the same atomic step that takes the lock, so a machine check that
 * interrupted its own CPU can tell, with no window, that it would wait for
 * itself (spin_held_by). Released with spin_unlock_irqrestore.
 */
static inline uint64_t spin_lock_owner_irqsave(struct spinlock *l, uint32_t cpu)
{
	uint64_t flags = read_rflags();
	uint32_t free;

	irq_disable();
	for (;;) {
		free = 0;
		if (__atomic_compare_exchange_n(&l->locked, &free, cpu + 1, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return flags;
		while (l->locked)
			cpu_relax();
	}
}

/* spin_held_by - whether cpu holds l (taken with spin_lock_owner_irqsave). */
static inline int spin_held_by(struct spinlock *l, uint32_t cpu)
{
	return __atomic_load_n(&l->locked, __ATOMIC_RELAXED) == cpu + 1;
}

#endif
