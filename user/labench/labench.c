// SPDX-License-Identifier: MIT
/*
 * labench WORKLOAD N ...: system-call-pair-heavy loops for the lookahead
 * benchmark (bench/lookahead.sh), each measured by the kernel's counters
 * and the TSC (under QEMU -icount shift=0 one TSC tick is one guest
 * instruction, user and kernel alike):
 *
 *   getpid N   N getpid calls in a loop
 *   copy N     cat of hello.txt N times: lseek to 0, then read 16 bytes /
 *              write them to the console until the end of the file
 *   rr N       N request/response rounds on hello.txt: seek to a record,
 *              read 8 bytes, time-stamp the reply (clock_gettime), fold
 *              the record into a checksum
 *
 * One line per workload: `labench: NAME ops N calls/op C sysentries/op S
 * entries/op E ticks/op I ns/op T saved X emulated Y result R`, where
 * sysentries are system-call kernel entries, entries all kernel entries
 * (plus interrupts and exceptions), ticks TSC ticks, ns the kernel's
 * uptime clock, and R the workload's result (the same with lookahead on
 * or off).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t named(const struct vessel_stats *s, const char *name)
{
	for (uint32_t i = 0; i < s->nnamed && i < VESSEL_STATS_NAMED; i++)
		if (!strncmp(s->named[i].name, name, VESSEL_STATS_NAME_MAX))
			return s->named[i].value;
	return 0;
}

static uint64_t sys_entries(const struct vessel_stats *s)
{
	return named(s, "syscall.entry_syscall") + named(s, "syscall.entry_ud2") +
	       named(s, "syscall.entry_int80");
}

/* v / n with three decimals (no floating point in our printf). */
static const char *milli(uint64_t v, long n, char *buf)
{
	uint64_t m = v * 1000 / (uint64_t)n;

	snprintf(buf, 24, "%llu.%03llu", (unsigned long long)(m / 1000),
		 (unsigned long long)(m % 1000));
	return buf;
}

static uint64_t w_getpid(long n)
{
	uint64_t r = 0;

	for (long i = 0; i < n; i++)
		r += (uint64_t)sys_getpid();
	return r;
}

static uint64_t w_copy(long n)
{
	char buf[16];
	long fd = open("hello.txt", O_RDONLY), k;
	uint64_t bytes = 0;

	if (fd < 0)
		return 0;
	for (long i = 0; i < n; i++) {
		sys_lseek((int)fd, 0, VESSEL_SEEK_SET);
		while ((k = read((int)fd, buf, sizeof(buf))) > 0)
			bytes += (uint64_t)write(1, buf, (size_t)k);
	}
	close((int)fd);
	return bytes;
}

static uint64_t w_rr(long n)
{
	struct vessel_timespec ts;
	unsigned char rec[8];
	long fd = open("hello.txt", O_RDONLY), size;
	uint64_t sum = 0;

	if (fd < 0)
		return 0;
	size = sys_lseek((int)fd, 0, VESSEL_SEEK_END) - (long)sizeof(rec);
	for (long i = 0; i < n; i++) {
		sys_lseek((int)fd, (i * 7) % size, VESSEL_SEEK_SET);
		if (read((int)fd, rec, sizeof(rec)) != sizeof(rec))
			return 0;
		sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, &ts);
		sum = sum * 31 + rec[0] + rec[7];
	}
	close((int)fd);
	return sum;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint64_t (*fn)(long n);
	} w[] = { { "getpid", w_getpid }, { "copy", w_copy }, { "rr", w_rr } };
	static struct vessel_stats a, b;

	for (int i = 1; i + 1 < argc; i += 2) {
		long n = strtol(argv[i + 1], NULL, 0);
		unsigned k;
		uint64_t t0, t1, r, calls, sysent, ent;
		char c1[24], c2[24], c3[24];

		for (k = 0; k < sizeof(w) / sizeof(w[0]) && strcmp(argv[i], w[k].name); k++)
			;
		if (k == sizeof(w) / sizeof(w[0]) || n <= 0) {
			fprintf(stderr, "usage: labench {getpid|copy|rr} N ...\n");
			return 2;
		}
		fflush(stdout);
		sys_stats(&a, sizeof(a));
		t0 = rdtsc();
		r = w[k].fn(n);
		t1 = rdtsc();
		sys_stats(&b, sizeof(b));
		/* less the closing stats call (an entry, or served: +-1 over n) */
		calls = b.total.syscalls - a.total.syscalls - 1;
		sysent = sys_entries(&b) - sys_entries(&a) - 1;
		ent = sysent + (b.total.interrupts - a.total.interrupts) +
		      (b.total.exceptions - a.total.exceptions);
		printf("\nlabench: %s ops %ld calls/op %s sysentries/op %s entries/op %s "
		       "ticks/op %llu ns/op %llu saved %llu emulated %llu result %llu\n",
		       w[k].name, n, milli(calls, n, c1), milli(sysent, n, c2), milli(ent, n, c3),
		       (unsigned long long)((t1 - t0) / (uint64_t)n),
		       (unsigned long long)((b.uptime_ns - a.uptime_ns) / (uint64_t)n),
		       (unsigned long long)(named(&b, "lookahead.saved") -
					    named(&a, "lookahead.saved")),
		       (unsigned long long)(named(&b, "lookahead.emulated") -
					    named(&a, "lookahead.emulated")),
		       (unsigned long long)r);
	}
	return 0;
}
