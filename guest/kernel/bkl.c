// SPDX-License-Identifier: MIT
/* The big kernel lock (see bkl.h). */
#include "arch/x86_64/cpu.h"
#include "kernel/bkl.h"
#include "kernel/deferred.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/xcall.h"

static struct spinlock bkl = SPINLOCK_INIT;

void kernel_enter(void)
{
	int id = this_cpu()->id;

	while (!spin_trylock(&bkl)) {
		/*
		 * The holder may be waiting for our cross-CPU call's ack (a TLB
		 * shootdown, say): answer it from here (QEMU TCG never delivers
		 * an interrupt inside a short sti; pause; cli window), and open
		 * a window for the others.
		 */
		smp_poll();
		irq_enable();
		cpu_relax();
		irq_disable();
	}
	bkl.owner_cpu = id;
	deferred_run();
}

void kernel_unlock(void)
{
	bkl.owner_cpu = -1;
	spin_unlock(&bkl);
}

int kernel_locked(void)
{
	return bkl.locked && bkl.owner_cpu == this_cpu()->id;
}

int bkl_owner(void)
{
	return bkl.locked ? bkl.owner_cpu : -1;
}
