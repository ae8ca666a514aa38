/* SPDX-License-Identifier: MIT */
/*
 * Threads over thread_create/thread_exit/thread_join: the wrapper gives each
 * thread an mmap'd stack (freed by the joiner) and turns the function's
 * return value into thread_exit(value). Plus the minimal synchronisation
 * the tests and programs need (spinlocks that yield, atomics).
 */
#ifndef VESSEL_USER_THREAD_H
#define VESSEL_USER_THREAD_H

#include <stddef.h>
#include <stdint.h>
#include <vessel/sys.h>

#define THREAD_STACK_SIZE (64 * 1024)

struct thread {
	long tid;
	void *stack; /* mmap'd, THREAD_STACK_SIZE bytes */
};

/*
 * Start fn(arg) in a new thread of this process. Returns 0 and fills *t,
 * or -errno (-ENOMEM no stack, or what thread_create returned).
 */
int thread_start(struct thread *t, long (*fn)(void *), void *arg);

/*
 * Wait for t to end, store its return value in *value (if not NULL), free
 * its stack. Returns 0 or -errno from thread_join.
 */
int thread_wait(struct thread *t, long *value);

/* A lock for short critical sections; waiters yield the CPU. */
struct spinlock {
	volatile int locked;
};
#define SPINLOCK_INIT                                                                              \
	{                                                                                          \
		0                                                                                  \
	}

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			sys_yield();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif /* VESSEL_USER_THREAD_H */
