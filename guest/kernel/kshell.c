// SPDX-License-Identifier: MIT
#include "kernel/console.h"
#include "kernel/counters.h"
#include "kernel/integrity_test.h"
#include "kernel/mm.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/kshell.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "lib/cmdline.h"
#include "lib/string.h"

static void cmd_stats(void)
{
	struct counters c;

	counters_sum(&c);
	printk("uptime %lu ms, %d CPUs, %lu/%lu pages free\n", time_ns() / 1000000, smp_cpu_count(),
	       page_free_count(), page_total_count());
	printk("syscalls %lu, interrupts %lu, exceptions %lu, page faults %lu\n", c.syscalls,
	       c.interrupts, c.exceptions, c.page_faults);
	printk("context switches %lu, IPIs sent %lu received %lu, timer ticks %lu\n",
	       c.context_switches, c.ipis_sent, c.ipis_received, c.timer_ticks);
}

void kshell_run(void)
{
	char buf[256];
	char *argv[8];

	printk("no /init: kernel prompt (help, stats, poweroff, textpatch, textwrite, "
	       "secureread)\n");
	for (;;) {
		int64_t n;
		int argc;

		printk("vessel> ");
		n = console_read(buf, sizeof(buf) - 1);
		if (n <= 0) {
			if (n == 0) {
				printk("\nend of input: powering off\n");
				power_off(0);
			}
			continue;
		}
		buf[n] = 0;
		argc = cmdline_split(buf, argv, 8);
		if (argc == 0)
			continue;
		if (!strcmp(argv[0], "help"))
			printk("commands: help, stats, poweroff [status], textpatch, textwrite, "
			       "secureread\n");
		else if (!strcmp(argv[0], "stats"))
			cmd_stats();
		else if (!strcmp(argv[0], "textpatch")) /* code integrity (integrity_test.h) */
			integrity_textpatch();
		else if (!strcmp(argv[0], "textwrite"))
			integrity_textwrite();
		else if (!strcmp(argv[0], "secureread"))
			domain_secureread();
		else if (!strcmp(argv[0], "poweroff")) {
			uint64_t st = 0;

			if (argc > 1)
				parse_u64(argv[1], NULL, &st);
			printk("powering off\n");
			power_off((int)st);
		} else
			printk("%s: unknown command (try help)\n", argv[0]);
	}
}
