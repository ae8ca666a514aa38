// SPDX-License-Identifier: MIT
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/pti.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/pttrace.h"
#include "lib/errno.h"
#include "lib/string.h"

extern uint64_t boot_pml4[512]; /* linked at its physical address (boot.S) */

uint64_t kernel_pml4_pa = (uint64_t)boot_pml4;

/* The kernel PML4 through the higher-half alias (the identity map goes away). */
static uint64_t *kpml4(void)
{
	return (uint64_t *)((uint64_t)boot_pml4 + KERNEL_VMA);
}

void pt_set(uint64_t *entry, uint64_t val, int level)
{
	if (__builtin_expect(pttrace_on, 0))
		pttrace_write(virt_to_phys(entry), level, *entry, val);
	*entry = val;
}

/* A page-table page of `level` goes back to the allocator. */
static void table_free(uint64_t pa, int level)
{
	if (__builtin_expect(pttrace_on, 0))
		pttrace_free(pa, level);
	page_free(pa);
}

/* An address space's PML4 (a pair under PTI, pt_create) goes back to the allocator. */
static void pml4_free(uint64_t pa)
{
	if (!pti_enabled) {
		table_free(pa, 4);
		return;
	}
	if (__builtin_expect(pttrace_on, 0)) {
		pttrace_free(pa, 4);
		pttrace_free(pa + PAGE_SIZE, 4);
	}
	pages_free(pa, 2);
}

void paging_drop_identity(void)
{
	pt_set(&kpml4()[0], 0, 4);
	write_cr3(read_cr3());
}

void paging_map_user_stub(void)
{
	extern char user_stub_start[], user_stub_end[];
	uint64_t pdpt = page_alloc_zeroed(), pd = page_alloc_zeroed();
	uint64_t pt = page_alloc_zeroed(), stub = page_alloc_zeroed();
	uint64_t va = USER_STUB_VA;

	if (!pdpt || !pd || !pt || !stub)
		panic("paging: no memory for the syscall stub page");
	if (text_poke(phys_to_virt(stub), user_stub_start,
		      (size_t)(user_stub_end - user_stub_start)))
		panic("paging: cannot write the syscall stub page");
	pt_set(&((uint64_t *)phys_to_virt(pt))[(va >> 12) & 511], stub | PTE_P | PTE_U, 1);
	pt_set(&((uint64_t *)phys_to_virt(pd))[(va >> 21) & 511], pt | PTE_P | PTE_W | PTE_U, 2);
	pt_set(&((uint64_t *)phys_to_virt(pdpt))[(va >> 30) & 511], pd | PTE_P | PTE_W | PTE_U, 3);
	pt_set(&kpml4()[(va >> 39) & 511], pdpt | PTE_P | PTE_W | PTE_U, 4);
}

uint64_t pt_create(void)
{
	uint64_t pa = pti_enabled ? pages_alloc(2) : page_alloc_zeroed();
	uint64_t *t = phys_to_virt(pa);

	if (!pa)
		return 0;
	if (pti_enabled)
		memset(t, 0, 2 * PAGE_SIZE);
	/* the kernel half; the pages are zeroed, so only the used entries are written */
	for (int i = 256; i < 512; i++) {
		if (kpml4()[i])
			pt_set(&t[i], kpml4()[i], 4);
	}
	if (pti_enabled)
		pti_fill_user_half(t + 512);
	return pa;
}

static uint64_t *table(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR);
}

static uint64_t *walk(uint64_t pml4, uint64_t va, int create)
{
	uint64_t *t = phys_to_virt(pml4);

	for (int level = 3; level > 0; level--) {
		uint64_t *e = &t[(va >> (12 + 9 * level)) & 511];

		if (!(*e & PTE_P)) {
			uint64_t pa;

			if (!create || !(pa = page_alloc_zeroed()))
				return NULL;
			/* permissions are decided at the leaf */
			pt_set(e, pa | PTE_P | PTE_W | PTE_U, level + 1);
			/* the user table (pti.h) shares the user half */
			if (level == 3 && pti_enabled)
				pt_set(e + 512, *e, 4);
		}
		t = table(*e);
	}
	return &t[(va >> 12) & 511];
}

int pt_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pte = walk(pml4, va, 1);

	if (!pte)
		return -ENOMEM;
	pt_set(pte, (pa & PTE_ADDR) | flags | PTE_P | PTE_OWNED, 1);
	return 0;
}

uint64_t *pt_lookup(uint64_t pml4, uint64_t va)
{
	return walk(pml4, va, 0);
}

static void walk_level(uint64_t *t, int level, uint64_t base, uint64_t start, uint64_t end,
		       void (*fn)(uint64_t *, uint64_t, void *), void *arg)
{
	uint64_t span = 1ull << (12 + 9 * level);

	for (int i = 0; i < 512; i++) {
		uint64_t va = base + (uint64_t)i * span;

		if (va >= end || va + span <= start)
			continue;
		if (!(t[i] & PTE_P) && !(level == 0 && (t[i] & PTE_OWNED)))
			continue;
		if (level == 0)
			fn(&t[i], va, arg);
		else
			walk_level(table(t[i]), level - 1, va, start, end, fn, arg);
	}
}

void pt_walk_range(uint64_t pml4, uint64_t start, uint64_t end,
		   void (*fn)(uint64_t *pte, uint64_t va, void *arg), void *arg)
{
	uint64_t *t = phys_to_virt(pml4);
	uint64_t span = 1ull << 39;

	for (int i = 0; i < 256; i++) {
		uint64_t va = (uint64_t)i * span;

		if (va >= end || va + span <= start || !(t[i] & PTE_P))
			continue;
		walk_level(table(t[i]), 2, va, start, end, fn, arg);
	}
}

/* level 3: PDPT, 2: PD, 1: PT (its entries map data pages, not freed here) */
static void free_level(uint64_t *t, int level)
{
	if (level == 1)
		return;
	for (int i = 0; i < 512; i++) {
		if (!(t[i] & PTE_P))
			continue;
		free_level(table(t[i]), level - 1);
		table_free(t[i] & PTE_ADDR, level - 1);
	}
}

int pt_map_private(uint64_t pml4, uint64_t va, uint64_t pa)
{
	uint64_t *t = phys_to_virt(pml4), *kt = kpml4();
	int i4 = (int)((va >> 39) & 511), i3 = (int)((va >> 30) & 511);
	uint64_t *kpdpt, *pdpt, pa_pdpt, pa_pd, pa_pt;

	if (i4 < 256 || !(kt[i4] & PTE_P) || (kt[i4] & PTE_PS) || (va & 0xfff))
		return -EINVAL;
	kpdpt = table(kt[i4]);
	if (kpdpt[i3] & PTE_P)
		return -EINVAL; /* the kernel maps something there */
	if (t[i4] != kt[i4])
		return -EBUSY;
	pa_pdpt = page_alloc_zeroed();
	pa_pd = page_alloc_zeroed();
	pa_pt = page_alloc_zeroed();
	if (!pa_pdpt || !pa_pd || !pa_pt) {
		if (pa_pdpt)
			page_free(pa_pdpt);
		if (pa_pd)
			page_free(pa_pd);
		if (pa_pt)
			page_free(pa_pt);
		return -ENOMEM;
	}
	pdpt = phys_to_virt(pa_pdpt);
	for (int i = 0; i < 512; i++)
		if (kpdpt[i])
			pt_set(&pdpt[i], kpdpt[i], 3);
	pt_set(&((uint64_t *)phys_to_virt(pa_pt))[(va >> 12) & 511], (pa & PTE_ADDR) | PTE_P, 1);
	pt_set(&((uint64_t *)phys_to_virt(pa_pd))[(va >> 21) & 511], pa_pt | PTE_P | PTE_W, 2);
	pt_set(&pdpt[i3], pa_pd | PTE_P | PTE_W, 3);
	pt_set(&t[i4], pa_pdpt | (kt[i4] & ~PTE_ADDR), 4);
	return 0;
}

void pt_unmap_private(uint64_t pml4, uint64_t va)
{
	uint64_t *t = phys_to_virt(pml4), *kt = kpml4();
	int i4 = (int)((va >> 39) & 511);
	uint64_t pdpt_e = t[i4], pd_e, pt_pa;

	if (i4 < 256 || pdpt_e == kt[i4] || !(pdpt_e & PTE_P))
		return;
	pd_e = table(pdpt_e)[(va >> 30) & 511];
	pt_pa = table(pd_e)[(va >> 21) & 511] & PTE_ADDR;
	pt_set(&t[i4], kt[i4], 4);
	table_free(pt_pa, 1);
	table_free(pd_e & PTE_ADDR, 2);
	table_free(pdpt_e & PTE_ADDR, 3);
}

void pt_destroy(uint64_t pml4)
{
	uint64_t *t = phys_to_virt(pml4);

	for (int i = 0; i < 256; i++) {
		if (!(t[i] & PTE_P))
			continue;
		free_level(table(t[i]), 3);
		table_free(t[i] & PTE_ADDR, 3);
	}
	pml4_free(pml4);
}
