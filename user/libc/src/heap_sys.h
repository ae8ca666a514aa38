/* SPDX-License-Identifier: MIT */
/*
 * What the allocator (malloc.c) needs from below. In the guest these are
 * brk/mmap (heap_sys.c); the host unit test supplies a fixed arena, so the
 * same malloc.c is tested on the host.
 */
#ifndef VESSEL_USER_HEAP_SYS_H
#define VESSEL_USER_HEAP_SYS_H

#include <stddef.h>

/* `len` more bytes directly after the previous ones (the heap is one
 * contiguous range); returns their start or NULL when out of memory. */
void *heap_morecore(size_t len);

/* A separate page-aligned mapping of `len` bytes (a multiple of 4096), or NULL. */
void *heap_map(size_t len);
void heap_unmap(void *p, size_t len);

/* Report heap corruption (bad or double free) and end the process. */
__attribute__((noreturn)) void heap_fatal(const char *what, const void *p);

#endif /* VESSEL_USER_HEAP_SYS_H */
