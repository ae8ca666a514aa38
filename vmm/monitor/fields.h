/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing one vCPU state field (monitor/policy.h) through KVM,
 * for the core when it serves a monitor's request that the policy allowed.
 * Called on the vCPU's own thread while it is out of KVM_RUN.
 */
#ifndef VMM_MONITOR_FIELDS_H
#define VMM_MONITOR_FIELDS_H

#include <stdint.h>

struct vcpu;

/*
 * mon_field_get/mon_field_set - the field's value as a u64 (a segment: its
 * selector; an event flag: 0/1). Returns 0, -EINVAL for MF_IO_DATA or an
 * unknown field (the caller handles the exit data), or the ioctl's -errno.
 * Neither checks the policy: the caller does, before.
 */
int mon_field_get(struct vcpu *v, unsigned field, uint64_t *val);
int mon_field_set(struct vcpu *v, unsigned field, uint64_t val);

#endif
