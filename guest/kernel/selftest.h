/* SPDX-License-Identifier: MIT */
/*
 * In-kernel self-tests, run when the command line contains `selftest`
 * (every test) or `selftest=NAME` (only that one; the rest are skipped;
 * `selftest=PREFIX*`: those whose names start with PREFIX).
 * A test is a function returning 0 (pass), -1 (fail) or ST_SKIP, registered with
 * SELFTEST(name) in any file; ST_ASSERT reports a failed condition on the
 * console (TAP diagnostic) and on the Vessel test channel (ASSERT).
 */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

struct selftest {
	const char *name;
	int (*fn)(void);
};

#define SELFTEST(tname)                                                                            \
	static int selftest_##tname(void);                                                         \
	static const struct selftest selftest_desc_##tname                                         \
		__attribute__((used, section(".selftests"), aligned(8))) = { #tname,               \
									     selftest_##tname };   \
	static int selftest_##tname(void)

#define ST_SKIP 1

/*
 * Upper bound of a test's wait for another CPU to make progress: generous,
 * because vCPUs of a loaded host (or kernel code under emulation) can stall
 * for seconds; a bound against a hang, never a timing check.
 */
#define SELFTEST_WAIT_NS 30000000000ull

/* Sets the reason printed for a skipped test (returns ST_SKIP). */
int selftest_skip(const char *why);
/* Reports the failure of `what` at file:line (used by ST_ASSERT). */
void selftest_fail(const char *file, int line, const char *what);

#define ST_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			selftest_fail(__FILE__, __LINE__, #cond);                                  \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

/* Runs every registered test (BKL held, kernel thread); powers off with the failure count. */
void selftest_run(void) __attribute__((noreturn));

#endif
