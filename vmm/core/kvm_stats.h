/* SPDX-License-Identifier: MIT */
/*
 * KVM's binary statistics (KVM_GET_STATS_FD): what the host really did for
 * a vCPU (exits, exits by kind, interrupt injections, ...), independent of
 * how fast the guest runs. Read on demand (the control socket's stats).
 */
#ifndef VMM_CORE_KVM_STATS_H
#define VMM_CORE_KVM_STATS_H

#include <stdint.h>

/*
 * kvm_stats_read - from a KVM statistics fd (KVM_GET_STATS_FD of a vCPU or
 * the VM; vcpu->stats_fd), the values of the `n` statistics named in
 * names[] into vals[] (the first u64 of each; 0 for a name KVM does not
 * have). Never blocks on the vCPU. Returns 0 or -errno (a malformed file).
 */
int kvm_stats_read(int stats_fd, const char *const names[], uint64_t vals[], unsigned n);

#endif
