// SPDX-License-Identifier: MIT
/*
 * Host unit tests of the search-trampoline helpers (guest/lib/jswitch.c):
 * the hot-set choice, the emitted bytes, and the emitted code run for real
 * on this CPU (hits, misses, arguments passed through).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "lib/jswitch.h"
#include "../../bench/jumpswitch_page.h"

static void test_pick_hot(void **state)
{
	const uint64_t counts[8] = { 0, 5, 9, 5, 0, 1, 9, 2 };
	uint32_t out[JSW_MAX_ENTRIES];

	(void)state;
	assert_int_equal(jsw_pick_hot(counts, 8, 3, out), 3);
	assert_int_equal(out[0], 2); /* ties: lower key first */
	assert_int_equal(out[1], 6);
	assert_int_equal(out[2], 1);
	assert_int_equal(jsw_pick_hot(counts, 8, 16, out), 6); /* zero counts never */
	assert_int_equal(out[3], 3);
	assert_int_equal(out[4], 7);
	assert_int_equal(out[5], 5);
	assert_int_equal(jsw_pick_hot(counts, 8, 0, out), 0);
	assert_int_equal(jsw_pick_hot(counts, 8, 17, out), -EINVAL);
	assert_int_equal(jsw_pick_hot(counts, 8, -1, out), -EINVAL);
}

/* The entry jump the install protocol rewrites (kernel/jumpswitch.c flip). */
static void test_emit_jmp(void **state)
{
	uint8_t buf[8];

	(void)state;
	/* jmp 0x1040 from 0x1000: rel32 0x3b; backwards to 0x1000 from 0x2000 */
	const uint8_t fwd[5] = { 0xe9, 0x3b, 0, 0, 0 };
	assert_int_equal(jsw_emit_jmp(buf, sizeof(buf), 0x1000, 0x1040), JSW_TAIL_BYTES);
	assert_memory_equal(buf, fwd, 5);
	const uint8_t back[5] = { 0xe9, 0xfb, 0xef, 0xff, 0xff };
	assert_int_equal(jsw_emit_jmp(buf, sizeof(buf), 0x2000, 0x1000), JSW_TAIL_BYTES);
	assert_memory_equal(buf, back, 5);
	assert_int_equal(jsw_emit_jmp(buf, 4, 0x1000, 0x1040), -ENOSPC);
	assert_int_equal(jsw_emit_jmp(buf, sizeof(buf), 0x1000, 0x100001000ull), -ERANGE);
}

static void test_emit_bytes(void **state)
{
	const uint32_t keys[2] = { 5, 0x1234 };
	const uint64_t targets[2] = { 0x1000 + 12 + 0x10, 0x1000 };
	uint8_t buf[64];

	(void)state;
	assert_int_equal(jsw_emit(buf, sizeof(buf), 0x1000, keys, targets, 2, 0x2000),
			 JSW_CODE_BYTES(2));
	/* cmp $5, %esi; je +0x10 */
	const uint8_t e0[12] = { 0x81, 0xfe, 5, 0, 0, 0, 0x0f, 0x84, 0x10, 0, 0, 0 };
	assert_memory_equal(buf, e0, 12);
	/* cmp $0x1234, %esi; je back to 0x1000 from 0x1018 */
	const uint8_t e1[12] = { 0x81, 0xfe, 0x34, 0x12, 0, 0, 0x0f, 0x84, 0xe8, 0xff, 0xff, 0xff };
	assert_memory_equal(buf + 12, e1, 12);
	/* jmp 0x2000 from 0x101d */
	const uint8_t tail[5] = { 0xe9, 0xe3, 0x0f, 0, 0 };
	assert_memory_equal(buf + 24, tail, 5);
	assert_int_equal(jsw_emit(buf, JSW_CODE_BYTES(2) - 1, 0x1000, keys, targets, 2, 0x2000),
			 -ENOSPC);
	assert_int_equal(jsw_emit(buf, sizeof(buf), 0x1000, keys, targets, 17, 0x2000), -EINVAL);
	assert_int_equal(jsw_emit(buf, sizeof(buf), 0x100000000ull, keys, targets, 1, 0x2000),
			 -ERANGE);
	const uint32_t big[1] = { 0x80000000u };
	assert_int_equal(jsw_emit(buf, sizeof(buf), 0x1000, big, targets, 1, 0x1000), -EINVAL);
	assert_true(jsw_same_keys(keys, 2, keys, 2));
	assert_false(jsw_same_keys(keys, 2, keys, 1));
	assert_false(jsw_same_keys(keys, 2, big, 1));
}

static void test_emit_ptr_bytes(void **state)
{
	const uint64_t at = 0xffffffff7ffff000ull;
	const uint64_t targets[2] = { 0xffffffff80001000ull, 0xffffffff80000010ull };
	const uint64_t miss = 0xffffffff80002000ull;
	uint8_t buf[64];

	(void)state;
	assert_int_equal(jsw_emit_ptr(buf, sizeof(buf), at, targets, 2, miss),
			 JSW_PTR_CODE_BYTES(2));
	/* cmp $0xffffffff80001000, %rcx; je (0x1000 + 0x1000 - 13 ahead) */
	const uint8_t e0[13] = { 0x48, 0x81, 0xf9, 0x00, 0x10, 0x00, 0x80,
				 0x0f, 0x84, 0xf3, 0x1f, 0x00, 0x00 };
	assert_memory_equal(buf, e0, 13);
	/* cmp $0xffffffff80000010, %rcx; je (0x1010 - 26 ahead) */
	const uint8_t e1[13] = { 0x48, 0x81, 0xf9, 0x10, 0x00, 0x00, 0x80,
				 0x0f, 0x84, 0xf6, 0x0f, 0x00, 0x00 };
	assert_memory_equal(buf + 13, e1, 13);
	/* jmp miss from at + 31 */
	const uint8_t tail[5] = { 0xe9, 0xe1, 0x2f, 0x00, 0x00 };
	assert_memory_equal(buf + 26, tail, 5);
	assert_int_equal(jsw_emit_ptr(buf, sizeof(buf), at, targets, 0, miss), JSW_TAIL_BYTES);
	assert_int_equal(jsw_emit_ptr(buf, JSW_PTR_CODE_BYTES(2) - 1, at, targets, 2, miss),
			 -ENOSPC);
	assert_int_equal(jsw_emit_ptr(buf, sizeof(buf), at, targets, 17, miss), -EINVAL);
	/* not a sign-extended imm32: the compare could not name it */
	const uint64_t low[1] = { 0x80001000ull };
	assert_int_equal(jsw_emit_ptr(buf, sizeof(buf), 0x80000000ull, low, 1, 0x80002000ull),
			 -ERANGE);
	const uint64_t below[1] = { 0xffffffff7fffe000ull }; /* just below the top 2 GiB */
	assert_int_equal(jsw_emit_ptr(buf, sizeof(buf), at, below, 1, miss), -ERANGE);
	/* miss out of rel32 reach */
	assert_int_equal(jsw_emit_ptr(buf, sizeof(buf), at, targets, 1, 0x1000), -ERANGE);
}

typedef int64_t tramp_fn(const uint64_t *args, uint64_t key);

static int64_t t_a(const uint64_t *a)
{
	return 1000 + (int64_t)a[0];
}
static int64_t t_b(const uint64_t *a)
{
	return 2000 + (int64_t)a[0];
}
static int64_t t_miss(const uint64_t *a, uint64_t key)
{
	return -(int64_t)key - (int64_t)a[0];
}

static void test_emitted_code_runs(void **state)
{
	const uint32_t keys[2] = { 7, 3 };
	const uint64_t targets[2] = { (uint64_t)t_a, (uint64_t)t_b };
	const uint64_t args[6] = { 5 };
	uint8_t *page = jsw_code_page_near((const void *)t_a);
	tramp_fn *f = (tramp_fn *)(void *)page;

	(void)state;
	assert_non_null(page);
	assert_int_equal(jsw_emit(page, 4096, (uint64_t)page, keys, targets, 2, (uint64_t)t_miss),
			 JSW_CODE_BYTES(2));
	assert_int_equal(f(args, 7), 1005);
	assert_int_equal(f(args, 3), 2005);
	assert_int_equal(f(args, 4), -9);
	assert_int_equal(f(args, 7 + (1ull << 32)), 1005); /* the key is %esi */
	/* no entries: everything misses */
	assert_int_equal(jsw_emit(page, 4096, (uint64_t)page, keys, targets, 0, (uint64_t)t_miss),
			 JSW_TAIL_BYTES);
	assert_int_equal(f(args, 7), -12);
	munmap(page, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_hot),	  cmocka_unit_test(test_emit_bytes),
		cmocka_unit_test(test_emit_jmp),	  cmocka_unit_test(test_emit_ptr_bytes),
		cmocka_unit_test(test_emitted_code_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
