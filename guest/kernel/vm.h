/* SPDX-License-Identifier: MIT */
/*
 * User address spaces: a list of regions (VMAs) with their protection, over
 * the process's page table. Anonymous memory is demand-zero: a page gets a
 * frame at its first touch. Every user pointer the kernel follows goes
 * through copy_from_user/copy_to_user, which check the VMAs and fault pages
 * in themselves, so the kernel never takes a fault on a user address.
 */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include <stdint.h>
#include "lib/shootdown.h"

#define VM_READ	 1u /* = VESSEL_PROT_READ */
#define VM_WRITE 2u
#define VM_EXEC	 4u

struct vma {
	uint64_t start, end; /* page aligned, [start, end) */
	uint32_t prot;	     /* VM_* */
	struct vma *next;    /* ascending, non-overlapping */
};

struct la_space;

struct vm {
	uint64_t pml4;
	struct vma *vmas;
	uint64_t brk_start, brk; /* program break (brk()) */
	uint64_t pages;		 /* resident user pages */
	int owner;		 /* pid recorded for its frames (kernel/page_owner.h) */
	uint64_t map_gen;	 /* bumped by every map/unmap/protect (decoded-code caches) */
	struct la_space *la;	 /* system-call lookahead's caches (kernel/lookahead.c), kfree'd */
	struct sd_mm tlb;	 /* shootdown generation, CPUs holding it (kernel/tlb.h) */
};

/* Creates an empty address space (kernel half shared). 0 or -ENOMEM. */
int vm_init(struct vm *vm);
/* vm_set_owner - record pid as the owner of vm's frames, now and later. */
void vm_set_owner(struct vm *vm, int pid);
/* Frees every page, page table and region of vm (not running on it). */
void vm_destroy(struct vm *vm);
/*
 * Maps [start, start + len) (page aligned) as demand-zero memory with prot,
 * replacing whatever was there. 0 or -ENOMEM.
 */
int vm_map(struct vm *vm, uint64_t start, uint64_t len, uint32_t prot);
/* Unmaps [start, start + len), freeing pages, with a TLB shootdown. */
void vm_unmap(struct vm *vm, uint64_t start, uint64_t len);
/* Changes protection; -ENOMEM (nothing changed) if part is unmapped. */
int vm_protect(struct vm *vm, uint64_t start, uint64_t len, uint32_t prot);
/* Lowest free page-aligned range of len bytes within [lo, hi), or 0. */
uint64_t vm_find_free(struct vm *vm, uint64_t len, uint64_t lo, uint64_t hi);
/* 1 if any region overlaps [start, end). */
int vm_overlaps(struct vm *vm, uint64_t start, uint64_t end);
/*
 * Resolves a fault at addr (access: VM_READ/VM_WRITE/VM_EXEC): allocates
 * the demand-zero page if the region allows the access. 0, -EFAULT (no
 * region or not allowed) or -ENOMEM.
 */
int vm_fault(struct vm *vm, uint64_t addr, uint32_t access);
/* Physical address that addr maps to now (no fault-in), or -EFAULT. */
int64_t vm_translate(struct vm *vm, uint64_t addr);

/*
 * Checks that [addr, addr + len) is user memory allowing `access`,
 * faulting its pages in. 0 or -EFAULT (nothing is written).
 */
int vm_user_ok(struct vm *vm, uint64_t addr, uint64_t len, uint32_t access);
/*
 * vm_user_page - kernel pointer to user byte addr if its region allows
 * `access` (VM_READ, VM_WRITE or VM_EXEC; write implies read), faulting the
 * page in as a user access would; NULL otherwise. *prot (if not NULL) gets
 * the region's VM_* bits. The pointer is valid until the mapping changes
 * (BKL held). The user-copy functions below are built on it.
 */
uint8_t *vm_user_page(struct vm *vm, uint64_t addr, uint32_t access, uint32_t *prot);
/* Copies len bytes from user address src. 0 or -EFAULT. */
int copy_from_user(struct vm *vm, void *dst, uint64_t src, uint64_t len);
/* Copies len bytes to user address dst (needs write permission). 0 or -EFAULT. */
int copy_to_user(struct vm *vm, uint64_t dst, const void *src, uint64_t len);
/*
 * Copies a NUL-terminated string of at most max bytes (with the NUL).
 * Returns its length, -EFAULT, or -ENAMETOOLONG (no NUL within max).
 */
int64_t strncpy_from_user(struct vm *vm, char *dst, uint64_t src, uint64_t max);

#endif
