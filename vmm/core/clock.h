/* SPDX-License-Identifier: MIT */
/*
 * The host's clocks in the unit a caller needs: timeouts, deadlines, rates
 * and durations in the VMM read the monotonic clock (CLOCK_MONOTONIC) here,
 * CPU-time figures the calling thread's CPU clock. The monotonic clock
 * never goes back and does not jump with the wall clock; its zero is
 * arbitrary (boot), so only differences and deadlines mean anything.
 */
#ifndef VMM_CORE_CLOCK_H
#define VMM_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* clock_read_ns - nanoseconds of clock `id`. */
static inline uint64_t clock_read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* clock_now_ns - nanoseconds of CLOCK_MONOTONIC. */
static inline uint64_t clock_now_ns(void)
{
	return clock_read_ns(CLOCK_MONOTONIC);
}

/* clock_now_us - microseconds of CLOCK_MONOTONIC, with the fraction. */
static inline double clock_now_us(void)
{
	return (double)clock_now_ns() / 1e3;
}

/* clock_now_ms - milliseconds of CLOCK_MONOTONIC, with the fraction. */
static inline double clock_now_ms(void)
{
	return (double)clock_now_ns() / 1e6;
}

/* clock_thread_cpu_ms - CPU time the calling thread has used, ms. */
static inline double clock_thread_cpu_ms(void)
{
	return (double)clock_read_ns(CLOCK_THREAD_CPUTIME_ID) / 1e6;
}

#endif
