// SPDX-License-Identifier: MIT
/*
 * The Vessel kernel's main(): a list of init calls, in order, one comment
 * each. Both boot paths (boot.S) arrive here on the BSP, on the boot stack,
 * in the higher half, with interrupts off.
 */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/pti.h"
#include "dev/serial.h"
#include "dev/virtio_blk.h"
#include "kernel/bkl.h"
#include "kernel/boot.h"
#include "kernel/console.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/initrd.h"
#include "kernel/integrity_test.h"
#include "kernel/irq.h"
#include "kernel/jumpswitch.h"
#include "kernel/free_report.h"
#include "kernel/hcb.h"
#include "kernel/page_owner.h"
#include "kernel/kshell.h"
#include "kernel/lookahead.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/priv.h"
#include "kernel/proc.h"
#include "kernel/pttrace.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/tlb.h"
#include "kernel/ubench.h"
#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/string.h"

#ifndef VESSEL_KERNEL_VERSION
#define VESSEL_KERNEL_VERSION "0.1.0"
#endif

void kmain(uint64_t info, uint64_t magic, int kind);

static void banner(void)
{
	uint64_t mib = page_total_count() * PAGE_SIZE >> 20;
	uint64_t us = time_since_boot_ns() / 1000;

	printk("Vessel kernel %s: %d CPU%s, %lu MiB usable RAM, booted in %lu.%03lu ms (%s)\n",
	       VESSEL_KERNEL_VERSION, smp_cpu_count(), smp_cpu_count() > 1 ? "s" : "", mib,
	       us / 1000, us % 1000,
	       boot.kind == BOOT_KIND_VESSEL ? "since VMM start, Vessel boot" :
					       "since kernel entry, Multiboot");
	printk("vessel: ready\n");
}

/* Touches an unmapped address in kernel mode (tests/guest/crash.sh checks the result). */
static void crash_test(void)
{
	printk("crashtest: writing to an unmapped kernel address\n");
	*(volatile uint64_t *)0xdead0000ul = 0x5e55e1;
}

static void start_userspace(void)
{
	char init[VESSEL_BOOT_CMDLINE_MAX];
	char *argv[VESSEL_ARGV_MAX];
	int argc, pid;

	if (cmdline_get_rest(boot.cmdline, "init=", init, sizeof(init)) < 0)
		strlcpy(init, "/init", sizeof(init));
	argc = cmdline_split(init, argv, VESSEL_ARGV_MAX);
	pid = argc ? proc_spawn(NULL, argv[0], argc, argv) : -ENOENT;
	if (pid < 0) {
		printk("init: cannot start %s: error %d\n", argc ? argv[0] : "(empty)", pid);
		kshell_run();
	}
}

void kmain(uint64_t info, uint64_t magic, int kind)
{
	serial_init();			   /* COM1: everything after may print */
	if (boot_parse(info, magic, kind)) /* copy what the loader left us */
		power_off(125);
	idt_init();		 /* the shared IDT (stubs from entry.S) */
	arch_cpu_init(&cpus[0]); /* GDT, TSS, IDT, GS, EFER, syscall MSRs */
	page_alloc_init();	 /* frames from the memory map */
	pttrace_init();		 /* page-table tracing (pttrace=on, docs/sptmodel.md) */
	page_owner_init();	 /* who owns each frame, for the VMM's reports */
	paging_map_user_stub();	 /* the syscall erratum stub page */
	lapic_init();		 /* this CPU's local APIC */
	ioapic_init();		 /* mask every pin and the 8259s */
	cpus[0].apic_id = lapic_id();
	text_patch_init();	  /* code integrity: the patch sites, to the VMM */
	jumpswitch_init();	  /* search trampolines: jumpswitch= */
	irq_init();		  /* the interrupt table and its trampoline */
	time_init();		  /* TSC and LAPIC timer calibration */
	sched_init_cpu(&cpus[0]); /* kmain becomes a kernel thread */
	tlb_init();		  /* cross-CPU calls, TLB shootdowns */
	priv_init();		  /* the privileged mode, its region */
	errata_probe(cmdline_has(boot.cmdline, "noerrata")); /* host errata, docs/kernel.md */
	pti_init(boot.cmdline);	      /* page-table isolation: pti=on|off|auto */
	smp_boot_aps();		      /* every other CPU up, idling */
	paging_drop_identity();	      /* lower half is user space from now */
	console_init();		      /* COM1 receive interrupt */
	time_start_tick();	      /* the BSP's scheduler tick */
	initrd_init();		      /* the file namespace */
	vblk_init();		      /* virtio disks: /dev/vda, ... */
	lookahead_init(boot.cmdline); /* system-call lookahead on/off */
	hcb_init();		      /* the VMM's eBPF callbacks */
	free_report_init();	      /* ... and the round trip they replace */
	banner();		      /* version, CPUs, memory, boot time */
	kernel_enter();		      /* from here on: the big kernel lock */
	if (cmdline_has(boot.cmdline, "crashtest"))
		crash_test(); /* a kernel fault: dump, panic, status 125 */
	if (cmdline_has(boot.cmdline, "ubench")) {
		ubench_report(); /* null-syscall cost per entry path */
		power_off(0);
	}
	if (cmdline_has(boot.cmdline, "textwrite"))
		integrity_textwrite(); /* a write into kernel text (integrity_test.h) */
	if (cmdline_has(boot.cmdline, "secureread"))
		domain_secureread(); /* the root reads the secure domain's memory */
	if (cmdline_has(boot.cmdline, "domainbench"))
		domain_bench(); /* a domain transition's cost */
	if (cmdline_has(boot.cmdline, "patchbench"))
		integrity_patchbench(); /* one text patch's cost */
	if (cmdline_has(boot.cmdline, "privbench")) {
		priv_bench_report(); /* one privileged-mode entry's cost */
		power_off(0);
	}
	/* `selftest=NAME` counts however long NAME is (no buffer: -ENAMETOOLONG) */
	if (cmdline_has(boot.cmdline, "selftest") ||
	    cmdline_get(boot.cmdline, "selftest=", NULL, 0) != -ENOENT)
		selftest_run(); /* TAP, then power off */
	start_userspace();	/* /init (or init=...), else the kernel prompt */
	thread_die();		/* the BSP's idle thread takes over */
}
