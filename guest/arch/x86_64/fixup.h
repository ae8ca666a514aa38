/* SPDX-License-Identifier: MIT */
/*
 * Kernel instructions whose traps the trap code turns into something else
 * (fixup_insn.S): a load that may fault, and a halt only an NMI may end.
 */
#ifndef ARCH_X86_64_FIXUP_H
#define ARCH_X86_64_FIXUP_H

#include <stdint.h>
#include "arch/x86_64/trapframe.h"

/*
 * Reads the 8 bytes at kernel address addr into *out. Returns 0, or
 * -EFAULT (nothing written) if the read faults (page not mapped,
 * non-canonical address). Any context.
 */
int probe_read_u64(const void *addr, uint64_t *out);
/*
 * sti; hlt; cli: waits for an interrupt with interrupts enabled for just
 * the hlt. For a caller that has raised the TPR so that only an NMI can
 * come: an NMI that arrives just before the hlt does not leave it halted
 * (halt_nmi_fixup).
 */
void halt_for_nmi(void);
/*
 * From the kernel-mode exception path: a fault on probe_read_u64's load
 * resumes at its -EFAULT return. Returns 1 if tf was fixed up.
 */
int probe_fixup(struct trapframe *tf);
/*
 * From the NMI path: an NMI taken at halt_for_nmi's hlt resumes after it.
 * Returns 1 if tf was moved.
 */
int halt_nmi_fixup(struct trapframe *tf);

#endif
