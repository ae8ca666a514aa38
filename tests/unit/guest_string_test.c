// SPDX-License-Identifier: MIT
/* Host unit tests of guest/lib/string.c and guest/lib/cmdline.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/string.h"

static void test_memcpy_memset(void **state)
{
	unsigned char a[64], b[64];

	(void)state;
	for (int i = 0; i < 64; i++)
		a[i] = (unsigned char)i;
	assert_ptr_equal(memset(b, 0xee, sizeof(b)), b);
	assert_ptr_equal(memcpy(b + 3, a, 10), b + 3);
	assert_int_equal(b[2], 0xee);
	for (int i = 0; i < 10; i++)
		assert_int_equal(b[3 + i], i);
	assert_int_equal(b[13], 0xee);
	memset(b, 0x1ff, 4); /* only the low byte counts */
	assert_int_equal(b[0], 0xff);
}

static void test_memmove_overlap(void **state)
{
	char s[] = "abcdefghij";

	(void)state;
	memmove(s + 2, s, 5); /* forward overlap: must copy backwards */
	assert_string_equal(s, "ababcdehij");
	memmove(s, s + 3, 4); /* backward overlap */
	assert_string_equal(s, "bcdecdehij");
	memmove(s, s, 3);
	assert_string_equal(s, "bcdecdehij");
}

static void test_compare(void **state)
{
	(void)state;
	assert_int_equal(memcmp("abc", "abd", 3) < 0, 1);
	assert_int_equal(memcmp("\xff", "\x01", 1) > 0, 1); /* unsigned bytes */
	assert_int_equal(memcmp("abc", "abd", 2), 0);
	assert_int_equal(strcmp("abc", "abc"), 0);
	assert_true(strcmp("ab", "abc") < 0);
	assert_true(strcmp("\xe9", "a") > 0);
	assert_int_equal(strncmp("abcx", "abcy", 3), 0);
	assert_true(strncmp("abcx", "abcy", 4) < 0);
	assert_int_equal(strncmp("ab", "ab", 10), 0);
	assert_int_equal(strlen(""), 0);
	assert_int_equal(strlen("vessel"), 6);
	assert_int_equal(strnlen("vessel", 3), 3);
	assert_int_equal(strnlen("ves", 10), 3);
	assert_string_equal(strchr("a/b/c", '/'), "/b/c");
	assert_null(strchr("abc", 'z'));
	assert_string_equal(strchr("abc", 0), "");
}

static void test_strlcpy(void **state)
{
	char d[5];

	(void)state;
	assert_int_equal(strlcpy(d, "hi", sizeof(d)), 2);
	assert_string_equal(d, "hi");
	assert_int_equal(strlcpy(d, "truncated", sizeof(d)), 9); /* >= size: truncated */
	assert_string_equal(d, "trun");
	d[0] = 'x';
	assert_int_equal(strlcpy(d, "abc", 0), 3);
	assert_int_equal(d[0], 'x'); /* size 0 writes nothing */
}

static void test_parse_u64(void **state)
{
	uint64_t v = 0;
	const char *end;

	(void)state;
	assert_int_equal(parse_u64("1234x", &end, &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(*end, 'x');
	assert_int_equal(parse_u64("0x1F", NULL, &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(parse_u64("18446744073709551615", NULL, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("18446744073709551616", NULL, &v), -ERANGE);
	assert_int_equal(parse_u64("abc", NULL, &v), -EINVAL);
	assert_int_equal(parse_u64("", NULL, &v), -EINVAL);
	assert_int_equal(parse_u64("0x", &end, &v), 0); /* "0" then stop at 'x' */
	assert_int_equal(v, 0);
}

static void test_cmdline_has(void **state)
{
	(void)state;
	assert_true(cmdline_has("selftest", "selftest"));
	assert_true(cmdline_has("  a selftest b", "selftest"));
	assert_false(cmdline_has("selftests", "selftest")); /* whole words only */
	assert_false(cmdline_has("noselftest", "selftest"));
	assert_false(cmdline_has("", "selftest"));
	assert_false(cmdline_has("x", ""));
	assert_true(cmdline_has("a\tnoerrata", "noerrata"));
}

static void test_cmdline_get(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(cmdline_get("a init=/sh b", "init=", out, sizeof(out)), 3);
	assert_string_equal(out, "/sh");
	assert_int_equal(cmdline_get("a b", "init=", out, sizeof(out)), -ENOENT);
	assert_int_equal(cmdline_get("k=0123456789abcdef", "k=", out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(
		cmdline_get_rest("selftest init=/usertests -c x  ", "init=", out, sizeof(out)), 15);
	assert_string_equal(out, "/usertests -c x");
	assert_int_equal(cmdline_get("xinit=1 init=2", "init=", out, sizeof(out)), 1);
	assert_string_equal(out, "2");
}

static void test_cmdline_virtio(void **state)
{
	char out[32];
	uint64_t size, base;
	uint32_t irq;

	(void)state;
	/* one word per device, in order */
	assert_int_equal(cmdline_get_nth("a v=1 b v=22 v=3", "v=", 1, out, sizeof(out)), 2);
	assert_string_equal(out, "22");
	assert_int_equal(cmdline_get_nth("a v=1 b v=22 v=3", "v=", 2, out, sizeof(out)), 1);
	assert_int_equal(cmdline_get_nth("a v=1 b v=22 v=3", "v=", 3, out, sizeof(out)), -ENOENT);
	assert_int_equal(cmdline_parse_virtio_mmio("512@0xfeb00e00:23", &size, &base, &irq), 0);
	assert_int_equal(size, 512);
	assert_int_equal(base, 0xfeb00e00);
	assert_int_equal(irq, 23);
	assert_int_equal(cmdline_parse_virtio_mmio("4K@4096:5", &size, &base, &irq), 0);
	assert_int_equal(size, 4096);
	assert_int_equal(base, 4096);
	assert_int_equal(cmdline_parse_virtio_mmio("1m@0X10:0", &size, &base, &irq), 0);
	assert_int_equal(size, 1 << 20);
	/* refused: missing parts, junk, zero size, a window that wraps, huge numbers */
	assert_int_equal(cmdline_parse_virtio_mmio("512@0xfeb00e00", &size, &base, &irq), -EINVAL);
	assert_int_equal(cmdline_parse_virtio_mmio("512:12", &size, &base, &irq), -EINVAL);
	assert_int_equal(cmdline_parse_virtio_mmio("512@0x:12", &size, &base, &irq), -EINVAL);
	assert_int_equal(cmdline_parse_virtio_mmio("512@1:12x", &size, &base, &irq), -EINVAL);
	assert_int_equal(cmdline_parse_virtio_mmio("0@1:12", &size, &base, &irq), -EINVAL);
	assert_int_equal(cmdline_parse_virtio_mmio("512@0xffffffffffffff00:1", &size, &base, &irq),
			 -EINVAL);
	assert_int_equal(cmdline_parse_virtio_mmio("99999999999999999999@1:1", &size, &base, &irq),
			 -EINVAL);
	assert_int_equal(cmdline_parse_virtio_mmio("1@1:4294967296", &size, &base, &irq), -EINVAL);
	assert_int_equal(cmdline_parse_virtio_mmio("", &size, &base, &irq), -EINVAL);
}

static void test_cmdline_split(void **state)
{
	char s[] = "  ls   -l\t/  ";
	char *argv[4];

	(void)state;
	assert_int_equal(cmdline_split(s, argv, 4), 3);
	assert_string_equal(argv[0], "ls");
	assert_string_equal(argv[1], "-l");
	assert_string_equal(argv[2], "/");
	char t[] = "a b c d e";
	assert_int_equal(cmdline_split(t, argv, 2), 2); /* extra words dropped */
	assert_string_equal(argv[1], "b");
	char u[] = "   ";
	assert_int_equal(cmdline_split(u, argv, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcpy_memset),  cmocka_unit_test(test_memmove_overlap),
		cmocka_unit_test(test_compare),	       cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_parse_u64),      cmocka_unit_test(test_cmdline_has),
		cmocka_unit_test(test_cmdline_get),    cmocka_unit_test(test_cmdline_split),
		cmocka_unit_test(test_cmdline_virtio),
	};

	return cmocka_run_group_tests_name("guest_string", tests, NULL, NULL);
}
