// SPDX-License-Identifier: MIT
/* Deferred work: a list of registered works, each with a pending flag. */
#include <stddef.h>
#include "kernel/deferred.h"

static struct deferred_work *works;
volatile int deferred_any_raised;

void deferred_register(struct deferred_work *w)
{
	w->next = works;
	/* idle CPUs walk the list without a lock: publish w complete */
	__atomic_store_n(&works, w, __ATOMIC_RELEASE);
}

/*
 * Ordering: a raiser sets w->pending before deferred_any_raised; the runner
 * clears deferred_any_raised before it looks at the works. So a raise the
 * runner misses leaves deferred_any_raised set for the next safe point.
 */
void deferred_raise(struct deferred_work *w)
{
	__atomic_store_n(&w->pending, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&deferred_any_raised, 1, __ATOMIC_RELEASE);
}

void deferred_run_raised(void)
{
	__atomic_exchange_n(&deferred_any_raised, 0, __ATOMIC_ACQ_REL);
	for (struct deferred_work *w = __atomic_load_n(&works, __ATOMIC_ACQUIRE); w; w = w->next) {
		if (w->pending && __atomic_exchange_n(&w->pending, 0, __ATOMIC_ACQ_REL))
			w->fn();
	}
}
