/* SPDX-License-Identifier: MIT */
/* Physical pages and the kernel heap. */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ul
#define PAGE_MASK (~(PAGE_SIZE - 1))

/*
 * Builds the frame allocator from boot.mmap (RAM below 4 GiB, above 1 MiB),
 * minus the kernel image and the initrd. Prints the usable total.
 */
void page_alloc_init(void);
/* One physical page (not zeroed), or 0 when memory is exhausted. */
uint64_t page_alloc(void);
/* One zeroed physical page, or 0. */
uint64_t page_alloc_zeroed(void);
/* n physically contiguous pages, or 0. */
uint64_t pages_alloc(uint64_t n);
/* Frees one page; panics on a double free (a kernel bug). */
void page_free(uint64_t pa);
/* Frees n contiguous pages from pages_alloc. */
void pages_free(uint64_t pa, uint64_t n);
/*
 * Takes frame pa out of circulation for good (a memory error hit it): if it
 * is free it is reserved and 1 is returned; if it is in use, 0, and the frame
 * is marked so that page_free() keeps it instead of freeing it (retired when
 * its owner lets go); -EBUSY if the allocator's lock could not be taken (the
 * caller interrupted its holder).
 */
int page_retire(uint64_t pa);

/*
 * page_alloc_bitmap - where the allocator's bitmap is (physical address and
 * size of the whole array) and how many frames it covers: bit f set = frame
 * f in use. The allocator keeps nothing inside free frames, so the
 * hyper-callbacks (guest/hcb/) may report a clear bit as "drop this page".
 */
void page_alloc_bitmap(uint64_t *pa, uint64_t *bytes, uint64_t *nframes);

/* Frames retired by page_free() after a page_retire() that found them in use. */
uint64_t page_retired_on_free(void);
/* Free and total page counts. */
uint64_t page_free_count(void);
uint64_t page_total_count(void);

/* Kernel heap: size-class free lists over pages; NULL when out of memory. */
void *kmalloc(size_t n);
/* kmalloc + zero fill. */
void *kzalloc(size_t n);
/* Frees a kmalloc'ed block (NULL is ignored). */
void kfree(void *p);

#endif
