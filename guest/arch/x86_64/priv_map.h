/* SPDX-License-Identifier: MIT */
/*
 * The privileged mode's region in the page tables (kernel/priv.h): the
 * .priv section (code, then data) linked at PRIV_VA. At boot its frames are
 * taken out of every other kernel mapping (the direct map and the kernel
 * image's, which share 2 MiB pages, are split around them) and PRIV_VA gets
 * page tables of its own in the kernel half every address space shares,
 * with no page present. priv_map/priv_unmap make it present and absent for
 * all address spaces at once.
 */
#ifndef ARCH_X86_64_PRIV_MAP_H
#define ARCH_X86_64_PRIV_MAP_H

#include <stdint.h>

/*
 * Hides the frames and builds PRIV_VA's tables (BSP, before the APs start).
 * 0, -ENOMEM, or -EINVAL (the region is over 2 MiB or sits in a 1 GiB page).
 */
int priv_map_init(void);
/* Maps the region at PRIV_VA: code read-only, data read-write no-execute. */
void priv_map(void);
/* Unmaps it and flushes its pages from this CPU's TLB. */
void priv_unmap(void);
/* Flushes the region's pages from this CPU's TLB. */
void priv_flush_local(void);
/* 1 if [addr, addr + len) lies inside the region (its code or data). */
int priv_in_region(const void *addr, uint64_t len);
/* Physical address of the region's first frame. */
uint64_t priv_phys(void);

#endif
