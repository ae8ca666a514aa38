// SPDX-License-Identifier: MIT
/* bpf-to-bpf calls: helpers in .text called from the program section; the
 * loader appends .text and resolves the call relocations. */
#define SEC(name) __attribute__((section(name), used))

static __attribute__((noinline)) unsigned long mix(unsigned long a, unsigned long b)
{
	return (a << 5) ^ (a >> 3) ^ b;
}

static __attribute__((noinline)) unsigned long fold(unsigned char *p, int n)
{
	unsigned long h = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 16; i++)
		if (i < n)
			h = mix(h, p[i]);
	return h;
}

SEC("prog") unsigned long calls(unsigned char *ctx)
{
	return fold(ctx, 16) + fold(ctx + 16, 8);
}
