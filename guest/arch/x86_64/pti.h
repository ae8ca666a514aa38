/* SPDX-License-Identifier: MIT */
/*
 * Page-table isolation (PTI) for 64-bit processes, and none for 32-bit ones
 * (docs/kernel.md, "Page-table isolation").
 *
 * Every address space is a pair of PML4 pages (paging.c): the kernel table
 * first, the user table 4 KiB after it. Both share the user half; the user
 * table's kernel half maps only the entry set: the entry code (.entry.text),
 * the entry data (.bss.pti: struct cpu with GDT and TSS, the IDT, the IST
 * and entry stacks) and the syscall stub page. A process with PTI runs user
 * mode on the user table; every kernel entry switches to the kernel table
 * and every exit back (entry.S). A 32-bit process can form no address above
 * 4 GiB and cannot reach 64-bit mode (kernel/compat.h), so it runs on the
 * kernel table: no switch.
 */
#ifndef ARCH_X86_64_PTI_H
#define ARCH_X86_64_PTI_H

#include <stdint.h>

struct cpu;

/* 1 when 64-bit processes run with PTI (set once by pti_init). */
extern int pti_enabled;

/*
 * pti_init - reads `pti=on|off|auto` from cmdline (auto, the default: on
 * unless the CPU reports RDCL_NO, i.e. no rogue data cache loads) and builds
 * the entry set's tables. Before any address space is created; prints the
 * choice. Panics when out of memory.
 */
void pti_init(const char *cmdline);

/*
 * pti_fill_user_half - writes the kernel half of a user table (upml4, a
 * zeroed page seen through the direct map): the entry set only.
 */
void pti_fill_user_half(uint64_t *upml4);

/*
 * pti_switch_mm - c has just loaded the kernel table of the process it is
 * switching to (c->cr3); compat: that process is 32-bit. Sets what the entry
 * code switches to (c->pti_kcr3, c->pti_ucr3: 0 = no PTI) and TSS.RSP0 (the
 * entry stack under PTI, else the thread's kernel stack c->kstack_top).
 */
void pti_switch_mm(struct cpu *c, int compat);

/* tss_rsp0 - what TSS.RSP0 must be for c, given its kernel stack top. */
uint64_t pti_rsp0(struct cpu *c, uint64_t kstack_top);

/*
 * pti_entry_set_contains - 1 if the kernel-half address va belongs to the
 * entry set (may be mapped in a user table), else 0.
 */
int pti_entry_set_contains(uint64_t va);

/* Counts an entry from user mode: with or without an address-space switch. */
void pti_count_entry(struct cpu *c);

/*
 * pti_kernel_fixups - kernel-mode exceptions that found the user table
 * loaded (between an exit's switch and its iretq), summed over the CPUs.
 */
uint64_t pti_kernel_fixups(void);

#endif
