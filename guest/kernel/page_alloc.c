// SPDX-License-Identifier: MIT
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/mm.h"
#include "kernel/page_owner.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/pttrace.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"
#include "lib/pfa.h"

extern char _image_phys_start[], _kernel_end_phys[];

#define LOW_LIMIT  0x100000ul /* below 1 MiB: BIOS, trampoline, boot info */
#define MAX_FRAMES (PHYSMAP_LIMIT / PAGE_SIZE)

static uint64_t bitmap[MAX_FRAMES / 64];
/* frames hit by a memory error while in use: retired when freed (under lock) */
static uint64_t hwpoison[MAX_FRAMES / 64];
static uint64_t retired_on_free;

static struct pfa pfa;
static struct spinlock lock = SPINLOCK_INIT;

/* owner-recording, for page_retire() in a machine check */
static uint64_t alloc_lock(void)
{
	return spin_lock_owner_irqsave(&lock, (uint32_t)smp_cpu_id());
}

static void alloc_unlock(uint64_t f)
{
	spin_unlock_irqrestore(&lock, f);
}
static uint64_t total;

void page_alloc_init(void)
{
	uint64_t top = 0;

	for (uint32_t i = 0; i < boot.mmap_count; i++) {
		const struct vessel_mem_region *r = &boot.mmap[i];

		if (r->type == VESSEL_MEM_RAM && r->base + r->size > top)
			top = r->base + r->size;
	}
	if (top > PHYSMAP_LIMIT) {
		printk("mm: ignoring RAM above %lu MiB (not direct-mapped)\n", PHYSMAP_LIMIT >> 20);
		top = PHYSMAP_LIMIT;
	}
	pfa_init(&pfa, bitmap, 0, top / PAGE_SIZE);
	for (uint32_t i = 0; i < boot.mmap_count; i++) {
		const struct vessel_mem_region *r = &boot.mmap[i];
		uint64_t start = (r->base + PAGE_SIZE - 1) / PAGE_SIZE;
		uint64_t end = (r->base + r->size) / PAGE_SIZE;

		if (r->type == VESSEL_MEM_RAM && end > start)
			pfa_release_range(&pfa, start, end - start);
	}
	/* reserved RAM regions may overlap RAM ones: reserve them again */
	for (uint32_t i = 0; i < boot.mmap_count; i++) {
		const struct vessel_mem_region *r = &boot.mmap[i];

		if (r->type != VESSEL_MEM_RAM)
			pfa_reserve_range(&pfa, r->base / PAGE_SIZE,
					  (r->size + PAGE_SIZE - 1) / PAGE_SIZE + 1);
	}
	pfa_reserve_range(&pfa, 0, LOW_LIMIT / PAGE_SIZE);
	pfa_reserve_range(&pfa, (uint64_t)_image_phys_start / PAGE_SIZE,
			  ((uint64_t)_kernel_end_phys - (uint64_t)_image_phys_start) / PAGE_SIZE);
	if (boot.initrd_size)
		pfa_reserve_range(&pfa, boot.initrd_phys / PAGE_SIZE,
				  (boot.initrd_size + PAGE_SIZE - 1) / PAGE_SIZE);
	total = pfa.nfree;
}

uint64_t page_alloc(void)
{
	uint64_t f = alloc_lock();
	int64_t pfn = pfa_alloc(&pfa);

	alloc_unlock(f);
	if (__builtin_expect(pttrace_on, 0) && pfn >= 0)
		pttrace_alloc((uint64_t)pfn * PAGE_SIZE, 1);
	return pfn < 0 ? 0 : (uint64_t)pfn * PAGE_SIZE;
}

uint64_t page_alloc_zeroed(void)
{
	uint64_t pa = page_alloc();

	if (pa) {
		uint64_t *p = phys_to_virt(pa), n = PAGE_SIZE / 8;

		__asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ull) : "memory");
	}
	return pa;
}

uint64_t pages_alloc(uint64_t n)
{
	uint64_t f = alloc_lock();
	int64_t pfn = pfa_alloc_contig(&pfa, n, 1);

	alloc_unlock(f);
	if (__builtin_expect(pttrace_on, 0) && pfn >= 0)
		pttrace_alloc((uint64_t)pfn * PAGE_SIZE, n);
	return pfn < 0 ? 0 : (uint64_t)pfn * PAGE_SIZE;
}

void page_free(uint64_t pa)
{
	uint64_t f = alloc_lock(), pfn = pa / PAGE_SIZE;
	int r;

	if (pfn < MAX_FRAMES && (hwpoison[pfn / 64] & (1ull << (pfn % 64)))) {
		/* poisoned while in use: it stays allocated for ever (retired) */
		hwpoison[pfn / 64] &= ~(1ull << (pfn % 64));
		retired_on_free++;
		alloc_unlock(f);
		return;
	}
	r = pfa_free(&pfa, pfn);
	if (!r)
		page_owner_clear(pa);

	alloc_unlock(f);
	if (r)
		panic("page_free: %#lx is not an allocated page", pa);
}

int page_retire(uint64_t pa)
{
	uint64_t f;
	int was_free;

	/* called from the #MC handler, which may have interrupted this very
	 * CPU inside the allocator: then the lock cannot be had now (another
	 * CPU holding it lets go soon) */
	if (spin_held_by(&lock, (uint32_t)smp_cpu_id()))
		return -EBUSY;
	f = alloc_lock();
	was_free = !pfa_in_use(&pfa, pa / PAGE_SIZE) &&
		   pfa_reserve_range(&pfa, pa / PAGE_SIZE, 1) == 1;
	if (!was_free && pa / PAGE_SIZE < MAX_FRAMES)
		hwpoison[pa / PAGE_SIZE / 64] |= 1ull << (pa / PAGE_SIZE % 64);
	alloc_unlock(f);
	return was_free;
}

void page_alloc_bitmap(uint64_t *pa, uint64_t *bytes, uint64_t *nframes)
{
	*pa = virt_to_phys(bitmap);
	*bytes = sizeof(bitmap);
	*nframes = pfa.nframes;
}

uint64_t page_retired_on_free(void)
{
	return __atomic_load_n(&retired_on_free, __ATOMIC_RELAXED);
}

void pages_free(uint64_t pa, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		page_free(pa + i * PAGE_SIZE);
}

uint64_t page_free_count(void)
{
	return pfa.nfree;
}

uint64_t page_total_count(void)
{
	return total;
}
