/* SPDX-License-Identifier: MIT */
/*
 * Threads and the scheduler: per-CPU run queues (idle CPUs steal from the
 * longest one), sleep/wakeup with optional deadlines, thread creation and
 * exit, the idle loop. Everything here runs under the big kernel lock
 * (kernel/bkl.h) unless it says otherwise.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <stdint.h>
#include "arch/x86_64/trapframe.h"

struct cpu;
struct proc;

enum thread_state { T_NEW, T_RUNNABLE, T_RUNNING, T_BLOCKED, T_DEAD };

struct thread {
	uint8_t fpu[512] __attribute__((aligned(16))); /* user FPU/SSE state */
	int tid;
	enum thread_state state;
	struct proc *proc;    /* NULL: kernel thread */
	const char *kname;    /* kernel threads: name */
	uint64_t kstack;      /* base of the KSTACK_SIZE kernel stack */
	uint64_t saved_rsp;   /* while switched out */
	struct trapframe *tf; /* user threads: the frame at the top of kstack */
	uint64_t fs_base;
	int cpu;	       /* CPU it runs on / is queued on / ran on last */
	uint64_t slice_end;    /* tick count at which its time slice ends */
	const void *wait_chan; /* what it sleeps on (T_BLOCKED) */
	uint64_t wake_at_ns;   /* timed sleep deadline, 0: none */
	int woken_by_timeout;
	struct thread *rq_next;
	struct thread *all_next;  /* all threads */
	struct thread *proc_next; /* threads of the same process */
	int64_t exit_value;	  /* thread_exit value, for join */
	int joined;		  /* released: freed as soon as it is dead and switched out */
	struct thread *joiner;	  /* thread waiting in thread_join for it */
	int pinned;		  /* CPU it must run on, -1: any */
	uint64_t run_tsc;	  /* TSC ticks spent on a CPU (user + kernel) */
};

/*
 * Leaves the kernel towards user mode (the counterpart of kernel_enter in
 * bkl.h): runs raised deferred work, handles a pending kill or reschedule,
 * then drops the BKL. tf is the frame about to be restored.
 */
void kernel_exit(struct trapframe *tf);
/*
 * 1 if a return to user mode must go through kernel_exit (resched, kill,
 * deferred work); no lock needed.
 */
int kernel_exit_pending(void);

/* Makes c ready to schedule: its idle thread and (BSP) the boot thread. */
void sched_init_cpu(struct cpu *c);
/* This CPU's idle loop: never returns. Entered without the BKL. */
void sched_idle_loop(void) __attribute__((noreturn));
/* Timer interrupt hook (any context, BKL not required). */
void sched_tick(struct trapframe *tf);
/* Gives up the CPU (BKL held); returns when the thread runs again. */
void schedule(void);
/* The running thread. */
struct thread *current_thread(void);

/*
 * Creates a thread in state T_NEW. Kernel threads (proc == NULL) start in
 * fn(arg) holding the BKL. User threads start by returning to user mode
 * through their trapframe (thread->tf, filled by the caller). NULL: no memory.
 */
struct thread *thread_create(struct proc *p, void (*fn)(void *), void *arg, const char *kname);
/* Makes t runnable on the least loaded CPU (or its last one). */
void sched_make_runnable(struct thread *t);
/* Moves a queued thread to the CPU it was just pinned to. */
void sched_migrate(struct thread *t);
/* Frees a dead thread's stack and struct (not the running one). */
void thread_free(struct thread *t);
/* Marks the running thread dead and switches away for good. */
void thread_die(void) __attribute__((noreturn));

/* Sleeps on chan until wakeup(chan) (BKL held). */
void sleep_on(const void *chan);
/*
 * Sleeps on chan until wakeup(chan) or the deadline (time_ns() value, 0 for
 * none). Returns 1 if the deadline passed, 0 if woken.
 */
int sleep_on_until(const void *chan, uint64_t deadline_ns);
/* Wakes every thread sleeping on chan. */
void wakeup(const void *chan);
/* Wakes one thread (kill). */
void wakeup_thread(struct thread *t);

/* Iterates all threads (BKL held). */
struct thread *thread_list(void);
/* Prints every CPU and thread (console Ctrl-\\; no locks taken). */
void sched_debug_dump(void);
/* Run queue length of cpu. */
int sched_rq_len(int cpu);

#endif
