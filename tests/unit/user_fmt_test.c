// SPDX-License-Identifier: MIT
/*
 * Unit tests of the freestanding formatter (guest/lib/fmt.c) behind the user
 * libc's printf: every conversion, flag, width, precision and length
 * modifier is compared with the host C library's snprintf, which is the
 * reference behaviour (C99 7.19.6.1), plus truncation and the cases where
 * the formatter is deliberately different or has no host counterpart.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/fmt.h"

/* The edge cases below (ignored flags, '#' with %d...) are deliberate. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-overflow"

/* Format with both and compare output and return value. */
#define SAME(...)                                                                                  \
	do {                                                                                       \
		char want[512], got[512];                                                          \
		int wn = snprintf(want, sizeof(want), __VA_ARGS__);                                \
		int gn = fmt_snprintf(got, sizeof(got), __VA_ARGS__);                              \
		if (strcmp(want, got) || wn != gn)                                                 \
			fail_msg("format %s: want \"%s\" (%d) got \"%s\" (%d)", #__VA_ARGS__,      \
				 want, wn, got, gn);                                               \
	} while (0)

static void test_plain_and_percent(void **state)
{
	SAME("hello");
	SAME("%%");
	SAME("a%%b%%");
	SAME("%s", "");
	SAME("%c%c%c", 'a', 'b', 'c');
}

static void test_signed(void **state)
{
	int vals[] = { 0, 1, -1, 42, -42, 123456, INT_MAX, INT_MIN };

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int v = vals[i];

		SAME("%d", v);
		SAME("%i", v);
		SAME("%5d|%-5d|%05d", v, v, v);
		SAME("%+d|% d|%+5d|%-+6d|% 06d", v, v, v, v, v);
		SAME("%.3d|%8.3d|%-8.3d|%08.3d|%.0d", v, v, v, v, v);
		SAME("%hd|%hhd", v, v);
	}
	SAME("%ld %ld %ld", 0L, LONG_MAX, LONG_MIN);
	SAME("%lld %lld", LLONG_MAX, LLONG_MIN);
	SAME("%zd %td %jd", (ssize_t)-5, (ptrdiff_t)-77, (intmax_t)INT64_MIN);
}

static void test_unsigned_bases(void **state)
{
	unsigned vals[] = { 0, 1, 7, 8, 15, 16, 255, 0xdeadbeef, UINT_MAX };

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		unsigned v = vals[i];

		SAME("%u|%x|%X|%o", v, v, v, v);
		SAME("%#x|%#X|%#o|%#10x|%-#10x|%#010x", v, v, v, v, v, v);
		SAME("%.5x|%#.5x|%#.0x|%.0o|%#.0o|%#.3o", v, v, v, v, v, v);
		SAME("%12u|%-12u|%012u", v, v, v);
		SAME("%+u|% u", v, v); /* + and space do not apply to unsigned */
		SAME("%hx|%hhx|%hhu", v, v, v);
	}
	SAME("%lx %lX %lo %lu", ULONG_MAX, ULONG_MAX, ULONG_MAX, ULONG_MAX);
	SAME("%llx %zx %zu", 0x123456789abcdefULL, (size_t)SIZE_MAX, (size_t)12345);
}

static void test_strings_and_chars(void **state)
{
	SAME("%s|%10s|%-10s|%.2s|%10.2s|%-10.2s|%.0s|", "hello", "hello", "hello", "hello", "hello",
	     "hello", "hello");
	SAME("%5c|%-5c|", 'x', 'y');
	SAME("%*d|%-*d|%*d", 6, 42, 6, 42, -6, 42);
	SAME("%.*d|%.*s|%*.*s", 4, 7, 3, "abcdef", 8, 2, "abcdef");
	SAME("%.*d", -1, 7); /* negative precision: as if none */
}

static void test_pointers(void **state)
{
	int x;

	SAME("%p", (void *)&x);
	SAME("%p", (void *)0x1000);
	SAME("%20p|%-20p|", (void *)0xabc, (void *)0xabc);
	SAME("%p", (void *)NULL);
}

static void test_binary_and_null_string(void **state)
{
	char buf[64];

	/* %b has no reference in older C libraries: expected values by hand */
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%b", 5u), 3);
	assert_string_equal(buf, "101");
	fmt_snprintf(buf, sizeof(buf), "%#b|%08b|%b", 5u, 5u, 0u);
	assert_string_equal(buf, "0b101|00000101|0");
	fmt_snprintf(buf, sizeof(buf), "[%s]", (char *)NULL);
	assert_string_equal(buf, "[(null)]");
}

static void test_unknown_conversion_is_literal(void **state)
{
	char buf[64];

	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "a%yb%d", 3), 5);
	assert_string_equal(buf, "a%yb3");
	fmt_snprintf(buf, sizeof(buf), "trailing %");
	assert_string_equal(buf, "trailing %");
	fmt_snprintf(buf, sizeof(buf), "%-08");
	assert_string_equal(buf, "%-08");
}

static void test_truncation(void **state)
{
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 5, "%s", "abcdefgh"), 8);
	assert_string_equal(buf, "abcd");
	assert_int_equal(buf[5], 'Z'); /* nothing written past size */
	assert_int_equal(fmt_snprintf(buf, 1, "%d", 12345), 5);
	assert_string_equal(buf, "");
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(fmt_snprintf(NULL, 0, "%d", 12345), 5);
	assert_int_equal(fmt_snprintf(buf, 0, "xyz"), 3);
	assert_int_equal(buf[0], 'Z');
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%300d", 1), 300);
	assert_string_equal(buf, "       ");
}

struct collect {
	char buf[256];
	size_t len;
	int calls;
};

static void collect_out(void *ctx, const char *s, size_t n)
{
	struct collect *c = ctx;

	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->calls++;
}

static int vformat(struct collect *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vformat(collect_out, c, fmt, ap);
	va_end(ap);
	return n;
}

static void test_callback_sees_every_byte(void **state)
{
	struct collect c = { .len = 0 };

	assert_int_equal(vformat(&c, "x=%-40d|%s", -3, "end"), 46);
	c.buf[c.len] = '\0';
	assert_int_equal(c.len, 46);
	assert_string_equal(c.buf, "x=-3                                      |end");
	assert_true(c.calls > 1);
}

/* A systematic sweep: every flag set x widths x precisions x conversions. */
static void test_sweep(void **state)
{
	static const char *flags[] = { "", "-", "0", "+", " ", "#", "-#", "0#", "+0", "- " };
	static const char *widths[] = { "", "1", "7", "20" };
	static const char *precs[] = { "", ".", ".0", ".1", ".9" };
	static const char convs[] = "diuxXo";
	static const long long vals[] = { 0, 1, -1, 0x7f, -12345, 987654321, LLONG_MIN };

	for (size_t f = 0; f < sizeof(flags) / sizeof(*flags); f++)
		for (size_t w = 0; w < sizeof(widths) / sizeof(*widths); w++)
			for (size_t p = 0; p < sizeof(precs) / sizeof(*precs); p++)
				for (size_t c = 0; c < sizeof(convs) - 1; c++)
					for (size_t v = 0; v < sizeof(vals) / sizeof(*vals); v++) {
						char fmt[32];

						snprintf(fmt, sizeof(fmt), "[%%%s%s%sll%c]",
							 flags[f], widths[w], precs[p], convs[c]);
						SAME(fmt, vals[v]);
					}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_percent),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_unsigned_bases),
		cmocka_unit_test(test_strings_and_chars),
		cmocka_unit_test(test_pointers),
		cmocka_unit_test(test_binary_and_null_string),
		cmocka_unit_test(test_unknown_conversion_is_literal),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_callback_sees_every_byte),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}
