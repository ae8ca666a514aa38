// SPDX-License-Identifier: MIT
/* TLB shootdowns, lazy TLB mode and the layouts (see tlb.h). */
#include <stddef.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/boot.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/tlb.h"
#include "kernel/vm.h"
#include "kernel/xcall.h"
#include "lib/cmdline.h"
#include "lib/string.h"

void tlb_arch_flush(struct sd_sys *s, int self, uint64_t start, uint64_t end)
{
	(void)s;
	(void)self;
	if (end == SD_FLUSH_ALL) {
		write_cr3(read_cr3());
		return;
	}
	for (uint64_t va = start; va < end; va += PAGE_SIZE)
		invlpg(va);
}

void tlb_arch_load(struct sd_sys *s, int self, struct sd_mm *mm)
{
	struct cpu *c = &cpus[self];
	uint64_t pml4 =
		mm ? ((struct vm *)((char *)mm - offsetof(struct vm, tlb)))->pml4 : kernel_pml4_pa;

	(void)s;
	c->cr3 = pml4;
	write_cr3(pml4);
}

void tlb_init(void)
{
	char v[16];
	int layout = SD_CONSOLIDATED;

	if (cmdline_get(boot.cmdline, "tlb.layout=", v, sizeof(v)) >= 0) {
		if (!strcmp(v, "split"))
			layout = SD_SPLIT;
		else if (strcmp(v, "consolidated"))
			printk("tlb: unknown tlb.layout=%s (split or consolidated): consolidated\n",
			       v);
	}
	xcall_init(layout);
}

void tlb_flush_range(struct vm *vm, uint64_t start, uint64_t end)
{
	struct cpu *c = this_cpu();

	if (sd_shootdown(&xcall_sys, c->id, &vm->tlb, start, end))
		c->cnt.tlb_shootdowns++;
}

void tlb_release(struct vm *vm)
{
	sd_release(&xcall_sys, this_cpu()->id, &vm->tlb);
}

void tlb_switch(struct vm *vm)
{
	sd_switch_mm(&xcall_sys, this_cpu()->id, vm ? &vm->tlb : NULL);
}

int tlb_layout(void)
{
	return xcall_sys.layout;
}

void tlb_set_layout(int layout)
{
	sd_set_layout(&xcall_sys, layout == SD_SPLIT ? SD_SPLIT : SD_CONSOLIDATED);
}

void tlb_report(named_counter_fn *add, struct vessel_stats *s)
{
	struct sd_stats sum;

	memset(&sum, 0, sizeof(sum));
	for (int i = 0; i < SD_MAX_CPUS; i++) {
		const struct sd_stats *st = &xcall_sys.st[i];

		sum.shootdowns += st->shootdowns;
		sum.shootdown_calls += st->shootdown_calls;
		sum.shootdown_kicks += st->shootdown_kicks;
		sum.calls_sent += st->calls_sent;
		sum.kicks += st->kicks;
		sum.lazy_skipped += st->lazy_skipped;
		sum.lazy_catchups += st->lazy_catchups;
		sum.flush_full += st->flush_full;
		sum.flush_range += st->flush_range;
		sum.flush_uptodate += st->flush_uptodate + st->flush_notloaded;
	}
	add(s, "tlb.layout_split", xcall_sys.layout == SD_SPLIT);
	add(s, "tlb.shootdown_calls", sum.shootdown_calls);
	add(s, "tlb.shootdown_ipis", sum.shootdown_kicks);
	add(s, "xcall.sent", sum.calls_sent);
	add(s, "xcall.ipis", sum.kicks);
	add(s, "tlb.lazy_skipped", sum.lazy_skipped);
	add(s, "tlb.lazy_catchups", sum.lazy_catchups);
	add(s, "tlb.flush_full", sum.flush_full);
	add(s, "tlb.flush_range", sum.flush_range);
	add(s, "tlb.flush_uptodate", sum.flush_uptodate);
}
