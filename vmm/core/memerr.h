/* SPDX-License-Identifier: MIT */
/*
 * Memory errors of a VM: which guest pages are poisoned (the poison set),
 * what happens when a vCPU consumes one, and real poisoning for tests and
 * fault injection.
 *
 * When a vCPU touches a poisoned page, KVM sends the vCPU thread SIGBUS
 * (BUS_MCEERR_AR, si_addr = host address) and KVM_RUN returns EINTR. The
 * handler only records the address (signal context); the vCPU's run_exit
 * hook then adds the page to the poison set and has the architecture inject
 * the machine check a load of poisoned memory raises on hardware
 * (arch_mce_inject_ar). A VMM read of a poisoned page goes through
 * safe_copy() (gmem_read) and gets -EHWPOISON instead of dying.
 *
 * Every newly known poisoned page is marked dirty in guest memory (a running
 * migration sends it again, now as POISONED) and reported to the VM's
 * memory_error hooks.
 */
#ifndef VMM_CORE_MEMERR_H
#define VMM_CORE_MEMERR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/poison.h"

struct vm;
struct vcpu;

struct memerr {
	struct vm *vm;
	struct poison_set poison;
	uint64_t vcpu_consumed; /* vCPU SIGBUS on a poisoned page (atomic) */
	uint64_t injected;	/* pages poisoned by memerr_poison() (atomic) */
};

/*
 * memerr_attach - poison set, the process's SIGBUS handlers (vCPU and safe
 * copy) and the vCPU hooks; vm->memerr is set. Called by vm_kvm_create().
 * 0 or -errno with vm->err set.
 */
int memerr_attach(struct vm *vm);

/*
 * memerr_record - gpa is known to be poisoned (found by a copy, reported by a
 * migration source). Returns 1 if it is new, 0 if known, -errno.
 */
int memerr_record(struct vm *vm, uint64_t gpa);

/*
 * memerr_mmio_consumed - an access of vCPU v that KVM could not complete
 * (an MMIO exit) was to poisoned guest RAM at gpa: on this host guest
 * kernel-mode code is emulated, and the emulator's access to a poisoned
 * page exits that way instead of raising the SIGBUS a native access does.
 * Injects the same action-required machine check and returns true; false
 * if gpa is not poisoned RAM (a genuine access to nothing).
 */
bool memerr_mmio_consumed(struct vm *vm, struct vcpu *v, uint64_t gpa);

/* memerr_is_poisoned - whether gpa's page is in the poison set. */
bool memerr_is_poisoned(struct vm *vm, uint64_t gpa);

/*
 * memerr_poison - poison gpa's page for real (UFFDIO_POISON), as a hardware
 * uncorrectable error would. Recorded (memerr_record) unless `latent`: a
 * latent error is found only when something reads the page. Returns 1 if it
 * was newly poisoned, 0 if it was poisoned already, or -errno with err set.
 */
int memerr_poison(struct vm *vm, uint64_t gpa, bool latent, char *err, size_t errlen);

/* memerr_hva_to_gpa - host address -> gpa's page, or UINT64_MAX if not RAM. */
uint64_t memerr_hva_to_gpa(struct vm *vm, const void *hva);

#endif
