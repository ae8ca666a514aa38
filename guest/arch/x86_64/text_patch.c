// SPDX-License-Identifier: MIT
/* The one writer of kernel code (see text_patch.h). */
#include <stdint.h>
#include <abi/vessel.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/boot.h"
#include "kernel/printk.h"
#include "kernel/priv.h"
#include "lib/errno.h"
#include "lib/string.h"

extern char _text_start[], _rodata_start[];
extern const struct vessel_patch_site __patch_sites_start[], __patch_sites_end[];

static uint64_t vmm_patches, vmm_refused; /* atomics */

/* 1 if [a, a + len) lies inside [lo, hi) without wrapping. */
static int inside(uint64_t a, size_t len, uint64_t lo, uint64_t hi)
{
	return a >= lo && a < hi && len <= hi - a;
}

static int integrity_on(void)
{
	return (boot.flags & VESSEL_BOOT_F_INTEGRITY) != 0;
}

void text_patch_init(void)
{
	struct vessel_hc_text_patch a = {
		.op = VESSEL_TEXT_PATCH_REGISTER,
		.len = (uint32_t)(__patch_sites_end - __patch_sites_start),
		.addr = (uint64_t)__patch_sites_start,
	};

	if (!integrity_on())
		return;
	hc_call(VESSEL_HC_TEXT_PATCH, &a);
	if (a.ret)
		printk("integrity: the VMM refused the %u patch sites (error %ld)\n", a.len,
		       (long)a.ret);
	else
		printk("integrity: kernel text is read-only; %u patch sites registered\n", a.len);
}

/* Image text under code integrity: the VMM checks and writes. */
static int poke_by_vmm(void *addr, const void *bytes, size_t len)
{
	struct vessel_hc_text_patch a = { .op = VESSEL_TEXT_PATCH_PATCH };
	uint32_t r[4];

	if (len > VESSEL_PATCH_MAX)
		return -EINVAL;
	a.len = (uint32_t)len;
	a.addr = (uint64_t)addr;
	memcpy(a.code, bytes, len);
	/* with the others stopped, once SMP can; before that nobody else runs */
	if (priv_text_patch_hc(addr, len, virt_to_phys(&a)) == -EAGAIN) {
		hc_call(VESSEL_HC_TEXT_PATCH, &a);
		cpuid(0, 0, r);
	}
	__atomic_fetch_add(a.ret ? &vmm_refused : &vmm_patches, 1, __ATOMIC_RELAXED);
	return (int)a.ret;
}

int text_poke(void *addr, const void *bytes, size_t len)
{
	uint64_t a = (uint64_t)addr;
	void *dst;
	uint32_t r[4];

	if (len == 0 || len > 4096)
		return -EINVAL;
	if (inside(a, len, (uint64_t)_text_start, (uint64_t)_rodata_start)) {
		if (integrity_on())
			return poke_by_vmm(addr, bytes, len);
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

void text_patch_counts(struct text_patch_counts *out)
{
	out->vmm_patches = __atomic_load_n(&vmm_patches, __ATOMIC_RELAXED);
	out->vmm_refused = __atomic_load_n(&vmm_refused, __ATOMIC_RELAXED);
}
