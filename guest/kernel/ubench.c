// SPDX-License-Identifier: MIT
#include <stddef.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/compat.h"
#include "kernel/counters.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/ubench.h"
#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/string.h"

extern char ubench_code[], ubench_code_end[], ubench32_code[], ubench32_code_end[];

static struct proc ubench_parent;

int64_t ubench_run(enum ubench_path path, uint64_t n, uint64_t *syscalls_ud)
{
	struct thread *self = current_thread();
	int cpu = this_cpu()->id, pid, st = 0;
	uint64_t trace[2] = { 0, 0 };
	struct counters c0, c1;
	struct proc *p;

	/* both threads on this CPU: LSTAR is per CPU */
	self->pinned = cpu;
	if (path == UBENCH_SYSCALL_UD2)
		arch_set_syscall_entry(1);
	counters_sum(&c0);
	if (path == UBENCH_INT80_32)
		pid = proc_spawn_raw(&ubench_parent, "ubench32", ubench32_code,
				     (uint64_t)(ubench32_code_end - ubench32_code), n, 0, cpu);
	else
		pid = proc_spawn_raw(&ubench_parent, "ubench", ubench_code,
				     (uint64_t)(ubench_code_end - ubench_code), n,
				     path == UBENCH_WRITE ? 2 : path == UBENCH_INT80, cpu);
	p = pid > 0 ? proc_find(pid, 0) : NULL;
	if (p && path == UBENCH_INT80_32)
		compat_make_32bit(p); /* not run yet: pinned here, BKL held */
	if (p)
		p->tsc_trace = trace;
	if (pid > 0)
		pid = proc_wait(&ubench_parent, pid, &st, 0, 1);
	counters_sum(&c1);
	if (path == UBENCH_SYSCALL_UD2)
		arch_set_syscall_entry(errata.syscall_priv);
	self->pinned = -1;
	if (pid < 0)
		return pid;
	if (st != 0 || !trace[1] || trace[1] < trace[0])
		return -EIO;
	if (syscalls_ud)
		*syscalls_ud = c1.syscalls_ud - c0.syscalls_ud;
	return (int64_t)((trace[1] - trace[0]) / n);
}

/* The minimum of 5 runs of 2000 round trips through path, or -errno. */
static int64_t best_of_5(enum ubench_path path)
{
	int64_t best = -1;

	for (int i = 0; i < 5; i++) {
		int64_t r = ubench_run(path, 2000, NULL);

		if (r >= 0 && (best < 0 || r < best))
			best = r;
		else if (r < 0 && best < 0)
			best = r;
	}
	return best;
}

void ubench_report(void)
{
	static const char *const names[] = { "syscall (probe's choice)", "syscall via ud2 stub",
					     "int $0x80", "int $0x80, 32-bit process" };
	char val[8];

	if (cmdline_get(boot.cmdline, "ubench=", val, sizeof(val)) >= 0 && !strcmp(val, "write")) {
		printk("ubench: write(1, NULL, 0) round trip (syscall), TSC ticks per call, min of "
		       "5 x 2000\n");
		printk("ubench: write %ld\n", best_of_5(UBENCH_WRITE));
		return;
	}
	printk("ubench: null syscall (getpid) round trip, TSC ticks per call, min of 5 x 2000;\n"
	       "ubench: under QEMU -icount shift=0 one tick is one guest instruction\n");
	for (int path = 0; path < 4; path++) {
		struct counters c0, c1;
		int64_t best;

		counters_sum(&c0);
		best = best_of_5((enum ubench_path)path);
		counters_sum(&c1);
		printk("ubench: %-26s %ld\n", names[path], best);
		/* each switched entry is two CR3 writes: in, and out on its exit */
		printk("ubench-pti: %s: %lu calls, entries from user: %lu with a page-table "
		       "switch, %lu without\n",
		       names[path], 5 * 2000ul, c1.pti_entries_switched - c0.pti_entries_switched,
		       c1.pti_entries_unswitched - c0.pti_entries_unswitched);
	}
}
