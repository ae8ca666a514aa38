// SPDX-License-Identifier: MIT
/*
 * The scheduler: per-CPU run queues, context switches, sleeping and waking,
 * thread creation and exit, the idle loop. Locking is the BKL (bkl.h).
 */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pti.h"
#include "kernel/bkl.h"
#include "kernel/compat.h"
#include "kernel/deferred.h"
#include "kernel/irq.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/tlb.h"
#include "lib/string.h"

#define SLICE_TICKS 2

static struct thread *all_threads;
static int next_tid = 1; /* pids and tids: one space, init is 1 */
static int next_ktid = 1;
static struct thread boot_thread;

extern char boot_stack_top[];

struct thread *current_thread(void)
{
	return this_cpu()->current;
}

struct thread *thread_list(void)
{
	return all_threads;
}

/* ---- run queues ---- */

static void rq_push(struct cpu *c, struct thread *t)
{
	t->rq_next = NULL;
	if (c->rq.tail)
		c->rq.tail->rq_next = t;
	else
		c->rq.head = t;
	c->rq.tail = t;
	c->rq.len++;
	t->cpu = c->id;
}

static struct thread *rq_pop(struct cpu *c)
{
	struct thread *t = c->rq.head;

	if (t) {
		c->rq.head = t->rq_next;
		if (!c->rq.head)
			c->rq.tail = NULL;
		c->rq.len--;
		t->rq_next = NULL;
	}
	return t;
}

int sched_rq_len(int cpu)
{
	return (int)cpus[cpu].rq.len;
}

static void rq_remove(struct cpu *c, struct thread *t)
{
	struct thread *prev = NULL;

	for (struct thread *x = c->rq.head; x; prev = x, x = x->rq_next) {
		if (x != t)
			continue;
		if (prev)
			prev->rq_next = x->rq_next;
		else
			c->rq.head = x->rq_next;
		if (c->rq.tail == x)
			c->rq.tail = prev;
		c->rq.len--;
		x->rq_next = NULL;
		return;
	}
}

/* Takes an unpinned thread from the busiest other CPU's queue. */
static struct thread *steal(struct cpu *self)
{
	struct cpu *busiest = NULL;

	for (int i = 0; i < smp_cpu_count(); i++) {
		if (&cpus[i] != self && cpus[i].rq.len &&
		    (!busiest || cpus[i].rq.len > busiest->rq.len))
			busiest = &cpus[i];
	}
	if (!busiest)
		return NULL;
	for (struct thread *t = busiest->rq.head; t; t = t->rq_next) {
		if (t->pinned < 0 || t->pinned == self->id) {
			rq_remove(busiest, t);
			return t;
		}
	}
	return NULL;
}

static void kick(struct cpu *target)
{
	struct cpu *self = this_cpu();

	if (target == self)
		return;
	if (target->current == target->idle)
		smp_send_ipi(target->id, VEC_RESCHED);
	else
		target->need_resched = 1;
}

void sched_migrate(struct thread *t)
{
	if (t->state == T_RUNNABLE && t->pinned >= 0 && t->cpu != t->pinned) {
		rq_remove(&cpus[t->cpu], t);
		sched_make_runnable(t);
	}
}

void sched_make_runnable(struct thread *t)
{
	struct cpu *target = NULL;

	t->state = T_RUNNABLE;
	if (t->pinned >= 0) {
		rq_push(&cpus[t->pinned], t);
		kick(&cpus[t->pinned]);
		return;
	}
	/* the least loaded CPU, counting the thread it runs; ties: the last one */
	for (int i = 0; i < smp_cpu_count(); i++) {
		struct cpu *c = &cpus[i];
		uint32_t load = c->rq.len + (c->current != c->idle);
		uint32_t best = target ? target->rq.len + (target->current != target->idle) : ~0u;

		if (load < best || (load == best && i == t->cpu))
			target = c;
	}
	rq_push(target, t);
	kick(target);
}

/* ---- timed sleeps ---- */

/* Earliest wake_at_ns of a sleeping thread (a lower bound; UINT64_MAX: none). */
static volatile uint64_t next_deadline = UINT64_MAX;

static void wake_expired(void)
{
	uint64_t now = time_ns(), next = UINT64_MAX;

	if (now < next_deadline)
		return; /* nothing due: skip the scan */
	for (struct thread *t = all_threads; t; t = t->all_next) {
		if (t->state != T_BLOCKED || !t->wake_at_ns)
			continue;
		if (t->wake_at_ns <= now) {
			t->woken_by_timeout = 1;
			t->wake_at_ns = 0;
			t->wait_chan = NULL;
			sched_make_runnable(t);
		} else if (t->wake_at_ns < next) {
			next = t->wake_at_ns;
		}
	}
	next_deadline = next;
}

/* 1 if some work may be waiting for this CPU (read without the BKL: a hint). */
static int work_hint(struct cpu *c)
{
	if (c->rq.len || c->need_resched || time_ns() >= next_deadline || deferred_pending())
		return 1;
	for (int i = 0; i < smp_cpu_count(); i++) {
		if (&cpus[i] != c && cpus[i].rq.len)
			return 1; /* something to steal */
	}
	return 0;
}

/* ---- switching ---- */

static void switch_to(struct cpu *c, struct thread *prev, struct thread *next)
{
	uint64_t now = rdtsc();

	prev->run_tsc += now - c->switch_tsc;
	c->switch_tsc = now;
	c->current = next;
	next->state = T_RUNNING;
	next->cpu = c->id;
	next->slice_end = c->ticks + SLICE_TICKS;
	c->cnt.context_switches++;
	if (prev->proc)
		fpu_save(prev->fpu);
	if (next->proc) {
		fpu_restore(next->fpu);
		/*
		 * A wrmsr is a VM exit: skip it when both are 0 (user code can
		 * only ever change its FS base to 0, by loading a selector).
		 */
		if (next->fs_base || c->fs_base) {
			c->fs_base = next->fs_base;
			wrmsr(MSR_FS_BASE, next->fs_base);
		}
	}
	tss_set_rsp0(c, next->kstack + KSTACK_SIZE);
	/*
	 * Lazy TLB mode: idle and kernel threads keep the page table they find
	 * (the kernel half is the same in all), so going idle and back to the
	 * same process costs no CR3 write (a VM exit with shadow paging).
	 */
	tlb_switch(next->proc ? &next->proc->vm : NULL);
	/* the GDT follows the address space: a 32-bit one gets no 64-bit code */
	if (next->proc) {
		compat_switch_mm(c, next->proc->compat);
		pti_switch_mm(c, next->proc->compat); /* PTI for 64-bit processes only */
	}
	arch_switch(&prev->saved_rsp, next->saved_rsp);
	/* back in prev: free a thread that died on this CPU */
	c = this_cpu();
	if (c->dead) {
		struct thread *d = c->dead;

		c->dead = NULL;
		thread_free(d);
	}
}

void schedule(void)
{
	struct cpu *c = this_cpu();
	struct thread *prev = c->current, *next;

	c->need_resched = 0;
	wake_expired();
	if (prev->state == T_RUNNING && prev != c->idle) {
		if (prev->pinned >= 0 && prev->pinned != c->id) {
			prev->state = T_RUNNABLE;
			rq_push(&cpus[prev->pinned], prev);
			kick(&cpus[prev->pinned]);
		} else {
			rq_push(c, prev);
		}
	}
	next = rq_pop(c);
	if (!next)
		next = steal(c);
	if (!next)
		next = c->idle;
	if (next == prev) {
		prev->state = T_RUNNING;
		return;
	}
	if (prev->state == T_RUNNING)
		prev->state = T_RUNNABLE;
	if (prev == c->idle)
		prev->state = T_RUNNING; /* idle is never queued */
	switch_to(c, prev, next);
}

void sched_tick(struct trapframe *tf)
{
	struct cpu *c = this_cpu();

	(void)tf;
	/* end of the slice: switch only if someone else waits for this CPU */
	if (c->current != c->idle && c->ticks >= c->current->slice_end &&
	    (c->rq.len || time_ns() >= next_deadline))
		c->need_resched = 1;
}

int kernel_exit_pending(void)
{
	struct cpu *c = this_cpu();
	struct thread *t = c->current;

	return c->need_resched || (t->proc && t->proc->killed) || deferred_pending();
}

void kernel_exit(struct trapframe *tf)
{
	struct cpu *c = this_cpu();

	(void)tf;
	deferred_run();
	for (;;) {
		struct thread *t = c->current;

		if (t->proc && t->proc->killed)
			proc_exit_thread_killed();
		if (!c->need_resched)
			break;
		schedule();
		c = this_cpu();
	}
	kernel_unlock();
}

/* ---- thread creation and exit ---- */

void kthread_main(void (*fn)(void *), void *arg);
void kthread_main(void (*fn)(void *), void *arg)
{
	fn(arg);
	thread_die();
}

void thread_first_run(void);
void thread_first_run(void)
{
	struct cpu *c = this_cpu();

	if (c->dead) {
		struct thread *d = c->dead;

		c->dead = NULL;
		thread_free(d);
	}
	kernel_exit(c->current->tf);
}

extern char kthread_trampoline[];

struct thread *thread_create(struct proc *p, void (*fn)(void *), void *arg, const char *kname)
{
	struct thread *t = kzalloc(sizeof(*t));
	uint64_t stack = pages_alloc(KSTACK_SIZE / PAGE_SIZE);
	uint64_t *sp;

	if (!t || !stack) {
		kfree(t);
		if (stack)
			pages_free(stack, KSTACK_SIZE / PAGE_SIZE);
		return NULL;
	}
	t->tid = p ? next_tid++ : -(next_ktid++);
	t->pinned = -1;
	t->proc = p;
	t->kname = kname;
	t->state = T_NEW;
	t->kstack = (uint64_t)phys_to_virt(stack);
	t->cpu = this_cpu()->id;
	memcpy(t->fpu, fpu_initial_state, sizeof(t->fpu));
	sp = (uint64_t *)(t->kstack + KSTACK_SIZE);
	if (p) {
		t->tf = (struct trapframe *)sp - 1;
		memset(t->tf, 0, sizeof(*t->tf));
		sp = (uint64_t *)t->tf;
		*--sp = (uint64_t)user_thread_start;
	} else {
		*--sp = (uint64_t)kthread_trampoline;
	}
	/* callee-saved registers popped by arch_switch: rbp rbx r12 r13 r14 r15 */
	*--sp = 0;	       /* rbp */
	*--sp = 0;	       /* rbx */
	*--sp = (uint64_t)fn;  /* r12 */
	*--sp = (uint64_t)arg; /* r13 */
	*--sp = 0;	       /* r14 */
	*--sp = 0;	       /* r15 */
	t->saved_rsp = (uint64_t)sp;
	t->all_next = all_threads;
	all_threads = t;
	return t;
}

void thread_free(struct thread *t)
{
	for (struct thread **pp = &all_threads; *pp; pp = &(*pp)->all_next) {
		if (*pp == t) {
			*pp = t->all_next;
			break;
		}
	}
	if (t->kstack && t != &boot_thread)
		pages_free(virt_to_phys(t->kstack), KSTACK_SIZE / PAGE_SIZE);
	if (t != &boot_thread)
		kfree(t);
}

void thread_die(void)
{
	struct cpu *c = this_cpu();
	struct thread *t = c->current;

	t->state = T_DEAD;
	if (!t->proc || t->joined)
		c->dead = t; /* nobody will join it: free after the switch */
	schedule();
	panic("thread_die: dead thread %d ran again", t->tid);
}

/* ---- sleeping ---- */

int sleep_on_until(const void *chan, uint64_t deadline_ns)
{
	struct thread *t = current_thread();

	t->state = T_BLOCKED;
	t->wait_chan = chan;
	t->wake_at_ns = deadline_ns;
	if (deadline_ns && deadline_ns < next_deadline)
		next_deadline = deadline_ns;
	t->woken_by_timeout = 0;
	schedule();
	t->wait_chan = NULL;
	t->wake_at_ns = 0;
	return t->woken_by_timeout;
}

void sleep_on(const void *chan)
{
	sleep_on_until(chan, 0);
}

void wakeup(const void *chan)
{
	for (struct thread *t = all_threads; t; t = t->all_next) {
		if (t->state == T_BLOCKED && t->wait_chan == chan) {
			t->wait_chan = NULL;
			t->wake_at_ns = 0;
			sched_make_runnable(t);
		}
	}
}

void wakeup_thread(struct thread *t)
{
	if (t->state == T_BLOCKED) {
		t->wait_chan = NULL;
		t->wake_at_ns = 0;
		sched_make_runnable(t);
	}
}

/* ---- idle ---- */

/* Reschedule IPI: another CPU queued work for this one. */
static void resched_irq(struct trapframe *tf)
{
	struct cpu *c = this_cpu();

	(void)tf;
	c->cnt.ipis_received++;
	c->need_resched = 1;
}

static void idle_thread_fn(void *arg)
{
	(void)arg;
	kernel_unlock();
	sched_idle_loop();
}

void sched_init_cpu(struct cpu *c)
{
	c->cr3 = read_cr3();
	c->switch_tsc = rdtsc();
	if (c->id == 0) {
		if (irq_register(VEC_RESCHED, resched_irq))
			panic("sched: reschedule IPI vector %#x taken", VEC_RESCHED);
		/* kmain continues as the boot kernel thread; idle gets a new stack */
		boot_thread.tid = 0;
		boot_thread.kname = "kmain";
		boot_thread.state = T_RUNNING;
		boot_thread.kstack = (uint64_t)boot_stack_top - KSTACK_SIZE;
		boot_thread.all_next = all_threads;
		all_threads = &boot_thread;
		c->current = &boot_thread;
		c->idle = thread_create(NULL, idle_thread_fn, NULL, "idle0");
		if (!c->idle)
			panic("sched: no memory for the idle thread");
		c->idle->state = T_RUNNING;
	} else {
		static struct thread idle_threads[MAX_CPUS];
		struct thread *t = &idle_threads[c->id];

		t->tid = -c->id;
		t->kname = "idle";
		t->state = T_RUNNING;
		t->kstack = c->boot_kstack;
		c->idle = t;
		c->current = t;
	}
	tss_set_rsp0(c, c->current->kstack + KSTACK_SIZE);
}

void sched_idle_loop(void)
{
	for (;;) {
		struct cpu *c = this_cpu();

		kernel_enter();
		c->current = c->idle;
		schedule(); /* runs queued (or stolen) threads until none is left */
		kernel_unlock();
		/*
		 * Halt until the next interrupt; a tick with nothing to do goes
		 * straight back to sleep without the BKL (wakeups for this CPU
		 * come with an IPI, deadlines and steals are rechecked each tick).
		 */
		do {
			irq_enable_and_halt();
			irq_disable();
		} while (!work_hint(c));
	}
}

void sched_debug_dump(void)
{
	static const char *const names[] = { "new", "runnable", "running", "blocked", "dead" };

	printk("\n-- scheduler state (BKL owner cpu %d, -1: free) --\n", bkl_owner());
	for (int i = 0; i < smp_cpu_count(); i++)
		printk("cpu%d: current %d (%s) rq %u need_resched %d ticks %lu cr3 %#lx\n", i,
		       cpus[i].current ? cpus[i].current->tid : 0,
		       cpus[i].current && cpus[i].current->kname ? cpus[i].current->kname : "user",
		       cpus[i].rq.len, cpus[i].need_resched, cpus[i].ticks, cpus[i].cr3);
	for (struct thread *t = all_threads; t; t = t->all_next)
		printk("  tid %d %s cpu %d pinned %d chan %p wake %lu %s\n", t->tid,
		       names[t->state], t->cpu, t->pinned, t->wait_chan, t->wake_at_ns,
		       t->proc ? t->proc->name : t->kname);
}
