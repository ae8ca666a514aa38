// SPDX-License-Identifier: MIT
/* Must be rejected: the loop reads one byte past a 64-byte context. */
#define SEC(name) __attribute__((section(name), used))

SEC("prog") unsigned long oob(unsigned char *ctx)
{
	unsigned long sum = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i <= 64; i++)
		sum += ctx[i];
	return sum;
}
