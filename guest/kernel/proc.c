// SPDX-License-Identifier: MIT
/* Placeholder until processes land: user mode exists only in the errata probes. */
#include "arch/x86_64/arch.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "lib/errno.h"

void proc_user_exception(struct trapframe *tf, uint64_t cr2)
{
	trap_dump(tf);
	panic("user exception %lu (cr2 %#lx) without processes", tf->vector, cr2);
}

void proc_exit_thread_killed(void)
{
	panic("no processes yet");
}

int proc_spawn(struct proc *parent, const char *path, int argc, char *const argv[])
{
	(void)parent;
	(void)path;
	(void)argc;
	(void)argv;
	return -ENOENT;
}
