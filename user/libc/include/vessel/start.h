/* SPDX-License-Identifier: MIT */
/*
 * The CPU state the kernel started this process with, as crt0.S found it
 * at the first instruction (before it touched anything). usertests checks
 * it against docs/syscalls.md, "Initial user state".
 */
#ifndef VESSEL_USER_START_H
#define VESSEL_USER_START_H

#include <stdint.h>

struct vessel_start_regs {
	uint64_t rsp, rdi, rsi, rdx, rcx, rbx, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rax;
	uint64_t rflags;
	uint32_t mxcsr;
	uint16_t fcw;
	uint16_t pad;
};

extern struct vessel_start_regs __start_regs;

#endif /* VESSEL_USER_START_H */
