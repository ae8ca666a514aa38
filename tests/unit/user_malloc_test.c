// SPDX-License-Identifier: MIT
/*
 * Unit tests of the user allocator (user/libc/src/malloc.c) on the host,
 * over a fixed arena in place of brk (user_heap_arena.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "user_heap_arena.h"
#include "user_libc_host.h"

static void test_alignment_and_no_overlap(void **state)
{
	unsigned char *p[64];

	for (int i = 0; i < 64; i++) {
		size_t n = (size_t)(i * 37 % 300) + (i == 5 ? 0 : 1);

		p[i] = u_malloc(n);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], i, n ? n : 1);
	}
	for (int i = 0; i < 64; i++) {
		size_t n = (size_t)(i * 37 % 300) + (i == 5 ? 0 : 1);

		for (size_t k = 0; k < (n ? n : 1); k++)
			assert_int_equal(p[i][k], i);
	}
	for (int i = 0; i < 64; i += 2)
		u_free(p[i]);
	for (int i = 1; i < 64; i += 2)
		u_free(p[i]);
	assert_int_equal(u_malloc_in_use(), 0);
	u_free(NULL);
}

static void test_freed_memory_is_reused_and_merged(void **state)
{
	size_t before;
	void *a, *b, *c, *big;

	a = u_malloc(1000);
	b = u_malloc(1000);
	c = u_malloc(1000);
	before = arena_used;
	u_free(a);
	u_free(c);
	u_free(b); /* merges with both neighbours */
	big = u_malloc(2900);
	assert_ptr_equal(big, a);
	assert_int_equal(arena_used, before);
	u_free(big);
	assert_int_equal(u_malloc_in_use(), 0);
}

static void test_calloc_realloc(void **state)
{
	unsigned char *p = u_calloc(100, 3), *q;

	assert_non_null(p);
	for (int i = 0; i < 300; i++)
		assert_int_equal(p[i], 0);
	for (int i = 0; i < 300; i++)
		p[i] = (unsigned char)i;
	q = u_realloc(p, 200); /* shrink: same block */
	assert_ptr_equal(q, p);
	q = u_realloc(p, 5000);
	assert_non_null(q);
	for (int i = 0; i < 300; i++)
		assert_int_equal(q[i], (unsigned char)i);
	assert_null(u_calloc(SIZE_MAX / 2, 4)); /* overflow */
	assert_null(u_malloc(SIZE_MAX - 8));
	assert_null(u_realloc(q, 0));
	p = u_realloc(NULL, 10);
	assert_non_null(p);
	u_free(p);
	assert_int_equal(u_malloc_in_use(), 0);
}

static void test_big_blocks_are_mapped(void **state)
{
	int maps = heap_maps, unmaps = heap_unmaps;
	size_t used = arena_used;
	unsigned char *p = u_malloc(1 << 20);

	assert_non_null(p);
	assert_int_equal(heap_maps, maps + 1);
	assert_int_equal(arena_used, used);
	p[0] = 1;
	p[(1 << 20) - 1] = 2;
	assert_true(u_malloc_in_use() >= (1 << 20));
	u_free(p);
	assert_int_equal(heap_unmaps, unmaps + 1);
	assert_int_equal(u_malloc_in_use(), 0);
}

static void test_exhaustion_returns_null(void **state)
{
	void *p[200];
	int n = 0;

	while (n < 200 && (p[n] = u_malloc(100000)) != NULL)
		n++;
	assert_true(n > 10 && n < 200); /* the 4 MiB arena ran out */
	while (n--)
		u_free(p[n]);
	assert_int_equal(u_malloc_in_use(), 0);
}

static void test_double_and_wild_free_detected(void **state)
{
	jmp_buf jb;
	char *p = u_malloc(64);
	static char wild[64] __attribute__((aligned(16)));
	volatile int fatals = heap_fatals;

	heap_fatal_jmp = &jb;
	u_free(p);
	if (!setjmp(jb))
		u_free(p);
	assert_int_equal(heap_fatals, fatals + 1);
	if (!setjmp(jb))
		u_free(wild + 16);
	assert_int_equal(heap_fatals, fatals + 2);
	if (!setjmp(jb))
		u_free(wild + 3);
	assert_int_equal(heap_fatals, fatals + 3);
	heap_fatal_jmp = NULL;
}

/* Random operations against a shadow copy of every block's contents. */
static void test_random_stress(void **state)
{
	enum { N = 256 };
	unsigned char *blk[N] = { 0 };
	size_t len[N] = { 0 };
	unsigned seed = 12345;

	for (int step = 0; step < 20000; step++) {
		int i;

		seed = seed * 1103515245 + 12345;
		i = (int)((seed >> 8) % N);
		if (blk[i]) {
			for (size_t k = 0; k < len[i]; k++)
				assert_int_equal(blk[i][k], (unsigned char)(i + k));
			if ((seed >> 20) & 1) {
				u_free(blk[i]);
				blk[i] = NULL;
				continue;
			}
		}
		len[i] = (seed >> 12) % ((seed & 0x10000) ? 4000 : 64);
		blk[i] = blk[i] ? u_realloc(blk[i], len[i] ? len[i] : 1) : u_malloc(len[i]);
		assert_non_null(blk[i]);
		for (size_t k = 0; k < len[i]; k++)
			blk[i][k] = (unsigned char)(i + k);
	}
	for (int i = 0; i < N; i++)
		u_free(blk[i]);
	assert_int_equal(u_malloc_in_use(), 0);
}

static void test_strdup(void **state)
{
	char *s = u_strdup("vessel");

	assert_string_equal(s, "vessel");
	u_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment_and_no_overlap),
		cmocka_unit_test(test_freed_memory_is_reused_and_merged),
		cmocka_unit_test(test_calloc_realloc),
		cmocka_unit_test(test_big_blocks_are_mapped),
		cmocka_unit_test(test_exhaustion_returns_null),
		cmocka_unit_test(test_double_and_wild_free_detected),
		cmocka_unit_test(test_random_stress),
		cmocka_unit_test(test_strdup),
	};

	return cmocka_run_group_tests_name("user-malloc", tests, NULL, NULL);
}
