// SPDX-License-Identifier: MIT
/*
 * The jumpswitch native replica's call targets and its retpolined paths
 * (this file is built with -mindirect-branch=thunk, like the guest kernel):
 * a table of entries shaped like the kernel's system-call entries, the
 * retpolined table call, and the trampoline's miss path.
 */
#include "jumpswitch_native.h"

#define T(k)                                                                                       \
	__attribute__((noinline)) static int64_t target_##k(const uint64_t *a)                     \
	{                                                                                          \
		__asm__ volatile("" ::: "memory");                                                 \
		return (int64_t)a[0] + k;                                                          \
	}
T(0)
T(1)
T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11) T(12) T(13) T(14) T(15)
#undef T

	native_fn *const native_table[NATIVE_KEYS] = {
		target_0,  target_1,  target_2,	 target_3,  target_4,  target_5,
		target_6,  target_7,  target_8,	 target_9,  target_10, target_11,
		target_12, target_13, target_14, target_15,
	};

__attribute__((noinline)) int64_t native_direct(const uint64_t *a)
{
	return target_3(a);
}

__attribute__((noinline)) int64_t native_retpolined(const uint64_t *a, uint64_t key)
{
	return native_table[key](a);
}

int64_t native_miss(const uint64_t *a, uint64_t key)
{
	return native_table[key](a); /* the trampoline jumps here on a miss */
}
