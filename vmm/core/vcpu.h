/* SPDX-License-Identifier: MIT */
/*
 * A virtual CPU: its KVM fd and shared kvm_run page, its thread, and the
 * complete architectural state as one struct for save/restore.
 */
#ifndef VMM_CORE_VCPU_H
#define VMM_CORE_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/vessel.h"

struct vm;

#define VCPU_MAX_MSRS 128

/* What a vCPU's exits were, for `vessel run --stats` and the control socket. */
enum vcpu_stat {
	VCPU_STAT_PIO,	     /* port I/O to a device or an unassigned port */
	VCPU_STAT_HYPERCALL, /* port I/O to the hypercall ports */
	VCPU_STAT_MMIO,	     /* MMIO to a device (or a fault) */
	VCPU_STAT_KICK,	     /* KVM_RUN interrupted by a signal (kick, pause, stop) */
	VCPU_STAT_OTHER,     /* everything else */
	VCPU_STAT_NR
};

/* vcpu_stat_name - "pio", "hypercall", ... */
const char *vcpu_stat_name(enum vcpu_stat s);

struct vcpu {
	struct vm *vm;
	unsigned id; /* == initial APIC ID */
	int fd;
	int stats_fd; /* KVM_GET_STATS_FD, opened with fd (-1: none); core/kvm_stats.h */
	struct kvm_run *run;
	pthread_t thread;
	bool thread_alive;

	/* protected by vm->lock */
	bool started;	    /* may run (BSP at vm_start, APs on CPU_START) */
	bool start_pending; /* AP: apply start_req before the first run */
	struct vessel_hc_cpu_start start_req;
	bool parked;
	bool io_pending;	      /* last exit was I/O: KVM completes it on the next entry */
	uint64_t exits;		      /* exits handled (statistics) */
	uint64_t stats[VCPU_STAT_NR]; /* by kind; relaxed atomics, read anywhere */
};

/* Everything KVM holds for one vCPU, in the order vcpu_state_set() applies it. */
struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[VCPU_MAX_MSRS];
};

/* vcpu_alloc - the host-side vCPU object (no KVM yet: fd = -1). NULL on ENOMEM. */
struct vcpu *vcpu_alloc(struct vm *vm, unsigned id);

/*
 * vcpu_kvm_create - create the vCPU in KVM, map its kvm_run page, set CPUID
 * and initial MSRs. The thread is started later by vm_start().
 */
int vcpu_kvm_create(struct vcpu *v);

/* vcpu_free - unmap, close and free (the thread must have been joined). */
void vcpu_free(struct vcpu *v);

/* vcpu_thread - the vCPU loop (pthread entry; arg is the vcpu). */
void *vcpu_thread(void *arg);

/*
 * vcpu_kick - make the vCPU leave KVM_RUN soon (caller holds vm->lock).
 * Safe whether or not the vCPU is in the guest right now.
 */
void vcpu_kick(struct vcpu *v);

/*
 * vcpu_state_get/vcpu_state_set - read or write the whole state. The vCPU
 * must be parked (vm_pause()) or not yet started. Returns 0 or -errno.
 */
int vcpu_state_get(struct vcpu *v, struct vcpu_state *s);
int vcpu_state_set(struct vcpu *v, const struct vcpu_state *s);

/*
 * vcpu_dump - human-readable registers (GPRs, RIP, RFLAGS, control and
 * segment registers, pending event) into buf. Never fails: a KVM error is
 * printed into the dump.
 */
void vcpu_dump(struct vcpu *v, char *buf, size_t len);

/* vcpu_kick_signal_init - install the (no-op) kick signal handler once. */
int vcpu_kick_signal_init(void);

#define VCPU_KICK_SIGNAL SIGUSR1

#endif
