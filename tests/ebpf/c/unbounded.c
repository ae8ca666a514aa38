// SPDX-License-Identifier: MIT
/* Must be rejected: the trip count comes from the input, unbounded. */
#define SEC(name) __attribute__((section(name), used))

SEC("prog") unsigned long unbounded(unsigned long *ctx)
{
	unsigned long n = ctx[0], acc = 0;

	for (unsigned long i = 0; i < n; i++)
		acc = acc * 31 + (acc >> 7) + i;
	return acc;
}
