// SPDX-License-Identifier: MIT
/*
 * A small first-fit allocator. The heap is one contiguous range grown with
 * heap_morecore(); free blocks sit in one list sorted by address, so a freed
 * block merges with both neighbours. Blocks of MMAP_MIN bytes and more get
 * their own mapping and go back to the kernel on free. Every block has a
 * 16-byte header {size, tag}; the tag catches double and wild frees.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vessel/thread.h>

#include "heap_sys.h"

#define ALIGN	  16u
#define HDR	  16u
#define MIN_BLOCK 32u		/* header + room for the free-list link */
#define GROW	  (64u * 1024)	/* heap growth step */
#define MMAP_MIN  (128u * 1024) /* blocks this big get their own mapping */
#define PAGE	  4096u

#define TAG_USED 0x5553454455534544ull /* "DESUDESU" */
#define TAG_FREE 0x4545524645455246ull
#define TAG_MMAP 0x50414d4d50414d4dull

struct block {
	size_t size; /* whole block, header included, multiple of 16 */
	uint64_t tag;
	struct block *next; /* free blocks only (first payload word) */
};

static struct block *free_list;
static struct spinlock heap_lock = SPINLOCK_INIT;
static size_t in_use;

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Insert b (tag FREE) by address and merge with adjacent free blocks. */
static void insert_free(struct block *b)
{
	struct block **pp = &free_list, *prev = NULL;

	while (*pp && *pp < b) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	b->next = *pp;
	*pp = b;
	if (b->next && (char *)b + b->size == (char *)b->next) {
		b->size += b->next->size;
		b->next->tag = 0;
		b->next = b->next->next;
	}
	if (prev && (char *)prev + prev->size == (char *)b) {
		prev->size += b->size;
		prev->next = b->next;
		b->tag = 0;
	}
}

static struct block *take_fit(size_t need)
{
	for (struct block **pp = &free_list; *pp; pp = &(*pp)->next) {
		struct block *b = *pp;

		if (b->size < need)
			continue;
		if (b->size - need >= MIN_BLOCK) {
			struct block *rest = (struct block *)((char *)b + need);

			rest->size = b->size - need;
			rest->tag = TAG_FREE;
			rest->next = b->next;
			*pp = rest;
			b->size = need;
		} else {
			*pp = b->next;
		}
		b->tag = TAG_USED;
		return b;
	}
	return NULL;
}

void *malloc(size_t n)
{
	struct block *b;
	size_t need;

	if (n > SIZE_MAX / 2)
		return NULL;
	need = round_up((n ? n : 1) + HDR, ALIGN);
	if (need < MIN_BLOCK)
		need = MIN_BLOCK;
	if (need >= MMAP_MIN) {
		size_t len = round_up(need, PAGE);

		b = heap_map(len);
		if (!b)
			return NULL;
		b->size = len;
		b->tag = TAG_MMAP;
		spin_lock(&heap_lock);
		in_use += len;
		spin_unlock(&heap_lock);
		return (char *)b + HDR;
	}
	spin_lock(&heap_lock);
	b = take_fit(need);
	if (!b) {
		size_t grow = need > GROW ? round_up(need, PAGE) : GROW;
		struct block *more = heap_morecore(grow);

		if (more) {
			more->size = grow;
			more->tag = TAG_FREE;
			insert_free(more);
			b = take_fit(need);
		}
	}
	if (b)
		in_use += b->size;
	spin_unlock(&heap_lock);
	return b ? (char *)b + HDR : NULL;
}

void free(void *p)
{
	struct block *b;

	if (!p)
		return;
	if ((uintptr_t)p % ALIGN)
		heap_fatal("free of a pointer malloc did not return", p);
	b = (struct block *)((char *)p - HDR);
	if (b->tag == TAG_MMAP) {
		spin_lock(&heap_lock);
		in_use -= b->size;
		spin_unlock(&heap_lock);
		b->tag = 0;
		heap_unmap(b, b->size);
		return;
	}
	if (b->tag == TAG_FREE)
		heap_fatal("double free", p);
	if (b->tag != TAG_USED)
		heap_fatal("free of a pointer malloc did not return (or heap overrun)", p);
	spin_lock(&heap_lock);
	in_use -= b->size;
	b->tag = TAG_FREE;
	insert_free(b);
	spin_unlock(&heap_lock);
}

void *calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *realloc(void *p, size_t n)
{
	struct block *b;
	void *q;
	size_t have;

	if (!p)
		return malloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	b = (struct block *)((char *)p - HDR);
	if (b->tag != TAG_USED && b->tag != TAG_MMAP)
		heap_fatal("realloc of a pointer malloc did not return", p);
	have = b->size - HDR;
	if (n <= have)
		return p;
	q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, have);
	free(p);
	return q;
}

size_t malloc_in_use(void)
{
	size_t v;

	spin_lock(&heap_lock);
	v = in_use;
	spin_unlock(&heap_lock);
	return v;
}
