// SPDX-License-Identifier: MIT
/*
 * The guest round trip that hyper-callbacks are measured against (the
 * virtio-balloon free-page-hint pattern): the VMM raises ISA IRQ
 * VESSEL_FREE_REPORT_IRQ, the kernel builds a bitmap of its free frames and
 * answers with VESSEL_HC_FREE_REPORT. Only on the Vessel VMM.
 */
#include "kernel/free_report.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/deferred.h"
#include "kernel/irq.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"

#include <abi/vessel.h>

static uint64_t *report;     /* the free bitmap handed to the VMM */
static uint64_t report_words;
static struct vessel_hc_free_report hc;

/* With the BKL: invert the allocator's bitmap into the report and answer. */
static void answer(void)
{
	uint64_t pa, bytes, nframes;
	const uint64_t *bitmap;

	page_alloc_bitmap(&pa, &bytes, &nframes);
	bitmap = phys_to_virt(pa);
	for (uint64_t w = 0; w < report_words; w++)
		report[w] = ~__atomic_load_n(&bitmap[w], __ATOMIC_RELAXED);
	hc.bitmap_gpa = virt_to_phys(report);
	hc.nframes = report_words * 64;
	hc_call(VESSEL_HC_FREE_REPORT, &hc);
}

static struct deferred_work answer_work = DEFERRED_WORK_INIT(answer);

static void report_irq(struct trapframe *tf)
{
	deferred_raise(&answer_work); /* the allocator needs the BKL */
}

void free_report_init(void)
{
	uint64_t pa, bytes, nframes, pages;
	int vec;

	if (!hc_available())
		return;
	page_alloc_bitmap(&pa, &bytes, &nframes);
	report_words = (nframes + 63) / 64;
	pages = (report_words * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
	pa = pages_alloc(pages);
	if (!pa)
		return;
	report = phys_to_virt(pa);
	deferred_register(&answer_work);
	vec = irq_alloc(report_irq);
	if (vec < 0) {
		printk("free-report: no interrupt vector (error %d)\n", vec);
		return;
	}
	ioapic_route(VESSEL_FREE_REPORT_IRQ, (uint8_t)vec, cpus[0].apic_id);
}
