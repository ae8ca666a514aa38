/* SPDX-License-Identifier: MIT */
/*
 * TLB shootdowns. Address spaces are loaded lazily (an idle or kernel
 * thread keeps whatever page table it finds), so a shootdown goes to every
 * CPU whose loaded page table is the address space's, lazy ones included.
 * The initiator holds the BKL and waits for every acknowledgement.
 */
#ifndef KERNEL_TLB_H
#define KERNEL_TLB_H

#include <stdint.h>

/* Registers the TLB-shootdown IPI handler (BSP, before the APs start). */
void tlb_init(void);
/* Flushes the TLB of every CPU with page table pml4 loaded (BKL held). */
void tlb_shootdown(uint64_t pml4);
/*
 * Before pml4 is freed: every CPU still holding it (lazily, while idle or in
 * a kernel thread) switches to the kernel's page table (BKL held).
 */
void tlb_release(uint64_t pml4);
/*
 * Performs and acknowledges a shootdown that asked this CPU to flush (or
 * drop) its page table, if there is one; any context, interrupts off. The
 * IPI handler calls it, and so does a CPU spinning for the BKL (kernel/bkl.c),
 * whose holder may be the initiator waiting for this very acknowledgement.
 */
void tlb_serve_pending(void);

#endif
