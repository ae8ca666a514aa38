// SPDX-License-Identifier: MIT
/*
 * memtest: fill a buffer with a known pattern, report where one chosen page
 * lives in guest-physical memory, then keep verifying the buffer's checksum.
 * Used by the migration and memory-error tests (tests/migrate): a host test reads
 * the "gpa" line, poisons that page or migrates the VM, and watches the
 * "round" lines (or this process's death by SIGBUS).
 *
 *   memtest [-m MIB] [-p PAGE] [-n ROUNDS] [-i MS] [-d PAGES_PER_ROUND]
 *     -m  buffer size in MiB (default 16)
 *     -p  index of the page whose address is printed (default: the middle)
 *     -n  verification rounds, 0 = forever (default 0; at most 10^9)
 *     -i  milliseconds between rounds (default 1000; at most 3600000)
 *     -d  also re-write this many pages per round (same bytes: the page is
 *         dirtied for the VMM's dirty log, the checksum stays valid; at
 *         most the buffer's page count)
 *     -g  print the "page" line for this many pages from -p on (default 1)
 * Values outside these ranges (or not decimal/hex numbers) are refused
 * with a message naming the option, before anything runs (status 2).
 * Ctrl-C on the console stops it.
 *
 * Output lines (stable, parsed by tests):
 *   memtest: buffer va 0x... pages N checksum 0x...
 *   memtest: page P va 0x... gpa 0x...
 *   memtest: round R ok checksum 0x...
 *   memtest: round R MISMATCH checksum 0x... expected 0x...   (exit 1)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE	     4096ull
#define MAX_ROUNDS   1000000000ull
#define MAX_INTERVAL 3600000ull /* ms: one hour */

static uint64_t checksum(const uint64_t *w, size_t words)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < words; i++) {
		h ^= w[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* A non-negative number (strtoull alone would turn "-1" into 2^64 - 1). */
static int arg_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*v = strtoull(s, &end, 0);
	return *end ? -1 : 0;
}

/* 0 if v <= max, else -1 with a message naming the option. */
static int at_most(char opt, uint64_t v, uint64_t max, const char *unit)
{
	if (v <= max)
		return 0;
	fprintf(stderr, "memtest: -%c %llu: at most %llu %s\n", opt, (unsigned long long)v,
		(unsigned long long)max, unit);
	return -1;
}

int main(int argc, char **argv)
{
	uint64_t mib = 16, page = ~0ull, rounds = 0, interval = 1000, dirty = 0, shown = 1;
	uint64_t size, pages, sum, x = 0x243f6a8885a308d3ull, dirty_next = 0;
	uint64_t *buf;
	long r, gpa;

	for (int i = 1; i < argc; i++) {
		uint64_t *dst = NULL;

		if (!strcmp(argv[i], "-m"))
			dst = &mib;
		else if (!strcmp(argv[i], "-p"))
			dst = &page;
		else if (!strcmp(argv[i], "-n"))
			dst = &rounds;
		else if (!strcmp(argv[i], "-i"))
			dst = &interval;
		else if (!strcmp(argv[i], "-d"))
			dst = &dirty;
		else if (!strcmp(argv[i], "-g"))
			dst = &shown;
		if (dst && i + 1 < argc && arg_u64(argv[i + 1], dst)) {
			fprintf(stderr, "memtest: %s %s: not a number\n", argv[i], argv[i + 1]);
			dst = NULL;
		}
		if (!dst || ++i >= argc) {
			fprintf(stderr, "usage: memtest [-m MIB] [-p PAGE] [-n ROUNDS] [-i MS] "
					"[-d PAGES_PER_ROUND] [-g PAGES_SHOWN]\n");
			return 2;
		}
	}
	if (mib == 0 || mib > 1024) {
		fprintf(stderr, "memtest: -m %llu: size must be 1..1024 MiB\n",
			(unsigned long long)mib);
		return 2;
	}
	size = mib << 20;
	pages = size / PAGE;
	if (page == ~0ull)
		page = pages / 2;
	if (page >= pages) {
		fprintf(stderr, "memtest: -p %llu: the buffer has %llu pages\n",
			(unsigned long long)page, (unsigned long long)pages);
		return 2;
	}
	if (at_most('n', rounds, MAX_ROUNDS, "rounds (0: forever)") ||
	    at_most('i', interval, MAX_INTERVAL, "ms between rounds") ||
	    at_most('d', dirty, pages, "pages per round (the buffer's size)"))
		return 2;
	if (shown == 0 || shown > pages - page) {
		fprintf(stderr, "memtest: -g %llu: pages %llu.. of the buffer's %llu\n",
			(unsigned long long)shown, (unsigned long long)page,
			(unsigned long long)pages);
		return 2;
	}

	r = sys_mmap(NULL, size, VESSEL_PROT_READ | VESSEL_PROT_WRITE,
		     VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);
	if (r < 0) {
		fprintf(stderr, "memtest: mmap %llu MiB: %s\n", (unsigned long long)mib,
			strerror((int)r));
		return 1;
	}
	buf = (uint64_t *)r;
	for (size_t i = 0; i < size / 8; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		buf[i] = x * 0x2545f4914f6cdd1dull;
	}
	sum = checksum(buf, size / 8);
	printf("memtest: buffer va %p pages %llu checksum 0x%016llx\n", (void *)buf,
	       (unsigned long long)pages, (unsigned long long)sum);
	for (uint64_t p = page; p < page + shown; p++) {
		gpa = sys_virt_to_phys((char *)buf + p * PAGE);
		if (gpa < 0) {
			fprintf(stderr, "memtest: virt_to_phys: %s\n", strerror((int)gpa));
			return 1;
		}
		printf("memtest: page %llu va %p gpa 0x%llx\n", (unsigned long long)p,
		       (void *)((char *)buf + p * PAGE), (unsigned long long)gpa);
	}

	for (uint64_t round = 1; rounds == 0 || round <= rounds; round++) {
		uint64_t now;

		if (interval)
			msleep(interval);
		for (uint64_t d = 0; d < dirty; d++) {
			volatile uint64_t *w = buf + (dirty_next * PAGE) / 8;

			*w = *w; /* same value: dirty for the VMM, checksum unchanged */
			dirty_next = (dirty_next + 1) % pages;
		}
		now = checksum(buf, size / 8);
		if (now != sum) {
			printf("memtest: round %llu MISMATCH checksum 0x%016llx expected "
			       "0x%016llx\n",
			       (unsigned long long)round, (unsigned long long)now,
			       (unsigned long long)sum);
			return 1;
		}
		printf("memtest: round %llu ok checksum 0x%016llx\n", (unsigned long long)round,
		       (unsigned long long)now);
	}
	return 0;
}
