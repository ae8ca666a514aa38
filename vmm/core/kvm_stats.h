/* SPDX-License-Identifier: MIT */
/*
 * KVM's binary statistics (KVM_GET_STATS_FD, Linux 5.14+) of a VM and its
 * vCPUs: what the host's KVM really did (exits, page faults it fixed or
 * reflected, shadow page-table writes, zaps, TLB flushes...), independent of
 * how fast this host emulates guest code. Read around a workload, they
 * validate models of the host's MMU (docs/sptmodel.md); `vessel ctl SOCK
 * kvmstats` shows them.
 *
 * One snapshot = every scalar statistic: the VM's as they are, the vCPUs'
 * summed over the vCPUs (a "peak" statistic: the maximum). Histograms are
 * left out. Names are KVM's (at most KVM_STAT_NAME_MAX - 1 characters).
 */
#ifndef VMM_CORE_KVM_STATS_H
#define VMM_CORE_KVM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVM_STAT_NAME_MAX 40
#define KVM_STATS_MAX	  256

struct kvm_stat {
	char name[KVM_STAT_NAME_MAX];
	uint64_t value;
	bool per_vcpu; /* a vCPU statistic (summed), else the VM's */
};

struct kvm_stats_snap {
	unsigned n;
	struct kvm_stat s[KVM_STATS_MAX];
};

/*
 * kvm_stats_open - the binary-statistics fd of a VM or vCPU fd, or -1
 * (kernel without KVM_GET_STATS_FD). Open it before the vCPU first runs:
 * the ioctl waits for the vCPU's mutex, which KVM_RUN holds while the vCPU
 * is inside KVM (halted, for instance). Reading it later needs no lock.
 */
int kvm_stats_open(int kvm_obj_fd);

/*
 * kvm_stats_read - a snapshot of the statistics of a VM (vm_sfd) and its
 * vCPUs (vcpu_sfds[0..nr_vcpus)), all stats fds from kvm_stats_open(). 0,
 * or -errno: -ENOTTY if a fd is -1 (no binary statistics), -EIO for a
 * malformed stats file, pread's errno otherwise. Safe while the vCPUs run
 * (counters are read as they are at that moment).
 */
int kvm_stats_read(int vm_sfd, const int *vcpu_sfds, unsigned nr_vcpus, struct kvm_stats_snap *out);

struct vm;

/* vm_kvm_stats - kvm_stats_read() of vm and every vCPU it created. */
int vm_kvm_stats(struct vm *vm, struct kvm_stats_snap *out);

#endif
