// SPDX-License-Identifier: MIT
/*
 * The secure domain seen from the root domain (the kernel): calls into the
 * TCB's root-callable entries, refusals of the others, and both vCPUs in
 * different domains at once (include/abi/vessel.h, docs/integrity.md).
 * Skipped unless the VMM runs the kernel with integrity on (then the
 * kernel's TCB is its secure domain).
 */
#include <stddef.h>
#include <abi/vessel.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/integrity_test.h"
#include "kernel/percpu.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/xcall.h"
#include "lib/errno.h"

extern const struct vessel_tcb_header tcb_header;

static int64_t domain_call(uint32_t entry, uint64_t a0, uint64_t a1)
{
	struct vessel_hc_domain_call c = { .entry = entry, .args = { a0, a1, 0 } };

	hc_call(VESSEL_HC_DOMAIN_CALL, &c);
	return c.ret;
}

static int domains_on(void)
{
	return (boot.flags & VESSEL_BOOT_F_INTEGRITY) != 0;
}

/* Root-callable entries answer; the others and unknown ones are refused. */
SELFTEST(domain_call_entries)
{
	if (!domains_on())
		return selftest_skip("integrity off: no secure domain");
	ST_ASSERT(domain_call(VESSEL_TCB_ECHO, 41, 0) == 42);
	ST_ASSERT(domain_call(VESSEL_TCB_ECHO, (uint64_t)-1, 0) == 0);
	ST_ASSERT(domain_call(VESSEL_TCB_TEXT_WRITE, 0, 0) == -ENOENT); /* VMM only */
	ST_ASSERT(domain_call(VESSEL_TCB_ENTRIES_MAX, 0, 0) == -ENOENT);
	ST_ASSERT(domain_call(0x7fffffff, 0, 0) == -ENOENT);
	return 0;
}

static volatile uint64_t hs_flag;
static volatile int hs_root_saw;

/* On the other CPU, in the root domain: answers the TCB's 1 with 2. */
static void handshake_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s, (void)self, (void)c;
	while (hs_flag != 1)
		smp_poll();
	hs_root_saw = 1;
	hs_flag = 2;
}

/*
 * This CPU waits inside the secure domain for a value that only the other
 * CPU, running root-domain code meanwhile, writes: both are in different
 * domains at the same time.
 */
SELFTEST(domain_two_vcpus_in_different_domains)
{
	static struct sd_csd csd;
	int other = (this_cpu()->id + 1) % smp_cpu_count();

	if (!domains_on())
		return selftest_skip("integrity off: no secure domain");
	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	hs_flag = 0;
	hs_root_saw = 0;
	smp_call_async(other, &csd, handshake_fn, NULL);
	ST_ASSERT(domain_call(VESSEL_TCB_HANDSHAKE, (uint64_t)&hs_flag, 20000000) == 1);
	smp_call_wait(&csd);
	ST_ASSERT(hs_root_saw && hs_flag == 2);
	return 0;
}

void domain_secureread(void)
{
	volatile const uint64_t *p = &tcb_header.magic;

	printk("secureread: reading the secure domain's memory at %p\n", (const void *)p);
	printk("secureread: read %#lx\n", (unsigned long)*p);
	power_off(0);
}

/* Median of n TSC deltas (sorts them). */
static uint64_t median(uint64_t *c, int n)
{
	for (int i = 1; i < n; i++) /* insertion sort */
		for (int k = i; k > 0 && c[k - 1] > c[k]; k--) {
			uint64_t t = c[k];

			c[k] = c[k - 1];
			c[k - 1] = t;
		}
	return c[n / 2];
}

void domain_bench(void)
{
	enum { N = 50 };
	static uint64_t hc[N], dc[N];
	struct vessel_hc_text_patch bad = { .op = 0 }; /* refused at once: a plain round trip */
	uint64_t t;

	if (!domains_on()) {
		printk("domainbench: no secure domain (run with --integrity=on)\n");
		power_off(1);
	}
	for (int i = 0; i < N; i++) {
		t = rdtsc();
		hc_call(VESSEL_HC_TEXT_PATCH, &bad);
		hc[i] = rdtsc() - t;
		t = rdtsc();
		if (domain_call(VESSEL_TCB_ECHO, (uint64_t)i, 0) != i + 1) {
			printk("domainbench: echo failed\n");
			power_off(1);
		}
		dc[i] = rdtsc() - t;
	}
	printk("domainbench: %d round trips each: plain hypercall median %lu TSC cycles, "
	       "secure-domain call median %lu TSC cycles (tsc_khz %lu)\n",
	       N, (unsigned long)median(hc, N), (unsigned long)median(dc, N),
	       (unsigned long)boot.tsc_khz);
	power_off(0);
}
