// SPDX-License-Identifier: MIT
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/irq.h"
#include "kernel/jumpswitch.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/time.h"

static uint64_t tsc_khz;
static uint32_t lapic_per_ms;
static uint64_t tsc_origin;

uint64_t tsc_to_ns(uint64_t delta)
{
	if (!tsc_khz)
		return 0;
	return delta / tsc_khz * 1000000ull + (delta % tsc_khz) * 1000000ull / tsc_khz;
}

/* The LAPIC timer, on every CPU: the tick count and the scheduler's time slice. */
static void timer_irq(struct trapframe *tf)
{
	struct cpu *c = this_cpu();

	c->cnt.timer_ticks++;
	c->ticks++;
	jumpswitch_quiescent(c->id, tf->rip);
	c->tick_tsc = rdtsc();
	sched_tick(tf);
}

void time_init(void)
{
	if (irq_register(VEC_TIMER, timer_irq))
		panic("time: timer vector %#x taken", VEC_TIMER);
	tsc_khz = boot.tsc_khz;
	lapic_per_ms = lapic_timer_calibrate(&tsc_khz);
	tsc_origin = boot.entry_tsc;
	printk("time: TSC %lu kHz (%s), LAPIC timer %u counts/ms, tick %d Hz\n", tsc_khz,
	       boot.tsc_khz ? "from the VMM" : "PIT calibrated", lapic_per_ms, HZ);
}

void time_start_tick(void)
{
	lapic_timer_start(lapic_per_ms, HZ);
}

uint64_t time_ns(void)
{
	return tsc_to_ns(rdtsc() - tsc_origin);
}

uint64_t time_since_boot_ns(void)
{
	return tsc_to_ns(rdtsc() - boot.boot_tsc);
}

uint64_t time_tsc_khz(void)
{
	return tsc_khz;
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + (tsc_khz ? tsc_khz : 1000000) * us / 1000;

	while (rdtsc() < end)
		cpu_relax();
}
