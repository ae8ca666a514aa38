// SPDX-License-Identifier: MIT
/*
 * usertests runner.
 *
 *   usertests              run every test, each in its own process
 *   usertests NAME...      run the named tests only
 *   usertests -r N [NAME...]  run them N times over (hunting for flaky failures)
 *   usertests -l           list the tests
 *   usertests -c NAME      (internal) run one test in this process
 *   usertests -h HELPER .. (internal) helper processes the tests spawn
 *
 * Output is TAP: "1..N", then "ok I - NAME" or "not ok I - NAME (why)" per
 * test, failure details as "# " comments, and a summary comment. The exit
 * status is the number of failed tests (capped at 125).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "ut.h"

struct test {
	const char *name;
	void (*fn)(void);
};

static const struct test tests[] = {
#define UT_ENTRY(name) { #name, test_##name },
	UT_TESTS(UT_ENTRY)
#undef UT_ENTRY
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

/* A test that has not finished after this long is killed and failed. */
#define TEST_TIMEOUT_NS (180ull * 1000000000ull)
/* Tests slower than this get a timing comment (the kernel is emulated here). */
#define SLOW_NS		(5ull * 1000000000ull)

static const char *current = "?";

void ut_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# %s: %s:%d: %s\n", current, file, line, msg);
	exit(1);
}

void ut_note(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# %s: %s\n", current, msg);
}

static const struct test *find(const char *name)
{
	for (size_t i = 0; i < NTESTS; i++)
		if (!strcmp(tests[i].name, name))
			return &tests[i];
	return NULL;
}

/* Run one test in a child; returns 1 if it passed. */
static int run_one(size_t index, const struct test *t)
{
	const char *argv[] = { "usertests", "-c", t->name, NULL };
	uint64_t start = now_ns(), pause_ns = 1000000;
	int32_t status = 0;
	long pid = sys_spawn("usertests", argv), r;

	if (pid < 0) {
		printf("not ok %zu - %s (cannot spawn: %s)\n", index, t->name, strerror((int)pid));
		return 0;
	}
	for (;;) {
		r = sys_wait(pid, &status, VESSEL_WNOHANG);
		if (r != 0)
			break;
		if (now_ns() - start > TEST_TIMEOUT_NS) {
			sys_kill(pid, VESSEL_SIGKILL);
			sys_wait(pid, &status, 0);
			printf("not ok %zu - %s (timed out after %llu s)\n", index, t->name,
			       TEST_TIMEOUT_NS / 1000000000ull);
			return 0;
		}
		sys_nanosleep(pause_ns);
		if (pause_ns < 50000000)
			pause_ns *= 2;
	}
	if (r < 0) {
		printf("not ok %zu - %s (wait: %s)\n", index, t->name, strerror((int)r));
		return 0;
	}
	if (now_ns() - start > SLOW_NS)
		printf("# %s took %llu ms\n", t->name,
		       (unsigned long long)((now_ns() - start) / 1000000));
	if (status == 0) {
		printf("ok %zu - %s\n", index, t->name);
		return 1;
	}
	if (VESSEL_W_SIGNALED(status))
		printf("not ok %zu - %s (killed by signal %d)\n", index, t->name,
		       VESSEL_W_TERMSIG(status));
	else
		printf("not ok %zu - %s (exit status %d)\n", index, t->name,
		       VESSEL_W_EXITSTATUS(status));
	return 0;
}

int main(int argc, char **argv)
{
	const struct test *selected[NTESTS];
	size_t n = 0, passed = 0;
	long repeat = 1;
	uint64_t start;

	if (argc >= 2 && !strcmp(argv[1], "-h"))
		return helper_main(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "-c")) {
		const struct test *t = find(argv[2]);

		if (!t) {
			printf("# usertests: no test named %s\n", argv[2]);
			return 2;
		}
		current = t->name;
		t->fn();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "-l")) {
		for (size_t i = 0; i < NTESTS; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "-r")) {
		repeat = strtol(argv[2], NULL, 0);
		if (repeat < 1 || repeat > 1000) {
			printf("usertests: -r %s: repeat 1..1000 times\n", argv[2]);
			return 125;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc == 1) {
		for (size_t i = 0; i < NTESTS; i++)
			selected[n++] = &tests[i];
	} else {
		for (int i = 1; i < argc; i++) {
			const struct test *t = find(argv[i]);

			if (!t || n == NTESTS) {
				printf("usertests: no test named %s (usertests -l lists them)\n",
				       argv[i]);
				return 125;
			}
			selected[n++] = t;
		}
	}

	start = now_ns();
	printf("1..%zu\n", n * (size_t)repeat);
	for (long r = 0; r < repeat; r++)
		for (size_t i = 0; i < n; i++)
			passed += run_one((size_t)r * n + i + 1, selected[i]);
	n *= (size_t)repeat;
	printf("# usertests: %zu passed, %zu failed, %llu ms\n", passed, n - passed,
	       (unsigned long long)((now_ns() - start) / 1000000));
	return n - passed > 125 ? 125 : (int)(n - passed);
}
