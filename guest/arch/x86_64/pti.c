// SPDX-License-Identifier: MIT
/* Page-table isolation: the entry set's tables, the per-CPU switch state. */
#include <stddef.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/pti.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "lib/cmdline.h"
#include "lib/string.h"

_Static_assert(offsetof(struct cpu, kstack_top) == CPU_KSTACK, "entry.S");
_Static_assert(offsetof(struct cpu, scratch) == CPU_SCRATCH, "entry.S");
_Static_assert(offsetof(struct cpu, scratch2) == CPU_SCRATCH2, "entry.S");
_Static_assert(offsetof(struct cpu, pti_kcr3) == CPU_KCR3, "entry.S");
_Static_assert(offsetof(struct cpu, pti_ucr3) == CPU_UCR3, "entry.S");
_Static_assert(offsetof(struct cpu, pti_estack) == CPU_ESTACK, "entry.S");
_Static_assert(offsetof(struct cpu, pti_kfix) == CPU_PTI_KFIX, "entry.S");

extern char __entry_text_start[], __entry_text_end[], __pti_data_start[], __pti_data_end[];

int pti_enabled;

/* Each CPU's entry stack: where the CPU pushes a user entry's frame under PTI. */
static uint8_t entry_stacks[MAX_CPUS][PTI_ESTACK_SIZE]
	__attribute__((aligned(4096), section(".bss.pti")));

/* The user tables' PML4 slot 511: the entry set within the kernel image. */
static uint64_t user_pdpt_pa;

#define MSR_ARCH_CAPABILITIES 0x10a
#define ARCH_CAP_RDCL_NO      (1ull << 0)

/* 1 if the CPU says it is not subject to rogue data cache loads (Meltdown). */
static int cpu_rdcl_no(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] < 7)
		return 0;
	cpuid(7, 0, r);
	if (!(r[3] & (1u << 29))) /* no IA32_ARCH_CAPABILITIES */
		return 0;
	return (rdmsr(MSR_ARCH_CAPABILITIES) & ARCH_CAP_RDCL_NO) != 0;
}

/* The table entry (in a table of `level`) points to, made if missing. */
static uint64_t *table_at(uint64_t *entry, int level)
{
	uint64_t pa;

	if (!(*entry & PTE_P)) {
		if (!(pa = page_alloc_zeroed()))
			panic("pti: no memory for the entry set's page tables");
		pt_set(entry, pa | PTE_P | PTE_W, level);
	}
	return phys_to_virt(*entry & PTE_ADDR);
}

/* Maps the kernel-image pages [start, end) into the user tables' slot 511. */
static void map_range(const void *start, const void *end, uint64_t flags)
{
	uint64_t *pdpt = phys_to_virt(user_pdpt_pa);

	for (uint64_t va = (uint64_t)start & PAGE_MASK; va < (uint64_t)end; va += PAGE_SIZE) {
		uint64_t *pd = table_at(&pdpt[(va >> 30) & 511], 3);
		uint64_t *pt = table_at(&pd[(va >> 21) & 511], 2);

		pt_set(&pt[(va >> 12) & 511], (va - KERNEL_VMA) | flags | PTE_P, 1);
	}
}

void pti_init(const char *cmdline)
{
	char v[8] = "auto";
	const char *why;

	if (cmdline_get(cmdline, "pti=", v, sizeof(v)) >= 0 && strcmp(v, "on") &&
	    strcmp(v, "off") && strcmp(v, "auto")) {
		printk("pti: unknown pti=%s (on, off or auto): auto\n", v);
		strlcpy(v, "auto", sizeof(v));
	}
	if (!strcmp(v, "auto")) {
		pti_enabled = !cpu_rdcl_no();
		why = pti_enabled ? "auto: the CPU does not report RDCL_NO" :
				    "auto: the CPU reports RDCL_NO";
	} else {
		pti_enabled = !strcmp(v, "on");
		why = "pti= on the command line";
	}
	if (!(user_pdpt_pa = page_alloc_zeroed()))
		panic("pti: no memory for the entry set's page tables");
	map_range(__entry_text_start, __entry_text_end, 0);
	map_range(__pti_data_start, __pti_data_end, PTE_W | PTE_NX);
	for (int i = 0; i < MAX_CPUS; i++)
		cpus[i].pti_estack = (uint64_t)&entry_stacks[i][PTI_ESTACK_SIZE];
	printk("pti: %s for 64-bit processes (%s); 32-bit processes run without\n",
	       pti_enabled ? "on" : "off", why);
}

void pti_fill_user_half(uint64_t *upml4)
{
	uint64_t *k = phys_to_virt(kernel_pml4_pa);
	int stub = (USER_STUB_VA >> 39) & 511;

	if (k[stub])
		pt_set(&upml4[stub], k[stub], 4);
	if (user_pdpt_pa)
		pt_set(&upml4[511], user_pdpt_pa | PTE_P | PTE_W, 4);
}

uint64_t pti_rsp0(struct cpu *c, uint64_t kstack_top)
{
	return c->pti_ucr3 ? c->pti_estack : kstack_top;
}

void pti_switch_mm(struct cpu *c, int compat)
{
	c->pti_kcr3 = c->cr3;
	c->pti_ucr3 = pti_enabled && !compat && c->cr3 != kernel_pml4_pa ? c->cr3 + PAGE_SIZE : 0;
	c->tss.rsp0 = pti_rsp0(c, c->kstack_top);
}

int pti_entry_set_contains(uint64_t va)
{
	uint64_t stub = USER_STUB_VA;

	return (va >= (uint64_t)__entry_text_start && va < (uint64_t)__entry_text_end) ||
	       (va >= (uint64_t)__pti_data_start && va < (uint64_t)__pti_data_end) ||
	       (va >= stub && va < stub + PAGE_SIZE);
}

uint64_t pti_kernel_fixups(void)
{
	uint64_t n = 0;

	for (int i = 0; i < MAX_CPUS; i++)
		n += cpus[i].pti_kfix;
	return n;
}

void pti_count_entry(struct cpu *c)
{
	if (c->pti_ucr3)
		c->cnt.pti_entries_switched++;
	else
		c->cnt.pti_entries_unswitched++;
}
