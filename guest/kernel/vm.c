// SPDX-License-Identifier: MIT
#include "abi/syscalls.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/compat.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/tlb.h"
#include "kernel/vm.h"
#include "kernel/page_owner.h"
#include "lib/errno.h"
#include "lib/string.h"

static uint64_t pte_flags(uint32_t prot)
{
	uint64_t f = PTE_U;

	if (prot & VM_WRITE)
		f |= PTE_W;
	if (!(prot & VM_EXEC))
		f |= PTE_NX;
	return f;
}

int vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->pml4 = pt_create();
	if (vm->pml4 && compat_syscall_page_map(vm->pml4)) {
		pt_destroy(vm->pml4);
		vm->pml4 = 0;
	}
	return vm->pml4 ? 0 : -ENOMEM;
}

static struct vma *vma_find(struct vm *vm, uint64_t addr)
{
	for (struct vma *v = vm->vmas; v && v->start <= addr; v = v->next) {
		if (addr < v->end)
			return v;
	}
	return NULL;
}

int vm_overlaps(struct vm *vm, uint64_t start, uint64_t end)
{
	for (struct vma *v = vm->vmas; v; v = v->next) {
		if (v->start < end && start < v->end)
			return 1;
	}
	return 0;
}

/* Splits the region containing addr (strictly inside) in two. 0 or -ENOMEM. */
static int split_at(struct vm *vm, uint64_t addr)
{
	struct vma *v = vma_find(vm, addr), *n;

	if (!v || v->start == addr)
		return 0;
	n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *v;
	n->start = addr;
	v->end = addr;
	v->next = n;
	return 0;
}

static void insert(struct vm *vm, struct vma *n)
{
	struct vma **pp = &vm->vmas;

	while (*pp && (*pp)->start < n->start)
		pp = &(*pp)->next;
	n->next = *pp;
	*pp = n;
}

struct unmap_ctx {
	struct vm *vm;
	uint64_t freed;
};

static void free_pte(uint64_t *pte, uint64_t va, void *arg)
{
	struct unmap_ctx *ctx = arg;

	(void)va;
	page_free(*pte & PTE_ADDR);
	pt_set(pte, 0, 1);
	ctx->vm->pages--;
	ctx->freed++;
}

/*
 * Removes regions and pages of [start, end) (no shootdown). Returns the
 * number of pages freed, or -ENOMEM.
 */
static int64_t carve(struct vm *vm, uint64_t start, uint64_t end)
{
	struct unmap_ctx ctx = { vm, 0 };
	struct vma **pp = &vm->vmas;

	vm->map_gen++;
	if (split_at(vm, start) || split_at(vm, end))
		return -ENOMEM;
	while (*pp) {
		struct vma *v = *pp;

		if (v->start >= start && v->end <= end) {
			*pp = v->next;
			kfree(v);
		} else {
			pp = &v->next;
		}
	}
	pt_walk_range(vm->pml4, start, end, free_pte, &ctx);
	return (int64_t)ctx.freed;
}

int vm_map(struct vm *vm, uint64_t start, uint64_t len, uint32_t prot)
{
	struct vma *n = kmalloc(sizeof(*n));
	int64_t r;

	if (!n)
		return -ENOMEM;
	r = carve(vm, start, start + len);
	if (r < 0) {
		kfree(n);
		return (int)r;
	}
	if (r)
		tlb_flush_range(vm, start, start + len);
	n->start = start;
	n->end = start + len;
	n->prot = prot;
	insert(vm, n);
	return 0;
}

void vm_unmap(struct vm *vm, uint64_t start, uint64_t len)
{
	int64_t r = carve(vm, start, start + len);

	if (r < 0)
		printk("vm: out of memory splitting a region for munmap\n");
	if (r)
		tlb_flush_range(vm, start, start + len);
}

struct prot_ctx {
	uint64_t flags;
};

static void set_pte_prot(uint64_t *pte, uint64_t va, void *arg)
{
	struct prot_ctx *ctx = arg;

	(void)va;
	pt_set(pte, (*pte & PTE_ADDR) | PTE_P | PTE_OWNED | ctx->flags, 1);
}

static void clear_pte_present(uint64_t *pte, uint64_t va, void *arg)
{
	(void)va;
	(void)arg;
	/* PROT_NONE: keep the frame (the region still owns it) but not present */
	pt_set(pte, *pte & ~PTE_P, 1);
}

int vm_protect(struct vm *vm, uint64_t start, uint64_t len, uint32_t prot)
{
	uint64_t end = start + len, at = start;
	struct prot_ctx ctx = { pte_flags(prot) };

	for (struct vma *v = vm->vmas; v && at < end; v = v->next) {
		if (v->end <= at)
			continue;
		if (v->start > at)
			return -ENOMEM;
		at = v->end;
	}
	if (at < end)
		return -ENOMEM;
	if (split_at(vm, start) || split_at(vm, end))
		return -ENOMEM;
	vm->map_gen++;
	for (struct vma *v = vm->vmas; v; v = v->next) {
		if (v->start >= start && v->end <= end)
			v->prot = prot;
	}
	if (prot == 0)
		pt_walk_range(vm->pml4, start, end, clear_pte_present, NULL);
	else
		pt_walk_range(vm->pml4, start, end, set_pte_prot, &ctx);
	tlb_flush_range(vm, start, end);
	return 0;
}

uint64_t vm_find_free(struct vm *vm, uint64_t len, uint64_t lo, uint64_t hi)
{
	uint64_t at = lo;

	for (struct vma *v = vm->vmas; v; v = v->next) {
		if (v->end <= at)
			continue;
		if (v->start >= at + len)
			break;
		at = v->end;
	}
	return at + len <= hi && at + len > at ? at : 0;
}

/* PTE of addr, present or not-present-but-owned (PROT_NONE), or NULL. */
static uint64_t *pte_of(struct vm *vm, uint64_t addr)
{
	uint64_t *pte = pt_lookup(vm->pml4, addr);

	return pte && (*pte & PTE_ADDR) ? pte : NULL;
}

int vm_fault(struct vm *vm, uint64_t addr, uint32_t access)
{
	struct vma *v;
	uint64_t *pte, pa;

	if (addr >= VESSEL_USER_TOP)
		return -EFAULT;
	v = vma_find(vm, addr);
	if (!v || !v->prot || (access & ~(v->prot | VM_READ)))
		return -EFAULT;
	pte = pte_of(vm, addr);
	if (pte && (*pte & PTE_P)) {
		/* present: the access must have been a permission violation */
		if ((access & VM_WRITE) && !(*pte & PTE_W))
			return -EFAULT;
		return 0; /* stale TLB entry on this CPU: retry */
	}
	pa = page_alloc_zeroed();
	if (!pa)
		return -ENOMEM;
	if (pt_map(vm->pml4, addr & PAGE_MASK, pa, pte_flags(v->prot))) {
		page_free(pa);
		return -ENOMEM;
	}
	vm->pages++;
	page_owner_set(pa, vm->owner);
	return 0;
}

static void own_pte(uint64_t *pte, uint64_t va, void *arg)
{
	if (*pte & PTE_P)
		page_owner_set(*pte & PTE_ADDR, *(int *)arg);
}

void vm_set_owner(struct vm *vm, int pid)
{
	vm->owner = pid;
	for (struct vma *v = vm->vmas; v; v = v->next)
		pt_walk_range(vm->pml4, v->start, v->end, own_pte, &pid);
}

int64_t vm_translate(struct vm *vm, uint64_t addr)
{
	uint64_t *pte;

	if (addr >= VESSEL_USER_TOP)
		return -EFAULT;
	pte = pt_lookup(vm->pml4, addr);
	if (!pte || !(*pte & PTE_P))
		return -EFAULT;
	return (int64_t)((*pte & PTE_ADDR) | (addr & ~PAGE_MASK));
}

uint8_t *vm_user_page(struct vm *vm, uint64_t addr, uint32_t access, uint32_t *prot)
{
	struct vma *v = vma_find(vm, addr);
	uint64_t *pte;

	if (!v || !v->prot || (access & ~(v->prot | VM_READ)))
		return NULL;
	if (prot)
		*prot = v->prot;
	pte = pt_lookup(vm->pml4, addr);
	if (!pte || !(*pte & PTE_P)) {
		if (vm_fault(vm, addr, access))
			return NULL;
		pte = pt_lookup(vm->pml4, addr);
	}
	return (uint8_t *)phys_to_virt(*pte & PTE_ADDR) + (addr & ~PAGE_MASK);
}

static int user_range_ok(uint64_t addr, uint64_t len)
{
	return addr + len >= addr && addr + len <= VESSEL_USER_TOP;
}

int vm_user_ok(struct vm *vm, uint64_t addr, uint64_t len, uint32_t access)
{
	uint64_t end = addr + len;

	if (!user_range_ok(addr, len))
		return -EFAULT;
	for (uint64_t a = addr & PAGE_MASK; a < end; a += PAGE_SIZE) {
		if (!vm_user_page(vm, a, access, NULL))
			return -EFAULT;
	}
	return 0;
}

int copy_from_user(struct vm *vm, void *dst, uint64_t src, uint64_t len)
{
	uint8_t *d = dst;

	if (!user_range_ok(src, len))
		return -EFAULT;
	while (len) {
		uint64_t n = PAGE_SIZE - (src & ~PAGE_MASK);
		uint8_t *p = vm_user_page(vm, src, VM_READ, NULL);

		if (!p)
			return -EFAULT;
		if (n > len)
			n = len;
		memcpy(d, p, n);
		d += n;
		src += n;
		len -= n;
	}
	return 0;
}

int copy_to_user(struct vm *vm, uint64_t dst, const void *src, uint64_t len)
{
	const uint8_t *s = src;

	if (!user_range_ok(dst, len))
		return -EFAULT;
	while (len) {
		uint64_t n = PAGE_SIZE - (dst & ~PAGE_MASK);
		uint8_t *p = vm_user_page(vm, dst, VM_WRITE, NULL);

		if (!p)
			return -EFAULT;
		if (n > len)
			n = len;
		memcpy(p, s, n);
		s += n;
		dst += n;
		len -= n;
	}
	return 0;
}

int64_t strncpy_from_user(struct vm *vm, char *dst, uint64_t src, uint64_t max)
{
	uint64_t i = 0;

	/* one page lookup per page, not per byte (kernel code is emulated) */
	while (i < max) {
		uint64_t a = src + i, n = PAGE_SIZE - (a & ~PAGE_MASK);
		const uint8_t *p;

		if (a < src || a >= VESSEL_USER_TOP)
			return -EFAULT;
		p = vm_user_page(vm, a, VM_READ, NULL);
		if (!p)
			return -EFAULT;
		if (n > max - i)
			n = max - i;
		for (uint64_t k = 0; k < n; k++, i++) {
			dst[i] = (char)p[k];
			if (!p[k])
				return (int64_t)i;
		}
	}
	return -ENAMETOOLONG;
}

void vm_destroy(struct vm *vm)
{
	struct unmap_ctx ctx = { vm, 0 };

	kfree(vm->la);
	vm->la = NULL;
	vm->map_gen++;
	while (vm->vmas) {
		struct vma *v = vm->vmas;

		vm->vmas = v->next;
		kfree(v);
	}
	if (vm->pml4) {
		compat_syscall_page_unmap(vm->pml4); /* shared: not the process's to free */
		pt_walk_range(vm->pml4, 0, VESSEL_USER_TOP, free_pte, &ctx);
		pt_destroy(vm->pml4);
		vm->pml4 = 0;
	}
}
