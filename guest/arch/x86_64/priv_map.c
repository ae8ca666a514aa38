// SPDX-License-Identifier: MIT
/* The privileged region's page tables (see priv_map.h). */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/priv_map.h"
#include "kernel/mm.h"
#include "lib/errno.h"

extern char _priv_start[], _priv_data_start[], _priv_end[], _priv_phys[];

static uint64_t *priv_pt; /* the page table mapping PRIV_VA .. + 2 MiB */

static uint64_t *table(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR);
}

static uint64_t npages(void)
{
	return (uint64_t)(_priv_end - _priv_start) / PAGE_SIZE;
}

uint64_t priv_phys(void)
{
	return (uint64_t)_priv_phys;
}

int priv_in_region(const void *addr, uint64_t len)
{
	uint64_t a = (uint64_t)addr;

	return a >= (uint64_t)_priv_start && a < (uint64_t)_priv_end &&
	       len <= (uint64_t)_priv_end - a;
}

/* Makes kernel address va (4 KiB) not present, splitting its 2 MiB page. */
static int hide(uint64_t va)
{
	uint64_t e = ((uint64_t *)phys_to_virt(kernel_pml4_pa))[(va >> 39) & 511];
	uint64_t *pde, *pt;

	if (!(e & PTE_P))
		return 0; /* not mapped at all */
	e = table(e)[(va >> 30) & 511];
	if (!(e & PTE_P))
		return 0;
	if (e & PTE_PS)
		return -EINVAL; /* a 1 GiB page: the kernel maps none */
	pde = &table(e)[(va >> 21) & 511];
	if (!(*pde & PTE_P))
		return 0;
	if (*pde & PTE_PS) {
		uint64_t pa = page_alloc_zeroed(), base = *pde & PTE_ADDR & ~0x1fffffull;
		uint64_t flags = *pde & (PTE_W | PTE_PWT | PTE_PCD | PTE_NX);

		if (!pa)
			return -ENOMEM;
		pt = phys_to_virt(pa);
		for (int i = 0; i < 512; i++)
			pt[i] = (base + (uint64_t)i * PAGE_SIZE) | flags | PTE_P;
		/* the same translations in 4 KiB pages: safe to swap under a running CPU */
		*pde = pa | PTE_P | PTE_W;
	}
	table(*pde)[(va >> 12) & 511] = 0;
	return 0;
}

int priv_map_init(void)
{
	uint64_t *pdpt, *pd, pa_pd, pa_pt, e;

	if (npages() > 512)
		return -EINVAL; /* one page table maps it */
	for (uint64_t i = 0; i < npages(); i++) {
		uint64_t pa = priv_phys() + i * PAGE_SIZE;
		int r = hide(PHYSMAP_BASE + pa);

		if (r || (r = hide(KERNEL_VMA + pa)))
			return r;
	}
	e = ((uint64_t *)phys_to_virt(kernel_pml4_pa))[(PRIV_VA >> 39) & 511];
	pdpt = table(e);
	pa_pd = page_alloc_zeroed();
	pa_pt = page_alloc_zeroed();
	if (!pa_pd || !pa_pt)
		return -ENOMEM;
	pd = phys_to_virt(pa_pd);
	pd[(PRIV_VA >> 21) & 511] = pa_pt | PTE_P | PTE_W;
	priv_pt = phys_to_virt(pa_pt);
	pdpt[(PRIV_VA >> 30) & 511] = pa_pd | PTE_P | PTE_W;
	write_cr3(read_cr3()); /* the split pages (no global pages here) */
	return 0;
}

void priv_map(void)
{
	uint64_t code = (uint64_t)(_priv_data_start - _priv_start) / PAGE_SIZE;

	for (uint64_t i = 0; i < npages(); i++)
		priv_pt[i] =
			(priv_phys() + i * PAGE_SIZE) | PTE_P | (i < code ? 0 : PTE_W | PTE_NX);
}

void priv_flush_local(void)
{
	for (uint64_t i = 0; i < npages(); i++)
		invlpg(PRIV_VA + i * PAGE_SIZE);
}

void priv_unmap(void)
{
	for (uint64_t i = 0; i < npages(); i++)
		priv_pt[i] = 0;
	priv_flush_local();
}
