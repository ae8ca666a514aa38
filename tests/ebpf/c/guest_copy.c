// SPDX-License-Identifier: MIT
/* The hyper-callback shape: copy guest memory (an opaque guest address) into
 * a stack buffer with helper 3, then scan it. On failure the helper
 * zero-filled the buffer and returned an error. */
#define SEC(name) __attribute__((section(name), used))

static long (*copy_guest)(void *dst, unsigned long size, unsigned long gaddr) = (void *)3;

SEC("prog") long scan(unsigned long *ctx)
{
	unsigned char buf[64];
	long rc = copy_guest(buf, sizeof(buf), ctx[0]);
	long n = 0;

	if (rc < 0)
		return rc;
#pragma clang loop unroll(disable)
	for (int i = 0; i < 64; i++)
		n += buf[i] & 1;
	return n;
}
