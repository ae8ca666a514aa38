/* SPDX-License-Identifier: MIT */
/*
 * Hypercalls of include/abi/vessel.h: a 32-bit OUT to
 * VESSEL_HC_PORT_BASE + nr carrying the guest-physical address of the
 * argument struct. Every address is checked with gmem_ptr(), and guest
 * memory is only accessed through a memory-exception-safe copy
 * (migrate/safecopy.h), so a poisoned page cannot kill the VMM; a bad
 * address or a poisoned page stops the VM with VESSEL_EXIT_GUEST_FAULT and
 * a message naming the hypercall.
 */
#ifndef VMM_CORE_HYPERCALL_H
#define VMM_CORE_HYPERCALL_H

struct vm;

/* hypercall_register - claim the hypercall ports on vm->pio. */
int hypercall_register(struct vm *vm);

/* hypercall_name - "poweroff", "test", "cpu_start" or "unknown". */
const char *hypercall_name(unsigned nr);

#endif
