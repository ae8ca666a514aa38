/* SPDX-License-Identifier: MIT */
/*
 * The host's monotonic clock (CLOCK_MONOTONIC), in the unit a caller needs:
 * timeouts, deadlines, rates and durations in the VMM all read it here.
 * It never goes back and does not jump with the wall clock; its zero is
 * arbitrary (boot), so only differences and deadlines mean anything.
 */
#ifndef VMM_CORE_CLOCK_H
#define VMM_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* clock_now_ns - nanoseconds of CLOCK_MONOTONIC. */
static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

#endif
