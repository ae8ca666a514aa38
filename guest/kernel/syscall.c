// SPDX-License-Identifier: MIT
/*
 * The system-call table [SYS_x] = sys_x, generated from the X-macro list in
 * include/abi/syscalls.h (the user stubs come from the same list). Each
 * sys_x lives in a sys_*.c file by topic; the entry (registers, errata,
 * counters) is the arch code's (arch/x86_64/syscall_trap.c).
 */
#include "abi/syscalls.h"
#include "kernel/syscall.h"

/* One uniform entry per call: unpacks the six argument registers. */
#define X(nr, name, n, ...)                                                                        \
	static int64_t entry_##name(const uint64_t *r)                                             \
	{                                                                                          \
		(void)r;                                                                           \
		return sys_##name(VESSEL_SC_UNPACK(n, r, __VA_ARGS__));                            \
	}
VESSEL_SYSCALLS(X)
#undef X

#define X(nr, name, n, ...) [nr] = entry_##name,
syscall_fn *const syscall_table[VESSEL_SYSCALL_COUNT] = { VESSEL_SYSCALLS(X) };
#undef X
