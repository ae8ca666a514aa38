// SPDX-License-Identifier: MIT
/*
 * The jumpswitch native replica's call targets and its retpolined paths
 * (this file is built with -mindirect-branch=thunk, like the guest kernel):
 * a table of entries shaped like the kernel's system-call entries, the
 * retpolined table call, and the trampoline's miss path.
 */
#include "jumpswitch_native.h"

#define TARGETS(X)                                                                                 \
	X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

#define T(k)                                                                                       \
	__attribute__((noinline)) static int64_t target_##k(const uint64_t *a)                     \
	{                                                                                          \
		__asm__ volatile("" ::: "memory");                                                 \
		return (int64_t)a[0] + k;                                                          \
	}
TARGETS(T)
#undef T

#define T(k) target_##k,
native_fn *const native_table[NATIVE_KEYS] = { TARGETS(T) };
#undef T

/* target 3's body: a call of it is a direct call of the target, no tail jump */
__attribute__((noinline)) int64_t native_direct(const uint64_t *a)
{
	__asm__ volatile("" ::: "memory");
	return (int64_t)a[0] + 3;
}

__attribute__((noinline)) int64_t native_retpolined(const uint64_t *a, uint64_t key)
{
	return native_table[key](a);
}

int64_t native_miss(const uint64_t *a, uint64_t key)
{
	return native_table[key](a); /* the trampoline jumps here on a miss */
}
