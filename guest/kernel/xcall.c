// SPDX-License-Identifier: MIT
/* Cross-CPU calls: the IPI side of lib/shootdown.c (see xcall.h). */
#include <stddef.h>
#include "arch/x86_64/cpu.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/priv.h"
#include "kernel/smp.h"
#include "kernel/tlb.h"
#include "kernel/xcall.h"

struct sd_sys xcall_sys;

static void kick(struct sd_sys *s, int self, int cpu, const struct sd_csd *first)
{
	(void)s;
	(void)self;
	smp_send_ipi(cpu, sd_csd_is_flush(first) ? VEC_TLB : VEC_CALL);
}

static void relax(struct sd_sys *s, int self)
{
	(void)s;
	(void)self;
	cpu_relax();
	smp_poll();
}

static const struct sd_ops xcall_ops = {
	.kick = kick,
	.flush = tlb_arch_flush,
	.load = tlb_arch_load,
	.relax = relax,
};

void smp_poll(void)
{
	sd_run_queue(&xcall_sys, this_cpu()->id);
	priv_poll();
}

/* VEC_CALL and VEC_TLB: run this CPU's queue. */
static void xcall_irq(struct trapframe *tf)
{
	(void)tf;
	this_cpu()->cnt.ipis_received++;
	sd_run_queue(&xcall_sys, this_cpu()->id);
}

void xcall_init(int layout)
{
	sd_init(&xcall_sys, layout, &xcall_ops, NULL);
	if (irq_register(VEC_CALL, xcall_irq) || irq_register(VEC_TLB, xcall_irq))
		panic("xcall: IPI vectors %#x/%#x taken", VEC_CALL, VEC_TLB);
}

void smp_call(int cpu, sd_call_fn *fn, void *arg)
{
	sd_call(&xcall_sys, this_cpu()->id, cpu, fn, arg);
}

void smp_call_async(int cpu, struct sd_csd *c, sd_call_fn *fn, void *arg)
{
	sd_call_async(&xcall_sys, this_cpu()->id, cpu, c, fn, arg);
}

void smp_call_wait(struct sd_csd *c)
{
	sd_csd_wait(&xcall_sys, this_cpu()->id, c);
}
