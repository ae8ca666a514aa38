/* SPDX-License-Identifier: MIT */
/*
 * Search trampolines (JumpSwitches), the parts that are plain computation:
 * choosing the hot targets from frequency counts and emitting the x86-64
 * code of a trampoline. Built for the guest kernel (kernel/jumpswitch.c
 * installs what they produce) and for the host (unit tests, the native
 * benchmark replica). docs/jumpswitch.md.
 */
#ifndef GUEST_LIB_JSWITCH_H
#define GUEST_LIB_JSWITCH_H

#include <stddef.h>
#include <stdint.h>

/* The most entries one trampoline holds. */
#define JSW_MAX_ENTRIES	  16
/* Bytes of one compare-and-jump entry, and of the final jump to the miss path. */
#define JSW_ENTRY_BYTES	  12
#define JSW_TAIL_BYTES	  5
/* The code size of a trampoline with n entries. */
#define JSW_CODE_BYTES(n) ((n)*JSW_ENTRY_BYTES + JSW_TAIL_BYTES)

/*
 * Picks the (at most k) keys with the highest counts[key] > 0 among keys
 * 0 .. nkeys - 1, hottest first (ties: lower key first), into out. Returns
 * how many were picked (0 .. k), or -EINVAL for k outside 0 .. JSW_MAX_ENTRIES.
 */
int jsw_pick_hot(const uint64_t *counts, int nkeys, int k, uint32_t *out);

/*
 * Emits a search trampoline into buf, which the code will run at address
 * `at`: for each i < n, `cmp $keys[i], %esi; je targets[i]`, then
 * `jmp miss`. The caller enters it with the key in %esi (any other argument
 * registers pass through to the target untouched) by a call or jump; each
 * target and miss is reached by a direct jump, so it returns to the
 * trampoline's caller. Returns the code length, -EINVAL for n outside
 * 0 .. JSW_MAX_ENTRIES or a key above INT32_MAX, -ERANGE if a target is
 * beyond a rel32 jump from its site, -ENOSPC if cap is too small.
 */
int jsw_emit(uint8_t *buf, size_t cap, uint64_t at, const uint32_t *keys, const uint64_t *targets,
	     int n, uint64_t miss);

/* Bytes of one compare-target-and-jump entry (jsw_emit_ptr). */
#define JSW_PTR_ENTRY_BYTES   13
/* The code size of a target-compare trampoline with n entries. */
#define JSW_PTR_CODE_BYTES(n) ((n)*JSW_PTR_ENTRY_BYTES + JSW_TAIL_BYTES)

/*
 * Emits a target-compare trampoline into buf, to run at address `at`: for
 * each i < n, `cmp $targets[i], %rcx; je targets[i]`, then `jmp miss`. The
 * caller passes the function pointer it would call indirectly in %rcx (the
 * fourth argument) and the target's own arguments in %rdi, %rsi, %rdx, which
 * pass through; a hit is a direct jump to the very function in %rcx, so a
 * trampoline can never call anything else than the indirect call would.
 * Each target must be a sign-extended 32-bit address (the top 2 GiB, as
 * -mcmodel=kernel code is). Returns the code length, -EINVAL for n outside
 * 0 .. JSW_MAX_ENTRIES, -ERANGE if a target is not such an address or
 * beyond a rel32 jump, -ENOSPC if cap is too small.
 */
int jsw_emit_ptr(uint8_t *buf, size_t cap, uint64_t at, const uint64_t *targets, int n,
		 uint64_t miss);

/*
 * Writes the JSW_TAIL_BYTES bytes of `jmp rel32` to target into buf, for
 * code that will run at address at: the tail of every trampoline, and the
 * system-call table's entry, which the install protocol rewrites to jump to
 * the live buffer. Returns JSW_TAIL_BYTES, -ENOSPC if cap is too small, or
 * -ERANGE if target is out of rel32 reach.
 */
int jsw_emit_jmp(uint8_t *buf, size_t cap, uint64_t at, uint64_t target);

/* 1 if the first n keys of a and b are the same set in the same order. */
int jsw_same_keys(const uint32_t *a, int na, const uint32_t *b, int nb);

#endif
