/* SPDX-License-Identifier: MIT */
/*
 * A freestanding emulator for the instructions x86dec.h decodes, exact to
 * the architecture (RFLAGS included), on a register file and two memory
 * callbacks. Every instruction is all-or-nothing: memory is read and written
 * before any register changes, so a fault leaves the state as it was before
 * the instruction.
 *
 * Flags the architecture leaves undefined (AF after shifts, OF after
 * multi-bit shifts, SF/ZF/AF/PF after imul, CF after narrow shifts by the
 * width or more) differ between CPUs and QEMU, so they must never reach
 * user code: x86emu_run only starts such an instruction when the
 * instructions right after it overwrite those flags without reading them
 * and cannot stop in between (docs/lookahead.md). AF after and/or/xor/test
 * is taken as 0, what both AMD/Intel hardware and QEMU produce.
 *
 * Also built for the host: unit tests, and a comparison with the host CPU
 * itself (tests/unit/guest_x86emu_native_test.c).
 */
#ifndef GUEST_LIB_X86EMU_H
#define GUEST_LIB_X86EMU_H

#include <stdint.h>
#include "lib/x86dec.h"

/* RFLAGS bits */
#define X86_CF		0x001u
#define X86_PF		0x004u
#define X86_AF		0x010u
#define X86_ZF		0x040u
#define X86_SF		0x080u
#define X86_TF		0x100u
#define X86_DF		0x400u
#define X86_OF		0x800u
#define X86_AC		0x40000u
#define X86_ARITH_FLAGS (X86_CF | X86_PF | X86_AF | X86_ZF | X86_SF | X86_OF)

struct x86emu_state {
	uint64_t r[X86_NREGS]; /* enum x86_reg order */
	uint64_t rip;
	uint64_t rflags;
};

/*
 * Where the emulated code and data come from. Each returns 0 or a negative
 * errno (-EFAULT: the access would fault; the CPU must take that fault
 * itself, so emulation stops before the instruction).
 *   fetch: the decoded instruction at rip in *in, valid until the next
 *          fetch (x86_decode's -EINVAL and -ERANGE pass through; -EFAULT if
 *          the code cannot be fetched);
 *   read/write: size 1, 2, 4 or 8 bytes at addr (may be unaligned and cross
 *          a page; a write must check every page before writing any byte).
 */
struct x86emu_env {
	int (*fetch)(void *ctx, uint64_t rip, const struct x86_insn **in);
	int (*read)(void *ctx, uint64_t addr, uint64_t *val, unsigned size);
	int (*write)(void *ctx, uint64_t addr, uint64_t val, unsigned size);
	void *ctx;
};

/* Why x86emu_run stopped; the state is at the instruction named. */
enum x86emu_stop {
	X86EMU_SYSCALL,	    /* executed a syscall or int $0x80: rip is after it */
	X86EMU_UNSUPPORTED, /* rip is at an instruction outside the subset */
	X86EMU_FAULT,	    /* rip is at an instruction whose fetch or access faults */
	X86EMU_WINDOW,	    /* the instruction budget ran out */
	X86EMU_FLAGS,	    /* rip is at an instruction whose undefined flags might be seen */
	X86EMU_NSTOPS
};

/*
 * x86emu_exec - execute one decoded instruction (not SYSCALL/INT80).
 * Returns 0 with the state advanced, or a negative errno with the state
 * unchanged (-EFAULT from a memory callback; -EINVAL for X86_OP_NONE).
 * *undef gets the RFLAGS bits the instruction left architecturally
 * undefined (0 for most).
 */
int x86emu_exec(struct x86emu_state *s, const struct x86_insn *in, const struct x86emu_env *env,
		uint32_t *undef);

/*
 * x86emu_run - emulate from s->rip through at most max instructions, until
 * and including the first syscall / int $0x80. A `syscall` sets rcx (the
 * next rip) and r11 (rflags) as the CPU does; `int $0x80` changes nothing
 * but rip. *count gets the number of instructions executed (the system-call
 * instruction included). Returns why it stopped (enum x86emu_stop); the
 * state is then exactly what the CPU would have at that point.
 */
enum x86emu_stop x86emu_run(struct x86emu_state *s, const struct x86emu_env *env, unsigned max,
			    unsigned *count);

/* x86_cond_true - 1 if condition cc (0..15, the Jcc encoding) holds for rflags. */
int x86_cond_true(unsigned cc, uint64_t rflags);

/* x86emu_stop_name - short name of a stop reason ("syscall", "fault", ...). */
const char *x86emu_stop_name(unsigned stop);

#endif
