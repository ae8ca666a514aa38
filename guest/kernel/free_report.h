/* SPDX-License-Identifier: MIT */
/*
 * The free-page report by guest round trip (interrupt in, hypercall out):
 * the baseline of the free-pages hyper-callback (docs/hcb.md).
 */
#ifndef KERNEL_FREE_REPORT_H
#define KERNEL_FREE_REPORT_H

/* free_report_init - route the VMM's request interrupt (after ioapic_init). */
void free_report_init(void);

#endif
