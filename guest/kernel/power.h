/* SPDX-License-Identifier: MIT */
/* Power off and the test-report channel (Vessel hypercalls or QEMU ports). */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#include <stdint.h>

/*
 * Ends the VM with `status` (0..255): VESSEL_HC_POWEROFF on the Vessel VMM,
 * isa-debug-exit under QEMU (which exits with (status << 1) | 1).
 */
void power_off(int status) __attribute__((noreturn));
/* Test channel: ASSERT(file, line, msg); no-op without hypercalls. */
void test_report_assert(const char *file, int line, const char *msg);
/* Test channel: DONE(failures). */
void test_report_done(uint64_t failures);
/* Test channel: PRINT(msg). */
void test_report_print(const char *msg);

#endif
