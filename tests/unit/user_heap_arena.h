/* SPDX-License-Identifier: MIT */
#ifndef USER_HEAP_ARENA_H
#define USER_HEAP_ARENA_H

#include <setjmp.h>
#include <stddef.h>

#define ARENA_SIZE (4u << 20)

extern size_t arena_used;			/* bytes given out by heap_morecore */
extern int heap_maps, heap_unmaps, heap_fatals; /* calls seen */
extern jmp_buf *heap_fatal_jmp;			/* where heap_fatal() longjmps to */

#endif
