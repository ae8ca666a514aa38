// SPDX-License-Identifier: MIT
/*
 * Kernel heap. Blocks up to 2 KiB come from per-size-class free lists carved
 * out of whole pages; larger ones are contiguous pages. A 16-byte header in
 * front of each block records its class, so kfree needs no size.
 */
#include "arch/x86_64/cpu.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

#define KM_MAGIC 0x6b6d616c6c6f6321ull
#define NCLASSES 7 /* 32 .. 2048 bytes including the header */

struct km_header {
	uint64_t magic;
	uint32_t cls; /* class index, or NCLASSES for page runs */
	uint32_t npages;
};

struct km_free {
	struct km_free *next;
};

static struct km_free *free_lists[NCLASSES];
static struct spinlock lock = SPINLOCK_INIT;

static size_t class_size(int c)
{
	return 32ul << c;
}

void *kmalloc(size_t n)
{
	size_t need = n + sizeof(struct km_header);
	struct km_header *h;
	uint64_t f;
	int c;

	if (need > class_size(NCLASSES - 1)) {
		uint64_t np = (need + PAGE_SIZE - 1) / PAGE_SIZE;
		uint64_t pa = pages_alloc(np);

		if (!pa)
			return NULL;
		h = phys_to_virt(pa);
		h->magic = KM_MAGIC;
		h->cls = NCLASSES;
		h->npages = (uint32_t)np;
		return h + 1;
	}
	for (c = 0; class_size(c) < need; c++)
		;
	f = spin_lock_irqsave(&lock);
	if (!free_lists[c]) {
		uint64_t pa = page_alloc();
		char *p;

		if (!pa) {
			spin_unlock_irqrestore(&lock, f);
			return NULL;
		}
		p = phys_to_virt(pa);
		for (size_t off = 0; off + class_size(c) <= PAGE_SIZE; off += class_size(c)) {
			struct km_free *b = (struct km_free *)(p + off);

			b->next = free_lists[c];
			free_lists[c] = b;
		}
	}
	h = (struct km_header *)free_lists[c];
	free_lists[c] = free_lists[c]->next;
	spin_unlock_irqrestore(&lock, f);
	h->magic = KM_MAGIC;
	h->cls = (uint32_t)c;
	h->npages = 0;
	return h + 1;
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);

	if (p)
		memset(p, 0, n);
	return p;
}

void kfree(void *p)
{
	struct km_header *h;
	struct km_free *b;
	uint32_t cls;
	uint64_t f;

	if (!p)
		return;
	h = (struct km_header *)p - 1;
	if (h->magic != KM_MAGIC)
		panic("kfree: %p is not a kmalloc block (double free?)", p);
	h->magic = 0;
	if (h->cls == NCLASSES) {
		pages_free(virt_to_phys(h), h->npages);
		return;
	}
	cls = h->cls;
	b = (struct km_free *)h;
	f = spin_lock_irqsave(&lock);
	b->next = free_lists[cls];
	free_lists[cls] = b;
	spin_unlock_irqrestore(&lock, f);
}
