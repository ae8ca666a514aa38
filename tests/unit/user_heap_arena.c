// SPDX-License-Identifier: MIT
/*
 * The memory below the user allocator for host tests: a fixed arena stands
 * in for brk (same contract: contiguous growth, NULL when exhausted) and
 * host mmap for the big-block mappings. heap_fatal() longjmps back to the
 * test that expected it.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "user_heap_arena.h"

static _Alignas(4096) unsigned char arena[ARENA_SIZE];
size_t arena_used;
int heap_maps, heap_unmaps, heap_fatals;
jmp_buf *heap_fatal_jmp;

void *heap_morecore(size_t len);
void *heap_map(size_t len);
void heap_unmap(void *p, size_t len);
void heap_fatal(const char *what, const void *p);
long sys_yield(void);

void *heap_morecore(size_t len)
{
	if (len > ARENA_SIZE - arena_used)
		return NULL;
	arena_used += len;
	return arena + arena_used - len;
}

void *heap_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	heap_maps++;
	return p;
}

void heap_unmap(void *p, size_t len)
{
	heap_unmaps++;
	munmap(p, len);
}

void heap_fatal(const char *what, const void *p)
{
	heap_fatals++;
	if (heap_fatal_jmp)
		longjmp(*heap_fatal_jmp, 1);
	fprintf(stderr, "unexpected heap_fatal: %s %p\n", what, p);
	abort();
}

/* The allocator's lock yields when contended; host tests are single-threaded. */
long sys_yield(void)
{
	return 0;
}
