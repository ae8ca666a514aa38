/* SPDX-License-Identifier: MIT */
/*
 * Deferred work: what an interrupt handler cannot do itself because it
 * needs the big kernel lock (waking threads, killing a process). The owner
 * registers a struct deferred_work once; its interrupt handler raises it;
 * the function then runs at the next safe point, with the BKL held: when a
 * CPU takes the BKL (kernel_enter, an idle CPU looking for work) and on the
 * way back to user mode (kernel_exit). A raised work also wakes an idle CPU
 * out of its lock-free halt loop and makes an interrupt taken in user mode
 * go through kernel_exit.
 *
 * Example (kernel/console.c): the COM1 handler raises the console's work
 * when a line is complete; its function wakes the readers.
 */
#ifndef KERNEL_DEFERRED_H
#define KERNEL_DEFERRED_H

struct deferred_work {
	void (*fn)(void);	    /* runs with the BKL held, interrupts off */
	volatile int pending;	    /* raised and not run yet */
	struct deferred_work *next; /* registered works */
};

#define DEFERRED_WORK_INIT(f)                                                                      \
	{                                                                                          \
		.fn = (f)                                                                          \
	}

/*
 * Adds w (fn set, static storage) to the registered works. Call once,
 * before its handler can raise it (BSP at boot, or with the BKL held).
 */
void deferred_register(struct deferred_work *w);
/*
 * Asks for w->fn to run at the next safe point. Any context, interrupt
 * handlers included; no locks. Raising it again before it ran runs it once.
 */
void deferred_raise(struct deferred_work *w);
/* Set by deferred_raise, cleared by deferred_run: the fast path's one load. */
extern volatile int deferred_any_raised;

/* 1 if some work is raised (read without locks: a hint). */
static inline int deferred_pending(void)
{
	return deferred_any_raised;
}

/* Runs the raised works (deferred_run's slow path). */
void deferred_run_raised(void);

/* Runs every raised work once (BKL held). */
static inline void deferred_run(void)
{
	if (deferred_any_raised)
		deferred_run_raised();
}

#endif
