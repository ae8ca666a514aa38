// SPDX-License-Identifier: MIT
#include "arch/x86_64/arch.h"
#include "kernel/printk.h"
#include "kernel/syscall.h"

void syscall_entry(struct trapframe *tf)
{
	trap_dump(tf);
	panic("syscall without processes");
}
