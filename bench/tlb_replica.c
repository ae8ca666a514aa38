// SPDX-License-Identifier: MIT
/*
 * Native replica of the guest kernel's TLB shootdown (issue K4): the same
 * queue, lazy-mode and flush code (guest/lib/shootdown.c) compiled for the
 * host, two threads pinned to CPUs 0 and 1, the IPI replaced by a
 * shared-memory doorbell (a counter in a cache line of its own that the
 * target spins on). The initiator, running the address space, shoots it
 * down; the responder, also running it, flushes (a no-op here: user space
 * cannot flush a TLB) and acknowledges. Reports the distribution of single
 * round trips (TSC-timed, in ns) for the split and consolidated layouts,
 * measured in alternating batches in one run, and the cache lines each side
 * touched in one traced round trip.
 *
 * Between the batches it also times a bare ping-pong (the initiator bumps
 * the doorbell, the responder copies it to a line the initiator spins on):
 * one cache line there and back, what a line transfer costs where the host
 * has put the two threads just then. The layouts' difference divided by
 * half of it is the number of line transfers the consolidated layout takes
 * off a round trip's critical path, a figure that does not depend on the
 * placement the way nanoseconds do.
 *
 *   tlb_replica [-n ROUNDS] [-b BATCHES] [-l split|consolidated]
 * With -l only that layout runs (for `perf stat` around one layout).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/shootdown.h"

/*
 * What the replica adds to the shootdown's state, each part on a pair of
 * lines of its own: the host's adjacent-line prefetcher fetches lines in
 * aligned pairs, and a doorbell or a pointer next to the address space
 * would move with it (as nothing does in the kernel, where the address
 * space lives in its process and the IPI is no memory at all).
 */
#define PAIR (2 * SD_LINE)

struct bell {
	volatile uint64_t ring; /* bumped by the sender: "look at your queue" */
	volatile int stop;
	volatile int ping; /* bell[1]: answer rings by copying them to bell[0].ring */
} __attribute__((aligned(PAIR)));

static struct {
	struct bell bell[2];
	struct sd_mm mm __attribute__((aligned(PAIR)));
	struct sd_sys *sys __attribute__((aligned(PAIR))); /* read-only once set */
} sh __attribute__((aligned(PAIR)));

static void kick(struct sd_sys *s, int self, int cpu, const struct sd_csd *first)
{
	(void)s;
	(void)self;
	(void)first;
	__atomic_add_fetch(&sh.bell[cpu].ring, 1, __ATOMIC_RELEASE);
}

static void flush(struct sd_sys *s, int self, uint64_t start, uint64_t end)
{
	(void)s;
	(void)self;
	(void)start;
	(void)end;
}

static void load(struct sd_sys *s, int self, struct sd_mm *m)
{
	(void)s;
	(void)self;
	(void)m;
}

static void relax(struct sd_sys *s, int self)
{
	(void)s;
	(void)self;
	__builtin_ia32_pause();
}

static const struct sd_ops ops = { kick, flush, load, relax };

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *responder(void *arg)
{
	uint64_t seen = 0;

	(void)arg;
	if (pin(1))
		fprintf(stderr, "tlb_replica: cannot pin the responder to CPU 1\n");
	sd_switch_mm(sh.sys, 1, &sh.mm);
	while (!sh.bell[1].stop) {
		uint64_t r = __atomic_load_n(&sh.bell[1].ring, __ATOMIC_ACQUIRE);

		if (r == seen) {
			__builtin_ia32_pause();
			continue;
		}
		seen = r;
		if (sh.bell[1].ping)
			__atomic_store_n(&sh.bell[0].ring, r, __ATOMIC_RELEASE);
		else
			sd_run_queue(sh.sys, 1);
	}
	return NULL;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/* TSC ticks per ns, against CLOCK_MONOTONIC over 100 ms. */
static double tsc_per_ns(void)
{
	double t0 = now_ns();
	uint64_t c0 = tsc();
	struct timespec d = { 0, 100000000 };

	nanosleep(&d, NULL);
	return (double)(tsc() - c0) / (now_ns() - t0);
}

/*
 * n round trips in `layout`, each timed on its own (TSC ticks) into out:
 * the median of single round trips is robust to the preemptions a shared
 * host inflicts on a few of them.
 */
static void batch(int layout, long n, uint64_t *out)
{
	sd_set_layout(sh.sys, layout);
	for (int i = 0; i < 100; i++)
		sd_shootdown(sh.sys, 0, &sh.mm, 0x1000, 0x2000);
	for (long i = 0; i < n; i++) {
		uint64_t t0 = tsc();

		sd_shootdown(sh.sys, 0, &sh.mm, 0x1000, 0x2000);
		out[i] = tsc() - t0;
	}
}

/* n bare ping-pongs through the doorbell, each timed alone (TSC ticks) into out. */
static void pingpong(long n, uint64_t *out)
{
	sh.bell[1].ping = 1;
	for (long i = 0; i < n + 100; i++) {
		uint64_t t0 = tsc(), r = __atomic_add_fetch(&sh.bell[1].ring, 1, __ATOMIC_RELEASE);

		while (__atomic_load_n(&sh.bell[0].ring, __ATOMIC_ACQUIRE) != r)
			__builtin_ia32_pause();
		if (i >= 100)
			out[i - 100] = tsc() - t0;
	}
	sh.bell[1].ping = 0;
}

static void lines(int layout)
{
	static struct sd_trace t;
	char b[32];

	sd_set_layout(sh.sys, layout);
	sd_shootdown(sh.sys, 0, &sh.mm, 0x1000, 0x2000);
	memset(&t, 0, sizeof(t));
	__atomic_store_n(&sh.sys->trace, &t, __ATOMIC_SEQ_CST);
	sd_shootdown(sh.sys, 0, &sh.mm, 0x1000, 0x2000);
	__atomic_store_n(&sh.sys->trace, NULL, __ATOMIC_SEQ_CST);
	for (int cpu = 0; cpu < 2; cpu++) {
		printf("  %-12s %-9s %u lines:", sd_layout_name(layout),
		       cpu ? "responder" : "initiator", t.cpu[cpu].n);
		for (uint32_t i = 0; i < t.cpu[cpu].n; i++)
			printf(" %s", sd_line_name(sh.sys, t.cpu[cpu].line[i], b, sizeof(b)));
		printf("\n");
	}
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median TSC ticks of an empty timed interval (what the timing itself adds). */
static uint64_t timer_overhead(void)
{
	static uint64_t d[10001];

	for (int i = 0; i < 10001; i++) {
		uint64_t t0 = tsc();

		d[i] = tsc() - t0;
	}
	qsort(d, 10001, sizeof(d[0]), cmp);
	return d[5000];
}

int main(int argc, char **argv)
{
	long rounds = 2000;
	int batches = 100, only = -1;
	uint64_t *ns[2], *pp;
	double per_ns;
	pthread_t t;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			rounds = atol(argv[++i]);
		} else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
			batches = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-l") && i + 1 < argc) {
			i++;
			only = !strcmp(argv[i], "split")	? SD_SPLIT :
			       !strcmp(argv[i], "consolidated") ? SD_CONSOLIDATED :
								  -2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: tlb_replica [-n ROUNDS] [-b BATCHES] [-l LAYOUT]\n"
			       "  -n  round trips per batch (default 2000)\n"
			       "  -b  batches per layout, alternating (default 100)\n"
			       "  -l  time one layout only: split or consolidated\n");
			return 0;
		} else {
			only = -2;
		}
	}
	if (rounds < 1 || rounds > 1000000 || batches < 1 || batches > 10000 || only == -2) {
		fprintf(stderr, "usage: tlb_replica [-n ROUNDS 1..1000000] [-b BATCHES 1..10000] "
				"[-l split|consolidated]\n");
		return 2;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("tlb_replica: needs two CPUs, skipped\n");
		return 0;
	}
	/* rounded up to a pair: nothing else of the heap may share its last one */
	sh.sys = aligned_alloc(PAIR, (sizeof(*sh.sys) + PAIR - 1) / PAIR * PAIR);
	ns[0] = calloc((size_t)(rounds * batches), sizeof(uint64_t));
	ns[1] = calloc((size_t)(rounds * batches), sizeof(uint64_t));
	pp = calloc((size_t)(rounds * batches), sizeof(uint64_t));
	if (!sh.sys || !ns[0] || !ns[1] || !pp) {
		fprintf(stderr, "tlb_replica: out of memory\n");
		return 1;
	}
	per_ns = tsc_per_ns();
	sd_init(sh.sys, SD_CONSOLIDATED, &ops, NULL);
	if (pin(0))
		fprintf(stderr, "tlb_replica: cannot pin the initiator to CPU 0\n");
	sd_switch_mm(sh.sys, 0, &sh.mm);
	if (pthread_create(&t, NULL, responder, NULL)) {
		fprintf(stderr, "tlb_replica: pthread_create: %s\n", strerror(errno));
		return 1;
	}
	while (!(__atomic_load_n(&sh.mm.cpumask, __ATOMIC_ACQUIRE) & 2))
		__builtin_ia32_pause();
	for (int b = 0; b < batches; b++) {
		/* alternate which layout goes first, so drift hits both alike */
		for (int k = 0; k < 2; k++) {
			int layout = (b + k) % 2;

			if (only < 0 || layout == only)
				batch(layout, rounds, ns[layout] + (long)b * rounds);
		}
		pingpong(rounds, pp + (long)b * rounds);
	}
	printf("native replica: one shootdown round trip (initiator CPU 0, responder CPU 1, "
	       "doorbell instead of IPI),\n%d alternating batches x %ld round trips per layout, "
	       "each timed alone (ns)\n",
	       batches, rounds);
	if (only < 0) {
		/*
		 * Paired: each batch of one layout against the other's batch run
		 * right next to it (where the host placed the two threads the
		 * same way: on this host a line transfer costs about 30, 60 or
		 * 240 ns by placement, and the host moves the threads), the
		 * ratio of their medians.
		 */
		static double ratio[10000], saved[10000], line[10000];

		for (int b = 0; b < batches; b++) {
			uint64_t *c = ns[SD_CONSOLIDATED] + (long)b * rounds;
			uint64_t *s = ns[SD_SPLIT] + (long)b * rounds;
			uint64_t *p = pp + (long)b * rounds;

			qsort(c, (size_t)rounds, sizeof(uint64_t), cmp);
			qsort(s, (size_t)rounds, sizeof(uint64_t), cmp);
			qsort(p, (size_t)rounds, sizeof(uint64_t), cmp);
			ratio[b] = (double)c[rounds / 2] / (double)s[rounds / 2];
			/* one-way transfers: half a ping-pong */
			line[b] = (double)p[rounds / 2] / 2;
			saved[b] = ((double)s[rounds / 2] - (double)c[rounds / 2]) / line[b];
		}
		qsort(ratio, (size_t)batches, sizeof(double), cmp_double);
		qsort(saved, (size_t)batches, sizeof(double), cmp_double);
		qsort(line, (size_t)batches, sizeof(double), cmp_double);
		printf("  paired batches, consolidated / split of the batch medians: median %.2f "
		       "(%.0f%% faster), quartiles %.2f .. %.2f\n",
		       ratio[batches / 2], 100.0 * (1.0 - ratio[batches / 2]), ratio[batches / 4],
		       ratio[batches * 3 / 4]);
		printf("  one line transfer (half a bare doorbell ping-pong), batch medians: "
		       "median %.0f ns (quartiles %.0f .. %.0f)\n",
		       line[batches / 2] / per_ns, line[batches / 4] / per_ns,
		       line[batches * 3 / 4] / per_ns);
		printf("  split minus consolidated, in line transfers: median %.2f, quartiles "
		       "%.2f .. %.2f\n",
		       saved[batches / 2], saved[batches / 4], saved[batches * 3 / 4]);
	}
	printf("  all round trips:\n");
	printf("  %-12s %8s %8s %8s %8s\n", "layout", "p10", "median", "p90", "mean");
	for (int layout = 0; layout < 2; layout++) {
		size_t n = (size_t)(rounds * batches);
		double sum = 0;

		if (only >= 0 && layout != only)
			continue;
		qsort(ns[layout], n, sizeof(uint64_t), cmp);
		for (size_t i = 0; i < n; i++)
			sum += (double)ns[layout][i];
		printf("  %-12s %8.0f %8.0f %8.0f %8.0f\n", sd_layout_name(layout),
		       (double)ns[layout][n / 10] / per_ns, (double)ns[layout][n / 2] / per_ns,
		       (double)ns[layout][n * 9 / 10] / per_ns, sum / (double)n / per_ns);
	}
	if (only < 0) {
		size_t n = (size_t)(rounds * batches);
		double c = (double)ns[SD_CONSOLIDATED][n / 2], s = (double)ns[SD_SPLIT][n / 2];
		double o = (double)timer_overhead();

		printf("  consolidated / split (median): %.2f, round trip %.0f%% faster\n", c / s,
		       100.0 * (1.0 - c / s));
		printf("  the same without the timing's own %.0f ns: %.2f, %.0f%% faster\n",
		       o / per_ns, (c - o) / (s - o), 100.0 * (1.0 - (c - o) / (s - o)));
	}
	printf("cache lines touched in one traced round trip:\n");
	for (int layout = 0; layout < 2; layout++) {
		if (only < 0 || layout == only)
			lines(layout);
	}
	sh.bell[1].stop = 1;
	pthread_join(t, NULL);
	free(ns[0]);
	free(ns[1]);
	free(pp);
	free(sh.sys);
	return 0;
}
