// SPDX-License-Identifier: MIT
/* Memory system calls: mmap, munmap, mprotect, brk, virt_to_phys. */
#include "abi/syscalls.h"
#include "kernel/syscall.h"
#include "kernel/compat.h"
#include "kernel/mm.h"
#include "kernel/proc.h"
#include "lib/errno.h"

#define PROT_ALL (VESSEL_PROT_READ | VESSEL_PROT_WRITE | VESSEL_PROT_EXEC)

static uint64_t round_up(uint64_t v)
{
	return (v + PAGE_SIZE - 1) & PAGE_MASK;
}

int64_t sys_mmap(void *addr, uint64_t len, uint64_t prot, uint64_t flags)
{
	struct vm *vm = &current_proc()->vm;
	uint64_t a = (uint64_t)addr, need = VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS;
	uint64_t size;
	int r;

	if (len == 0 || (prot & ~(uint64_t)PROT_ALL) || (flags & ~(need | VESSEL_MAP_FIXED)) ||
	    (flags & need) != need)
		return -EINVAL;
	size = round_up(len);
	if (size < len)
		return -ENOMEM;
	if (flags & VESSEL_MAP_FIXED) {
		if ((a & ~PAGE_MASK) || a < VESSEL_USER_IMAGE_BASE || a + size < a ||
		    a + size > VESSEL_USER_TOP)
			return -EINVAL;
	} else {
		uint64_t lo, hi;

		proc_mmap_area(current_proc(), &lo, &hi);
		a = vm_find_free(vm, size, lo, hi);
		if (!a)
			return -ENOMEM;
	}
	r = vm_map(vm, a, size, (uint32_t)prot);
	return r ? r : (int64_t)a;
}

static int range_ok(uint64_t a, uint64_t len)
{
	uint64_t size = round_up(len);

	return !(a & ~PAGE_MASK) && size >= len && a + size >= a && a + size <= VESSEL_USER_TOP;
}

int64_t sys_munmap(void *addr, uint64_t len)
{
	uint64_t a = (uint64_t)addr;

	if (len == 0 || !range_ok(a, len))
		return -EINVAL;
	vm_unmap(&current_proc()->vm, a, round_up(len));
	return 0;
}

int64_t sys_mprotect(void *addr, uint64_t len, uint64_t prot)
{
	uint64_t a = (uint64_t)addr;

	if ((a & ~PAGE_MASK) || (prot & ~(uint64_t)PROT_ALL))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!range_ok(a, len))
		return -EINVAL;
	return vm_protect(&current_proc()->vm, a, round_up(len), (uint32_t)prot);
}

int64_t sys_brk(void *addr)
{
	struct vm *vm = &current_proc()->vm;
	uint64_t a = (uint64_t)addr, old_end, new_end;

	if (!a)
		return (int64_t)vm->brk;
	if (a < vm->brk_start)
		return -EINVAL;
	if (a - vm->brk_start > VESSEL_BRK_MAX)
		return -ENOMEM;
	old_end = round_up(vm->brk);
	new_end = round_up(a);
	if (new_end > old_end) {
		int r;

		if (vm_overlaps(vm, old_end, new_end))
			return -ENOMEM;
		r = vm_map(vm, old_end, new_end - old_end, VM_READ | VM_WRITE);
		if (r)
			return r;
	} else if (new_end < old_end) {
		vm_unmap(vm, new_end, old_end - new_end);
	}
	vm->brk = a;
	return (int64_t)a;
}

int64_t sys_virt_to_phys(const void *addr)
{
	return vm_translate(&current_proc()->vm, (uint64_t)addr);
}
