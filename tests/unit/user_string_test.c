// SPDX-License-Identifier: MIT
/*
 * Unit tests of the user libc's string and number functions
 * (user/libc/src/string.c, stdlib.c, errors.c) compiled for the host under
 * the u_ prefix, checked against the host C library as the reference.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "user_libc_host.h"

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void test_memcpy_memset_alignments(void **state)
{
	unsigned char src[96], dst[96], ref[96];

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 + 1);
	for (size_t so = 0; so < 9; so++)
		for (size_t d = 0; d < 9; d++)
			for (size_t n = 0; n < 70; n++) {
				memset(dst, 0xee, sizeof(dst));
				memset(ref, 0xee, sizeof(ref));
				assert_ptr_equal(u_memcpy(dst + d, src + so, n), dst + d);
				memcpy(ref + d, src + so, n);
				assert_memory_equal(dst, ref, sizeof(dst));
			}
	for (size_t d = 0; d < 9; d++)
		for (size_t n = 0; n < 70; n++) {
			memset(dst, 0x11, sizeof(dst));
			memset(ref, 0x11, sizeof(ref));
			assert_ptr_equal(u_memset(dst + d, 0x1a5, n),
					 dst + d); /* only the low byte */
			memset(ref + d, 0xa5, n);
			assert_memory_equal(dst, ref, sizeof(dst));
		}
}

static void test_memmove_overlap(void **state)
{
	char buf[64], ref[64];

	for (int from = 0; from < 20; from++)
		for (int to = 0; to < 20; to++) {
			for (int i = 0; i < 64; i++)
				buf[i] = ref[i] = (char)i;
			u_memmove(buf + to, buf + from, 30);
			memmove(ref + to, ref + from, 30);
			assert_memory_equal(buf, ref, sizeof(buf));
		}
}

static void test_compare(void **state)
{
	static const char *s[] = { "", "a", "b", "ab", "abc", "abd", "\xff", "a\xff", "ABC" };
	const size_t n = sizeof(s) / sizeof(*s);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			assert_int_equal(sign(u_strcmp(s[i], s[j])), sign(strcmp(s[i], s[j])));
			for (size_t k = 0; k < 5; k++)
				assert_int_equal(sign(u_strncmp(s[i], s[j], k)),
						 sign(strncmp(s[i], s[j], k)));
			size_t m = strlen(s[i]) < strlen(s[j]) ? strlen(s[i]) : strlen(s[j]);
			assert_int_equal(sign(u_memcmp(s[i], s[j], m + 1)),
					 sign(memcmp(s[i], s[j], m + 1)));
		}
}

static void test_search(void **state)
{
	const char *h = "hello, world";

	assert_int_equal(u_strlen(h), 12);
	assert_int_equal(u_strlen(""), 0);
	assert_int_equal(u_strnlen(h, 5), 5);
	assert_int_equal(u_strnlen(h, 50), 12);
	assert_ptr_equal(u_strchr(h, 'o'), h + 4);
	assert_ptr_equal(u_strrchr(h, 'o'), h + 8);
	assert_ptr_equal(u_strchr(h, '\0'), h + 12);
	assert_ptr_equal(u_strrchr(h, '\0'), h + 12);
	assert_null(u_strchr(h, 'z'));
	assert_ptr_equal(u_memchr(h, 'w', 12), h + 7);
	assert_null(u_memchr(h, 'w', 7));
	assert_ptr_equal(u_strstr(h, "world"), h + 7);
	assert_ptr_equal(u_strstr(h, ""), h);
	assert_null(u_strstr(h, "worlds"));
	assert_null(u_strstr("", "a"));
	assert_int_equal(u_strspn("  \tx", " \t"), 3);
	assert_int_equal(u_strcspn("abc def", " "), 3);
	assert_int_equal(u_strcspn("abc", " "), 3);
}

static void test_copy(void **state)
{
	char buf[16];

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(u_strlcpy(buf, "hello world", 6), 11);
	assert_string_equal(buf, "hello");
	assert_int_equal(u_strlcpy(buf, "hi", sizeof(buf)), 2);
	assert_string_equal(buf, "hi");
	buf[0] = 'Q';
	assert_int_equal(u_strlcpy(buf, "xyz", 0), 3);
	assert_int_equal(buf[0], 'Q');
	assert_ptr_equal(u_strcpy(buf, "abc"), buf);
	assert_ptr_equal(u_strcat(buf, "def"), buf);
	assert_string_equal(buf, "abcdef");
	memset(buf, 'Z', sizeof(buf));
	u_strncpy(buf, "ab", 5);
	assert_memory_equal(buf, "ab\0\0\0Z", 6);
	u_strncpy(buf, "abcdefgh", 3);
	assert_memory_equal(buf, "abc\0\0Z", 6);
}

static void test_strsep_ws(void **state)
{
	char line[] = "  ls  -l\t/  ";
	char *p = line, *t;

	assert_string_equal(t = u_strsep_ws(&p, " \t"), "ls");
	assert_string_equal(t = u_strsep_ws(&p, " \t"), "-l");
	assert_string_equal(t = u_strsep_ws(&p, " \t"), "/");
	assert_null(u_strsep_ws(&p, " \t"));
	assert_null(u_strsep_ws(&p, " \t"));
	p = NULL;
	assert_null(u_strsep_ws(&p, " "));
}

static void test_strtol_matches_host(void **state)
{
	static const char *in[] = {
		"0",
		"42",
		"-42",
		"+7",
		"  12abc",
		"0x1f",
		"0X1F",
		"-0x10",
		"017",
		"08",
		"0x",
		"9223372036854775807",
		"9223372036854775808",
		"-9223372036854775808",
		"-9223372036854775809",
		"18446744073709551615",
		"18446744073709551616",
		"",
		"   ",
		"-",
		"z",
		"  -  5",
		"1e3",
	};
	static const int bases[] = { 0, 10, 16, 8, 2, 36 };

	for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++)
		for (size_t b = 0; b < sizeof(bases) / sizeof(*bases); b++) {
			char *e1, *e2;
			long long v1 = u_strtoll(in[i], &e1, bases[b]);
			long long v2 = strtoll(in[i], &e2, bases[b]);

			if (v1 != v2 || e1 != e2)
				fail_msg("strtoll(\"%s\", %d): got %lld end+%td, want %lld end+%td",
					 in[i], bases[b], v1, e1 - in[i], v2, e2 - in[i]);
			unsigned long long u1 = u_strtoull(in[i], &e1, bases[b]);
			unsigned long long u2 = strtoull(in[i], &e2, bases[b]);

			if (u1 != u2 || e1 != e2)
				fail_msg("strtoull(\"%s\", %d): got %llu, want %llu", in[i],
					 bases[b], u1, u2);
		}
	assert_int_equal(u_atoi("123"), 123);
	assert_int_equal(u_atoi("-5x"), -5);
	assert_int_equal(u_strtol("77", NULL, 8), 63);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static void test_qsort_and_rand(void **state)
{
	int v[500];

	u_srand(1);
	for (int i = 0; i < 500; i++) {
		v[i] = u_rand() % 1000;
		assert_true(v[i] >= 0);
	}
	u_qsort(v, 500, sizeof(int), cmp_int);
	for (int i = 1; i < 500; i++)
		assert_true(v[i - 1] <= v[i]);
	u_qsort(v, 0, sizeof(int), cmp_int);
	u_qsort(v, 1, sizeof(int), cmp_int);
	/* deterministic per seed */
	u_srand(7);
	int a = u_rand(), b = u_rand();
	u_srand(7);
	assert_int_equal(u_rand(), a);
	assert_int_equal(u_rand(), b);
	assert_int_not_equal(a, b);
}

static void test_strerror(void **state)
{
	assert_string_equal(u_strerror(-14), "EFAULT (bad address)");
	assert_string_equal(u_strerror(2), "ENOENT (no such file)");
	assert_string_equal(u_strerror(9999), "E? (unknown error)");
	/* no -e overflow (UBSan traps here if it negates INT_MIN) */
	assert_string_equal(u_strerror(INT_MIN), "E? (unknown error)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcpy_memset_alignments),
		cmocka_unit_test(test_memmove_overlap),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_search),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_strsep_ws),
		cmocka_unit_test(test_strtol_matches_host),
		cmocka_unit_test(test_qsort_and_rand),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("user-string", tests, NULL, NULL);
}
