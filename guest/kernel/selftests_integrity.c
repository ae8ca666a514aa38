// SPDX-License-Identifier: MIT
/*
 * Code integrity (docs/integrity.md): the VMM performs a text patch only at
 * a registered site and for the allowed instruction forms; and what a plain
 * write into kernel text does (integrity_test.h).
 */
#include <abi/vessel.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/boot.h"
#include "kernel/integrity_test.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "lib/errno.h"
#include "lib/string.h"

#define TARGET_BYTES 6

/* Return 1; integ_target is a patch site, integ_unregistered is not. */
static __attribute__((noinline, noipa, aligned(16))) int integ_target(void)
{
	return 1;
}

static __attribute__((noinline, noipa, aligned(16))) int integ_unregistered(void)
{
	return 1;
}

TEXT_PATCH_SITE(integ_target, integ_target, TARGET_BYTES);

static const uint8_t ret2[TARGET_BYTES] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3 };

static int integrity_on(void)
{
	return (boot.flags & VESSEL_BOOT_F_INTEGRITY) != 0;
}

/* A patch at a registered site with allowed code works and is counted. */
SELFTEST(integrity_patch_site)
{
	int (*volatile fn)(void) = integ_target;
	uint8_t saved[TARGET_BYTES];
	struct text_patch_counts c0, c1;

	if (!integrity_on())
		return selftest_skip("integrity off");
	text_patch_counts(&c0);
	memcpy(saved, (const void *)integ_target, sizeof(saved));
	ST_ASSERT(text_poke((void *)integ_target, ret2, sizeof(ret2)) == 0);
	ST_ASSERT(fn() == 2);
	ST_ASSERT(text_poke((void *)integ_target, saved, sizeof(saved)) == 0);
	ST_ASSERT(fn() == 1);
	text_patch_counts(&c1);
	ST_ASSERT(c1.vmm_patches == c0.vmm_patches + 2);
	return 0;
}

/* Each refused request leaves the bytes as they were. */
SELFTEST(integrity_patch_refusals)
{
	static const uint8_t wrmsr[] = { 0x0f, 0x30, 0xc3 }; /* wrmsr; ret */
	static const uint8_t store[] = { 0x89, 0x00, 0xc3 }; /* mov %eax,(%rax); ret */
	static const uint8_t cut[] = { 0xb8, 0x02, 0x00 };   /* half a mov */
	static const uint8_t cli[] = { 0xfa, 0xc3 };	     /* cli; ret */
	uint8_t jmp_out[5] = { 0xe9 };			     /* jmp to user space */
	uint8_t saved[TARGET_BYTES], saved2[TARGET_BYTES];
	struct vessel_hc_text_patch reg = { .op = VESSEL_TEXT_PATCH_REGISTER, .len = 1 };
	extern const struct vessel_patch_site __patch_sites_start[];
	struct text_patch_counts c0, c1;
	int32_t rel;

	if (!integrity_on())
		return selftest_skip("integrity off");
	text_patch_counts(&c0);
	memcpy(saved, (const void *)integ_target, sizeof(saved));
	memcpy(saved2, (const void *)integ_unregistered, sizeof(saved2));
	ST_ASSERT(text_poke((void *)integ_unregistered, ret2, sizeof(ret2)) == -EPERM);
	ST_ASSERT(text_poke((char *)integ_target + 1, ret2, sizeof(ret2)) == -EPERM); /* past */
	ST_ASSERT(text_poke((void *)integ_target, wrmsr, sizeof(wrmsr)) == -EPERM);
	ST_ASSERT(text_poke((void *)integ_target, store, sizeof(store)) == -EPERM);
	ST_ASSERT(text_poke((void *)integ_target, cut, sizeof(cut)) == -EPERM);
	ST_ASSERT(text_poke((void *)integ_target, cli, sizeof(cli)) == -EPERM);
	rel = (int32_t)(0x400000 - ((int64_t)(uint64_t)integ_target + 5));
	memcpy(jmp_out + 1, &rel, 4);
	ST_ASSERT(text_poke((void *)integ_target, jmp_out, sizeof(jmp_out)) == -EPERM);
	ST_ASSERT(memcmp((const void *)integ_target, saved, sizeof(saved)) == 0);
	ST_ASSERT(memcmp((const void *)integ_unregistered, saved2, sizeof(saved2)) == 0);
	ST_ASSERT(integ_target() == 1 && integ_unregistered() == 1);
	text_patch_counts(&c1);
	ST_ASSERT(c1.vmm_refused == c0.vmm_refused + 7 && c1.vmm_patches == c0.vmm_patches);
	/* the sites were registered at boot; no second table */
	reg.addr = (uint64_t)__patch_sites_start;
	hc_call(VESSEL_HC_TEXT_PATCH, &reg);
	ST_ASSERT(reg.ret == -EBUSY);
	return 0;
}

void integrity_textpatch(void)
{
	int (*volatile fn)(void) = integ_target;
	static const uint8_t ret1[TARGET_BYTES] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 };
	int was = fn(), rc;
	struct text_patch_counts c;

	rc = text_poke((void *)integ_target, was == 1 ? ret2 : ret1, TARGET_BYTES);
	text_patch_counts(&c);
	printk("textpatch: integ_target returned %d, now returns %d (text_poke %d, %lu VMM "
	       "patches)\n",
	       was, fn(), rc, (unsigned long)c.vmm_patches);
}

void integrity_textwrite(void)
{
	volatile uint8_t *alias = phys_to_virt(virt_to_phys((uint64_t)integ_unregistered));
	uint8_t was = *alias;

	printk("textwrite: writing kernel text at %p (integrity %s)\n", (void *)integ_unregistered,
	       integrity_on() ? "on" : "off");
	*alias = 0xc3; /* ret */
	if (*alias == was) {
		printk("textwrite: write discarded\n");
	} else {
		printk("textwrite: write landed\n");
		*alias = was;
	}
	power_off(0);
}

void integrity_patchbench(void)
{
	enum { N = 20 };
	uint64_t cyc[N], t;
	uint8_t saved[TARGET_BYTES];

	memcpy(saved, (const void *)integ_target, sizeof(saved));
	for (int i = 0; i < N; i++) {
		t = rdtsc();
		if (text_poke((void *)integ_target, i & 1 ? saved : ret2, TARGET_BYTES)) {
			printk("patchbench: text_poke failed\n");
			power_off(1);
		}
		cyc[i] = rdtsc() - t;
	}
	if (memcmp((const void *)integ_target, saved, sizeof(saved)))
		text_poke((void *)integ_target, saved, TARGET_BYTES);
	for (int i = 1; i < N; i++) /* insertion sort, for the median */
		for (int k = i; k > 0 && cyc[k - 1] > cyc[k]; k--)
			t = cyc[k], cyc[k] = cyc[k - 1], cyc[k - 1] = t;
	printk("patchbench: integrity %s: %d patches of %d bytes, median %lu TSC cycles each\n",
	       integrity_on() ? "on" : "off", N, TARGET_BYTES, (unsigned long)cyc[N / 2]);
	power_off(0);
}
