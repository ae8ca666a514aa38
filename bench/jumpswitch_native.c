// SPDX-License-Identifier: MIT
/*
 * `make bench BENCH=jumpswitch`, part 2: the dispatch code of the guest's
 * system-call search trampoline run natively, in ns per call, next to a
 * direct call, a retpolined table call (as the guest kernel is built) and a
 * plain indirect call. As in the guest, the trampoline is called directly:
 * its entry (bench/jumpswitch_entry.S, laid out as the guest's) jumps to a
 * buffer in .text holding the bytes guest/lib/jswitch.c emits. Two more
 * rows show what the hit used to cost: the entry that tests a data flag, and
 * an indirect call of the buffer in a separate page. The keys follow a call
 * mix (counts from a usertests run, or uniform hot keys).
 *
 *   jumpswitch_native [CALLS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "jumpswitch_native.h"
#include "jumpswitch_page.h"
#include "lib/jswitch.h"

typedef int64_t tramp_fn(const uint64_t *a, uint64_t key);

/* bench/jumpswitch_entry.S */
extern char js_native_page[], js_native_buf0[], js_native_buf1[];
int64_t js_native_entry(const uint64_t *a, uint64_t key);
int64_t js_native_flag_entry(const uint64_t *a, uint64_t key);

#define ENTRIES 6
#define ROUNDS	31
#define MIX_LEN 4096

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Plain indirect call: this file is built without retpolines. */
__attribute__((noinline)) static int64_t plain_indirect(const uint64_t *a, uint64_t key)
{
	return native_table[key](a);
}

enum kind { K_DIRECT, K_TRAMP, K_FLAG, K_PAGE, K_RETP, K_PLAIN };

/* One timed loop per kind, so that no loop carries another kind's dispatch. */
#define TIMED_LOOP(call)                                                                           \
	for (uint64_t i = 0; i < n; i++) {                                                         \
		uint64_t key = mix[i % MIX_LEN];                                                   \
		(void)key;                                                                         \
		s += (call);                                                                       \
	}

/* ns per call of one run of n calls with the keys of mix; sum keeps results live. */
static double measure_once(enum kind k, tramp_fn *tramp, const uint32_t *mix, uint64_t n,
			   int64_t *sum)
{
	const uint64_t args[6] = { 1 };
	uint64_t t0 = now_ns();
	int64_t s = 0;

	switch (k) {
	case K_DIRECT:
		TIMED_LOOP(native_direct(args));
		break;
	case K_TRAMP:
		TIMED_LOOP(js_native_entry(args, key));
		break;
	case K_FLAG:
		TIMED_LOOP(js_native_flag_entry(args, key));
		break;
	case K_PAGE:
		TIMED_LOOP(tramp(args, key));
		break;
	case K_RETP:
		TIMED_LOOP(native_retpolined(args, key));
		break;
	case K_PLAIN:
		TIMED_LOOP(plain_indirect(args, key));
		break;
	}
	*sum += s;
	return (double)(now_ns() - t0) / (double)n;
}

/*
 * The system-call mix of a usertests run under QEMU (`usertests`, then
 * `stats`: calls per system-call number), the 16 most frequent calls in
 * order: yield, clock_gettime, kill, getpid, wait, stats, brk, lseek,
 * gettid, getcpu, nanosleep, spawn, mmap, exit, thread_create, write (the
 * twelve rarer calls, 1.9% of the run, are left out). Key k stands for the
 * k-th of them.
 */
static const uint32_t trace_weights[NATIVE_KEYS] = { 16912, 1212, 920, 687, 516, 484, 478, 469,
						     464,   458,  405, 215, 151, 149, 96,  89 };

static void fill_mix(uint32_t *mix, const uint32_t *weights, uint32_t seed)
{
	uint64_t total = 0;

	for (int k = 0; k < NATIVE_KEYS; k++)
		total += weights[k];
	for (int i = 0; i < MIX_LEN; i++) {
		uint64_t x;

		seed = seed * 1103515245u + 12345u;
		x = (seed >> 8) % total;
		for (int k = 0; k < NATIVE_KEYS; k++) {
			if (x < weights[k]) {
				mix[i] = (uint32_t)k;
				break;
			}
			x -= weights[k];
		}
	}
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000ull;
	static uint32_t hit[MIX_LEN], miss[MIX_LEN], trace[MIX_LEN], first[MIX_LEN];
	uint32_t keys[ENTRIES];
	uint64_t targets[ENTRIES], counts[NATIVE_KEYS];
	uint8_t *page = jsw_code_page_near((const void *)native_direct);
	tramp_fn *tramp = (tramp_fn *)(void *)page;
	int64_t sum = 0;
	int len, nk;

	if (!page || n == 0) {
		fprintf(stderr, "jumpswitch_native: %s\n",
			!page ? "no executable page near the code" : "CALLS must be > 0");
		return 1;
	}
	/* learn the trampoline from the trace's counts, as the kernel does */
	for (int k = 0; k < NATIVE_KEYS; k++)
		counts[k] = trace_weights[k];
	nk = jsw_pick_hot(counts, NATIVE_KEYS, ENTRIES, keys);
	for (int i = 0; i < nk; i++)
		targets[i] = (uint64_t)native_table[keys[i]];
	len = jsw_emit(page, 4096, (uint64_t)page, keys, targets, nk, (uint64_t)native_miss);
	if (len < 0) {
		fprintf(stderr, "jumpswitch_native: emit: %s\n", strerror(-len));
		return 1;
	}
	/* the same trampoline in both .text buffers (the entry jumps to buffer 0) */
	if (mprotect(js_native_page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC)) {
		fprintf(stderr, "jumpswitch_native: mprotect .text: %s\n", strerror(errno));
		return 1;
	}
	for (int b = 0; b < 2; b++) {
		char *buf = b ? js_native_buf1 : js_native_buf0;

		len = jsw_emit((uint8_t *)buf, 256, (uint64_t)buf, keys, targets, nk,
			       (uint64_t)native_miss);
		if (len < 0) {
			fprintf(stderr, "jumpswitch_native: emit: %s\n", strerror(-len));
			return 1;
		}
	}
	mprotect(js_native_page, 4096, PROT_READ | PROT_EXEC);
	for (int i = 0; i < MIX_LEN; i++) {
		first[i] = keys[0];
		hit[i] = keys[i % nk];
		miss[i] = (uint32_t)(ENTRIES + i % (NATIVE_KEYS - ENTRIES));
	}
	fill_mix(trace, trace_weights, 42);

	const struct {
		const char *name;
		enum kind k;
		const uint32_t *mix;
	} rows[] = {
		{ "direct call", K_DIRECT, first },
		{ "trampoline hit, first entry", K_TRAMP, first },
		{ "trampoline hit, entries in turn", K_TRAMP, hit },
		{ "  hit, first entry, data-flag entry", K_FLAG, first },
		{ "  hit, first entry, indirect call, no entry", K_PAGE, first },
		{ "trampoline miss (then retpolined table)", K_TRAMP, miss },
		{ "retpolined table call, hot keys", K_RETP, hit },
		{ "retpolined table call, cold keys", K_RETP, miss },
		{ "plain indirect call, hot keys", K_PLAIN, hit },
		{ "trace mix: trampoline", K_TRAMP, trace },
		{ "trace mix: retpolined table", K_RETP, trace },
		{ "trace mix: plain indirect", K_PLAIN, trace },
	};
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	double best[NROWS];

	/* rounds outside, rows inside: a slow spell of the host hits every row alike */
	for (int i = 0; i < NROWS; i++)
		best[i] = 1e30;
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < NROWS; i++) {
			double ns = measure_once(rows[i].k, tramp, rows[i].mix, n, &sum);

			if (ns < best[i])
				best[i] = ns;
		}
	printf("jumpswitch native replica: ns per call, min of %d x %lu calls (rows "
	       "interleaved), %d entries\n",
	       ROUNDS, (unsigned long)n, nk);
	for (int i = 0; i < NROWS; i++)
		printf("  %-44s %6.2f\n", rows[i].name, best[i]);
	printf("  (checksum %ld)\n", (long)sum);
	munmap(page, 4096);
	return 0;
}
