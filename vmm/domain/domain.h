/* SPDX-License-Identifier: MIT */
/*
 * Protection domains (issue 16, H3; docs/integrity.md): the root domain is
 * the VM the kernel runs in; the secure domain is a second KVM VM over the
 * same guest RAM (the same memfd), created by this process, whose memslots
 * include the trusted computing base's memory (and map kernel text
 * writable), while the root VM has no memslot for it at all. Each root vCPU
 * has its own secure vCPU, so two vCPUs can be in different domains at once;
 * a root vCPU enters the secure domain only through an entry the TCB's
 * measured header declares, on its own thread, and is not in KVM_RUN meanwhile:
 * its interrupts wait in its LAPIC until the entry returns.
 */
#ifndef VMM_DOMAIN_DOMAIN_H
#define VMM_DOMAIN_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "abi/vessel.h"

struct vm;
struct vcpu;
struct tcb_image;

struct domain;

/*
 * domain_attach - set up the secure domain for the measured TCB t (already
 * loaded in guest RAM): validate its header, hide its memory from the root
 * domain (core/memslots.h), write its page tables, attach the domain's hook
 * (accesses of the root to the secure memory stop the VM). After
 * vm_load_elf(), before vm_kvm_create(); the second KVM VM is created at the
 * first call. 0 or -errno with vm->err set.
 */
int domain_attach(struct vm *vm, const struct tcb_image *t);

/* domain_find - the VM's secure domain, or NULL. */
struct domain *domain_find(struct vm *vm);

/*
 * domain_call - run TCB entry `entry` with args (RDI, RSI, RDX) on the
 * secure vCPU paired with root vCPU v (on v's thread) until it returns
 * through VESSEL_HC_DOMAIN_RETURN; *ret is its RAX. 0, -ENOENT (no such
 * entry), or -EIO with a reason in why (the secure vCPU did something else:
 * the caller stops the VM).
 */
int domain_call(struct domain *d, struct vcpu *v, unsigned entry, const uint64_t args[3],
		int64_t *ret, char *why, size_t whylen);

/*
 * domain_buffer - a scratch area of VESSEL_PATCH_MAX bytes in the TCB's
 * memory for root vCPU v: the host pointer (*host) and the TCB's virtual
 * address (returned). Only v's thread uses it.
 */
uint64_t domain_buffer(struct domain *d, struct vcpu *v, uint8_t **host);

/*
 * domain_measure - SHA-256 of the TCB's memory as it is now, with the areas
 * that change while it runs (its page tables and its stacks) taken as they
 * were loaded: the value the build records for an unaltered TCB. For migration (the
 * destination re-measures the TCB it received). 0 or -EIO.
 */
int domain_measure(struct domain *d, uint8_t out[32]);

/* domain_tcb_range - where the TCB is in guest-physical memory. */
void domain_tcb_range(struct domain *d, uint64_t *gpa, uint64_t *size);

struct domain_counts {
	uint64_t calls;	    /* entries run */
	uint64_t exits;	    /* exits of the secure vCPUs (a call costs one) */
	uint64_t ns;	    /* host time inside calls (not the creation at the first) */
	uint64_t refused;   /* root calls of an unknown or not root-callable entry */
	uint64_t tcb_bytes; /* size of the measured TCB */
};

/* domain_counts - the counters (zeros without a secure domain). */
void domain_counts(struct vm *vm, struct domain_counts *out);

#endif
