// SPDX-License-Identifier: MIT
/* Host unit tests of the frame allocator (guest/lib/pfa.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "lib/pfa.h"

#define BASE 256 /* frames start at 1 MiB */
#define N    1000

static uint64_t bitmap[(N + 63) / 64];

static void test_init_all_used(void **state)
{
	struct pfa a;

	(void)state;
	pfa_init(&a, bitmap, BASE, N);
	assert_int_equal(a.nfree, 0);
	assert_int_equal(pfa_alloc(&a), -ENOMEM);
	assert_true(pfa_in_use(&a, BASE));
	assert_false(pfa_in_use(&a, BASE - 1)); /* not covered */
	assert_false(pfa_in_use(&a, BASE + N));
}

static void test_release_reserve_counts(void **state)
{
	struct pfa a;

	(void)state;
	pfa_init(&a, bitmap, BASE, N);
	assert_int_equal(pfa_release_range(&a, 0, 10000), N); /* clipped to the range */
	assert_int_equal(a.nfree, N);
	assert_int_equal(pfa_release_range(&a, BASE, 10), 0);	    /* already free */
	assert_int_equal(pfa_reserve_range(&a, BASE + 60, 10), 10); /* crosses a word */
	assert_int_equal(pfa_reserve_range(&a, BASE + 65, 10), 5);
	assert_int_equal(a.nfree, N - 15);
	assert_true(pfa_in_use(&a, BASE + 74));
	assert_false(pfa_in_use(&a, BASE + 75));
	assert_int_equal(pfa_release_range(&a, UINT64_MAX - 5, 100), 0); /* wraps: nothing */
}

static void test_alloc_unique_and_exhaust(void **state)
{
	struct pfa a;
	static int seen[N];
	int64_t f;
	int count = 0;

	(void)state;
	pfa_init(&a, bitmap, BASE, N);
	pfa_release_range(&a, BASE, N);
	pfa_reserve_range(&a, BASE + 500, 1);
	while ((f = pfa_alloc(&a)) >= 0) {
		assert_true(f >= BASE && f < BASE + N && f != BASE + 500);
		assert_int_equal(seen[f - BASE], 0);
		seen[f - BASE] = 1;
		count++;
	}
	assert_int_equal(f, -ENOMEM);
	assert_int_equal(count, N - 1);
	assert_int_equal(a.nfree, 0);
	assert_int_equal(pfa_free(&a, BASE + 3), 0);
	assert_int_equal(pfa_alloc(&a), BASE + 3); /* the freed frame comes back */
}

static void test_free_errors(void **state)
{
	struct pfa a;

	(void)state;
	pfa_init(&a, bitmap, BASE, N);
	pfa_release_range(&a, BASE, N);
	assert_int_equal(pfa_free(&a, BASE), -EINVAL);	   /* double free */
	assert_int_equal(pfa_free(&a, BASE - 1), -EINVAL); /* out of range */
	assert_int_equal(pfa_free(&a, BASE + N), -EINVAL);
	assert_int_equal(a.nfree, N);
}

static void test_contig_aligned(void **state)
{
	struct pfa a;
	int64_t f;

	(void)state;
	pfa_init(&a, bitmap, BASE, N);
	pfa_release_range(&a, BASE, N);
	pfa_reserve_range(&a, BASE + 2, 1);
	f = pfa_alloc_contig(&a, 4, 1);
	assert_int_equal(f, BASE + 3); /* the first run of 4 skips the used frame */
	f = pfa_alloc_contig(&a, 8, 16);
	assert_true(f >= 0 && f % 16 == 0);
	for (int i = 0; i < 8; i++)
		assert_true(pfa_in_use(&a, (uint64_t)f + i));
	assert_int_equal(a.nfree, N - 1 - 4 - 8);
	assert_int_equal(pfa_alloc_contig(&a, N, 1), -ENOMEM);
	assert_int_equal(pfa_alloc_contig(&a, 0, 1), -ENOMEM);
	assert_int_equal(pfa_alloc_contig(&a, 2, 3), -ENOMEM); /* not a power of two */
}

/* Whole-word fast paths must count exactly when some words do not flip. */
static void test_bulk_mixed(void **state)
{
	struct pfa a;
	uint64_t n;

	(void)state;
	pfa_init(&a, bitmap, BASE, N);
	assert_int_equal(pfa_release_range(&a, BASE + 300, 10), 10); /* inside word 4 */
	assert_int_equal(pfa_release_range(&a, BASE + 640, 64), 64); /* all of word 10 */
	n = pfa_release_range(&a, BASE, N);			     /* bulk over both */
	assert_int_equal(n, N - 74);
	assert_int_equal(a.nfree, N);
	for (uint64_t f = BASE; f < BASE + N; f++)
		assert_false(pfa_in_use(&a, f));
	assert_int_equal(pfa_reserve_range(&a, BASE + 128, 512), 512); /* bulk set */
	assert_int_equal(pfa_reserve_range(&a, BASE, N), N - 512);
	assert_int_equal(a.nfree, 0);
	for (uint64_t f = BASE; f < BASE + N; f++)
		assert_true(pfa_in_use(&a, f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_all_used),
		cmocka_unit_test(test_release_reserve_counts),
		cmocka_unit_test(test_alloc_unique_and_exhaust),
		cmocka_unit_test(test_free_errors),
		cmocka_unit_test(test_contig_aligned),
		cmocka_unit_test(test_bulk_mixed),
	};

	return cmocka_run_group_tests_name("guest_pfa", tests, NULL, NULL);
}
