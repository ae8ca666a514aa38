// SPDX-License-Identifier: MIT
/* Page-frame owners for the hypervisor's reports (see page_owner.h). */
#include "kernel/page_owner.h"
#include "arch/x86_64/cpu.h"
#include "kernel/mm.h"
#include "lib/string.h"

static int32_t *owner;	/* one entry per frame, NULL when not allocated */
static uint64_t nframes;
static struct page_owner_name names[PAGE_OWNER_NAMES];

void page_owner_init(void)
{
	uint64_t bitmap_pa, bitmap_bytes, frames, pages, pa;

	page_alloc_bitmap(&bitmap_pa, &bitmap_bytes, &frames);
	pages = (frames * sizeof(*owner) + PAGE_SIZE - 1) / PAGE_SIZE;
	pa = pages ? pages_alloc(pages) : 0;
	if (!pa)
		return; /* no table: the callback says "the kernel" for every used page */
	owner = phys_to_virt(pa);
	memset(owner, 0, pages * PAGE_SIZE);
	nframes = frames;
}

void page_owner_set(uint64_t pa, int pid)
{
	if (owner && pa / PAGE_SIZE < nframes)
		__atomic_store_n(&owner[pa / PAGE_SIZE], pid, __ATOMIC_RELAXED);
}

void page_owner_clear(uint64_t pa)
{
	page_owner_set(pa, 0);
}

void page_owner_name_set(int pid, const char *name)
{
	for (int i = 0; i < PAGE_OWNER_NAMES; i++)
		if (!names[i].pid) {
			strlcpy(names[i].name, name, sizeof(names[i].name));
			__atomic_store_n(&names[i].pid, pid, __ATOMIC_RELEASE);
			return;
		}
}

void page_owner_name_clear(int pid)
{
	for (int i = 0; i < PAGE_OWNER_NAMES; i++)
		if (names[i].pid == pid)
			__atomic_store_n(&names[i].pid, 0, __ATOMIC_RELEASE);
}

void page_owner_tables(uint64_t *owner_pa, uint64_t *owner_bytes, uint64_t *names_pa,
		       uint64_t *names_bytes)
{
	*owner_pa = owner ? virt_to_phys(owner) : 0;
	*owner_bytes = owner ? nframes * sizeof(*owner) : 0;
	*names_pa = virt_to_phys(names);
	*names_bytes = sizeof(names);
}
