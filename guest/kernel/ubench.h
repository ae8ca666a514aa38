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

enum ubench_path {
	UBENCH_SYSCALL,	    /* syscall, LSTAR as the errata probe chose */
	UBENCH_SYSCALL_UD2, /* syscall through the ud2 stub (forced) */
	UBENCH_INT80,	    /* int $0x80 */
};

/*
 * Runs n round trips through `path` (BKL held, kernel thread). Returns the
 * TSC delta per round trip, or -errno. *syscalls_ud gets how many entries
 * took the ud2 path (to check which path really ran).
 */
int64_t ubench_run(enum ubench_path path, uint64_t n, uint64_t *syscalls_ud);
/* Prints all three paths (command line `ubench`), min of several runs. */
void ubench_report(void);

#endif
