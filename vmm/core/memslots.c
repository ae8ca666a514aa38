// SPDX-License-Identifier: MIT
/* KVM memslots of the guest RAM, with read-only ranges cut out (memslots.h). */
#include "core/memslots.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/vm.h"

static int add_range(struct vm *vm, uint64_t gpa, uint64_t size, bool hidden)
{
	const struct gmem_region *in = NULL;

	if (vm->vm_fd >= 0)
		return vm_set_err(vm, -EBUSY, "read-only ranges must be set before the KVM VM");
	if (!size || (gpa | size) & (GMEM_PAGE_SIZE - 1))
		return vm_set_err(vm, -EINVAL,
				  "read-only range %#llx+%#llx is empty or not page aligned",
				  (unsigned long long)gpa, (unsigned long long)size);
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *r = &vm->mem.regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && size <= r->size - (gpa - r->gpa))
			in = r;
	}
	if (!in)
		return vm_set_err(vm, -EINVAL,
				  "read-only range %#llx+%#llx is not inside one RAM region",
				  (unsigned long long)gpa, (unsigned long long)size);
	for (unsigned i = 0; i < vm->nr_ro; i++)
		if (gpa < vm->ro[i].gpa + vm->ro[i].size && vm->ro[i].gpa < gpa + size)
			return vm_set_err(vm, -EINVAL,
					  "read-only range %#llx+%#llx overlaps another",
					  (unsigned long long)gpa, (unsigned long long)size);
	if (vm->nr_ro == VM_MAX_RO_RANGES)
		return vm_set_err(vm, -ENOSPC, "too many read-only ranges (at most %d)",
				  VM_MAX_RO_RANGES);
	vm->ro[vm->nr_ro++] = (struct vm_ro_range){ gpa, size, hidden };
	if (hidden)
		return gmem_hide(&vm->mem, gpa, size);
	return 0;
}

int vm_mem_protect(struct vm *vm, uint64_t gpa, uint64_t size)
{
	return add_range(vm, gpa, size, false);
}

int vm_mem_hide(struct vm *vm, uint64_t gpa, uint64_t size)
{
	return add_range(vm, gpa, size, true);
}

/* The read-only range starting lowest at or after gpa inside r, or NULL. */
static const struct vm_ro_range *next_ro(const struct vm *vm, const struct gmem_region *r,
					 uint64_t gpa)
{
	const struct vm_ro_range *best = NULL;

	for (unsigned i = 0; i < vm->nr_ro; i++) {
		const struct vm_ro_range *o = &vm->ro[i];

		if (o->gpa >= gpa && o->gpa < r->gpa + r->size && (!best || o->gpa < best->gpa))
			best = o;
	}
	return best;
}

static void add_span(struct vm_slot_span *out, unsigned *n, int *slot, uint64_t gpa, uint64_t size,
		     bool readonly, bool hidden)
{
	if (!size)
		return;
	out[*n] = (struct vm_slot_span){ gpa, size, hidden ? -1 : (*slot)++, readonly };
	(*n)++;
}

unsigned vm_memslots_layout(const struct vm *vm, struct vm_slot_span *out)
{
	unsigned n = 0;
	int slot = 0;

	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *r = &vm->mem.regions[i];
		uint64_t at = r->gpa, end = r->gpa + r->size;
		const struct vm_ro_range *o;

		while ((o = next_ro(vm, r, at))) {
			add_span(out, &n, &slot, at, o->gpa - at, false, false);
			add_span(out, &n, &slot, o->gpa, o->size, true, o->hidden);
			at = o->gpa + o->size;
		}
		add_span(out, &n, &slot, at, end - at, false, false);
	}
	return n;
}

int vm_memslots_set(struct vm *vm, uint32_t flags)
{
	struct vm_slot_span sp[VM_MAX_SPANS];
	unsigned n = vm_memslots_layout(vm, sp);

	for (unsigned i = 0; i < n; i++) {
		const struct gmem_region *r = gmem_region_of(&vm->mem, sp[i].gpa);
		struct kvm_userspace_memory_region s = {
			.slot = (uint32_t)sp[i].slot,
			.flags = flags | (sp[i].readonly ? KVM_MEM_READONLY : 0),
			.guest_phys_addr = sp[i].gpa,
			.memory_size = sp[i].size,
			.userspace_addr = (uintptr_t)(r->host + (sp[i].gpa - r->gpa)),
		};

		if (sp[i].slot < 0)
			continue; /* hidden: no memslot */
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &s) < 0)
			return vm_set_err(vm, -errno,
					  "KVM_SET_USER_MEMORY_REGION (slot %u, gpa %#llx, %llu "
					  "bytes%s) failed: %s",
					  s.slot, (unsigned long long)s.guest_phys_addr,
					  (unsigned long long)s.memory_size,
					  sp[i].readonly ? ", read-only" : "", strerror(errno));
	}
	return 0;
}
