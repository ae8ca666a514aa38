// SPDX-License-Identifier: MIT
/* Index of the first zero byte in a 128-byte context, or 128: a loop with an
 * early exit and a data-dependent trip count. */
#define SEC(name) __attribute__((section(name), used))

SEC("prog") unsigned long find_zero(unsigned char *ctx)
{
	unsigned long i;

#pragma clang loop unroll(disable)
	for (i = 0; i < 128; i++)
		if (ctx[i] == 0)
			break;
	return i;
}
