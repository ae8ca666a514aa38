// SPDX-License-Identifier: MIT
/* Local APIC (xAPIC, memory mapped through the uncached direct map). */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/time.h"

#define LAPIC_ID	0x020
#define LAPIC_TPR	0x080
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_LVT_TMR	0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERR	0x370
#define LAPIC_TMR_INIT	0x380
#define LAPIC_TMR_CUR	0x390
#define LAPIC_TMR_DIV	0x3e0

#define LVT_MASKED   (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define ICR_PENDING  (1u << 12)

static uint64_t lapic_base = PHYSMAP_BASE + 0xfee00000ul;

static inline uint32_t rd(uint32_t reg)
{
	return *(volatile uint32_t *)(lapic_base + reg);
}

static inline void wr(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(lapic_base + reg) = v;
}

void lapic_init(void)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);

	wrmsr(MSR_APIC_BASE, msr | (1u << 11)); /* global enable */
	lapic_base = PHYSMAP_BASE + (msr & 0xfffff000ul);
	wr(LAPIC_TPR, 0);
	wr(LAPIC_LVT_TMR, LVT_MASKED);
	wr(LAPIC_LVT_LINT0, LVT_MASKED);
	wr(LAPIC_LVT_LINT1, LVT_MASKED);
	wr(LAPIC_LVT_ERR, LVT_MASKED);
	wr(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
}

uint32_t lapic_id(void)
{
	return rd(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	wr(LAPIC_EOI, 0);
}

uint8_t lapic_set_tpr(uint8_t tpr)
{
	uint8_t old = (uint8_t)rd(LAPIC_TPR);

	wr(LAPIC_TPR, tpr);
	return old;
}

/* PIT channel 2, one-shot, gate via port 0x61: waits ~ms milliseconds. */
static void pit_wait_ms(uint32_t ms)
{
	uint32_t count = 1193182u * ms / 1000u;

	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);			/* channel 2, lo/hi, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, (count >> 8) & 0xff);
	while (!(inb(0x61) & 0x20))
		cpu_relax();
}

uint32_t lapic_timer_calibrate(uint64_t *tsc_khz)
{
	const uint32_t ms = 10;
	uint64_t t0, t1;
	uint32_t elapsed;

	wr(LAPIC_TMR_DIV, 0x3); /* divide by 16 */
	wr(LAPIC_LVT_TMR, LVT_MASKED);
	wr(LAPIC_TMR_INIT, 0xffffffffu);
	t0 = rdtsc();
	if (*tsc_khz) {
		uint64_t end = t0 + *tsc_khz * ms;

		while ((t1 = rdtsc()) < end)
			cpu_relax();
	} else {
		pit_wait_ms(ms);
		t1 = rdtsc();
		*tsc_khz = (t1 - t0) / ms;
	}
	elapsed = 0xffffffffu - rd(LAPIC_TMR_CUR);
	wr(LAPIC_TMR_INIT, 0);
	return elapsed / ms ? elapsed / ms : 1;
}

void lapic_timer_start(uint32_t counts_per_ms, uint32_t hz)
{
	wr(LAPIC_TMR_DIV, 0x3);
	wr(LAPIC_LVT_TMR, VEC_TIMER | LVT_PERIODIC);
	wr(LAPIC_TMR_INIT, counts_per_ms * 1000u / hz);
}

static void icr_send(uint32_t apic_id, uint32_t lo)
{
	wr(LAPIC_ICR_HI, apic_id << 24);
	wr(LAPIC_ICR_LO, lo);
	for (int i = 0; i < 1000000 && (rd(LAPIC_ICR_LO) & ICR_PENDING); i++)
		cpu_relax();
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	icr_send(apic_id, vector);
}

void lapic_nmi_others(void)
{
	/* shorthand "all excluding self", delivery mode NMI */
	wr(LAPIC_ICR_HI, 0);
	wr(LAPIC_ICR_LO, (3u << 18) | (4u << 8));
}

void lapic_send_nmi(uint32_t apic_id)
{
	icr_send(apic_id, 4u << 8); /* delivery mode NMI */
}

void lapic_start_ap(uint32_t apic_id)
{
	icr_send(apic_id, 0x4500); /* INIT, assert */
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		icr_send(apic_id, 0x4600 | (AP_TRAMPOLINE_PHYS >> 12)); /* SIPI */
		udelay(200);
	}
}
