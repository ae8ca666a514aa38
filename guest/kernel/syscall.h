/* SPDX-License-Identifier: MIT */
/* System-call dispatch: the table [SYS_x] = sys_x from include/abi/syscalls.h. */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include "abi/syscalls.h"
#include "arch/x86_64/trapframe.h"

/* sys_x for every call of the list (kernel/sys_*.c); docs/syscalls.md. */
#define X(nr, name, n, ...) int64_t sys_##name(VESSEL_SC_PARAMS(n, __VA_ARGS__));
VESSEL_SYSCALLS(X)
#undef X

/*
 * Entry from the syscall instruction (either LSTAR path) or int $0x80:
 * counts, fixes the erratum RIP, takes the BKL, dispatches, returns the
 * result in tf->rax and leaves through kernel_exit.
 */
void syscall_entry(struct trapframe *tf);

#endif
