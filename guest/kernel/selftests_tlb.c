// SPDX-License-Identifier: MIT
/*
 * Self-tests of cross-CPU calls and TLB shootdowns (kernel/xcall.h,
 * kernel/tlb.h, lib/shootdown.h):
 *  - calls run in the order one CPU queued them, each acknowledged only
 *    after it ran, also with calls sent from inside calls and with every
 *    CPU sending at once;
 *  - user threads on every other CPU read (or write) a page while the
 *    kernel unmaps (or write-protects) it: the first access each thread
 *    begins after the shootdown returned faults, round after round, in both
 *    layouts (tlb.rounds=N; default 1000 under QEMU, 50 under Vessel, where
 *    kernel code is emulated);
 *  - lazy TLB mode: a shootdown skips an idle CPU holding the space, which
 *    flushes when its thread comes back, and freeing the space takes it away
 *    from that CPU;
 *  - the cache lines one shootdown touches, per CPU, in both layouts.
 * Under Vessel (PVM's shadow paging) a stale translation cannot be
 * observed, so there the page checks cannot catch a missing flush; QEMU TCG
 * keeps TLB entries until a flush and does.
 */
#include "abi/syscalls.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/bkl.h"
#include "kernel/boot.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/tlb.h"
#include "kernel/vm.h"
#include "kernel/xcall.h"
#include "lib/cmdline.h"
#include "lib/string.h"

#define WATCH VESSEL_USER_MMAP_BASE /* the page under test (arch/x86_64/tlbtest.S) */
#define CTL   (WATCH + PAGE_SIZE)   /* the threads' records */

extern char tlbt_rw_code[], tlbt_rw_code_end[], tlbt_write_insn[];
extern char tlbt_sleep_code[], tlbt_sleep_code_end[];

static struct proc tlbt_parent;

/* A thread's record in the CTL page (tlbtest.S). */
struct tlbt_rec {
	uint64_t attempts, last_stale, done, pad[5];
};

typedef int cond_fn(void *arg);

/*
 * Drops the BKL and spins (answering other CPUs) until cond(arg) holds or
 * timeout_ms passed, then takes the BKL again. Returns cond(arg) then. The
 * timeout only catches a hang; it never decides a pass.
 */
static int wait_unlocked(cond_fn *cond, void *arg, uint64_t timeout_ms)
{
	uint64_t end = time_ns() + timeout_ms * 1000000ull;

	kernel_unlock();
	while (!cond(arg) && time_ns() < end) {
		smp_poll();
		cpu_relax();
	}
	kernel_enter();
	return cond(arg);
}

static int never(void *arg)
{
	(void)arg;
	return 0;
}

static int rounds(void)
{
	char v[16];
	uint64_t n;

	if (cmdline_get(boot.cmdline, "tlb.rounds=", v, sizeof(v)) > 0 &&
	    parse_u64(v, NULL, &n) == 0 && n > 0 && n < 1000000)
		return (int)n;
	return boot.kind == BOOT_KIND_VESSEL ? 50 : 1000;
}

/* ---- cross-CPU calls ---- */

#define XC_LOG 32
static volatile uint32_t xc_log[SD_MAX_CPUS][XC_LOG], xc_n[SD_MAX_CPUS];

static void log_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s;
	if (xc_n[self] < XC_LOG)
		xc_log[self][xc_n[self]] = (uint32_t)(uint64_t)c->arg;
	xc_n[self]++;
}

static void pong_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s;
	(void)self;
	(*(volatile int *)c->arg)++;
}

/* Runs on the target: calls the sender back and waits, inside a call. */
static void ping_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s;
	(void)self;
	smp_call((int)c->src, pong_fn, c->arg);
}

SELFTEST(xcall_order_ack_nested)
{
	static struct sd_csd csd[XC_LOG];
	int self = this_cpu()->id;

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	for (int cpu = 0; cpu < smp_cpu_count(); cpu++) {
		volatile int pongs = 0;

		if (cpu == self)
			continue;
		xc_n[cpu] = 0;
		for (int i = 0; i < XC_LOG; i++)
			smp_call_async(cpu, &csd[i], log_fn, (void *)(uint64_t)i);
		for (int i = 0; i < XC_LOG; i++) {
			smp_call_wait(&csd[i]);
			ST_ASSERT(xc_n[cpu] >= (uint32_t)i + 1); /* acked only after it ran */
		}
		ST_ASSERT(xc_n[cpu] == XC_LOG);
		for (int i = 0; i < XC_LOG; i++)
			ST_ASSERT(xc_log[cpu][i] == (uint32_t)i); /* in the order sent */
		/* the target calls us back from inside our call: we answer while waiting */
		smp_call(cpu, ping_fn, (void *)&pongs);
		ST_ASSERT(pongs == 1);
	}
	return 0;
}

/* Every CPU sends numbered calls to every other at once; each target checks the order. */
#define STORM_CPUS   4
#define STORM_WINDOW 8
static struct sd_csd storm_csd[STORM_CPUS][STORM_CPUS][STORM_WINDOW];
static struct sd_csd storm_start[STORM_CPUS];
static volatile uint32_t storm_last[STORM_CPUS][STORM_CPUS], storm_bad, storm_calls;
static int storm_cpus, storm_n;

static void storm_seq_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	uint32_t src = c->src, k = (uint32_t)(uint64_t)c->arg;

	(void)s;
	if (k != storm_last[self][src] + 1)
		storm_bad++;
	storm_last[self][src] = k;
	__atomic_add_fetch(&storm_calls, 1, __ATOMIC_RELAXED);
}

static void storm_send(int self)
{
	for (int k = 1; k <= storm_n; k++) {
		for (int cpu = 0; cpu < storm_cpus; cpu++) {
			struct sd_csd *c = &storm_csd[self][cpu][k % STORM_WINDOW];

			if (cpu == self)
				continue;
			smp_call_wait(c);
			smp_call_async(cpu, c, storm_seq_fn, (void *)(uint64_t)k);
		}
	}
	for (int cpu = 0; cpu < storm_cpus; cpu++) {
		for (int w = 0; w < STORM_WINDOW; w++)
			smp_call_wait(&storm_csd[self][cpu][w]);
	}
}

static void storm_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s;
	(void)c;
	storm_send(self);
}

SELFTEST(xcall_all_cpus_send_at_once)
{
	int self = this_cpu()->id;
	uint32_t want;

	storm_cpus = smp_cpu_count() < STORM_CPUS ? smp_cpu_count() : STORM_CPUS;
	if (storm_cpus < 2 || self >= storm_cpus)
		return selftest_skip("fewer than two CPUs");
	storm_n = boot.kind == BOOT_KIND_VESSEL ? 20 : 300;
	memset((void *)storm_last, 0, sizeof(storm_last));
	storm_bad = storm_calls = 0;
	for (int cpu = 0; cpu < storm_cpus; cpu++) {
		if (cpu != self)
			smp_call_async(cpu, &storm_start[cpu], storm_fn, NULL);
	}
	storm_send(self);
	for (int cpu = 0; cpu < storm_cpus; cpu++) {
		if (cpu != self)
			smp_call_wait(&storm_start[cpu]);
	}
	want = (uint32_t)(storm_cpus * (storm_cpus - 1) * storm_n);
	printk("# %d CPUs sent %u numbered calls to each other\n", storm_cpus, want);
	ST_ASSERT(storm_calls == want);
	ST_ASSERT(storm_bad == 0);
	for (int t = 0; t < storm_cpus; t++) {
		for (int src = 0; src < storm_cpus; src++)
			ST_ASSERT(storm_last[t][src] == (src == t ? 0u : (uint32_t)storm_n));
	}
	return 0;
}

/* ---- threads on every other CPU against unmap / write-protect ---- */

struct stress {
	int pid, n, mode; /* n threads, mode 0 read, 1 write */
	struct proc *p;
	struct thread *t[SD_MAX_CPUS];
	int cpu[SD_MAX_CPUS];
	volatile struct tlbt_rec *rec;
	uint64_t a0[SD_MAX_CPUS], stuck[SD_MAX_CPUS];
};

static int all_started(void *arg)
{
	struct stress *s = arg;

	for (int r = 0; r < s->n; r++) {
		if (s->rec[r].done < 2)
			return 0;
	}
	return 1;
}

/* Starts a process with one thread pinned to each other CPU. 0 or -1. */
static int stress_start(struct stress *s, int mode)
{
	int self = this_cpu()->id;
	int64_t pa;

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	for (int cpu = 0; cpu < smp_cpu_count(); cpu++) {
		uint64_t arg = (uint64_t)s->n | ((uint64_t)mode << 8);
		struct thread *t;

		if (cpu == self)
			continue;
		if (s->n == 0) {
			uint64_t zero[2] = { 0, 0 };

			s->pid = proc_spawn_raw(
				&tlbt_parent, mode ? "tlbwrite" : "tlbread", tlbt_rw_code,
				(uint64_t)(tlbt_rw_code_end - tlbt_rw_code), arg, 0, cpu);
			s->p = s->pid > 0 ? proc_find(s->pid, 0) : NULL;
			/* it cannot run before we let go of the BKL */
			if (!s->p || vm_map(&s->p->vm, WATCH, 2 * PAGE_SIZE, VM_READ | VM_WRITE) ||
			    copy_to_user(&s->p->vm, WATCH, zero, 8) ||
			    copy_to_user(&s->p->vm, CTL, zero, 8))
				return -1;
			t = s->p->threads;
		} else {
			if (proc_thread_add(s->p, VESSEL_USER_IMAGE_BASE, arg, 0) <= 0)
				return -1;
			t = s->p->threads; /* the newest is first */
			t->pinned = cpu;
			sched_migrate(t);
		}
		s->t[s->n] = t;
		s->cpu[s->n] = cpu;
		s->n++;
	}
	pa = vm_translate(&s->p->vm, CTL);
	if (pa < 0)
		return -1;
	s->rec = phys_to_virt((uint64_t)pa);
	return wait_unlocked(all_started, s, 5000) ? 0 : -1;
}

static void stress_stop(struct stress *s)
{
	int st = 0;

	if (!s->p)
		return;
	proc_kill(s->p, VESSEL_SIGKILL);
	proc_wait(&tlbt_parent, s->pid, &st, 0, 1);
	s->p = NULL;
}

/* Page faults taken on the threads' CPUs so far. */
static uint64_t stress_faults(struct stress *s)
{
	uint64_t n = 0;

	for (int r = 0; r < s->n; r++)
		n += cpus[s->cpu[r]].cnt.page_faults;
	return n;
}

/* Every thread completed an access it began after a0 was read. */
static int all_done_after(void *arg)
{
	struct stress *s = arg;

	for (int r = 0; r < s->n; r++) {
		if (s->rec[r].done < s->a0[r] + 1)
			return 0;
	}
	return 1;
}

/*
 * One unmap round: the readers see `mark` in the page; its PTE goes (the
 * frame is kept, so a stale translation would still read mark), then the
 * shootdown. Every read begun after it returned must fault and get a fresh
 * zero page instead.
 */
static int unmap_round(struct stress *s, uint64_t mark)
{
	struct vm *vm = &s->p->vm;
	uint64_t *pte = pt_lookup(vm->pml4, WATCH), frame;
	volatile uint64_t *old;
	int ok;

	ST_ASSERT(pte && (*pte & PTE_P));
	frame = *pte & PTE_ADDR;
	old = phys_to_virt(frame);
	for (int r = 0; r < s->n; r++)
		old[r] = mark;
	*pte = 0;
	vm->pages--;
	tlb_flush_range(vm, WATCH, WATCH + PAGE_SIZE);
	for (int r = 0; r < s->n; r++)
		s->a0[r] = s->rec[r].attempts;
	ok = wait_unlocked(all_done_after, s, 5000);
	for (int r = 0; r < s->n; r++) {
		if (s->rec[r].last_stale > s->a0[r]) {
			printk("# cpu %d: read %d began after the unmap returned and saw the old "
			       "page\n",
			       s->cpu[r], (int)(s->rec[r].last_stale - s->a0[r]));
			ST_ASSERT(!"a read begun after the unmap used the old translation");
		}
	}
	page_free(frame); /* nobody can reach it any more */
	ST_ASSERT(ok);
	return 0;
}

/* Thread r is stuck in the page fault of its write number rec.attempts. */
static int in_write_fault(struct stress *s, int r)
{
	const volatile struct trapframe *tf = s->t[r]->tf;
	uint64_t rip = VESSEL_USER_IMAGE_BASE + (uint64_t)(tlbt_write_insn - tlbt_rw_code);

	return tf->vector == 14 && tf->rip == rip && (tf->error & 2) &&
	       tf->rax == s->rec[r].attempts;
}

static int all_resolved(void *arg)
{
	struct stress *s = arg;

	for (int r = 0; r < s->n; r++) {
		if (s->rec[r].done < s->stuck[r])
			return 0;
	}
	return 1;
}

/*
 * One write-protect round: W goes from the PTE, then the shootdown. With
 * the BKL held no fault can be served, so each writer's first write begun
 * after the return must stop in its page fault (seen in its trap frame)
 * without completing. Then W comes back and the writers go on (their fault
 * finds a writable PTE: a stale-TLB retry).
 */
static int wp_round(struct stress *s)
{
	struct vm *vm = &s->p->vm;
	uint64_t *pte = pt_lookup(vm->pml4, WATCH);

	ST_ASSERT(pte && (*pte & PTE_P) && (*pte & PTE_W));
	*pte &= ~PTE_W;
	tlb_flush_range(vm, WATCH, WATCH + PAGE_SIZE);
	for (int r = 0; r < s->n; r++)
		s->a0[r] = s->rec[r].attempts;
	for (int r = 0; r < s->n; r++) {
		uint64_t end = time_ns() + SELFTEST_WAIT_NS;

		while (!in_write_fault(s, r) && s->rec[r].done <= s->a0[r] && time_ns() < end) {
			smp_poll();
			cpu_relax();
		}
		if (s->rec[r].done > s->a0[r]) {
			printk("# cpu %d: write %lu began after the write-protect returned and "
			       "completed\n",
			       s->cpu[r], s->rec[r].done);
			ST_ASSERT(
				!"a write begun after the write-protect used the old translation");
		}
		ST_ASSERT(in_write_fault(s, r));
		s->stuck[r] = s->rec[r].attempts;
	}
	*pte |= PTE_W;
	ST_ASSERT(wait_unlocked(all_resolved, s, 5000));
	return 0;
}

SELFTEST(tlb_unmap_and_wp_fault_every_time)
{
	static const int layouts[2] = { SD_CONSOLIDATED, SD_SPLIT };
	static const char *const kinds[2] = { "unmap", "write-protect" };
	int boot_layout = tlb_layout(), n = rounds(), r = 0;
	uint64_t mark = 0x5a5a0000;
	struct stress s;

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	for (int mode = 0; mode < 2 && !r; mode++) {
		if (stress_start(&s, mode)) {
			stress_stop(&s);
			ST_ASSERT(!"could not start the threads");
		}
		for (int li = 0; li < 2 && !r; li++) {
			uint64_t f0 = stress_faults(&s), t0 = time_ns();

			tlb_set_layout(layouts[li]);
			for (int i = 0; i < n && !r; i++)
				r = mode ? wp_round(&s) : unmap_round(&s, ++mark);
			printk("# %s, %s layout: %d rounds x %d threads, %lu faults, %lu ms\n",
			       kinds[mode], sd_layout_name(layouts[li]), n, s.n,
			       stress_faults(&s) - f0, (time_ns() - t0) / 1000000);
			/*
			 * every round, every writer took its fault; of the
			 * readers, the first one's fault maps the new page for all
			 */
			if (!r && stress_faults(&s) - f0 < (uint64_t)n * (mode ? (uint64_t)s.n : 1))
				r = -1;
		}
		stress_stop(&s);
	}
	tlb_set_layout(boot_layout);
	ST_ASSERT(r == 0);
	return 0;
}

/* ---- the lines one shootdown touches ---- */

SELFTEST(tlb_lines_touched_per_layout)
{
	static struct sd_trace tr;
	int boot_layout = tlb_layout(), self = this_cpu()->id;
	struct stress s;
	int counts[2][2] = { { 0, 0 }, { 0, 0 } };

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	if (stress_start(&s, 0)) {
		stress_stop(&s);
		ST_ASSERT(!"could not start the threads");
	}
	for (int layout = SD_CONSOLIDATED; layout <= SD_SPLIT; layout++) {
		tlb_set_layout(layout);
		tlb_flush_range(&s.p->vm, WATCH, WATCH + PAGE_SIZE); /* warm */
		memset(&tr, 0, sizeof(tr));
		xcall_sys.trace = &tr;
		tlb_flush_range(&s.p->vm, WATCH, WATCH + PAGE_SIZE);
		xcall_sys.trace = NULL;
		for (int cpu = 0; cpu < smp_cpu_count(); cpu++) {
			char names[160], b[24];
			size_t at = 0;

			names[0] = 0;
			for (uint32_t i = 0; i < tr.cpu[cpu].n; i++) {
				sd_line_name(&xcall_sys, tr.cpu[cpu].line[i], b, sizeof(b));
				at += strlcpy(names + at, b, sizeof(names) - at);
				if (at < sizeof(names) - 1)
					at += strlcpy(names + at, " ", sizeof(names) - at);
				if (at >= sizeof(names))
					at = sizeof(names) - 1;
			}
			printk("# %s: cpu %d (%s): %u lines: %s\n", sd_layout_name(layout), cpu,
			       cpu == self ? "initiator" : "responder", tr.cpu[cpu].n, names);
			ST_ASSERT(!tr.cpu[cpu].overflow);
			if (cpu == self)
				counts[layout][0] = (int)tr.cpu[cpu].n;
			else if (!counts[layout][1])
				counts[layout][1] = (int)tr.cpu[cpu].n;
			else
				ST_ASSERT(counts[layout][1] == (int)tr.cpu[cpu].n);
		}
	}
	tlb_set_layout(boot_layout);
	stress_stop(&s);
	/*
	 * The initiator is a kernel thread here (it does not run the space):
	 * consolidated mm + tlbstate[self] + N x (queue, csd) = 2 + 2N lines;
	 * split adds its flush record and N x the target's tlbstate.
	 */
	ST_ASSERT(counts[SD_CONSOLIDATED][0] == 2 + 2 * s.n);
	ST_ASSERT(counts[SD_SPLIT][0] == 3 + 3 * s.n);
	ST_ASSERT(counts[SD_CONSOLIDATED][1] == 3); /* queue, csd, tlbstate */
	ST_ASSERT(counts[SD_SPLIT][1] == 4);	    /* ... and the flush record */
	return 0;
}

/* ---- lazy TLB mode ---- */

struct lazy {
	struct proc *p;
	int cpu;
	struct sd_mm *mm;
	volatile uint64_t *counter; /* the thread's increments (direct map) */
};

/* With the BKL held (nothing can switch): cpu is idle, lazily holding mm. */
static int lazy_now(struct lazy *l)
{
	return sd_is_lazy(&xcall_sys, l->cpu) && sd_loaded_mm(&xcall_sys, l->cpu) == l->mm &&
	       cpus[l->cpu].current == cpus[l->cpu].idle;
}

static int wait_lazy(struct lazy *l)
{
	uint64_t end = time_ns() + SELFTEST_WAIT_NS;

	while (!lazy_now(l)) {
		if (time_ns() > end)
			return -1;
		wait_unlocked(never, NULL, 1);
	}
	return 0;
}

static int new_page_counted(void *arg)
{
	struct lazy *l = arg;
	int64_t pa = vm_translate(&l->p->vm, WATCH);

	return pa >= 0 && *(volatile uint64_t *)phys_to_virt((uint64_t)pa) >= 1;
}

static void read_cr3_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s;
	(void)self;
	*(volatile uint64_t *)c->arg = read_cr3();
}

SELFTEST(tlb_lazy_skip_catchup_release)
{
	int self = this_cpu()->id, pid, st = 0;
	struct lazy l;
	struct sd_stats s0, s1, o0, o1;
	uint64_t *pte, frame, zero = 0, freed_pml4;
	volatile uint64_t cr3 = 0;

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	l.cpu = (self + 1) % smp_cpu_count();
	pid = proc_spawn_raw(&tlbt_parent, "tlbsleep", tlbt_sleep_code,
			     (uint64_t)(tlbt_sleep_code_end - tlbt_sleep_code), 2000000, 0, l.cpu);
	ST_ASSERT(pid > 0);
	l.p = proc_find(pid, 0);
	ST_ASSERT(l.p && vm_map(&l.p->vm, WATCH, PAGE_SIZE, VM_READ | VM_WRITE) == 0);
	ST_ASSERT(copy_to_user(&l.p->vm, WATCH, &zero, 8) == 0);
	l.mm = &l.p->vm.tlb;
	freed_pml4 = l.p->vm.pml4;
	frame = (uint64_t)vm_translate(&l.p->vm, WATCH);
	l.counter = phys_to_virt(frame);
	/* it has run and touched the page, and sleeps: its CPU is lazy */
	for (uint64_t end = time_ns() + SELFTEST_WAIT_NS; *l.counter < 2 || !lazy_now(&l);) {
		ST_ASSERT(time_ns() < end);
		wait_unlocked(never, NULL, 1);
	}
	/* unmap while it sleeps: no IPI, the lazy CPU is skipped */
	*l.counter = 1000;
	pte = pt_lookup(l.p->vm.pml4, WATCH);
	ST_ASSERT(pte && (*pte & PTE_P));
	*pte = 0;
	l.p->vm.pages--;
	s0 = xcall_sys.st[self];
	o0 = xcall_sys.st[l.cpu];
	tlb_flush_range(&l.p->vm, WATCH, WATCH + PAGE_SIZE);
	s1 = xcall_sys.st[self];
	ST_ASSERT(s1.lazy_skipped == s0.lazy_skipped + 1);
	ST_ASSERT(s1.calls_sent == s0.calls_sent && s1.kicks == s0.kicks);
	/* it wakes up on its CPU: one catch-up flush, then it writes to a new page */
	ST_ASSERT(wait_unlocked(new_page_counted, &l, 5000));
	o1 = xcall_sys.st[l.cpu];
	ST_ASSERT(o1.lazy_catchups >= o0.lazy_catchups + 1);
	ST_ASSERT(*l.counter == 1000); /* nothing went through the stale translation */
	page_free(frame);
	/* it dies on this CPU while its own CPU lazily holds the space */
	ST_ASSERT(wait_lazy(&l) == 0);
	l.p->threads->pinned = self;
	proc_kill(l.p, VESSEL_SIGKILL);
	ST_ASSERT(proc_wait(&tlbt_parent, pid, &st, 0, 1) == pid);
	ST_ASSERT(sd_loaded_mm(&xcall_sys, l.cpu) != l.mm);
	ST_ASSERT(cpus[l.cpu].cr3 == kernel_pml4_pa && cpus[l.cpu].cr3 != freed_pml4);
	smp_call(l.cpu, read_cr3_fn, (void *)&cr3);
	ST_ASSERT(cr3 == kernel_pml4_pa); /* the CPU itself let go of it */
	return 0;
}
