/* SPDX-License-Identifier: MIT */
#ifndef VESSEL_SH_STATS_PRINT_H
#define VESSEL_SH_STATS_PRINT_H

#include <vessel/sys.h>

/*
 * Print the kernel counters of `now`; if `base` is not NULL, print the
 * difference now - base for the monotonic counters instead.
 */
void stats_print(const struct vessel_stats *now, const struct vessel_stats *base);

#endif
