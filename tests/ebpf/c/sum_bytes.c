// SPDX-License-Identifier: MIT
/* Sum of the first 64 bytes of the context: a bounded loop kept as a loop. */
#define SEC(name) __attribute__((section(name), used))

SEC("prog") unsigned long sum_bytes(unsigned char *ctx)
{
	unsigned long sum = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 64; i++)
		sum += ctx[i];
	return sum;
}
