// SPDX-License-Identifier: MIT
/*
 * Self-tests of the privileged mode (kernel/priv.h):
 *  - the region is mapped only in the mode: outside, reading it faults (at
 *    PRIV_VA, through the direct map and through the kernel image mapping),
 *    on the CPU that was in the mode as well as on another one; inside, the
 *    privileged code reads its data; a function outside the region is
 *    refused;
 *  - the stop state: while the mode runs, the user programs spinning on the
 *    other CPUs and their interrupt and tick counters do not move; their
 *    timer interrupts come in after the release;
 *  - mutual exclusion: every CPU asks for the mode at once, rounds after
 *    round; never two are in it, every request runs;
 *  - text patching: a CPU calling a kernel function in a loop sees it
 *    change from one version to the other, patched while it was stopped.
 */
#include "abi/syscalls.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fixup.h"
#include "arch/x86_64/priv_map.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/boot.h"
#include "kernel/jumpswitch.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/priv.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/vm.h"
#include "kernel/xcall.h"
#include "lib/errno.h"
#include "lib/string.h"

#define SECRET 0x5ec7e75ec7e7c0deull

/* The test client's own data: in the region, readable only in the mode. */
PRIV_DATA volatile uint64_t priv_test_secret = SECRET;
PRIV_DATA volatile uint64_t priv_test_runs;

enum { OP_PROBE, OP_STOPWATCH, OP_MUTEX };

struct priv_test {
	int op;
	/* OP_PROBE */
	int owner, at_va, at_alias;
	uint64_t secret, runs;
	/* OP_STOPWATCH: the other CPUs' counters before and after a wait */
	int n;
	volatile uint64_t *spin[MAX_CPUS];
	uint64_t spin0[MAX_CPUS], spin1[MAX_CPUS];
	uint64_t irq0[MAX_CPUS], irq1[MAX_CPUS], tick0[MAX_CPUS], tick1[MAX_CPUS];
	uint64_t wait_ns;
};

static volatile int mutex_inside, mutex_max;

/* Snapshots what a running CPU would advance: its user spinner, interrupts, ticks. */
PRIV_TEXT static void snapshot(struct priv_test *t, uint64_t *spin, uint64_t *irq, uint64_t *tick)
{
	for (int i = 0; i < smp_cpu_count(); i++) {
		spin[i] = t->spin[i] ? *t->spin[i] : 0;
		irq[i] = cpus[i].cnt.interrupts;
		tick[i] = cpus[i].ticks;
	}
}

/* The test client: privileged code. */
PRIV_TEXT static void priv_test_fn(void *arg)
{
	struct priv_test *t = arg;
	uint64_t v = 0, alias;
	int in;

	priv_test_runs++;
	switch (t->op) {
	case OP_PROBE:
		t->owner = priv_owner();
		alias = PHYSMAP_BASE + priv_phys() + ((uint64_t)&priv_test_secret - PRIV_VA);
		t->at_va = probe_read_u64((const void *)&priv_test_secret, &v);
		t->secret = v;
		t->at_alias = probe_read_u64((const void *)alias, &v);
		t->runs = priv_test_runs;
		break;
	case OP_STOPWATCH: {
		uint64_t end = time_ns() + t->wait_ns;

		snapshot(t, t->spin0, t->irq0, t->tick0);
		while (time_ns() < end)
			cpu_relax();
		snapshot(t, t->spin1, t->irq1, t->tick1);
		break;
	}
	case OP_MUTEX:
		in = __atomic_add_fetch(&mutex_inside, 1, __ATOMIC_ACQ_REL);
		if (in > mutex_max)
			mutex_max = in;
		for (int i = 0; i < 2000; i++)
			cpu_relax();
		__atomic_sub_fetch(&mutex_inside, 1, __ATOMIC_ACQ_REL);
		break;
	}
}

/* Reads the region outside the mode: at PRIV_VA, direct map, image alias. 0 if all fault. */
static int region_hidden(void)
{
	uint64_t off = (uint64_t)&priv_test_secret - PRIV_VA, v;

	if (probe_read_u64((const void *)&priv_test_secret, &v) != -EFAULT)
		return -1;
	if (probe_read_u64((const void *)(PHYSMAP_BASE + priv_phys() + off), &v) != -EFAULT)
		return -2;
	if (probe_read_u64((const void *)(KERNEL_VMA + priv_phys() + off), &v) != -EFAULT)
		return -3;
	return 0;
}

static void hidden_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s;
	(void)self;
	*(volatile int *)c->arg = region_hidden();
}

static void not_privileged(void *arg)
{
	(void)arg;
}

SELFTEST(priv_region_mapped_only_in_the_mode)
{
	struct priv_test t;
	struct priv_counts c0, c1;
	uint64_t v = 0;
	volatile int hidden = 1;
	int self = this_cpu()->id;

	memset(&t, 0, sizeof(t));
	ST_ASSERT(probe_read_u64(&t.op, &v) == 0); /* the probe reads what is mapped */
	ST_ASSERT(region_hidden() == 0);
	ST_ASSERT(priv_call(not_privileged, NULL) == -EINVAL);
	priv_counts(&c0);
	t.op = OP_PROBE;
	ST_ASSERT(priv_call(priv_test_fn, &t) == 0);
	priv_counts(&c1);
	ST_ASSERT(t.owner == self);
	ST_ASSERT(t.at_va == 0 && t.secret == SECRET); /* mapped in the mode */
	ST_ASSERT(t.at_alias == -EFAULT);	       /* and only at PRIV_VA */
	ST_ASSERT(c1.entries == c0.entries + 1);
	/* gone again: this CPU flushed it (under QEMU a stale entry would read on) */
	ST_ASSERT(region_hidden() == 0);
	ST_ASSERT(priv_owner() == -1);
	if (smp_cpu_count() > 1) {
		struct priv_req r = { priv_test_fn, &t, 0 };
		int other = (self + 1) % smp_cpu_count();

		/* the other CPU in the mode, then the same checks there */
		t.owner = -1;
		ST_ASSERT(priv_request(other, &r) == 0);
		while (!r.done)
			smp_poll();
		ST_ASSERT(t.owner == other && t.at_va == 0 && t.secret == SECRET);
		smp_call(other, hidden_fn, (void *)&hidden);
		ST_ASSERT(hidden == 0);
		ST_ASSERT(region_hidden() == 0);
	}
	return 0;
}

/* ---- the stop state ---- */

extern char tlb_spin_code[], tlb_spin_code_end[];
static struct proc priv_parent;

SELFTEST(priv_stops_every_other_cpu)
{
	static struct priv_test t;
	int self = this_cpu()->id, pids[MAX_CPUS], st;
	struct priv_counts c0, c1;
	uint64_t end;

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < smp_cpu_count(); i++) {
		uint64_t zero = 0;
		int64_t pa;
		struct proc *p;

		pids[i] = 0;
		if (i == self)
			continue;
		pids[i] = proc_spawn_raw(&priv_parent, "privspin", tlb_spin_code,
					 (uint64_t)(tlb_spin_code_end - tlb_spin_code),
					 VESSEL_USER_MMAP_BASE, 0, i);
		ST_ASSERT(pids[i] > 0);
		p = proc_find(pids[i], 0);
		ST_ASSERT(p && vm_map(&p->vm, VESSEL_USER_MMAP_BASE, PAGE_SIZE,
				      VM_READ | VM_WRITE) == 0);
		ST_ASSERT(copy_to_user(&p->vm, VESSEL_USER_MMAP_BASE, &zero, 8) == 0);
		pa = vm_translate(&p->vm, VESSEL_USER_MMAP_BASE);
		ST_ASSERT(pa > 0);
		t.spin[i] = phys_to_virt((uint64_t)pa);
	}
	/* let them run (we hold the BKL: sleep) */
	end = time_ns() + SELFTEST_WAIT_NS;
	for (int i = 0; i < smp_cpu_count(); i++) {
		while (t.spin[i] && *t.spin[i] < 1000 && time_ns() < end)
			sleep_on_until(&t, time_ns() + 2000000ull);
		ST_ASSERT(!t.spin[i] || *t.spin[i] >= 1000);
	}
	t.op = OP_STOPWATCH;
	t.wait_ns = 30000000; /* three timer ticks */
	priv_counts(&c0);
	ST_ASSERT(priv_call(priv_test_fn, &t) == 0);
	priv_counts(&c1);
	for (int i = 0; i < smp_cpu_count(); i++) {
		if (i == self)
			continue;
		printk("# cpu %d in the mode's %lu ms: user spinner +%lu, interrupts +%lu, ticks "
		       "+%lu\n",
		       i, t.wait_ns / 1000000, t.spin1[i] - t.spin0[i], t.irq1[i] - t.irq0[i],
		       t.tick1[i] - t.tick0[i]);
		ST_ASSERT(t.spin1[i] == t.spin0[i]); /* no user code ran */
		ST_ASSERT(t.irq1[i] == t.irq0[i]);   /* no interrupt was taken */
		ST_ASSERT(t.tick1[i] == t.tick0[i]);
	}
	printk("# one entry: %lu IPIs, %lu other CPUs stopped for %lu TSC cycles in all\n",
	       c1.ipis - c0.ipis, c1.stops - c0.stops, c1.stopped_cycles - c0.stopped_cycles);
	ST_ASSERT(c1.entries == c0.entries + 1);
	ST_ASSERT(c1.stops == c0.stops + (uint64_t)smp_cpu_count() - 1);
	/* entry (self-IPI), a stop IPI and a release NMI per other CPU */
	ST_ASSERT(c1.ipis == c0.ipis + 1 + 2 * ((uint64_t)smp_cpu_count() - 1));
	/* after the release the pending timer interrupts come in, the spinners run */
	end = time_ns() + SELFTEST_WAIT_NS;
	for (int i = 0; i < smp_cpu_count(); i++) {
		if (i == self)
			continue;
		while ((cpus[i].cnt.interrupts == t.irq1[i] || *t.spin[i] == t.spin1[i]) &&
		       time_ns() < end)
			smp_poll();
		ST_ASSERT(cpus[i].cnt.interrupts > t.irq1[i] && *t.spin[i] > t.spin1[i]);
	}
	for (int i = 0; i < smp_cpu_count(); i++) {
		struct proc *p = pids[i] > 0 ? proc_find(pids[i], 0) : NULL;

		if (p) {
			proc_kill(p, VESSEL_SIGKILL);
			proc_wait(&priv_parent, pids[i], &st, 0, 1);
		}
	}
	return 0;
}

/* ---- mutual exclusion ---- */

SELFTEST(priv_requests_from_every_cpu_serialise)
{
	static struct priv_test t;
	static struct priv_req req[MAX_CPUS];
	int self = this_cpu()->id, n = smp_cpu_count(), rounds;
	struct priv_counts c0, c1;

	rounds = boot.kind == BOOT_KIND_VESSEL ? 5 : 50;
	memset(&t, 0, sizeof(t));
	t.op = OP_MUTEX;
	mutex_inside = mutex_max = 0;
	jumpswitch_hold(); /* no trampoline rewrite enters the mode meanwhile */
	priv_counts(&c0);
	for (int k = 0; k < rounds; k++) {
		for (int i = 0; i < n; i++) {
			req[i] = (struct priv_req){ priv_test_fn, &t, 0 };
			if (i != self)
				ST_ASSERT(priv_request(i, &req[i]) == 0);
		}
		ST_ASSERT(priv_call(priv_test_fn, &t) == 0);
		for (int i = 0; i < n; i++) {
			uint64_t end = time_ns() + SELFTEST_WAIT_NS;

			while (i != self && !req[i].done && time_ns() < end)
				smp_poll(); /* the others stop us in turn */
			ST_ASSERT(i == self || req[i].done);
		}
	}
	priv_counts(&c1);
	jumpswitch_release();
	printk("# %d rounds of %d CPUs asking at once: %lu entries, %lu waited\n", rounds, n,
	       c1.entries - c0.entries, c1.waits - c0.waits);
	ST_ASSERT(mutex_max == 1);
	ST_ASSERT(c1.entries == c0.entries + (uint64_t)(rounds * n));
	ST_ASSERT(priv_owner() == -1);
	return 0;
}

/* ---- text patching through the mode ---- */

/* Returns 1; patched to return 2 while another CPU keeps calling it. */
static __attribute__((noinline, noipa)) int priv_poke_target(void)
{
	return 1;
}
TEXT_PATCH_SITE(priv_poke_target, priv_poke_target, 6); /* mov $1,%eax; ret */

static volatile int poke_seen2, poke_bad, poke_go;

/* On another CPU: calls the target until it returns 2 (stopping when asked). */
static void call_target_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	int (*volatile fn)(void) = priv_poke_target;

	(void)s;
	(void)self;
	(void)c;
	poke_go = 1;
	for (;;) {
		int v = fn();

		if (v == 2) {
			poke_seen2 = 1;
			return;
		}
		if (v != 1)
			poke_bad++;
		smp_poll();
	}
}

SELFTEST(priv_text_patch_stops_the_world)
{
	static const uint8_t ret2[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3 }; /* mov $2,%eax; ret */
	static struct sd_csd csd;
	uint8_t saved[sizeof(ret2)];
	struct priv_counts c0, c1;
	int other = (this_cpu()->id + 1) % smp_cpu_count();

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	poke_seen2 = poke_bad = poke_go = 0;
	memcpy(saved, (const void *)priv_poke_target, sizeof(saved));
	smp_call_async(other, &csd, call_target_fn, NULL);
	while (!poke_go)
		smp_poll();
	jumpswitch_hold(); /* the only text write is ours */
	priv_counts(&c0);
	ST_ASSERT(text_poke((void *)priv_poke_target, ret2, sizeof(ret2)) == 0);
	priv_counts(&c1);
	jumpswitch_release();
	smp_call_wait(&csd); /* it saw 2 and returned */
	ST_ASSERT(poke_seen2 && !poke_bad);
	ST_ASSERT(c1.entries == c0.entries + 1 && c1.text_writes == c0.text_writes + 1);
	ST_ASSERT(text_poke((void *)priv_poke_target, saved, sizeof(saved)) == 0);
	ST_ASSERT(priv_poke_target() == 1);
	return 0;
}
