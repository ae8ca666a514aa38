/* SPDX-License-Identifier: MIT */
/*
 * Fuzzed instruction byte strings for the x86dec/x86emu host tests: half
 * uniformly random, half built around the opcodes of the lookahead subset
 * (and their neighbours) with random prefixes, ModRM, SIB, displacements and
 * immediates. Reproducible from the seed.
 */
#ifndef TESTS_UNIT_X86GEN_H
#define TESTS_UNIT_X86GEN_H

#include <stddef.h>
#include <stdint.h>

/* x86gen_seed - restart the sequence (0 is replaced by 1). */
void x86gen_seed(uint64_t seed);
/* x86gen_rand - the next pseudo-random 64-bit value. */
uint64_t x86gen_rand(void);
/* x86gen_insn - fill b[0..15) with one candidate instruction; returns 15. */
size_t x86gen_insn(uint8_t *b);

#endif
