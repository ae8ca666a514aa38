/* SPDX-License-Identifier: MIT */
/*
 * Machine-check containment (K7, the guest side of live migration with
 * memory errors, docs/migration.md). On an uncorrectable memory error the
 * hypervisor injects #MC with the bank status and the guest-physical address:
 *  - action required (a load consumed the error) in a user process: every
 *    process mapping the page is killed (SIGBUS) with a console message and
 *    the page is retired (unmapped, never freed again);
 *  - action required in kernel mode: panic with a clear message;
 *  - action optional (the error was found, nothing consumed it yet): a free
 *    page is retired at once; a page in use stays, its owner dies only if
 *    it touches it.
 * Each outcome is counted.
 */
#ifndef KERNEL_MCE_H
#define KERNEL_MCE_H

#include <stdint.h>
#include "arch/x86_64/trapframe.h"

struct mce_counts {
	uint64_t events;       /* #MC taken */
	uint64_t killed;       /* processes killed */
	uint64_t retired_user; /* user pages retired after a kill */
	uint64_t retired_free; /* free pages retired */
	uint64_t deferred;     /* action optional on a page in use: left to late kill */
	uint64_t corrected;    /* corrected errors (logged only) */
	uint64_t nested;       /* #MC taken while the handler of another finished */
};

/* Per CPU at boot: CR4.MCE and the bank controls, where the CPU has them. */
void mce_cpu_init(void);
/* The #MC (vector 18) handler. */
void mce_handle(struct trapframe *tf);
/* A copy of the counters. */
void mce_counts(struct mce_counts *out);
/*
 * Self-test seam: the next #MC taken on this CPU (`int $18`) reads this
 * report (MCG_STATUS mcg, bank status and address) instead of the banks;
 * with nest, its handler raises a second one right after clearing MCIP, the
 * moment a VMM may deliver the next report. Interrupts off until the #MC.
 */
void mce_selftest_arm(uint64_t mcg, uint64_t status, uint64_t addr, int nest);

#endif
