/* SPDX-License-Identifier: MIT */
/*
 * System-call lookahead (docs/lookahead.md): after serving a system call,
 * the kernel emulates the user code that follows (guest/lib/x86emu.c), and
 * if it reaches another system call within a bounded window, serves that
 * one too in the same kernel entry. The user program sees exactly what it
 * would have seen had it run those instructions itself.
 */
#ifndef KERNEL_LOOKAHEAD_H
#define KERNEL_LOOKAHEAD_H

#include <stdint.h>
#include "arch/x86_64/trapframe.h"
#include "lib/x86emu.h"

#define LOOKAHEAD_WINDOW 64 /* instructions emulated between two calls, at most */
#define LOOKAHEAD_CHAIN	 16 /* calls served after the one that entered, at most */

/* lookahead_init - `lookahead=off|on` from the kernel command line (default on). */
void lookahead_init(const char *cmdline);

/* lookahead_set - switch lookahead on (1) or off (0); returns the previous setting. */
int lookahead_set(int on);

/*
 * lookahead_next - called with the BKL after the system call in tf was
 * served; `served` calls of this kernel entry were lookahead's already.
 * Unless something must not wait (a pending kill, reschedule, deferred
 * work or timer tick), the chain is at its bound, the thread single-steps
 * or the program is ubench's, emulates the user code at tf->rip on the
 * saved registers. Returns 1 if it reached a system call: tf is then the
 * state right after that syscall / int $0x80 (rcx/r11 as the CPU sets
 * them), counted as a call, ready to be served. Returns 0 otherwise; tf
 * may then have advanced over emulated instructions, and the thread
 * returns to user mode there.
 */
int lookahead_next(struct trapframe *tf, unsigned served);

struct lookahead_counts {
	uint64_t saved;		      /* calls served without a kernel entry of their own */
	uint64_t emulated;	      /* user instructions emulated */
	uint64_t stop[X86EMU_NSTOPS]; /* windows that ended without a call, by reason */
	uint64_t pending;	      /* chains stopped for a kill, reschedule or deferred work */
	uint64_t timer;		      /* ... for a timer tick due */
	uint64_t chain;		      /* ... at LOOKAHEAD_CHAIN */
	uint64_t skipped;	      /* windows not tried: they ended without a call lately */
};

/* lookahead_counts - the counters summed over every CPU. */
void lookahead_counts(struct lookahead_counts *out);

#endif
