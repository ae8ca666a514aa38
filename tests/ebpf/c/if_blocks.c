// SPDX-License-Identifier: MIT
/*
 * Many independent if-blocks in a row (issue 10, verifier precision): each
 * block tests a byte or bit of the context and adds to a counter, so a
 * program of n blocks has 2^n paths. The counter never decides a memory
 * access, so the verifier must prune on it (states equal but for an
 * imprecise number) and accept these in linear work. The last two programs
 * use the counter as an index: there it is precise, and the one that reads
 * out of bounds on exactly one of the 2^40 paths must be rejected.
 *
 * The context (layout "mem") is at least 72 bytes; most programs also write
 * the counter at offset 64 and return it.
 */
#define SEC(name) __attribute__((section(name), used))

#define X4(X, b) X(b) X(b + 1) X(b + 2) X(b + 3)
#define X20(X)	 X4(X, 0) X4(X, 4) X4(X, 8) X4(X, 12) X4(X, 16)
#define X40(X)	 X20(X) X4(X, 20) X4(X, 24) X4(X, 28) X4(X, 32) X4(X, 36)
#define X64(X)	 X40(X) X4(X, 40) X4(X, 44) X4(X, 48) X4(X, 52) X4(X, 56) X4(X, 60)
#define COUNT(i)                                                                                   \
	if (ctx[i] > 100)                                                                          \
		n += (i) + 1;
/* the barrier keeps clang from summing 40 flags computed apart (each would
 * then be a precise 0 or 1 of its own: 2^40 distinct states) */
#define ONE(i)                                                                                     \
	if (ctx[i] > 100)                                                                          \
		n++;                                                                               \
	asm volatile("" : "+r"(n));
#define BIT(i)                                                                                     \
	if (w & (1ul << (i)))                                                                      \
		n += (i)*3 + 1;
#define OUT(ctx) (*(unsigned long *)((ctx) + 64))

/* helper 3 of ebpf/tools/testenv.h: copy guest memory into a buffer */
static long (*const copy_guest)(void *dst, unsigned long n, unsigned long gpa) = (void *)3;

/* 20, 40 and 64 blocks; the sum is written to the context */
SEC("blocks/if20") int if20(unsigned char *ctx)
{
	unsigned long n = 0;

	X20(COUNT)
	OUT(ctx) = n;
	return n;
}

SEC("blocks/if40") int if40(unsigned char *ctx)
{
	unsigned long n = 0;

	X40(COUNT)
	OUT(ctx) = n;
	return n;
}

SEC("blocks/if64") int if64(unsigned char *ctx)
{
	unsigned long n = 0;

	X64(COUNT)
	OUT(ctx) = n;
	return n;
}

/* branches on the bits of a word loaded from the context */
SEC("blocks/bits40") int bits40(unsigned char *ctx)
{
	unsigned long n = 0, w = *(unsigned long *)ctx;

	X40(BIT)
	OUT(ctx) = n;
	return n;
}

/* nested: 20 outer blocks, each with an inner block (40 ifs) */
#define NEST(i)                                                                                    \
	if (ctx[i] > 100) {                                                                        \
		n += (i) + 1;                                                                      \
		if (ctx[(i) + 20] & 1)                                                             \
			n ^= (i) << 4;                                                             \
	}
SEC("blocks/nested40") int nested40(unsigned char *ctx)
{
	unsigned long n = 0;

	X20(NEST)
	OUT(ctx) = n;
	return n;
}

/* the counter is computed by a local function and returned through it */
static __attribute__((noinline)) unsigned long count40(unsigned char *ctx)
{
	unsigned long n = 0;

	X40(COUNT)
	return n;
}

SEC("blocks/call40") int call40(unsigned char *ctx)
{
	unsigned long n = count40(ctx) + 1;

	OUT(ctx) = n;
	return n;
}

/* the counter lives on the stack (spilled and reloaded in every block) */
SEC("blocks/stack40") int stack40(unsigned char *ctx)
{
	volatile unsigned long n = 0;

	X40(COUNT)
	return n;
}

/* a helper call with its own stack buffer inside half the blocks: the
 * buffer is initialised on one side of each join only (dead after it) */
#define FETCH(i)                                                                                   \
	if (ctx[i] & 1) {                                                                          \
		unsigned long t;                                                                   \
		if (copy_guest(&t, 8, (i)*64) == 0)                                                \
			n += t & 0xff;                                                             \
	} else {                                                                                   \
		n += 1;                                                                            \
	}
SEC("blocks/helper40") int helper40(unsigned char *ctx)
{
	unsigned long n = 0;

	X40(FETCH)
	OUT(ctx) = n;
	return n;
}

/* the counter (0..40) indexes the context: precise, 41 values per join;
 * in bounds on every path */
SEC("blocks/index40") int index40(unsigned char *ctx)
{
	unsigned long n = 0;

	X40(ONE)
	return ctx[n + 24]; /* at most ctx[64] of 72 bytes */
}

/* the same with an offset that reads one byte past a 64-byte context on
 * the single path where all 40 conditions hold: must be rejected */
SEC("blocks/index40_oob") int index40_oob(unsigned char *ctx)
{
	unsigned long n = 0;

	X40(ONE)
	return ctx[n + 32]; /* ctx[72] when n == 40 */
}
