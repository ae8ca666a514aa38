/* SPDX-License-Identifier: MIT */
/* System-call dispatch: the table [SYS_x] = sys_x from include/abi/syscalls.h. */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include "abi/syscalls.h"

/* sys_x for every call of the list (kernel/sys_*.c); docs/syscalls.md. */
#define X(nr, name, n, ...) int64_t sys_##name(VESSEL_SC_PARAMS(n, __VA_ARGS__));
VESSEL_SYSCALLS(X)
#undef X

/*
 * A call's uniform entry: args are the six argument registers in ABI order
 * (rdi, rsi, rdx, r10, r8, r9); returns the result or -errno. BKL held.
 */
typedef int64_t syscall_fn(const uint64_t *args);

/* [SYS_x] = the entry of sys_x; NULL for a hole. */
extern syscall_fn *const syscall_table[VESSEL_SYSCALL_COUNT];

/* The entry of call nr, or NULL for an unknown number (the caller returns -ENOSYS). */
static inline syscall_fn *syscall_lookup(uint64_t nr)
{
	return nr < VESSEL_SYSCALL_COUNT ? syscall_table[nr] : (syscall_fn *)0;
}

#endif
