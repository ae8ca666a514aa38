// SPDX-License-Identifier: MIT
/* The `stats` builtin's table of kernel counters. */
#include <stdio.h>
#include <string.h>

#include "stats_print.h"

static const char *const syscall_names[VESSEL_SYSCALL_SLOTS] = {
#define NAME(nr, name, n, ...) [nr] = #name,
	VESSEL_SYSCALLS(NAME)
#undef NAME
};

static void cpu_line(const char *label, const struct vessel_cpu_stats *c,
		     const struct vessel_cpu_stats *b)
{
	static const struct vessel_cpu_stats zero;

	if (!b)
		b = &zero;
	printf("%-6s %10llu %10llu %10llu %10llu %10llu %8llu %8llu %8llu\n", label,
	       (unsigned long long)(c->syscalls - b->syscalls),
	       (unsigned long long)(c->interrupts - b->interrupts),
	       (unsigned long long)(c->exceptions - b->exceptions),
	       (unsigned long long)(c->page_faults - b->page_faults),
	       (unsigned long long)(c->context_switches - b->context_switches),
	       (unsigned long long)(c->ipis_sent - b->ipis_sent),
	       (unsigned long long)(c->ipis_received - b->ipis_received),
	       (unsigned long long)(c->timer_ticks - b->timer_ticks));
}

void stats_print(const struct vessel_stats *now, const struct vessel_stats *base)
{
	unsigned ncpus = now->ncpus < VESSEL_STATS_CPUS ? now->ncpus : VESSEL_STATS_CPUS;
	unsigned nsys =
		now->nsyscalls < VESSEL_SYSCALL_SLOTS ? now->nsyscalls : VESSEL_SYSCALL_SLOTS;
	int col = 0;

	printf("uptime %llu.%03llu s, %u CPUs, %llu of %llu pages free, %llu processes\n",
	       (unsigned long long)(now->uptime_ns / 1000000000ull),
	       (unsigned long long)(now->uptime_ns / 1000000ull % 1000), now->ncpus,
	       (unsigned long long)now->pages_free, (unsigned long long)now->pages_total,
	       (unsigned long long)now->nprocs);
	printf("%-6s %10s %10s %10s %10s %10s %8s %8s %8s\n", "", "syscalls", "interrupts",
	       "exceptions", "pagefaults", "switches", "ipi-sent", "ipi-recv", "ticks");
	cpu_line("total", &now->total, base ? &base->total : NULL);
	for (unsigned i = 0; i < ncpus; i++) {
		char label[8];

		snprintf(label, sizeof(label), "cpu%u", i);
		cpu_line(label, &now->cpu[i], base ? &base->cpu[i] : NULL);
	}
	printf("system calls by number:");
	for (unsigned i = 0; i < nsys; i++) {
		uint64_t v = now->syscalls[i] - (base ? base->syscalls[i] : 0);

		if (!v)
			continue;
		printf("%s %s=%llu", col++ % 6 ? "" : "\n ",
		       syscall_names[i] ? syscall_names[i] : "?", (unsigned long long)v);
	}
	printf("\n");
	for (uint32_t i = 0; i < now->nnamed && i < VESSEL_STATS_NAMED; i++) {
		char name[VESSEL_STATS_NAME_MAX + 1];
		uint64_t v = now->named[i].value;

		memcpy(name, now->named[i].name, VESSEL_STATS_NAME_MAX);
		name[VESSEL_STATS_NAME_MAX] = '\0';
		if (base && i < base->nnamed &&
		    !memcmp(base->named[i].name, now->named[i].name, VESSEL_STATS_NAME_MAX))
			v -= base->named[i].value;
		printf("  %-24s %llu\n", name, (unsigned long long)v);
	}
}
