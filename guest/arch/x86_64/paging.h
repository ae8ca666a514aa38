/* SPDX-License-Identifier: MIT */
/*
 * 4-level page tables. Every address space shares the kernel half
 * (PML4 entries 256..511) with kernel_pml4; only the user half differs.
 */
#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H

#include <stdint.h>

#define PTE_P	  (1ull << 0)
#define PTE_W	  (1ull << 1)
#define PTE_U	  (1ull << 2)
#define PTE_PWT	  (1ull << 3)
#define PTE_PCD	  (1ull << 4)
#define PTE_A	  (1ull << 5)
#define PTE_D	  (1ull << 6)
#define PTE_PS	  (1ull << 7)
#define PTE_OWNED (1ull << 9) /* software: the leaf owns its frame (even when not present) */
#define PTE_NX	  (1ull << 63)
#define PTE_ADDR  0x000ffffffffff000ull

/*
 * pt_set - the one way the kernel writes a page-table entry: *entry = val,
 * where entry lies in a table of `level` (1 = page table, 2 = page
 * directory, 3 = PDPT, 4 = PML4). Recorded with pttrace=on (kernel/pttrace.h).
 */
void pt_set(uint64_t *entry, uint64_t val, int level);

/* Physical address of the kernel's own PML4 (no user half). */
extern uint64_t kernel_pml4_pa;

/*
 * Maps the user-executable syscall stub page at USER_STUB_VA in the kernel
 * half (before any address space is created: they copy the kernel half).
 */
void paging_map_user_stub(void);
/* Drops the boot identity map from the kernel PML4 (after SMP bring-up). */
void paging_drop_identity(void);
/*
 * A new address space: a PML4 with the kernel half copied and an empty user
 * half; with pti_enabled (pti.h) a pair of PML4 pages, this kernel table and
 * 4 KiB after it the user table (the same user half, the entry set as
 * kernel half). pti_enabled must not change between pt_create and
 * pt_destroy (it is set once at boot). Returns the kernel table's physical
 * address or 0 when out of memory.
 */
uint64_t pt_create(void);
/*
 * Maps the 4 KiB page at user address va to pa with flags (PTE_*), creating
 * intermediate tables (PTE_P | PTE_OWNED are added). Returns 0 or -ENOMEM.
 * Replaces an existing mapping.
 */
int pt_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags);
/* Pointer to the leaf PTE of va, or NULL if an intermediate table is missing. */
uint64_t *pt_lookup(uint64_t pml4, uint64_t va);
/*
 * Calls fn(pte, va, arg) for every leaf PTE in [start, end) of the user
 * half that is present or PTE_OWNED.
 */
void pt_walk_range(uint64_t pml4, uint64_t start, uint64_t end,
		   void (*fn)(uint64_t *pte, uint64_t va, void *arg), void *arg);
/*
 * pt_map_private - maps the 4 KiB page pa at kernel address va in the
 * address space pml4 only: supervisor, read-only, executable, not global.
 * va must lie in a 1 GiB slot of the kernel half that the kernel's own page
 * tables leave empty, under a PML4 entry that exists (the kernel image's).
 * That PML4 entry of pml4 gets a private copy of the kernel's PDPT (taken
 * now: the kernel's PDPT entries of that slot must not change afterwards;
 * they are set up at boot, before the first process), with a private page
 * directory and page table for va. One private page per address space.
 * Returns 0, -EINVAL (va unsuitable), -EBUSY (pml4 has one already) or
 * -ENOMEM.
 */
int pt_map_private(uint64_t pml4, uint64_t va, uint64_t pa);
/*
 * Undoes pt_map_private: the PML4 entry shares the kernel's PDPT again and
 * the private tables are freed (not the page). No CPU may be running on
 * pml4 or hold its translations (kernel/tlb.h, tlb_release). No-op if pml4
 * has no private page at va.
 */
void pt_unmap_private(uint64_t pml4, uint64_t va);
/* Frees every user-half page table page and the PML4 (pair) (not the mapped pages). */
void pt_destroy(uint64_t pml4);

#endif
