// SPDX-License-Identifier: MIT
/* FNV-1a over the 256-byte context (the benchmark's "hash" program). */
#define SEC(name) __attribute__((section(name), used))

SEC("prog") unsigned long fnv1a(unsigned char *ctx)
{
	unsigned long h = 0xcbf29ce484222325ul;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 256; i++) {
		h ^= ctx[i];
		h *= 0x100000001b3ul;
	}
	return h;
}
