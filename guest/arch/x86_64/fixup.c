// SPDX-License-Identifier: MIT
/* Trap fix-ups for fixup_insn.S.s instructions (see fixup.h). */
#include "arch/x86_64/fixup.h"

extern char probe_load[], probe_fault[], halt_insn[];

int probe_fixup(struct trapframe *tf)
{
	if ((tf->vector != 14 && tf->vector != 13) || tf->rip != (uint64_t)probe_load)
		return 0;
	tf->rip = (uint64_t)probe_fault;
	return 1;
}

int halt_nmi_fixup(struct trapframe *tf)
{
	if (tf->vector != 2 || tf->rip != (uint64_t)halt_insn)
		return 0;
	tf->rip += 1; /* hlt is one byte */
	return 1;
}
