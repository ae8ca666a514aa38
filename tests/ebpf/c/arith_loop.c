// SPDX-License-Identifier: MIT
/* Pure arithmetic loop (the benchmark's "arith" program). */
#define SEC(name) __attribute__((section(name), used))

SEC("prog") unsigned long arith(unsigned long *ctx)
{
	unsigned long x = ctx[0], acc = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 1000; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		acc += x >> 33;
	}
	return acc;
}
