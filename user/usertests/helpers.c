// SPDX-License-Identifier: MIT
/*
 * Helper processes for the tests (`usertests -h NAME ARGS`) and the shared
 * test utilities declared in ut.h.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <vessel/thread.h>

#include "ut.h"

/* Spawns `usertests -h HELPER ARGS...` with the NULL-terminated ARGS in ap. */
static long spawn_helper_v(const char *helper, va_list ap)
{
	const char *argv[VESSEL_ARGV_MAX + 1] = { "usertests", "-h", helper };
	int argc = 3;
	const char *a;

	while ((a = va_arg(ap, const char *)) != NULL && argc < VESSEL_ARGV_MAX)
		argv[argc++] = a;
	argv[argc] = NULL;
	return CHECK_OK(sys_spawn("usertests", argv));
}

long ut_spawn_helper(const char *helper, ...)
{
	va_list ap;
	long pid;

	va_start(ap, helper);
	pid = spawn_helper_v(helper, ap);
	va_end(ap);
	return pid;
}

int32_t ut_wait(long pid)
{
	int32_t status = -1;

	CHECK_EQ(sys_wait(pid, &status, 0), pid);
	return status;
}

int32_t ut_run_helper(const char *helper, ...)
{
	va_list ap;
	long pid;

	va_start(ap, helper);
	pid = spawn_helper_v(helper, ap);
	va_end(ap);
	return ut_wait(pid);
}

void ut_stats(struct vessel_stats *s)
{
	CHECK_EQ(sys_stats(s, sizeof(*s)), sizeof(*s));
}

long long ut_named(const struct vessel_stats *s, const char *name)
{
	for (uint32_t i = 0; i < s->nnamed && i < VESSEL_STATS_NAMED; i++)
		if (!strcmp(s->named[i].name, name))
			return (long long)s->named[i].value;
	return -1;
}

unsigned ut_ncpus(void)
{
	struct vessel_stats s;

	ut_stats(&s);
	CHECK(s.ncpus >= 1 && s.ncpus <= VESSEL_STATS_CPUS);
	return s.ncpus;
}

void *ut_unmapped_addr(void)
{
	long p = CHECK_OK(sys_mmap(NULL, 4096, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
				   VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS));

	CHECK_OK(sys_munmap((void *)p, 4096));
	return (void *)p;
}

/* ------------------------------------------------------------------ helpers */

static int h_argcheck(int argc, char **argv)
{
	/* argv = { "argcheck", N, "arg0", ..., "argN-1" } */
	int n = atoi(argv[1]);
	char want[16];

	if (argc != n + 2)
		return 10;
	for (int i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "arg%d", i);
		if (strcmp(argv[i + 2], want))
			return 20 + i;
	}
	if (argv[argc] != NULL)
		return 11;
	return 0;
}

/* Deep enough to run off the 1 MiB stack long before the depth test stops it. */
static int recurse(volatile char *p, unsigned long depth)
{
	volatile char big[1024];

	big[0] = *p;
	if (depth > (1ul << 40))
		return 0;
	return recurse(big, depth + 1) + big[0];
}

static int h_crash(const char *kind)
{
	volatile long *p;

	if (!strcmp(kind, "null")) {
		p = (volatile long *)0;
		return (int)*p;
	}
	if (!strcmp(kind, "kernel-read")) {
		p = (volatile long *)BAD_KERNEL;
		return (int)*p;
	}
	if (!strcmp(kind, "noncanonical")) {
		p = (volatile long *)0x8000000000001000ul;
		return (int)*p; /* #GP, not #PF */
	}
	if (!strcmp(kind, "write-text")) {
		p = (volatile long *)(void *)helper_main;
		*p = 0;
		return 1;
	}
	if (!strcmp(kind, "exec-data")) {
		static volatile unsigned char data_code[16] = {
			0xc3
		}; /* ret, but not executable */
		((void (*)(void))(uintptr_t)data_code)();
		return 1;
	}
	if (!strcmp(kind, "ud2")) {
		__asm__ volatile("ud2");
		return 1;
	}
	if (!strcmp(kind, "div0")) {
		volatile int zero = 0;

		return 100 / zero;
	}
	if (!strcmp(kind, "int3")) {
		__asm__ volatile("int3");
		return 1;
	}
	if (!strcmp(kind, "cli")) {
		__asm__ volatile("cli");
		return 1;
	}
	if (!strcmp(kind, "hlt")) {
		__asm__ volatile("hlt");
		return 1;
	}
	if (!strcmp(kind, "jump-kernel")) {
		((void (*)(void))BAD_KERNEL)();
		return 1;
	}
	if (!strcmp(kind, "stack-overflow")) {
		char c = 1;

		return recurse(&c, 0);
	}
	if (!strcmp(kind, "munmap-touch")) {
		long r = sys_mmap(NULL, 4096, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
				  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

		*(volatile char *)r = 1;
		sys_munmap((void *)r, 4096);
		return *(volatile char *)r;
	}
	if (!strcmp(kind, "mprotect-write")) {
		long r = sys_mmap(NULL, 4096, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
				  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

		*(volatile char *)r = 1;
		sys_mprotect((void *)r, 4096, VESSEL_PROT_READ);
		*(volatile char *)r = 2;
		return 1;
	}
	if (!strcmp(kind, "protnone-read")) {
		long r = sys_mmap(NULL, 4096, VESSEL_PROT_NONE,
				  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

		return *(volatile char *)r;
	}
	if (!strcmp(kind, "brk-shrink-touch")) {
		char *start = (char *)sys_brk(NULL);

		sys_brk(start + 2 * 4096);
		start[4096] = 1;
		sys_brk(start);
		return *(volatile char *)(start + 4096);
	}
	printf("# helper crash: unknown kind %s\n", kind);
	return 99;
}

/* Touch `kb` KiB of fresh anonymous memory; then exit or wait to be killed. */
static int h_alloc(int argc, char **argv)
{
	uint64_t kb = strtoull(argv[1], NULL, 0), len = kb * 1024;
	long p = sys_mmap(NULL, len, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
			  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

	if (p < 0)
		return 2;
	for (uint64_t off = 0; off < len; off += 4096)
		((volatile char *)p)[off] = 1;
	if (argc > 2 && !strcmp(argv[2], "hold"))
		for (;;)
			sys_nanosleep(1000000000ull);
	return 0;
}

static long mixed_thread_fn(void *arg)
{
	volatile char *p = arg;

	p[0] = 1; /* a page touched from another CPU's TLB */
	if (p[4096] == 0)
		for (;;) /* the second one stays: live at exit */
			sys_nanosleep(1000000000ull);
	return 0;
}

/*
 * Every kind of memory a process can leave behind at exit: touched pages
 * made PROT_NONE, a partly unmapped range, a range replaced by MAP_FIXED,
 * brk growth, threads exited and never joined, a thread still running.
 */
static int h_mixed(void)
{
	const uint64_t rw = VESSEL_PROT_READ | VESSEL_PROT_WRITE;
	const uint64_t anon = VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS;
	long p = sys_mmap(NULL, 64 * 4096, rw, anon);
	struct thread t[4];
	char *b;

	if (p < 0)
		return 2;
	for (int i = 0; i < 64; i++)
		((volatile char *)p)[i * 4096] = 1;
	if (sys_mprotect((void *)(p + 8 * 4096), 8 * 4096, 0) ||
	    sys_munmap((void *)(p + 20 * 4096), 4 * 4096) ||
	    sys_mmap((void *)(p + 32 * 4096), 8 * 4096, rw, anon | VESSEL_MAP_FIXED) !=
		    p + 32 * 4096)
		return 3;
	((volatile char *)p)[33 * 4096] = 2;
	b = (char *)sys_brk(NULL);
	if (sys_brk(b + 64 * 1024) != (long)(b + 64 * 1024))
		return 4;
	memset(b, 1, 64 * 1024);
	((volatile char *)p)[48 * 4096 + 4096] = 1;
	for (int i = 0; i < 3; i++)
		if (thread_start(&t[i], mixed_thread_fn, (void *)(p + 48 * 4096)))
			return 5;
	((volatile char *)p)[48 * 4096 + 4096] = 0;
	if (thread_start(&t[3], mixed_thread_fn, (void *)(p + 48 * 4096)))
		return 5;
	msleep(50);
	return 0;
}

static long exit_thread_fn(void *arg)
{
	(void)arg;
	msleep(50);
	exit(42);
}

/* Main thread leaves with thread_exit; the process lives on in the other. */
static int h_threadexit(void)
{
	struct thread t;

	if (thread_start(&t, exit_thread_fn, NULL))
		return 3;
	sys_thread_exit(0);
	return 4;
}

static long last_thread_fn(void *arg)
{
	(void)arg;
	msleep(20);
	sys_thread_exit(5); /* the last thread: the process exits with 0 */
	return 6;
}

static int h_lastthread(void)
{
	struct thread t;

	if (thread_start(&t, last_thread_fn, NULL))
		return 3;
	sys_thread_exit(0);
	return 4;
}

/*
 * Fill xmm0-15 with a pattern derived from `seed`, give the CPU away many
 * times, check the registers still hold it. Run two of these at once with
 * different seeds: a kernel that does not switch FPU/SSE state fails.
 */
static int h_fpu(uint64_t seed, int rounds)
{
	uint64_t in[32] __attribute__((aligned(16)));
	uint64_t out[32] __attribute__((aligned(16)));
	uint64_t nr = SYS_yield;

	for (int i = 0; i < 32; i++)
		in[i] = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i;
	for (int r = 0; r < rounds; r++) {
		__asm__ volatile("movdqa 0(%0), %%xmm0\n\tmovdqa 16(%0), %%xmm1\n\t"
				 "movdqa 32(%0), %%xmm2\n\tmovdqa 48(%0), %%xmm3\n\t"
				 "movdqa 64(%0), %%xmm4\n\tmovdqa 80(%0), %%xmm5\n\t"
				 "movdqa 96(%0), %%xmm6\n\tmovdqa 112(%0), %%xmm7\n\t"
				 "movdqa 128(%0), %%xmm8\n\tmovdqa 144(%0), %%xmm9\n\t"
				 "movdqa 160(%0), %%xmm10\n\tmovdqa 176(%0), %%xmm11\n\t"
				 "movdqa 192(%0), %%xmm12\n\tmovdqa 208(%0), %%xmm13\n\t"
				 "movdqa 224(%0), %%xmm14\n\tmovdqa 240(%0), %%xmm15\n\t"
				 "mov %2, %%rax\n\t"
				 "syscall\n\t"
				 "movdqa %%xmm0, 0(%1)\n\tmovdqa %%xmm1, 16(%1)\n\t"
				 "movdqa %%xmm2, 32(%1)\n\tmovdqa %%xmm3, 48(%1)\n\t"
				 "movdqa %%xmm4, 64(%1)\n\tmovdqa %%xmm5, 80(%1)\n\t"
				 "movdqa %%xmm6, 96(%1)\n\tmovdqa %%xmm7, 112(%1)\n\t"
				 "movdqa %%xmm8, 128(%1)\n\tmovdqa %%xmm9, 144(%1)\n\t"
				 "movdqa %%xmm10, 160(%1)\n\tmovdqa %%xmm11, 176(%1)\n\t"
				 "movdqa %%xmm12, 192(%1)\n\tmovdqa %%xmm13, 208(%1)\n\t"
				 "movdqa %%xmm14, 224(%1)\n\tmovdqa %%xmm15, 240(%1)\n\t"
				 :
				 : "r"(in), "r"(out), "r"(nr)
				 : "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3",
				   "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
				   "xmm12", "xmm13", "xmm14", "xmm15");
		if (memcmp(in, out, sizeof(in))) {
			printf("# fpu helper %llu: xmm registers changed across a yield in round "
			       "%d\n",
			       (unsigned long long)seed, r);
			return 1;
		}
		/* and plain double arithmetic across preemption */
		volatile double x = (double)seed;
		for (int k = 0; k < 1000; k++)
			x = x * 1.0000001 + 0.5;
		volatile double y = (double)seed;
		for (int k = 0; k < 1000; k++)
			y = y * 1.0000001 + 0.5;
		if (x != y)
			return 2;
	}
	return 0;
}

static volatile uint64_t reads;
static volatile int go_on = 1;

/* Spin on another CPU (pinned), reading a page until the process dies. */
static long reader_fn(void *arg)
{
	volatile uint64_t *page = arg;

	sys_setaffinity(0, 1);
	while (go_on) {
		(void)*page;
		reads++;
	}
	return 0;
}

static long writer_fn(void *arg)
{
	volatile uint64_t *page = arg;

	sys_setaffinity(0, 1);
	while (go_on) {
		*page = reads;
		reads++;
	}
	return 0;
}

/*
 * TLB shootdown: a thread pinned to CPU 1 keeps accessing a page while the
 * main thread, on CPU 0, unmaps it (or makes it read-only). The kernel must
 * invalidate CPU 1's TLB before munmap/mprotect returns, so the thread
 * faults and the process dies with SIGSEGV. Exit 0 means the stale
 * translation kept working: the test fails.
 */
static int h_shootdown(const char *how)
{
	long p = sys_mmap(NULL, 4096, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
			  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);
	struct thread t;
	uint64_t seen;

	if (p < 0 || sys_setaffinity(0, 0) < 0)
		return 2;
	*(volatile uint64_t *)p = 1;
	if (thread_start(&t, !strcmp(how, "mprotect") ? writer_fn : reader_fn, (void *)p))
		return 3;
	while (reads < 1000) /* the thread runs on CPU 1 and has the page in its TLB */
		sys_yield();
	if (!strcmp(how, "mprotect"))
		sys_mprotect((void *)p, 4096, VESSEL_PROT_READ);
	else
		sys_munmap((void *)p, 4096);
	seen = reads;
	/* give the other CPU plenty of accesses (a loaded host may not run it for a while) */
	for (int i = 0; i < 4000; i++) {
		msleep(5);
		if (reads > seen + 1000000)
			break;
	}
	printf("# shootdown helper: %s did not stop the other CPU's accesses\n", how);
	go_on = 0;
	return 0;
}

/* A named mechanism counter of the kernel's stats (0 if absent). */
static uint64_t named_counter(const struct vessel_stats *s, const char *name)
{
	for (uint32_t i = 0; i < s->nnamed && i < VESSEL_STATS_NAMED; i++)
		if (!strncmp(s->named[i].name, name, VESSEL_STATS_NAME_MAX))
			return s->named[i].value;
	return 0;
}

static const char *const tlb_counter_names[] = {
	"tlb.shootdowns",    "tlb.shootdown_calls", "tlb.shootdown_ipis", "tlb.lazy_skipped",
	"tlb.lazy_catchups", "tlb.flush_full",	    "tlb.flush_range",	  "tlb.flush_uptodate",
};

/* Prints the tlb.* counters that changed from a to b on one TAP comment line. */
static void print_tlb_deltas(const char *what, const struct vessel_stats *a,
			     const struct vessel_stats *b)
{
	printf("# %s:", what);
	for (size_t i = 0; i < sizeof(tlb_counter_names) / sizeof(*tlb_counter_names); i++)
		printf(" %s %llu", tlb_counter_names[i] + 4,
		       (unsigned long long)(named_counter(b, tlb_counter_names[i]) -
					    named_counter(a, tlb_counter_names[i])));
	printf("\n");
}

/* Maps, touches and unmaps a page n times (a shootdown each). 0 or -1. */
static int map_touch_unmap(int n)
{
	for (int i = 0; i < n; i++) {
		long q = sys_mmap(NULL, 4096, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
				  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

		if (q < 0)
			return -1;
		*(volatile uint64_t *)q = 1;
		sys_munmap((void *)q, 4096);
	}
	return 0;
}

static volatile int lazy_ready, lazy_unmapped;

/*
 * Touches the page, sleeps until the main thread has unmapped it (its CPU
 * idles, lazily keeping our space, between the naps), touches it again.
 */
static long lazy_sleeper_fn(void *arg)
{
	volatile uint64_t *page = arg;

	sys_setaffinity(0, 1);
	(void)*page;
	lazy_ready = 1;
	while (!lazy_unmapped)
		msleep(20);
	(void)*page; /* unmapped meanwhile: must fault */
	return 0;
}

/*
 * Lazy TLB mode: a thread on CPU 1 reads a page, then sleeps; CPU 1 idles
 * with our address space still loaded (lazily), so the munmaps done
 * meanwhile on CPU 0 need not interrupt it; but when the thread comes back
 * its CPU must flush before it runs, so its next read of the unmapped page
 * faults and the process dies with SIGSEGV. Exit 0: the stale translation
 * survived the sleep.
 */
static int h_tlblazy(void)
{
	struct vessel_stats a, b;
	struct thread t;
	long p = sys_mmap(NULL, 4096, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
			  VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

	if (p < 0 || sys_setaffinity(0, 0) < 0)
		return 2;
	*(volatile uint64_t *)p = 1;
	if (thread_start(&t, lazy_sleeper_fn, (void *)p))
		return 3;
	while (!lazy_ready)
		sys_yield();
	msleep(50); /* it naps now (the result does not depend on it) */
	if (sys_stats(&a, sizeof(a)) < 0)
		return 4;
	sys_munmap((void *)p, 4096);
	if (map_touch_unmap(20) || sys_stats(&b, sizeof(b)) < 0)
		return 5;
	print_tlb_deltas("tlblazy: 21 munmaps while the other thread slept", &a, &b);
	lazy_unmapped = 1;
	thread_wait(&t, NULL); /* returns only if its read did not fault */
	printf("# tlblazy helper: the thread read the unmapped page after its sleep\n");
	return 0;
}

static volatile int work_mode_sleep;

static long work_sibling_fn(void *arg)
{
	sys_setaffinity(0, (long)arg);
	for (;;) {
		if (work_mode_sleep)
			msleep(1);
		else
			reads++;
	}
	return 0;
}

/*
 * A multithreaded workload for the TLB benchmark: a thread pinned to every
 * other CPU either computes (its CPU runs our address space: munmaps must
 * interrupt it) or sleeps 1 ms at a time (its CPU idles lazily: munmaps
 * skip it); the main thread on CPU 0 maps, touches and unmaps a page
 * `rounds` times. Prints the kernel's tlb.* counter deltas.
 */
static int h_tlbwork(const char *mode, int rounds)
{
	struct vessel_stats a, b;
	struct thread t[VESSEL_STATS_CPUS];
	char what[64];

	if (sys_stats(&a, sizeof(a)) < 0 || sys_setaffinity(0, 0) < 0 || rounds < 1)
		return 2;
	work_mode_sleep = !strcmp(mode, "sleep");
	for (unsigned i = 1; i < a.ncpus && i < VESSEL_STATS_CPUS; i++)
		if (thread_start(&t[i], work_sibling_fn, (void *)(long)i))
			return 3;
	msleep(100);
	if (sys_stats(&a, sizeof(a)) < 0)
		return 4;
	if (map_touch_unmap(rounds) || sys_stats(&b, sizeof(b)) < 0)
		return 5;
	snprintf(what, sizeof(what), "tlbwork %s, %u CPUs, %d munmaps", mode, a.ncpus, rounds);
	print_tlb_deltas(what, &a, &b);
	exit(0); /* ends the siblings too */
}

/* Threads spinning on every CPU; the main thread waits or exits. */
static long spin_fn(void *arg)
{
	sys_setaffinity(0, (long)arg);
	for (;;)
		reads++;
	return 0;
}

static int h_threads(const char *mode)
{
	struct vessel_stats s;
	struct thread t[VESSEL_STATS_CPUS];

	if (sys_stats(&s, sizeof(s)) < 0)
		return 2;
	for (unsigned i = 0; i < s.ncpus && i < VESSEL_STATS_CPUS; i++)
		if (thread_start(&t[i], spin_fn, (void *)(long)i))
			return 3;
	while (reads < 1000)
		sys_yield();
	if (!strcmp(mode, "exit"))
		exit(7); /* every other thread must stop too */
	for (;;)	 /* "hold": wait to be killed */
		sys_nanosleep(1000000000ull);
}

/* Lives while its parent does: exits once it has been handed to init. */
static int h_orphan(void)
{
	struct vessel_procinfo ps[64];
	long me = sys_getpid();

	for (;;) {
		long n = sys_ps(ps, 64);

		for (long i = 0; i < n && i < 64; i++)
			if (ps[i].pid == me && ps[i].ppid == 1)
				return 0;
		msleep(20);
	}
}

static volatile int race_go;

static long race_exit_fn(void *arg)
{
	sys_setaffinity(0, 1);
	while (!race_go)
		__asm__ volatile("pause");
	sys_exit((long)arg);
	return 0;
}

/*
 * One thread calls exit() while the main thread enters a blocking wait() on
 * a child that outlives it: the main thread may reach the kernel after the
 * process is killed (it waits for the BKL meanwhile) and must not sleep in
 * wait() for good. `delay` spins between the start signal and the wait.
 */
static int h_waitrace(uint64_t delay)
{
	const char *argv[] = { "usertests", "-h", "orphan", NULL };
	struct thread t;
	int32_t st;
	long c;

	sys_setaffinity(0, 0);
	c = sys_spawn("usertests", argv);
	if (c < 0)
		return 2;
	if (thread_start(&t, race_exit_fn, (void *)5l))
		return 3;
	msleep(10);
	race_go = 1;
	for (volatile uint64_t i = 0; i < delay; i++)
		;
	sys_wait(c, &st, 0);
	return 4; /* not reached: the process is exiting */
}

/* A fixed amount of pure computation; exit 0 if the result is right. */
static int h_work(uint64_t n)
{
	uint64_t x = 1, want = 1;

	for (uint64_t i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	for (uint64_t i = 0; i < n; i++)
		want = want * 6364136223846793005ull + 1442695040888963407ull;
	return x == want ? 0 : 1;
}

int helper_main(int argc, char **argv)
{
	if (argc < 1)
		return 99;
	if (!strcmp(argv[0], "exit") && argc == 2)
		return atoi(argv[1]);
	if (!strcmp(argv[0], "argcheck") && argc >= 2)
		return h_argcheck(argc, argv);
	if (!strcmp(argv[0], "intr") && argc == 2) /* exit 0 if setintr was inherited as argv[1] */
		return sys_setintr(0, VESSEL_INTR_KILL) == atoi(argv[1]) ? 0 : 1;
	if (!strcmp(argv[0], "spin"))
		for (;;)
			__asm__ volatile("" ::: "memory");
	if (!strcmp(argv[0], "sleep") && argc == 2) {
		msleep(strtoull(argv[1], NULL, 0));
		return 0;
	}
	if (!strcmp(argv[0], "crash") && argc == 2)
		return h_crash(argv[1]);
	if (!strcmp(argv[0], "alloc") && argc >= 2)
		return h_alloc(argc, argv);
	if (!strcmp(argv[0], "threadexit"))
		return h_threadexit();
	if (!strcmp(argv[0], "lastthread"))
		return h_lastthread();
	if (!strcmp(argv[0], "fpu") && argc == 3)
		return h_fpu(strtoull(argv[1], NULL, 0), atoi(argv[2]));
	if (!strcmp(argv[0], "shootdown") && argc == 2)
		return h_shootdown(argv[1]);
	if (!strcmp(argv[0], "jsproc") && argc == 2)
		return h_jsproc(argv[1]);
	if (!strcmp(argv[0], "tlblazy"))
		return h_tlblazy();
	if (!strcmp(argv[0], "tlbwork") && argc == 3)
		return h_tlbwork(argv[1], atoi(argv[2]));
	if (!strcmp(argv[0], "threads") && argc == 2)
		return h_threads(argv[1]);
	if (!strcmp(argv[0], "assert")) {
		assert(argc == 1000); /* fails: exit 134 with a message */
		return 0;
	}
	if (!strcmp(argv[0], "mixed"))
		return h_mixed();
	if (!strcmp(argv[0], "orphan"))
		return h_orphan();
	if (!strcmp(argv[0], "waitrace") && argc == 2)
		return h_waitrace(strtoull(argv[1], NULL, 0));
	if (!strcmp(argv[0], "work") && argc == 2)
		return h_work(strtoull(argv[1], NULL, 0));
	if (!strcmp(argv[0], "compat-syscall"))
		return h_compat_syscall();
	printf("# usertests: unknown helper %s\n", argv[0]);
	return 99;
}
