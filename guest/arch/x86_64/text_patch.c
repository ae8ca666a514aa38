// SPDX-License-Identifier: MIT
/* The one writer of kernel code (see text_patch.h). */
#include <stdint.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/priv.h"
#include "lib/errno.h"
#include "lib/string.h"

extern char _text_start[], _rodata_start[];

/* 1 if [a, a + len) lies inside [lo, hi) without wrapping. */
static int inside(uint64_t a, size_t len, uint64_t lo, uint64_t hi)
{
	return a >= lo && a < hi && len <= hi - a;
}

int text_poke(void *addr, const void *bytes, size_t len)
{
	uint64_t a = (uint64_t)addr;
	void *dst;
	uint32_t r[4];

	if (len == 0 || len > 4096)
		return -EINVAL;
	if (inside(a, len, (uint64_t)_text_start, (uint64_t)_rodata_start)) {
		dst = phys_to_virt(virt_to_phys(a)); /* the direct-map alias */
		/* other CPUs may run it: write it with them stopped, once SMP can */
		if (priv_text_write(dst, bytes, len) == 0)
			return 0;
	} else if (inside(a, len, PHYSMAP_BASE, PHYSMAP_BASE + PHYSMAP_LIMIT))
		dst = addr;
	else
		return -EINVAL;
	memcpy(dst, bytes, len);
	/* cpuid serialises: no stale prefetched or decoded copy runs after this */
	cpuid(0, 0, r);
	return 0;
}
