// SPDX-License-Identifier: MIT
/* Host unit tests of the console line discipline (guest/lib/linedisc.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "lib/linedisc.h"
#include "lib/string.h"

static struct linedisc ld;
static char echoed[8192];
static size_t nechoed;
static int commits, interrupts;

/* Types s into the discipline, collecting the echo. */
static void type(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char e[3];
		int c, k = ld_input(&ld, s[i], e, &c);

		assert_true(k >= 0 && k <= 3);
		memcpy(echoed + nechoed, e, (size_t)k);
		nechoed += (size_t)k;
		commits += !!(c & LD_COMMITTED);
		interrupts += !!(c & LD_INTERRUPT);
	}
}

static int setup(void **state)
{
	(void)state;
	ld_init(&ld);
	nechoed = 0;
	commits = 0;
	interrupts = 0;
	return 0;
}

static void test_line_and_echo(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), -EAGAIN);
	type("ls -l", 5);
	assert_false(ld_readable(&ld)); /* no newline yet: nothing to read */
	type("\r", 1);			/* CR counts as LF */
	assert_true(ld_readable(&ld));
	assert_int_equal(commits, 1);
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "ls -l\n", 6);
	assert_int_equal(nechoed, 6);
	assert_memory_equal(echoed, "ls -l\n", 6);
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), -EAGAIN);
}

static void test_erase(void **state)
{
	char buf[32];

	(void)state;
	type("\b", 1); /* on an empty line: nothing, no echo */
	assert_int_equal(nechoed, 0);
	type("ab\x7f"
	     "c\n",
	     5);
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "ac\n", 3);
	assert_memory_equal(echoed, "ab\b \bc\n", 7);
	type("\x01\x1b"
	     "x\n",
	     4); /* control bytes dropped */
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "x\n", 2);
}

static void test_eof(void **state)
{
	char buf[32];

	(void)state;
	type("\x04", 1); /* at the start of a line: end of file */
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), 0);
	type("abc\x04", 4); /* mid-line: ends the line without a newline */
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), -EAGAIN);
	type("de\x04", 3); /* buffer full exactly at the marker: it goes too */
	assert_int_equal(ld_read(&ld, buf, 2), 2);
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), -EAGAIN);
}

static void test_partial_reads(void **state)
{
	char buf[4];

	(void)state;
	type("hello\nno\n", 9);
	assert_int_equal(ld_read(&ld, buf, 4), 4);
	assert_memory_equal(buf, "hell", 4);
	assert_int_equal(ld_read(&ld, buf, 4), 2); /* the rest of the line only */
	assert_memory_equal(buf, "o\n", 2);
	assert_int_equal(ld_read(&ld, buf, 4), 3);
	assert_memory_equal(buf, "no\n", 3);
}

static void test_overlong_line(void **state)
{
	static char in[LD_LINE_MAX + 10], out[LD_LINE_MAX * 2];

	(void)state;
	memset(in, 'x', sizeof(in));
	type(in, LD_LINE_MAX);
	assert_int_equal(commits, 1); /* committed when full, without a newline */
	assert_int_equal(ld_read(&ld, out, sizeof(out)), LD_LINE_MAX);
	type("y\n", 2);
	assert_int_equal(ld_read(&ld, out, sizeof(out)), 2);
}

static void test_ring_full_drops(void **state)
{
	static char out[LD_RING_SIZE];
	uint64_t total = 0;
	int64_t n;

	(void)state;
	for (int i = 0; i < LD_RING_SIZE / 4 + 10; i++)
		type("abc\n", 4); /* more than the ring holds */
	while ((n = ld_read(&ld, out, sizeof(out))) > 0)
		total += (uint64_t)n;
	assert_int_equal(n, -EAGAIN);
	assert_int_equal(total, LD_RING_SIZE); /* kept what fitted, dropped the rest */
}

static void test_interrupt(void **state)
{
	char buf[32];

	(void)state;
	type("typed ahead\nhalf a li", 21);
	type("\x03", 1); /* Ctrl-C: both lines go, "^C" and a newline are echoed */
	assert_int_equal(interrupts, 1);
	assert_int_equal(commits, 1); /* only the first line's newline */
	assert_memory_equal(echoed + nechoed - 3, "^C\n", 3);
	assert_false(ld_readable(&ld));
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), -EAGAIN);
	type("ls\n", 3); /* editing starts afresh */
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "ls\n", 3);
}

static void test_blank_line(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(ld_blank_line(&ld), 1); /* nothing being edited: "\n" */
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], '\n');
	type("ab", 2);
	assert_int_equal(ld_blank_line(&ld), 0); /* a line in progress is left alone */
	assert_false(ld_readable(&ld));
	type("\n", 1);
	assert_int_equal(ld_read(&ld, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "ab\n", 3);
	assert_int_equal(nechoed, 3); /* the blank line echoed nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_line_and_echo, setup),
		cmocka_unit_test_setup(test_erase, setup),
		cmocka_unit_test_setup(test_eof, setup),
		cmocka_unit_test_setup(test_partial_reads, setup),
		cmocka_unit_test_setup(test_overlong_line, setup),
		cmocka_unit_test_setup(test_ring_full_drops, setup),
		cmocka_unit_test_setup(test_interrupt, setup),
		cmocka_unit_test_setup(test_blank_line, setup),
	};

	return cmocka_run_group_tests_name("guest_linedisc", tests, NULL, NULL);
}
