// SPDX-License-Identifier: MIT
/* The self-test runner: TAP on the console, ASSERT/DONE on the test channel. */
#include <stddef.h>
#include "kernel/boot.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/time.h"
#include "lib/cmdline.h"
#include "lib/string.h"

extern const struct selftest __selftests_start[], __selftests_end[];

void selftest_fail(const char *file, int line, const char *what)
{
	printk("# assertion failed: %s at %s:%d\n", what, file, line);
	test_report_assert(file, line, what);
}

static const char *skip_reason;

int selftest_skip(const char *why)
{
	skip_reason = why;
	return ST_SKIP;
}

/* 1 if name is `only`, or starts with X when `only` is X followed by '*'. */
static int selected(const char *name, const char *only)
{
	size_t n = strlen(only);

	if (n && only[n - 1] == '*')
		return !strncmp(name, only, n - 1);
	return !strcmp(name, only);
}

void selftest_run(void)
{
	int n = (int)(__selftests_end - __selftests_start), failures = 0, skipped = 0;
	uint64_t t0 = time_ns();
	char only[48] = "";

	/*
	 * `selftest=NAME`: only that test runs (the others are reported
	 * skipped); `selftest=PREFIX*`: the tests whose names start with PREFIX
	 */
	if (cmdline_get(boot.cmdline, "selftest=", only, sizeof(only)) < 0)
		only[0] = 0;

	printk("TAP version 13\n1..%d\n", n);
	for (int i = 0; i < n; i++) {
		const struct selftest *t = &__selftests_start[i];
		int r;

		skip_reason = NULL;
		r = only[0] && !selected(t->name, only) ? selftest_skip("not selected") : t->fn();
		if (r == ST_SKIP) {
			skipped++;
			printk("ok %d - %s # SKIP %s\n", i + 1, t->name,
			       skip_reason ? skip_reason : "");
			continue;
		}
		if (r)
			failures++;
		printk("%s %d - %s\n", r ? "not ok" : "ok", i + 1, t->name);
	}
	printk("# selftest: %d passed, %d failed, %d skipped (%lu ms)\n", n - failures - skipped,
	       failures, skipped, (time_ns() - t0) / 1000000);
	test_report_done((uint64_t)failures);
	power_off(failures > 255 ? 255 : failures);
}
