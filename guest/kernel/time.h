/* SPDX-License-Identifier: MIT */
/* Time: TSC-based clock, the periodic LAPIC timer tick. */
#ifndef KERNEL_TIME_H
#define KERNEL_TIME_H

#include <stdint.h>

#define HZ 100

/* Calibrates the TSC and LAPIC timer (BSP, once). */
void time_init(void);
/* Starts this CPU's periodic tick (every CPU). */
void time_start_tick(void);
/* Nanoseconds since the kernel's clock origin (monotonic). */
uint64_t time_ns(void);
/* Nanoseconds since the VMM started (Vessel) or kernel entry (Multiboot). */
uint64_t time_since_boot_ns(void);
/* TSC frequency in kHz. */
uint64_t time_tsc_khz(void);
/* Converts a TSC delta to nanoseconds. */
uint64_t tsc_to_ns(uint64_t delta);

#endif
