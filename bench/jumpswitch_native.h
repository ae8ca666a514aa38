/* SPDX-License-Identifier: MIT */
/* The jumpswitch native replica (bench/jumpswitch_native.c): shared declarations. */
#ifndef BENCH_JUMPSWITCH_NATIVE_H
#define BENCH_JUMPSWITCH_NATIVE_H

#include <stdint.h>

#define NATIVE_KEYS 16

typedef int64_t native_fn(const uint64_t *a);

/* Sixteen distinct targets, table[k](a) = a[0] + k (built with retpolines). */
extern native_fn *const native_table[NATIVE_KEYS];
/* The body of target 3, for a direct call of a target. */
int64_t native_direct(const uint64_t *a);
/* table[key](a) through a retpoline. */
int64_t native_retpolined(const uint64_t *a, uint64_t key);
/* The trampoline's miss path: table[key](a) through a retpoline. */
int64_t native_miss(const uint64_t *a, uint64_t key);

#endif
