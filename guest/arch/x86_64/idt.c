// SPDX-License-Identifier: MIT
/* The IDT: one stub per vector (entry.S), #UD/#DF/NMI/#MC on IST stacks. */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"

extern const uint64_t trap_stub_table[256];
extern char ud_entry[], ist_stub_2[], ist_stub_8[], ist_stub_18[];

/* in the entry data a user page table maps (pti.h) */
static uint64_t idt[512] __attribute__((aligned(16), section(".bss.pti")));

static void idt_set(int v, uint64_t handler, int ist, int dpl)
{
	idt[v * 2] = (handler & 0xffff) | ((uint64_t)KERNEL_CS << 16) | ((uint64_t)ist << 32) |
		     ((0x8eull | ((uint64_t)dpl << 5)) << 40) | (((handler >> 16) & 0xffff) << 48);
	idt[v * 2 + 1] = handler >> 32;
}

void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, trap_stub_table[v], 0, 0);
	idt_set(2, (uint64_t)ist_stub_2, IST_NMI, 0);
	idt_set(6, (uint64_t)ud_entry, IST_UD, 0);
	idt_set(8, (uint64_t)ist_stub_8, IST_DF, 0);
	idt_set(18, (uint64_t)ist_stub_18, IST_MC, 0);
	idt_set(3, trap_stub_table[3], 0, 3); /* int3 from user: SIGTRAP, not #GP */
	idt_set(4, trap_stub_table[4], 0, 3); /* into */
	idt_set(VEC_SYSCALL_INT, trap_stub_table[VEC_SYSCALL_INT], 0, 3);
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}
