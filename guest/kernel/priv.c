// SPDX-License-Identifier: MIT
/* The privileged CPU mode (see priv.h). */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fixup.h"
#include "arch/x86_64/priv_map.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/priv.h"
#include "kernel/priv_code.h"
#include "kernel/smp.h"
#include "kernel/xcall.h"
#include "lib/errno.h"

/* Task priority of a stopped CPU: every vector (class <= 15) stays pending. */
#define TPR_ALL 0xf0

struct priv_cpu {
	struct priv_req *req; /* a request for this CPU to enter */
	int stop;	      /* the CPU in the mode asks this one to stop */
	int stopped;	      /* halted in the stop state */
	int entering;	      /* in enter(): do not take another request */
	uint64_t entries, waits, ipis, stopped_cycles, stops, text_writes;
} __attribute__((aligned(64)));

static struct priv_cpu pcpu[MAX_CPUS];
static int owner = -1;	     /* the CPU in the mode */
static uint32_t nstopped;    /* CPUs in the stop state */
static uint64_t release_gen; /* bumped by each release */
static int ready;

static struct priv_cpu *me(void)
{
	return &pcpu[this_cpu()->id];
}

int priv_owner(void)
{
	return __atomic_load_n(&owner, __ATOMIC_ACQUIRE);
}

/* The stop state: halted, every interrupt pending, until the release NMI. */
static void stop_here(struct priv_cpu *pc)
{
	uint64_t t0 = rdtsc(), gen;
	uint8_t tpr;

	__atomic_store_n(&pc->stop, 0, __ATOMIC_RELAXED);
	/* read before we count as stopped: the release comes only after that */
	gen = __atomic_load_n(&release_gen, __ATOMIC_ACQUIRE);
	tpr = lapic_set_tpr(TPR_ALL);
	__atomic_store_n(&pc->stopped, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&nstopped, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&release_gen, __ATOMIC_ACQUIRE) == gen)
		halt_for_nmi(&release_gen, gen);
	priv_flush_local(); /* nothing of the region may stay in our TLB */
	__atomic_store_n(&pc->stopped, 0, __ATOMIC_RELAXED);
	lapic_set_tpr(tpr);
	pc->stopped_cycles += rdtsc() - t0;
	pc->stops++;
	__atomic_sub_fetch(&nstopped, 1, __ATOMIC_ACQ_REL);
}

static void enter(struct priv_req *r);

/* Takes this CPU's request to enter, if there is one, and serves it. */
static void serve_request(struct priv_cpu *pc)
{
	struct priv_req *r;

	if (pc->entering || !__atomic_load_n(&pc->req, __ATOMIC_ACQUIRE))
		return;
	r = __atomic_exchange_n(&pc->req, NULL, __ATOMIC_ACQ_REL);
	if (r) {
		pc->entering = 1;
		enter(r);
		pc->entering = 0;
		__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	}
}

void priv_poll(void)
{
	struct priv_cpu *pc = me();

	if (__atomic_load_n(&pc->stop, __ATOMIC_ACQUIRE))
		stop_here(pc);
	/* the request's VEC_PRIV may not get through a short interrupt window (TCG) */
	serve_request(pc);
}

int priv_nmi(struct trapframe *tf)
{
	if (!ready || !__atomic_load_n(&me()->stopped, __ATOMIC_ACQUIRE))
		return 0;
	halt_nmi_fixup(tf);
	return 1;
}

/* Serves this CPU's cross-CPU calls while the mode waits for the others. */
static void serve_calls(void)
{
	sd_run_queue(&xcall_sys, this_cpu()->id);
	cpu_relax();
}

/* The mode itself, on this CPU, in its VEC_PRIV handler. */
static void enter(struct priv_req *r)
{
	int self = this_cpu()->id, n = 0, none = -1;
	struct priv_cpu *pc = &pcpu[self];

	if (!__atomic_compare_exchange_n(&owner, &none, self, 0, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		pc->waits++;
		do {
			none = -1;
			smp_poll(); /* the owner's stop request, its calls */
			cpu_relax();
		} while (!__atomic_compare_exchange_n(&owner, &none, self, 0, __ATOMIC_ACQUIRE,
						      __ATOMIC_RELAXED));
	}
	/* 1. stop the others */
	for (int i = 0; i < smp_cpu_count(); i++) {
		if (i == self)
			continue;
		__atomic_store_n(&pcpu[i].stop, 1, __ATOMIC_RELEASE);
		smp_send_ipi(i, VEC_PRIV);
		pc->ipis++;
		n++;
	}
	while (__atomic_load_n(&nstopped, __ATOMIC_ACQUIRE) < (uint32_t)n)
		serve_calls(); /* a CPU may need our answer to reach its stop */
	/* 2.-4. map, run, unmap and flush */
	priv_map();
	r->fn(r->arg);
	priv_unmap();
	/* 5. release */
	__atomic_add_fetch(&release_gen, 1, __ATOMIC_ACQ_REL);
	for (int i = 0; i < smp_cpu_count(); i++) {
		if (i == self)
			continue;
		lapic_send_nmi(cpus[i].apic_id);
		pc->ipis++;
	}
	while (__atomic_load_n(&nstopped, __ATOMIC_ACQUIRE))
		serve_calls();
	pc->entries++;
	__atomic_store_n(&owner, -1, __ATOMIC_RELEASE);
}

/* VEC_PRIV: a stop request from the CPU in the mode, or a request to enter. */
static void priv_irq(struct trapframe *tf)
{
	(void)tf;
	this_cpu()->cnt.ipis_received++;
	priv_poll();
}

int priv_init(void)
{
	int r = priv_map_init();

	if (r) {
		printk("priv: cannot set up the privileged region: error %d\n", r);
		return r;
	}
	r = irq_register(VEC_PRIV, priv_irq);
	if (r)
		return r;
	ready = 1;
	return 0;
}

int priv_request(int cpu, struct priv_req *r)
{
	struct priv_req *none = NULL;

	if (!ready)
		return -EAGAIN;
	if (cpu < 0 || cpu >= smp_cpu_count() || !r || !priv_in_region((void *)r->fn, 1))
		return -EINVAL;
	r->done = 0;
	if (!__atomic_compare_exchange_n(&pcpu[cpu].req, &none, r, 0, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED))
		return -EBUSY;
	me()->ipis++;
	smp_send_ipi(cpu, VEC_PRIV);
	return 0;
}

int priv_call(priv_fn *fn, void *arg)
{
	struct priv_req r = { fn, arg, 0 };
	int err;

	if (ready && priv_in_region((void *)fn, 1) && priv_owner() == this_cpu()->id) {
		fn(arg); /* a privileged function calling a client */
		return 0;
	}
	err = priv_request(this_cpu()->id, &r);
	if (err)
		return err;
	/* the interrupt is pending: it is taken at the sti (and wakes the hlt) */
	while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		irq_enable_and_halt();
		irq_disable();
	}
	return 0;
}

int priv_text_write(void *dst, const void *src, size_t len)
{
	struct priv_text_write w = { dst, src, len, 0 };
	int err = priv_call(priv_text_write_fn, &w);

	if (!err)
		me()->text_writes++;
	return err;
}

int priv_text_patch_hc(void *dst, size_t len, uint64_t hc_phys)
{
	struct priv_text_write w = { dst, NULL, len, hc_phys };
	int err = priv_call(priv_text_write_fn, &w);

	if (!err)
		me()->text_writes++;
	return err;
}

void priv_bench_report(void)
{
	enum { N = 20 };
	uint64_t cyc[N], t;
	struct priv_counts c0, c1;

	priv_counts(&c0);
	for (int i = 0; i < N; i++) {
		t = rdtsc();
		if (priv_call(priv_nop_fn, NULL)) {
			printk("privbench: the privileged mode is not available\n");
			return;
		}
		cyc[i] = rdtsc() - t;
	}
	priv_counts(&c1);
	for (int i = 1; i < N; i++) /* insertion sort, for the median */
		for (int k = i; k > 0 && cyc[k - 1] > cyc[k]; k--)
			t = cyc[k], cyc[k] = cyc[k - 1], cyc[k - 1] = t;
	printk("privbench: %d entries on cpu %d, %d other CPUs: %lu IPIs per entry, "
	       "%lu TSC cycles per entry on the entering CPU (median), %lu stopped TSC cycles "
	       "per entry (all stopped CPUs)\n",
	       N, this_cpu()->id, smp_cpu_count() - 1, (c1.ipis - c0.ipis) / N, cyc[N / 2],
	       (c1.stopped_cycles - c0.stopped_cycles) / N);
}

void priv_counts(struct priv_counts *out)
{
	*out = (struct priv_counts){ 0, 0, 0, 0, 0, 0 };
	for (int i = 0; i < MAX_CPUS; i++) {
		out->entries += pcpu[i].entries;
		out->waits += pcpu[i].waits;
		out->ipis += pcpu[i].ipis;
		out->stopped_cycles += pcpu[i].stopped_cycles;
		out->stops += pcpu[i].stops;
		out->text_writes += pcpu[i].text_writes;
	}
}

void priv_report(named_counter_fn *add, struct vessel_stats *s)
{
	struct priv_counts c;

	priv_counts(&c);
	add(s, "priv.entries", c.entries);
	add(s, "priv.waits", c.waits);
	add(s, "priv.ipis", c.ipis);
	add(s, "priv.stopped_cycles", c.stopped_cycles);
	add(s, "priv.text_writes", c.text_writes);
}
