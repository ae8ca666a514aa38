// SPDX-License-Identifier: MIT
/*
 * Self-tests of the interrupt handler table's search trampoline
 * (kernel/irq.c, docs/jumpswitch.md): every dispatch reaches the handler of
 * its vector while the trampoline is re-learned and re-written under it, on
 * this CPU and on the others; a removed handler is never reached again.
 */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/irq.h"
#include "kernel/jumpswitch.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/time.h"

#define NVEC   6
#define ROUNDS 160 /* each: three checked dispatches and one learning step */

static int vecs[NVEC];
static volatile uint64_t got[NVEC], wrong, other_got;

/* Handler i: counts itself, and counts a dispatch of a vector not its own. */
static void hit(int i, struct trapframe *tf)
{
	if (tf->vector != (uint64_t)vecs[i])
		__atomic_fetch_add(&wrong, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&got[i], 1, __ATOMIC_RELEASE);
}

#define HANDLER(i)                                                                                 \
	static void h##i(struct trapframe *tf)                                                     \
	{                                                                                          \
		hit(i, tf);                                                                        \
	}
HANDLER(0)
HANDLER(1)
HANDLER(2)
HANDLER(3)
HANDLER(4)
HANDLER(5)
static irq_handler_fn *const handler[NVEC] = { h0, h1, h2, h3, h4, h5 };

static void other(struct trapframe *tf)
{
	(void)tf;
	__atomic_fetch_add(&other_got, 1, __ATOMIC_RELEASE);
}

/*
 * Waits until *ctr is above old: 0, or -1 after 2 s (a hang bound only).
 * Spins with interrupts on for a while, then sleeps: a CPU that wants the
 * BKL (which we hold) takes no interrupt under QEMU TCG until it has it.
 */
static int wait_above(volatile uint64_t *ctr, uint64_t old)
{
	uint64_t now = time_ns(), spin_end = now + 5000000ull, deadline = now + 2000000000ull;

	irq_enable();
	while (__atomic_load_n(ctr, __ATOMIC_ACQUIRE) == old && time_ns() < spin_end)
		cpu_relax();
	irq_disable();
	while (__atomic_load_n(ctr, __ATOMIC_ACQUIRE) == old && time_ns() < deadline)
		sleep_on_until((void *)ctr, time_ns() + 1000000ull);
	return *ctr == old + 1 ? 0 : -1;
}

/* Sends vector vecs[i] to CPU cpu and waits for handler i: 0 or -1. */
static int send_checked(int i, int cpu)
{
	uint64_t old = got[i];

	lapic_send_ipi(cpus[cpu].apic_id, (uint8_t)vecs[i]);
	return wait_above(&got[i], old);
}

/* Index into vecs of a vector the live trampoline jumps to directly, or -1. */
static int live_one(void)
{
	for (int e = 0; e < js_irq.nlive; e++)
		for (int i = 0; i < NVEC; i++)
			if (js_irq.live[e] == (uint32_t)vecs[i])
				return i;
	return -1;
}

static int run(int self, const int *online, int nonline)
{
	struct jumpswitch_counts before, after;
	uint64_t sent[NVEC] = { 0 }, checked = 0, o;
	int h;

	jumpswitch_counts(&js_irq, &before);
	for (int round = 0; round < ROUNDS; round++) {
		int phase = round / 8; /* the hot set moves every 8 rounds */

		for (int k = 0; k < 3; k++) {
			int i = (phase + k) % NVEC;

			ST_ASSERT(send_checked(i, online[(round + k) % nonline]) == 0);
			sent[i]++;
			checked++;
		}
		jumpswitch_step(&js_irq, self);
	}
	jumpswitch_counts(&js_irq, &after);
	printk("jumpswitch irq self-test: %lu dispatches checked on %d CPUs; %lu rewrites, "
	       "%lu hits, %lu misses\n",
	       checked, nonline, after.rewrites - before.rewrites,
	       (after.calls - after.misses) - (before.calls - before.misses),
	       after.misses - before.misses);
	ST_ASSERT(wrong == 0);
	for (int i = 0; i < NVEC; i++)
		ST_ASSERT(got[i] == sent[i]);
	if (!jumpswitch_on) {
		ST_ASSERT(after.calls == before.calls && after.rewrites == before.rewrites);
		return 0;
	}
	ST_ASSERT(after.rewrites > before.rewrites + 10); /* re-learned as the set moved */
	ST_ASSERT(after.calls - after.misses > before.calls - before.misses);

	/* a handler removed while the live trampoline jumps to it is not reached */
	h = live_one();
	ST_ASSERT(h >= 0);
	ST_ASSERT(irq_unregister((unsigned int)vecs[h]) == 0);
	ST_ASSERT(irq_register((unsigned int)vecs[h], other) == 0);
	o = other_got;
	lapic_send_ipi(cpus[self].apic_id, (uint8_t)vecs[h]);
	ST_ASSERT(wait_above(&other_got, o) == 0);
	ST_ASSERT(got[h] == sent[h]);
	/* ... and the trampoline learns the new one: the bypass goes */
	for (int round = 0; round < 40 && (*js_irq.sel & 2); round++) {
		for (int c = 0; c < nonline; c++) {
			o = other_got;
			lapic_send_ipi(cpus[online[c]].apic_id, (uint8_t)vecs[h]);
			ST_ASSERT(wait_above(&other_got, o) == 0);
		}
		jumpswitch_step(&js_irq, self);
	}
	ST_ASSERT(!(*js_irq.sel & 2));
	ST_ASSERT(got[h] == sent[h] && wrong == 0);
	return 0;
}

SELFTEST(jumpswitch_irq_table_under_rewrite)
{
	int self = this_cpu()->id, online[MAX_CPUS], nonline = 0, r;
	uint32_t period;

	for (int c = 0; c < MAX_CPUS; c++)
		if (c == 0 || cpus[c].online)
			online[nonline++] = c;
	for (int i = 0; i < NVEC; i++) {
		vecs[i] = irq_alloc(handler[i]);
		ST_ASSERT(vecs[i] >= IRQ_DYN_FIRST);
	}
	period = jumpswitch_set_period(&js_irq, 1u << 30); /* the steps are ours */
	r = run(self, online, nonline);
	jumpswitch_set_period(&js_irq, period);
	for (int i = 0; i < NVEC; i++)
		irq_unregister((unsigned int)vecs[i]);
	return r;
}
