// SPDX-License-Identifier: MIT
/* Count the bytes above 100 in a 256-byte context: a loop with a
 * data-dependent branch in every iteration (2^256 paths without pruning on
 * the relevant part of the state). */
#define SEC(name) __attribute__((section(name), used))

SEC("prog") unsigned long count_if(unsigned char *ctx)
{
	unsigned long n = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 256; i++)
		if (ctx[i] > 100)
			n++;
	return n;
}
