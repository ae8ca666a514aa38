/* SPDX-License-Identifier: MIT */
/*
 * Hypercalls of include/abi/vessel.h: a 32-bit OUT to
 * VESSEL_HC_PORT_BASE + nr carrying the guest-physical address of the
 * argument struct. Every address is checked with gmem_ptr()/gmem_strcpy();
 * a bad one stops the VM with VESSEL_EXIT_GUEST_FAULT and a message naming
 * the hypercall.
 */
#ifndef VMM_CORE_HYPERCALL_H
#define VMM_CORE_HYPERCALL_H

struct vm;

/* hypercall_register - claim the hypercall ports on vm->pio. */
int hypercall_register(struct vm *vm);

/* hypercall_name - "poweroff", "test", "cpu_start" or "unknown". */
const char *hypercall_name(unsigned nr);

#endif
