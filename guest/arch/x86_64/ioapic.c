// SPDX-License-Identifier: MIT
/* IOAPIC at its standard address; the legacy 8259 PICs are masked. */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"

#define IOAPIC_BASE (PHYSMAP_BASE + 0xfec00000ul)

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
}

void ioapic_init(void)
{
	uint32_t pins;

	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	pins = ((ioapic_read(1) >> 16) & 0xff) + 1;
	if (pins > 120)
		pins = 24;
	for (uint32_t p = 0; p < pins; p++) {
		ioapic_write(0x10 + 2 * p, 1u << 16);
		ioapic_write(0x11 + 2 * p, 0);
	}
}

void ioapic_route(uint32_t irq, uint8_t vector, uint32_t dest)
{
	ioapic_write(0x11 + 2 * irq, dest << 24);
	ioapic_write(0x10 + 2 * irq, vector);
}

void ioapic_route_level(uint32_t irq, uint8_t vector, uint32_t dest)
{
	ioapic_write(0x11 + 2 * irq, dest << 24);
	/* bit 15: level-triggered; bit 13 clear: active high */
	ioapic_write(0x10 + 2 * irq, (1u << 15) | vector);
}
