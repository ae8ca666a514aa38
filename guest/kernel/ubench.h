/* SPDX-License-Identifier: MIT */
/*
 * Null-syscall cost: a tiny embedded user program makes N getpid calls
 * through one entry path; the kernel reads the TSC at the first call's and
 * at exit's kernel entry. Under QEMU with `-icount shift=0` the TSC counts
 * guest instructions, so the result is instructions per round trip
 * (user loop + entry + dispatch + exit), independent of emulation speed.
 */
#ifndef KERNEL_UBENCH_H
#define KERNEL_UBENCH_H

#include <stdint.h>
#include "arch/x86_64/cpu.h"
#include "kernel/proc.h"

enum ubench_path {
	UBENCH_SYSCALL,	    /* syscall, LSTAR as the errata probe chose */
	UBENCH_SYSCALL_UD2, /* syscall through the ud2 stub (forced) */
	UBENCH_INT80,	    /* int $0x80 */
	UBENCH_INT80_32,    /* int $0x80 from a 32-bit process (kernel/compat.h) */
	UBENCH_WRITE, /* write(1, NULL, 0) by syscall: a file operation (kernel/jumpswitch_proc.h)
		       */
};

/*
 * Runs n round trips through `path` (getpid; UBENCH_WRITE: an empty console
 * write) (BKL held, kernel thread). Returns the
 * TSC delta per round trip, or -errno. *syscalls_ud gets how many entries
 * took the ud2 path (to check which path really ran).
 */
int64_t ubench_run(enum ubench_path path, uint64_t n, uint64_t *syscalls_ud);
/*
 * Taken first thing at a system-call entry, before the BKL: the TSC if p
 * (the caller's process, NULL for none) is being measured, else 0.
 */
static inline uint64_t ubench_entry_stamp(const struct proc *p)
{
	return p && p->tsc_trace ? rdtsc() : 0;
}
/*
 * Records a non-zero entry stamp of call nr made by a measured process p:
 * its first getpid's and its exit's are the measurement.
 */
static inline void ubench_entry_trace(struct proc *p, uint64_t stamp, uint64_t nr)
{
	if (nr == SYS_getpid && !p->tsc_trace[0])
		p->tsc_trace[0] = stamp;
	else if (nr == SYS_exit)
		p->tsc_trace[1] = stamp;
}
/*
 * Prints every path (command line `ubench`), min of several runs; with
 * `ubench=write` only the empty console write (bench/jumpswitch.sh).
 */
void ubench_report(void);

#endif
