/* SPDX-License-Identifier: MIT */
/*
 * Hyper-callbacks: at boot the kernel hands the VMM its verified eBPF
 * callbacks (guest/hcb/, compiled for BPF, embedded in the image) with the memory they
 * may read. Kernel command line hcb=off registers nothing.
 */
#ifndef KERNEL_HCB_H
#define KERNEL_HCB_H

/* hcb_init - register the callbacks (after page_owner_init); prints the verdicts. */
void hcb_init(void);

#endif
