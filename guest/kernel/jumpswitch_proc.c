// SPDX-License-Identifier: MIT
/*
 * Per-process trampolines (jumpswitch_proc.h, docs/jumpswitch.md).
 *
 * Write protocol: a learning step rewrites the region of process p only
 * when p has exactly one live thread, the one taking the step. The region
 * is mapped only in p's address space and entered only from a system call
 * of one of p's threads, so no CPU is executing it while it changes. The
 * writing CPU serialises in text_poke (cpuid). Any CPU that runs the region
 * later runs it in a system call of one of p's threads, which it entered
 * from user mode after an iretq (thread start, return from a system call
 * or interrupt, after a migration): serialising, and after the write.
 * Steps of a process with more threads are skipped (counted); its region
 * stays as it is, which is always correct: an entry jumps to the very
 * function the indirect call would have called, or the call misses.
 */
#include "kernel/jumpswitch_proc.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/boot.h"
#include "kernel/jumpswitch.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/string.h"

#define JSP_DEFAULT_PERIOD 64

static int regions_on = 1; /* jumpswitch.fd=off: no regions, retpolined calls */
static int entries;
static uint32_t period = JSP_DEFAULT_PERIOD;
static uint64_t dead_calls, dead_misses, dead_rewrites; /* of freed regions */

/*
 * The fixed first trampoline (arch/x86_64/jumpswitch.S): jmp JS_PROC_VA.
 * fn in %rcx is what the region compares; misses (%r8) is the caller's
 * process's miss count, passed through to the miss path.
 */
int64_t js_proc_entry(struct fd *f, uint64_t buf, uint64_t len, fd_op_fn *fn, uint64_t *misses);

/* The miss path every region ends in: the retpolined call. */
int64_t jsp_miss(struct fd *f, uint64_t buf, uint64_t len, fd_op_fn *fn, uint64_t *misses);

int64_t jsp_miss(struct fd *f, uint64_t buf, uint64_t len, fd_op_fn *fn, uint64_t *misses)
{
	(*misses)++;
	return fn(f, buf, len); /* retpolined */
}

void jsp_init(void)
{
	char val[8];

	if (cmdline_get(boot.cmdline, "jumpswitch.fd=", val, sizeof(val)) >= 0 &&
	    !strcmp(val, "off"))
		regions_on = 0;
	entries = (int)jumpswitch_param(
		"jumpswitch.fd.entries=", (uint64_t)jumpswitch_default_entries(), JSW_MAX_ENTRIES);
	period = (uint32_t)jumpswitch_param("jumpswitch.fd.period=", JSP_DEFAULT_PERIOD, 1u << 30);
	if (!period)
		period = 1;
	printk("jumpswitch: per-process table fd: %s, %d entries, learning every %u calls of a "
	       "process\n",
	       jumpswitch_on && regions_on ? "on" : "off", entries, period);
}

/* Emits the trampoline for keys[0..n) and writes it into p's region. 0 or -errno. */
static int write_region(struct js_proc *j, const uint32_t *keys, int n)
{
	uint8_t code[JSW_PTR_CODE_BYTES(JSW_MAX_ENTRIES)];
	uint64_t targets[JSW_MAX_ENTRIES];
	int len;

	for (int i = 0; i < n; i++)
		targets[i] = (uint64_t)fd_ops[keys[i]];
	len = jsw_emit_ptr(code, sizeof(code), JS_PROC_VA, targets, n, (uint64_t)jsp_miss);
	if (len < 0)
		return len;
	/* the region's frame through the direct map: a code page (text_patch.h) */
	return text_poke(phys_to_virt(j->page), code, (size_t)len);
}

int jsp_create(struct proc *p)
{
	struct js_proc *j = &p->jsp;
	uint64_t pa;
	int r;

	memset(j, 0, sizeof(*j));
	if (!jumpswitch_on || !regions_on)
		return 0;
	pa = page_alloc_zeroed();
	if (!pa)
		return -ENOMEM;
	j->page = pa;
	r = write_region(j, NULL, 0); /* nothing learned: every call misses */
	if (!r)
		r = pt_map_private(p->vm.pml4, JS_PROC_VA, pa);
	if (r) {
		page_free(pa);
		j->page = 0;
		return r == -ENOMEM ? r : -ENOMEM;
	}
	j->countdown = period;
	return 0;
}

static uint64_t calls_of(const struct js_proc *j)
{
	uint64_t n = 0;

	for (int k = 0; k < JSP_NKEYS; k++)
		n += j->count[k];
	return n;
}

void jsp_free(struct proc *p)
{
	struct js_proc *j = &p->jsp;

	if (!j->page)
		return;
	dead_calls += calls_of(j);
	dead_misses += j->misses;
	dead_rewrites += j->rewrites;
	pt_unmap_private(p->vm.pml4, JS_PROC_VA);
	page_free(j->page);
	j->page = 0;
}

/* A learning step of p's region, by its thread that just made a call. */
static __attribute__((noinline, cold)) void step(struct proc *p)
{
	struct js_proc *j = &p->jsp;
	uint64_t delta[JSP_NKEYS];
	uint32_t hot[JSW_MAX_ENTRIES];
	int n;

	j->countdown = period;
	for (int k = 0; k < JSP_NKEYS; k++) {
		delta[k] = j->count[k] - j->seen[k];
		j->seen[k] = j->count[k];
	}
	if (p->nthreads != 1) {
		j->skipped++; /* another thread may be in the region */
		return;
	}
	n = jsw_pick_hot(delta, JSP_NKEYS, entries, hot);
	if (n < 0)
		n = 0;
	if (jsw_same_keys(hot, n, j->live, j->nlive))
		return;
	if (write_region(j, hot, n)) {
		printk("jumpswitch: cannot write the region of pid %d; keeping the old one\n",
		       p->pid);
		return;
	}
	memcpy(j->live, hot, (size_t)n * sizeof(hot[0]));
	j->nlive = n;
	j->rewrites++;
}

int64_t jsp_call(struct proc *p, uint32_t key, struct fd *f, uint64_t buf, uint64_t len)
{
	struct js_proc *j = &p->jsp;
	int64_t r;

	if (!j->page)
		return fd_ops[key](f, buf, len); /* retpolined */
	j->count[key]++;
	r = js_proc_entry(f, buf, len, fd_ops[key], &j->misses);
	if (!--j->countdown)
		step(p);
	return r;
}

void jsp_report(named_counter_fn *add, struct vessel_stats *s)
{
	uint64_t calls = dead_calls, misses = dead_misses, rewrites = dead_rewrites, regions = 0;
	struct proc *self = current_proc();
	const struct js_proc *j;
	uint64_t keys = 0;

	for (struct proc *p = proc_list(); p; p = p->next) {
		j = &p->jsp;
		if (!j->page)
			continue;
		calls += calls_of(j);
		misses += j->misses;
		rewrites += j->rewrites;
		regions++;
	}
	add(s, "jumpswitch.fd.hits", calls - misses);
	add(s, "jumpswitch.fd.misses", misses);
	add(s, "jumpswitch.fd.rewrites", rewrites);
	add(s, "jumpswitch.fd.regions", regions);
	if (!self)
		return;
	j = &self->jsp;
	for (int i = 0; i < j->nlive; i++)
		keys |= 1ull << j->live[i];
	add(s, "jsproc.hits", calls_of(j) - j->misses);
	add(s, "jsproc.misses", j->misses);
	add(s, "jsproc.relearn", j->rewrites);
	add(s, "jsproc.skipped", j->skipped);
	add(s, "jsproc.entries", (uint64_t)j->nlive);
	add(s, "jsproc.keys", keys);
}
