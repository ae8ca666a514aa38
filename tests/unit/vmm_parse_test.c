// SPDX-License-Identifier: MIT
/* Unit tests: size/number parsing and `vessel run` option parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd.h"
#include "core/parse.h"

#include <errno.h>
#include <string.h>

static void test_parse_size_units(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("256", &v), 0);
	assert_int_equal(v, 256ull << 20); /* no suffix: MiB */
	assert_int_equal(parse_size("4096b", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("64K", &v), 0);
	assert_int_equal(v, 64ull << 10);
	assert_int_equal(parse_size("512MiB", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(parse_size("2g", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
}

static void test_parse_size_errors(void **state)
{
	uint64_t v = 77;

	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_size("-1M", &v), -EINVAL);
	assert_int_equal(parse_size("12X", &v), -EINVAL);
	assert_int_equal(parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(parse_size("1 G", &v), -EINVAL);
	assert_int_equal(parse_size(NULL, &v), -EINVAL);
	assert_int_equal(parse_size("18446744073709551616b", &v), -ERANGE);
	assert_int_equal(parse_size("17179869184G", &v), -ERANGE); /* 2^34 GiB = 2^64 */
	assert_int_equal(parse_size("16777216T", &v), -ERANGE);
	assert_int_equal(v, 77); /* untouched on error */
}

static void test_parse_uint(void **state)
{
	uint64_t v;

	assert_int_equal(parse_uint("2", 1, 64, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(parse_uint("0", 1, 64, &v), -ERANGE);
	assert_int_equal(parse_uint("65", 1, 64, &v), -ERANGE);
	assert_int_equal(parse_uint("2x", 1, 64, &v), -EINVAL);
	assert_int_equal(parse_uint("", 1, 64, &v), -EINVAL);
	assert_int_equal(parse_uint("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
}

static int parse(struct run_opts *o, char *err, ...)
{
	char *argv[16] = { "run" };
	int argc = 1;
	va_list ap;

	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *)) && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	return run_parse_args(argc, argv, o, err, 256);
}

static void test_run_defaults(void **state)
{
	struct run_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, NULL), 0);
	assert_int_equal(o.cpus, 2);
	assert_int_equal(o.mem, 256ull << 20);
	assert_null(o.kernel);
	assert_null(o.initrd);
	assert_string_equal(o.cmdline, "");
	assert_false(o.help);
	assert_false(o.stats);
	assert_null(o.incoming);
	assert_null(o.tls_creds);
	assert_int_equal(o.incoming_timeout, 3600);
}

static void test_run_options(void **state)
{
	struct run_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "--cpus", "1", "--mem=1G", "--kernel", "k.elf",
			       "--initrd=i.img", "--cmdline", "selftest init=/bin/sh", NULL),
			 0);
	assert_int_equal(o.cpus, 1);
	assert_int_equal(o.mem, 1ull << 30);
	assert_string_equal(o.kernel, "k.elf");
	assert_string_equal(o.initrd, "i.img");
	assert_string_equal(o.cmdline, "selftest init=/bin/sh");
	assert_int_equal(parse(&o, err, "--cpus", "3", "--help", "--bogus", NULL), 0);
	assert_true(o.help);
	assert_int_equal(parse(&o, err, "--no-initrd", "--stats", NULL), 0);
	assert_true(o.no_initrd);
	assert_true(o.stats);
	assert_int_equal(parse(&o, err, "--incoming", "tls:h:1", "--tls-creds=/c",
			       "--incoming-timeout", "0", NULL),
			 0);
	assert_string_equal(o.incoming, "tls:h:1");
	assert_string_equal(o.tls_creds, "/c");
	assert_int_equal(o.incoming_timeout, 0);
	/* a source needs no --incoming for its --tls-creds */
	assert_int_equal(parse(&o, err, "--tls-creds", "/c", NULL), 0);
	assert_int_equal(parse(&o, err, "--incoming=tcp::5", "--incoming-timeout=90", NULL), 0);
	assert_int_equal(o.incoming_timeout, 90);
	assert_false(o.no_postcopy);
	assert_int_equal(parse(&o, err, "--incoming=tcp::5", "--no-postcopy", NULL), 0);
	assert_true(o.no_postcopy);
	assert_false(o.mem_prealloc);
	assert_int_equal(parse(&o, err, "--mem-prealloc", "--mem", "1G", NULL), 0);
	assert_true(o.mem_prealloc);
}

static void expect_error(const char *needle, ...)
{
	char *argv[16] = { "run" };
	struct run_opts o;
	char err[256] = "";
	int argc = 1;
	va_list ap;

	va_start(ap, needle);
	for (char *a; (a = va_arg(ap, char *)) && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	assert_int_equal(run_parse_args(argc, argv, &o, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

static void test_run_errors(void **state)
{
	expect_error("--cpus '0'", "--cpus", "0", NULL);
	expect_error("--cpus '65'", "--cpus", "65", NULL);
	expect_error("not a number", "--cpus", "two", NULL);
	expect_error("--mem '3X': not a size", "--mem", "3X", NULL);
	expect_error("must be between 4M and 64G", "--mem", "2M", NULL);
	expect_error("must be between 4M and 64G", "--mem", "65G", NULL);
	expect_error("multiple of 4K", "--mem", "4097K", NULL);
	expect_error("too large", "--mem", "99999999999999999G", NULL);
	expect_error("option --kernel needs a value", "--kernel", NULL);
	expect_error("--kernel: empty", "--kernel=", NULL);
	expect_error("unknown option '--kernal'", "--kernal", "x", NULL);
	expect_error("unexpected argument 'foo'", "foo", NULL);
	expect_error("contradict", "--initrd", "a", "--no-initrd", NULL);
	expect_error("expected tcp:HOST:PORT or tls:HOST:PORT", "--incoming", "udp:h:1", NULL);
	expect_error("--incoming tls:h:1 needs --tls-creds DIR", "--incoming", "tls:h:1", NULL);
	expect_error("--tls-creds: empty", "--tls-creds=", NULL);
	expect_error("--incoming-timeout 'soon': not a number", "--incoming=tcp::1",
		     "--incoming-timeout", "soon", NULL);
	expect_error("--incoming-timeout without --incoming", "--incoming-timeout", "5", NULL);
	expect_error("--no-postcopy without --incoming", "--no-postcopy", NULL);
	expect_error("option --no-postcopy takes no value", "--incoming=tcp::1",
		     "--no-postcopy=yes", NULL);
	expect_error("option --mem-prealloc takes no value", "--mem-prealloc=1", NULL);
}

static void test_run_cmdline_limit(void **state)
{
	static char big[5000];
	struct run_opts o;
	char err[256];

	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(parse(&o, err, "--cmdline", big, NULL), -EINVAL);
	assert_non_null(strstr(err, "--cmdline"));
	big[4095] = '\0'; /* 4095 bytes + NUL: exactly the limit */
	assert_int_equal(parse(&o, err, "--cmdline", big, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_units),  cmocka_unit_test(test_parse_size_errors),
		cmocka_unit_test(test_parse_uint),	  cmocka_unit_test(test_run_defaults),
		cmocka_unit_test(test_run_options),	  cmocka_unit_test(test_run_errors),
		cmocka_unit_test(test_run_cmdline_limit),
	};

	return cmocka_run_group_tests_name("vmm_parse", tests, NULL, NULL);
}
