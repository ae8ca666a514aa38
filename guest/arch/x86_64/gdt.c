// SPDX-License-Identifier: MIT
/* Per-CPU GDT and TSS; the IST stacks for #UD, #DF, NMI and #MC. */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pti.h"
#include "kernel/percpu.h"
#include "lib/string.h"

/* in the entry data a user page table maps (pti.h) */
static uint8_t ist_stacks[MAX_CPUS][4][IST_SIZE] __attribute__((aligned(16), section(".bss.pti")));

void gdt_init_cpu(struct cpu *c)
{
	uint64_t tss = (uint64_t)&c->tss;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(c->gdt) - 1, (uint64_t)c->gdt };

	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9a000000ffffull; /* 0x08 kernel code64 */
	c->gdt[2] = 0x00cf92000000ffffull; /* 0x10 kernel data */
	c->gdt[3] = 0x00cff2000000ffffull; /* 0x18 user data (DPL3) */
	c->gdt[4] = USER_CODE64_DESC;	   /* 0x20 user code64 (DPL3) */
	c->gdt[5] = (sizeof(struct tss) - 1) | ((tss & 0xffffff) << 16) | (0x89ull << 40) |
		    (((tss >> 24) & 0xff) << 56);
	c->gdt[6] = tss >> 32;
	c->gdt[7] = 0x00cffa000000ffffull; /* 0x38 user code32 (DPL3, D=1, L=0) */

	/*
	 * DS and ES hold the user data selector, as on Linux: long mode ignores
	 * them, and a 32-bit process (compatibility mode) addresses memory
	 * through them; iretq to CPL3 would null a DPL0 selector.
	 */
	memset(&c->tss, 0, sizeof(c->tss));
	c->tss.iomap_base = sizeof(struct tss); /* no I/O bitmap: user port I/O faults */
	for (int i = 0; i < 4; i++)
		c->tss.ist[i] = (uint64_t)&ist_stacks[c->id][i][IST_SIZE];

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %4, %%ds\n\t"
			 "mov %4, %%es\n\t"
			 "mov %2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "i"(KERNEL_CS), "r"(KERNEL_DS), "r"(TSS_SEL), "r"(USER_DS)
			 : "rax", "memory");
}

void tss_set_rsp0(struct cpu *c, uint64_t rsp0)
{
	c->tss.rsp0 = pti_rsp0(c, rsp0); /* the entry stack under PTI */
	c->kstack_top = rsp0;
}
