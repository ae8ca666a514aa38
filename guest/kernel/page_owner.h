/* SPDX-License-Identifier: MIT */
/*
 * Who owns each page frame, kept where the VMM's page-owner hyper-callback
 * (guest/hcb/page_owner.bpf.c) can read it: one int32 pid per frame (0 = the
 * kernel, or not a process page), and a small table of process names. Both
 * are hints for the hypervisor's memory-error reports; nothing in the kernel
 * depends on them.
 */
#ifndef KERNEL_PAGE_OWNER_H
#define KERNEL_PAGE_OWNER_H

#include <stdint.h>

#define PAGE_OWNER_NAMES 64 /* process-name table entries */

struct page_owner_name {
	int32_t pid; /* 0: unused */
	char name[16];
};

/* page_owner_init - allocate the table (after page_alloc_init). */
void page_owner_init(void);

/* page_owner_set - frame pa now belongs to process pid; _clear: to nobody. */
void page_owner_set(uint64_t pa, int pid);
void page_owner_clear(uint64_t pa);

/* page_owner_name_set - remember pid's name (spawn); _clear (reap). */
void page_owner_name_set(int pid, const char *name);
void page_owner_name_clear(int pid);

/* page_owner_tables - physical address and size of the two tables (0 if none). */
void page_owner_tables(uint64_t *owner_pa, uint64_t *owner_bytes, uint64_t *names_pa,
		       uint64_t *names_bytes);

#endif
