// SPDX-License-Identifier: MIT
/* Page-table tracing into per-CPU buffers the VMM drains (pttrace.h). */
#include "kernel/pttrace.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "lib/cmdline.h"
#include "lib/string.h"

#include <abi/vessel.h>

#define BUF_PAGES 16 /* 2047 records per CPU between two drains */
#define HC_ENODEV 19 /* the VMM's -ENODEV (Linux value): no --pt-trace */

int pttrace_on;

struct ptbuf {
	struct vessel_pttrace_buf h;
	struct vessel_pt_rec rec[];
};

static struct ptbuf *bufs[MAX_CPUS];
static int busy[MAX_CPUS];		       /* a record in progress (an #MC may interrupt it) */
static struct vessel_hc_pttrace hcs[MAX_CPUS]; /* each CPU's hypercall argument */
static uint32_t seq;

static int64_t call(int cpu, uint32_t op)
{
	struct vessel_hc_pttrace *hc = &hcs[cpu];

	hc->op = op;
	hc->cpu = (uint32_t)cpu;
	hc->buf_gpa = virt_to_phys(bufs[cpu]);
	hc->buf_size = BUF_PAGES * PAGE_SIZE;
	hc->ret = -1;
	hc_call(VESSEL_HC_PTTRACE, hc);
	return hc->ret;
}

static void record(uint8_t kind, uint8_t level, uint64_t addr, uint64_t old_val, uint64_t new_val)
{
	uint64_t flags = read_rflags();
	struct ptbuf *b;
	int cpu;

	irq_disable();
	cpu = this_cpu()->id;
	b = bufs[cpu];
	if (!b || !pttrace_on)
		goto out;
	if (busy[cpu]) {
		b->h.lost++; /* an #MC or NMI interrupted this CPU's own record */
		goto out;
	}
	busy[cpu] = 1;
	if (b->h.count >= b->h.cap) {
		/* the VMM empties it; on a failure it says why on its stderr */
		if (call(cpu, VESSEL_PTTRACE_DRAIN))
			pttrace_on = 0;
	}
	if (b->h.count < b->h.cap) {
		struct vessel_pt_rec *r = &b->rec[b->h.count];

		r->addr = addr;
		r->old_val = old_val;
		r->new_val = new_val;
		r->seq = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
		r->kind = kind;
		r->level = level;
		r->cpu = (uint16_t)cpu;
		barrier(); /* the VMM may read the buffer whenever count says so */
		b->h.count++;
	} else {
		b->h.lost++;
	}
	busy[cpu] = 0;
out:
	if (flags & RFLAGS_IF)
		irq_enable();
}

void pttrace_write(uint64_t entry_pa, int level, uint64_t old_val, uint64_t new_val)
{
	record(VESSEL_PT_WRITE, (uint8_t)level, entry_pa, old_val, new_val);
}

void pttrace_cr3(uint64_t new_cr3)
{
	record(VESSEL_PT_CR3, 0, 0, read_cr3(), new_cr3);
}

void pttrace_invlpg(uint64_t va)
{
	record(VESSEL_PT_INVLPG, 0, va, 0, read_cr3());
}

void pttrace_fault(uint64_t va, uint64_t error)
{
	record(VESSEL_PT_FAULT, 0, va, error, read_cr3());
}

void pttrace_free(uint64_t table_pa, int level)
{
	record(VESSEL_PT_FREE, (uint8_t)level, table_pa, 0, 0);
}

void pttrace_alloc(uint64_t pa, uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++)
		record(VESSEL_PT_ALLOC, 0, pa + i * PAGE_SIZE, 0, 0);
}

void pttrace_init(void)
{
	char val[8];
	int n = (int)boot.cpu_count, ok = 0;

	if (cmdline_get(boot.cmdline, "pttrace=", val, sizeof(val)) < 0 || strcmp(val, "on"))
		return;
	if (!hc_available()) {
		printk("pttrace: needs the Vessel VMM (vessel run --pt-trace FILE)\n");
		return;
	}
	if (n > MAX_CPUS)
		n = MAX_CPUS;
	for (int i = 0; i < n; i++) {
		uint64_t pa = pages_alloc(BUF_PAGES);
		int64_t r;

		if (!pa) {
			printk("pttrace: no memory for cpu %d's buffer\n", i);
			break;
		}
		bufs[i] = phys_to_virt(pa);
		memset(bufs[i], 0, BUF_PAGES * PAGE_SIZE);
		bufs[i]->h.cap =
			(BUF_PAGES * PAGE_SIZE - sizeof(bufs[i]->h)) / sizeof(bufs[i]->rec[0]);
		r = call(i, VESSEL_PTTRACE_REGISTER);
		if (r) {
			printk("pttrace: the VMM refused cpu %d's buffer (error %ld)%s\n", i,
			       (long)r, r == -HC_ENODEV ? ": run vessel with --pt-trace FILE" : "");
			pages_free(pa, BUF_PAGES);
			bufs[i] = NULL;
			break;
		}
		ok++;
	}
	if (ok != n) {
		for (int i = 0; i < ok; i++)
			bufs[i] = NULL; /* the VMM keeps reading them: leave them allocated */
		return;
	}
	__atomic_store_n(&pttrace_on, 1, __ATOMIC_RELEASE);
	printk("pttrace: on, %d CPUs, %u records per buffer\n", n, bufs[0]->h.cap);
}
