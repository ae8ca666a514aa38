// SPDX-License-Identifier: MIT
#include <abi/vessel.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/boot.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "lib/string.h"

struct cpu cpus[MAX_CPUS]
	__attribute__((section(".bss.pti"))); /* mapped for the entry code (pti.h) */
static int ncpus = 1;
volatile int smp_stopping;

extern char boot_pml4[], ap_tramp_start[], ap_tramp_end[], ap_entry_vessel[];
volatile uint64_t ap_boot_stack;
volatile uint32_t ap_boot_cpu;

int smp_cpu_id(void)
{
	if (!cpus[0].self)
		return 0; /* before arch_cpu_init */
	return this_cpu()->id;
}

int smp_cpu_count(void)
{
	return ncpus;
}

/* QEMU's fw_cfg: the number of CPUs (0 if there is no fw_cfg). */
static uint32_t fwcfg_cpu_count(void)
{
	char sig[4];
	uint16_t n;

	outw(0x510, 0x0000);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(0x511);
	if (memcmp(sig, "QEMU", 4))
		return 0;
	outw(0x510, 0x0005); /* FW_CFG_NB_CPUS */
	n = inb(0x511);
	n |= (uint16_t)(inb(0x511) << 8);
	return n;
}

static int wait_online(int i)
{
	for (int t = 0; t < 2000; t++) {
		if (cpus[i].online)
			return 1;
		udelay(1000);
	}
	return 0;
}

int smp_boot_aps(void)
{
	uint32_t want = boot.kind == BOOT_KIND_VESSEL ? boot.cpu_count : fwcfg_cpu_count();

	if (want > MAX_CPUS) {
		printk("smp: %u CPUs, using the first %d\n", want, MAX_CPUS);
		want = MAX_CPUS;
	}
	if (boot.kind != BOOT_KIND_VESSEL && want > 1 &&
	    text_poke(phys_to_virt(AP_TRAMPOLINE_PHYS), ap_tramp_start,
		      (size_t)(ap_tramp_end - ap_tramp_start)))
		panic("smp: cannot write the AP trampoline");
	for (uint32_t i = 1; i < want; i++) {
		uint64_t stack = pages_alloc(KSTACK_SIZE / PAGE_SIZE);

		if (!stack)
			panic("smp: no memory for cpu %u's stack", i);
		cpus[i].id = (int)i;
		cpus[i].apic_id = i;
		cpus[i].boot_kstack = (uint64_t)phys_to_virt(stack);
		stack = (uint64_t)phys_to_virt(stack) + KSTACK_SIZE;
		if (boot.kind == BOOT_KIND_VESSEL) {
			static struct vessel_hc_cpu_start hc;

			hc.cpu = i;
			hc.rip = (uint64_t)ap_entry_vessel;
			hc.rsp = stack;
			hc.cr3 = (uint64_t)boot_pml4;
			hc.arg = i;
			hc.ret = 0;
			hc_call(VESSEL_HC_CPU_START, &hc);
			if (hc.ret) {
				printk("smp: VESSEL_HC_CPU_START(%u) failed: %ld\n", i, hc.ret);
				continue;
			}
		} else {
			ap_boot_stack = stack;
			ap_boot_cpu = i;
			barrier();
			lapic_start_ap(i);
		}
		if (!wait_online((int)i)) {
			printk("smp: cpu %u did not come up\n", i);
			continue;
		}
		ncpus++;
	}
	return ncpus;
}

void ap_main(int cpu)
{
	struct cpu *c = &cpus[cpu];

	arch_cpu_init(c);
	lapic_init();
	c->apic_id = lapic_id();
	sched_init_cpu(c);
	time_start_tick();
	__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
	sched_idle_loop();
}

void smp_stop_others(void)
{
	if (ncpus > 1) {
		smp_stopping = 1;
		lapic_nmi_others();
	}
}

void smp_send_ipi(int cpu, uint8_t vector)
{
	this_cpu()->cnt.ipis_sent++;
	lapic_send_ipi(cpus[cpu].apic_id, vector);
}
