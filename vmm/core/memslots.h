/* SPDX-License-Identifier: MIT */
/*
 * The VM's KVM memslots: guest RAM regions (core/guest_mem.h), with ranges a
 * subsystem asked to be read-only for the guest cut out into memslots of
 * their own with KVM_MEM_READONLY (code integrity, vmm/domain/). A guest
 * write to such a range is not performed: KVM reports it as an MMIO write
 * (KVM_EXIT_MMIO) at that guest-physical address, which the subsystem's
 * exit hook handles. A hidden range has no memslot at all. The VMM's own writes (gmem_write) go to
 * the memfd and are not affected.
 *
 * Without read-only ranges memslot i is RAM region i (what live migration's
 * dirty log expects); live migration refuses a VM with read-only ranges.
 */
#ifndef VMM_CORE_MEMSLOTS_H
#define VMM_CORE_MEMSLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/guest_mem.h"

struct vm;

#define VM_MAX_RO_RANGES 4

struct vm_ro_range {
	uint64_t gpa, size;
	bool hidden; /* no memslot at all (another domain's memory) */
};

/*
 * vm_mem_protect - make [gpa, gpa + size) read-only for the guest. Before
 * vm_kvm_create(); page aligned, inside one RAM region, not overlapping an
 * earlier range. 0, -EINVAL (vm->err says why), -EBUSY (KVM VM exists),
 * -ENOSPC.
 */
int vm_mem_protect(struct vm *vm, uint64_t gpa, uint64_t size);

/*
 * vm_mem_hide - the same, but [gpa, gpa + size) gets no memslot at all: the
 * guest neither reads nor writes it (every access is an MMIO exit at that
 * address), and gmem_read()/gmem_write() refuse it (-EFAULT), so no device
 * or hypercall reaches it either. For a secure domain's memory.
 */
int vm_mem_hide(struct vm *vm, uint64_t gpa, uint64_t size);

/* A piece of guest RAM as the memslots cut it (vm_memslots_layout). */
struct vm_slot_span {
	uint64_t gpa, size;
	int slot;      /* the KVM memslot, -1 for a hidden range (no memslot) */
	bool readonly; /* a read-only or hidden range */
};

#define VM_MAX_SPANS (GMEM_MAX_REGIONS + 2 * VM_MAX_RO_RANGES)

/*
 * vm_memslots_layout - every non-empty piece of guest RAM in memslot order
 * (hidden ranges included, with slot -1) into out[VM_MAX_SPANS]; returns
 * how many. Without read-only ranges span i is RAM region i, memslot i.
 */
unsigned vm_memslots_layout(const struct vm *vm, struct vm_slot_span *out);

/*
 * vm_memslots_set - (re)install every memslot with `flags` added
 * (KVM_MEM_LOG_DIRTY_PAGES or 0). 0 or -errno with vm->err set.
 */
int vm_memslots_set(struct vm *vm, uint32_t flags);

#endif
