// SPDX-License-Identifier: MIT
/* TLB shootdown: IPIs to the CPUs holding an address space, and their acks. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/tlb.h"

/* What a shootdown asks of a CPU (struct cpu's tlb_pending). */
enum { TLB_NONE, TLB_FLUSH, TLB_DROP };

static volatile uint32_t tlb_acks;

void tlb_serve_pending(void)
{
	struct cpu *c = this_cpu();
	int what;

	if (!c->tlb_pending)
		return;
	what = __atomic_exchange_n(&c->tlb_pending, 0, __ATOMIC_ACQ_REL);
	if (what == TLB_DROP) {
		/* only sent to a CPU keeping a dying address space lazily */
		c->cr3 = kernel_pml4_pa;
		write_cr3(kernel_pml4_pa);
	} else if (what == TLB_FLUSH) {
		write_cr3(read_cr3());
	}
	if (what)
		__atomic_add_fetch(&tlb_acks, 1, __ATOMIC_RELEASE);
}

static void tlb_irq(struct trapframe *tf)
{
	(void)tf;
	this_cpu()->cnt.ipis_received++;
	tlb_serve_pending();
}

void tlb_init(void)
{
	if (irq_register(VEC_TLB, tlb_irq))
		panic("tlb: IPI vector %#x taken", VEC_TLB);
}

/* Asks every other CPU with pml4 loaded to flush (or drop) it and waits. */
static void tlb_broadcast(uint64_t pml4, int what)
{
	struct cpu *self = this_cpu();
	uint32_t want = 0;

	tlb_acks = 0;
	for (int i = 0; i < smp_cpu_count(); i++) {
		if (&cpus[i] != self && cpus[i].cr3 == pml4) {
			want++;
			__atomic_store_n(&cpus[i].tlb_pending, what, __ATOMIC_RELEASE);
			smp_send_ipi(i, VEC_TLB);
		}
	}
	if (want && what == TLB_FLUSH)
		self->cnt.tlb_shootdowns++;
	while (__atomic_load_n(&tlb_acks, __ATOMIC_ACQUIRE) < want)
		cpu_relax();
}

void tlb_shootdown(uint64_t pml4)
{
	struct cpu *self = this_cpu();

	if (self->cr3 == pml4)
		write_cr3(pml4);
	tlb_broadcast(pml4, TLB_FLUSH);
}

void tlb_release(uint64_t pml4)
{
	struct cpu *self = this_cpu();

	if (self->cr3 == pml4) {
		self->cr3 = kernel_pml4_pa;
		write_cr3(kernel_pml4_pa);
	}
	tlb_broadcast(pml4, TLB_DROP);
}
