// SPDX-License-Identifier: MIT
/* Must be rejected by the ELF loader: a global variable needs a map. */
#define SEC(name) __attribute__((section(name), used))

unsigned long counter;

SEC("prog") unsigned long bump(void *ctx)
{
	return ++counter;
}
