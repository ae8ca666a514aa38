// SPDX-License-Identifier: MIT
/* Information system calls: clock_gettime, stats, ps. */
#include "abi/syscalls.h"
#include "arch/x86_64/text_patch.h"
#include "arch/x86_64/pti.h"
#include "dev/virtio_blk.h"
#include "kernel/syscall.h"
#include "kernel/boot.h"
#include "kernel/counters.h"
#include "kernel/jumpswitch.h"
#include "kernel/jumpswitch_proc.h"
#include "kernel/lookahead.h"
#include "kernel/mce.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/priv.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/tlb.h"
#include "lib/errno.h"
#include "lib/string.h"

static uint64_t last_ns; /* keeps the clock monotonic across CPUs (BKL held) */

int64_t sys_clock_gettime(uint64_t clock, struct vessel_timespec *ts)
{
	struct vessel_timespec k;
	uint64_t ns;

	if (clock != VESSEL_CLOCK_REALTIME && clock != VESSEL_CLOCK_MONOTONIC)
		return -EINVAL;
	ns = time_ns();
	if (ns < last_ns)
		ns = last_ns;
	last_ns = ns;
	k.tv_sec = (int64_t)(ns / 1000000000ull);
	k.tv_nsec = (int64_t)(ns % 1000000000ull);
	return copy_to_user(&current_proc()->vm, (uint64_t)ts, &k, sizeof(k));
}

static void fill_cpu(struct vessel_cpu_stats *o, const struct counters *c)
{
	o->syscalls = c->syscalls;
	o->interrupts = c->interrupts;
	o->exceptions = c->exceptions + c->page_faults;
	o->page_faults = c->page_faults;
	o->context_switches = c->context_switches;
	o->ipis_sent = c->ipis_sent;
	o->ipis_received = c->ipis_received;
	o->timer_ticks = c->timer_ticks;
}

/* A counter with no room left is dropped and said once (raise VESSEL_STATS_NAMED). */
static void add_named(struct vessel_stats *s, const char *name, uint64_t v)
{
	static int warned;

	if (s->nnamed < VESSEL_STATS_NAMED) {
		strlcpy(s->named[s->nnamed].name, name, VESSEL_STATS_NAME_MAX);
		s->named[s->nnamed].value = v;
		s->nnamed++;
	} else if (!warned) {
		warned = 1;
		printk("stats: no room for counter %s (VESSEL_STATS_NAMED %d)\n", name,
		       VESSEL_STATS_NAMED);
	}
}

int64_t sys_stats(struct vessel_stats *buf, uint64_t size)
{
	struct vessel_stats *s;
	struct counters sum;
	struct mce_counts mc;
	struct vblk_counts blk;
	struct text_patch_counts tp;
	struct lookahead_counts la;
	uint64_t n = size < sizeof(*s) ? size : sizeof(*s);
	int ncpu = smp_cpu_count(), r;

	if (size == 0)
		return -EINVAL;
	s = kzalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	counters_sum(&sum);
	s->version = VESSEL_STATS_VERSION;
	s->size = sizeof(*s);
	s->ncpus = (uint32_t)ncpu;
	s->nsyscalls = VESSEL_SYSCALL_COUNT;
	s->uptime_ns = time_ns();
	s->pages_total = page_total_count();
	s->pages_free = page_free_count();
	s->nprocs = 0;
	for (struct proc *p = proc_list(); p; p = p->next)
		s->nprocs += !p->zombie;
	fill_cpu(&s->total, &sum);
	for (int i = 0; i < ncpu && i < VESSEL_STATS_CPUS; i++)
		fill_cpu(&s->cpu[i], &cpus[i].cnt);
	for (int i = 0; i < VESSEL_SYSCALL_SLOTS && i < COUNTERS_MAX_SYSCALLS; i++)
		s->syscalls[i] = sum.per_syscall[i];
	lookahead_counts(&la);
	/* total.syscalls counts calls; those lookahead served had no entry of their own */
	add_named(s, "syscall.entry_syscall",
		  sum.syscalls - sum.syscalls_ud - sum.syscalls_int80 - la.saved);
	add_named(s, "syscall.entry_ud2", sum.syscalls_ud);
	add_named(s, "syscall.entry_int80", sum.syscalls_int80);
	add_named(s, "tlb.shootdowns", sum.tlb_shootdowns);
	jumpswitch_report(add_named, s);
	jsp_report(add_named, s);
	add_named(s, "syscall.from_32bit", sum.syscalls_compat);
	add_named(s, "compat.gdt_switches", sum.compat_gdt_switches);
	add_named(s, "pti.enabled", (uint64_t)pti_enabled);
	/* each switched entry is two CR3 writes: in, and out on its exit */
	add_named(s, "pti.entries_switched", sum.pti_entries_switched);
	add_named(s, "pti.entries_unswitched", sum.pti_entries_unswitched);
	add_named(s, "pti.kernel_fixups", pti_kernel_fixups());
	tlb_report(add_named, s);
	priv_report(add_named, s);
	text_patch_counts(&tp);
	add_named(s, "integrity.on", (boot.flags & VESSEL_BOOT_F_INTEGRITY) != 0);
	add_named(s, "integrity.vmm_patches", tp.vmm_patches);
	add_named(s, "integrity.vmm_refused", tp.vmm_refused);
	mce_counts(&mc);
	add_named(s, "mce.events", mc.events);
	add_named(s, "mce.killed", mc.killed);
	add_named(s, "mce.retired_user", mc.retired_user);
	add_named(s, "mce.retired_free", mc.retired_free);
	add_named(s, "mce.deferred", mc.deferred);
	add_named(s, "mce.nested", mc.nested);
	add_named(s, "mce.retired_on_free", page_retired_on_free());
	vblk_counts(&blk);
	add_named(s, "blk.requests", blk.requests);
	add_named(s, "blk.completions", blk.completions);
	add_named(s, "blk.interrupts", blk.interrupts);
	add_named(s, "blk.spurious_irqs", blk.spurious);
	add_named(s, "blk.kicks", blk.kicks);
	add_named(s, "blk.urgent", blk.urgent);
	add_named(s, "blk.barrier", blk.barrier);
	add_named(s, "blk.exits", blk.exits);
	add_named(s, "lookahead.saved", la.saved);
	add_named(s, "lookahead.emulated", la.emulated);
	add_named(s, "lookahead.stop_insn", la.stop[X86EMU_UNSUPPORTED]);
	add_named(s, "lookahead.stop_fault", la.stop[X86EMU_FAULT]);
	add_named(s, "lookahead.stop_window", la.stop[X86EMU_WINDOW]);
	add_named(s, "lookahead.stop_flags", la.stop[X86EMU_FLAGS]);
	add_named(s, "lookahead.stop_pending", la.pending);
	add_named(s, "lookahead.stop_timer", la.timer);
	add_named(s, "lookahead.stop_chain", la.chain);
	add_named(s, "lookahead.skipped", la.skipped);
	r = copy_to_user(&current_proc()->vm, (uint64_t)buf, s, n);
	kfree(s);
	return r ? r : (int64_t)n;
}

static uint32_t proc_state(struct proc *p)
{
	uint32_t st = VESSEL_PROC_SLEEPING;

	if (p->zombie)
		return VESSEL_PROC_ZOMBIE;
	for (struct thread *t = p->threads; t; t = t->proc_next) {
		if (t->state == T_RUNNING)
			return VESSEL_PROC_RUNNING;
		if (t->state == T_RUNNABLE || t->state == T_NEW)
			st = VESSEL_PROC_RUNNABLE;
	}
	return st;
}

int64_t sys_ps(struct vessel_procinfo *buf, uint64_t count)
{
	struct proc *self = current_proc();
	uint64_t i = 0;

	for (struct proc *p = proc_list(); p && i < count; p = p->next, i++) {
		struct vessel_procinfo e;

		memset(&e, 0, sizeof(e));
		e.pid = p->pid;
		e.ppid = p->parent ? p->parent->pid : 0;
		e.state = proc_state(p);
		e.nthreads = (uint32_t)p->nthreads;
		e.cpu = p->last_cpu;
		for (struct thread *t = p->threads; t; t = t->proc_next) {
			if (t->state != T_DEAD)
				e.cpu = t->cpu;
		}
		e.mem_pages = p->vm.pages;
		e.cpu_time_ns = tsc_to_ns(p->dead_run_tsc);
		for (struct thread *t = p->threads; t; t = t->proc_next)
			e.cpu_time_ns += tsc_to_ns(t->run_tsc);
		strlcpy(e.name, p->name, sizeof(e.name));
		if (copy_to_user(&self->vm, (uint64_t)(buf + i), &e, sizeof(e)))
			return -EFAULT;
	}
	return proc_count();
}
