// SPDX-License-Identifier: MIT
/* The allocator's memory source in the guest: brk for the heap, mmap for big blocks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <vessel/sys.h>

#include "heap_sys.h"

static uintptr_t cur_break;

void *heap_morecore(size_t len)
{
	long r;

	if (!cur_break) {
		r = sys_brk(NULL);
		if (sys_failed(r))
			return NULL;
		cur_break = (uintptr_t)r;
	}
	if (len > VESSEL_BRK_MAX)
		return NULL;
	r = sys_brk((void *)(cur_break + len));
	if (sys_failed(r) || (uintptr_t)r != cur_break + len)
		return NULL;
	cur_break += len;
	return (void *)(cur_break - len);
}

void *heap_map(size_t len)
{
	long r = sys_mmap(NULL, len, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
			  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

	return sys_failed(r) ? NULL : (void *)r;
}

void heap_unmap(void *p, size_t len)
{
	sys_munmap(p, len);
}

__attribute__((noreturn)) void heap_fatal(const char *what, const void *p)
{
	fprintf(stderr, "malloc: %s: %p\n", what, p);
	abort();
}
