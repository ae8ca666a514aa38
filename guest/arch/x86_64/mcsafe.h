/* SPDX-License-Identifier: MIT */
/*
 * Machine-check-safe accesses to user memory through the direct map, for
 * code that reads memory the program itself would have read (system-call
 * lookahead). A page poisoned under the program raises an action-required
 * machine check on the load (on this host's emulated kernel code, the VMM
 * turns the access into one); instead of a kernel panic, the access
 * returns -EFAULT and the caller leaves the access to the program, which
 * then takes the machine check in user mode as it would have without us.
 */
#ifndef ARCH_X86_64_MCSAFE_H
#define ARCH_X86_64_MCSAFE_H

#include <stdint.h>
#include "arch/x86_64/trapframe.h"

/*
 * mc_safe_load - *val = the size-byte (1, 2, 4, 8) value at src, as one
 * load of that size. 0, or -EFAULT after a machine check (*val undefined).
 */
int mc_safe_load(const void *src, uint64_t *val, unsigned size);

/* mc_safe_store - one store of size bytes of val at dst. 0 or -EFAULT. */
int mc_safe_store(void *dst, uint64_t val, unsigned size);

/*
 * mc_safe_recover - from the #MC handler, kernel context: if tf stopped
 * inside mc_safe_load/mc_safe_store, make it return -EFAULT and return 1;
 * otherwise 0.
 */
int mc_safe_recover(struct trapframe *tf);

#endif
