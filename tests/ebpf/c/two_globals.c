// SPDX-License-Identifier: MIT
/* Plain C without sections: two global functions in .text, the entry last.
 * The loader needs the entry's name, and calls it from a prologue. */
__attribute__((noinline)) unsigned long twice(unsigned long x)
{
	return x * 2;
}

unsigned long entry(unsigned char *ctx)
{
	return twice(ctx[0]) + twice(ctx[1]);
}
