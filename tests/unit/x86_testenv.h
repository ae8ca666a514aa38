/* SPDX-License-Identifier: MIT */
/*
 * A small address space for x86emu tests: code bytes at CODE_VA (fetched
 * through x86_decode) and a data window at DATA_VA; everything else faults.
 */
#ifndef TESTS_UNIT_X86_TESTENV_H
#define TESTS_UNIT_X86_TESTENV_H

#include <stddef.h>
#include <stdint.h>
#include "lib/x86emu.h"

#define X86T_CODE_VA  0x1000u
#define X86T_DATA_VA  0x10000u
#define X86T_DATA_LEN 4096u

struct x86_testenv {
	const uint8_t *code;
	size_t code_len;
	uint8_t data[X86T_DATA_LEN];
	unsigned fetches;     /* fetch calls, for tests that count decoding */
	struct x86_insn insn; /* what fetch hands out */
};

/* x86_testenv_init - env's callbacks on t, with code[0..len) at X86T_CODE_VA. */
void x86_testenv_init(struct x86_testenv *t, struct x86emu_env *env, const uint8_t *code,
		      size_t len);

#endif
