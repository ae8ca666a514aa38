/* SPDX-License-Identifier: MIT */
/*
 * Raw system calls: one stub `long sys_NAME(...)` per entry of the list in
 * include/abi/syscalls.h (generated, so it cannot drift from the kernel).
 * Each returns what the kernel returns: >= 0 on success, -errno on error
 * (docs/syscalls.md gives every call's semantics and errors).
 */
#ifndef VESSEL_USER_SYS_H
#define VESSEL_USER_SYS_H

#include <stddef.h>
#include <stdint.h>

#include "abi/syscalls.h"

#define VESSEL_SC_DECL_(nr, name, n, ...) long sys_##name(VESSEL_SC_PARAMS(n, __VA_ARGS__));
VESSEL_SYSCALLS(VESSEL_SC_DECL_)
#undef VESSEL_SC_DECL_

/* Any call by number through the `syscall` instruction (tests, new calls). */
long sys_call(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

/* The same through `int $0x80`, the second entry path. */
long sys_call_int80(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

/* 1 if a raw result is an error (-4095..-1). */
static inline int sys_failed(long r)
{
	return r < 0 && r >= -VESSEL_ERRNO_MAX;
}

#endif /* VESSEL_USER_SYS_H */
