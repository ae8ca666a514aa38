// SPDX-License-Identifier: MIT
/*
 * The benchmark programs, compiled with `clang -O2 -target bpf -c`. They use
 * only their stack (r1 is ignored) so that the very same bytecode runs in
 * libebpf and in the host kernel (as a socket filter via BPF_PROG_TEST_RUN).
 * A volatile seed keeps clang from folding the work away.
 */
#define SEC(name) __attribute__((section(name), used))

/* arithmetic loop: an LCG, 1000 iterations */
SEC("arith") unsigned long bench_arith(void *ctx)
{
	volatile unsigned long seed = 12345;
	unsigned long x = seed, acc = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 1000; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		acc += x >> 33;
	}
	return acc;
}

/* memory scan: fill a 256-byte stack buffer, then count bytes above a
 * threshold with byte loads */
SEC("scan") unsigned long bench_scan(void *ctx)
{
	volatile unsigned char mul = 37;
	unsigned char buf[256];
	unsigned long n = 0;
	unsigned char m = mul;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 256; i++)
		buf[i] = (unsigned char)(i * m + 11);
#pragma clang loop unroll(disable)
	for (int i = 0; i < 256; i++)
		if (buf[i] > 100)
			n++;
	return n;
}

/* hash: FNV-1a over a 256-byte stack buffer */
SEC("hash") unsigned long bench_hash(void *ctx)
{
	volatile unsigned char seed = 3;
	unsigned char buf[256];
	unsigned long h = 0xcbf29ce484222325ul;
	unsigned char s = seed;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 256; i++)
		buf[i] = (unsigned char)(i ^ s);
#pragma clang loop unroll(disable)
	for (int i = 0; i < 256; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ul;
	}
	return h;
}
