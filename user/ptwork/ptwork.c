// SPDX-License-Identifier: MIT
/*
 * ptwork: page-table-heavy workloads for the shadow-paging model
 * (docs/sptmodel.md), and the cost of a shadow fault on this host.
 *
 *   ptwork spawn N        spawn and wait for a trivial process N times
 *                         (address spaces built and torn down: exec + exit)
 *   ptwork mmap N PAGES   N rounds: map PAGES anonymous pages, write one word
 *                         in each (a demand fault each), unmap them
 *   ptwork mprotect N PAGES  map and touch PAGES pages once, then N rounds
 *                         of mprotect(read-only), read each page,
 *                         mprotect(read-write), write each page
 *   ptwork cost PAGES     TSC cycles of: a first user access to a page the
 *                         kernel mapped without user code touching it (on a
 *                         shadow-paging host one shadow fault: exit, fill,
 *                         re-entry), the same access again (no fault), and a
 *                         null system call (emulated kernel code here)
 *   ptwork nop            exit at once (what `spawn` runs)
 *
 * Output (parsed by bench/sptmodel.sh and tests/sptmodel/run.sh):
 *   ptwork: spawn N done
 *   ptwork: mmap N x PAGES done
 *   ptwork: mprotect N x PAGES done
 *   ptwork: cost pages P first C1 again C2 syscall C3 (cycles, median per page/call)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096ul

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static int arg_u64(const char *s, uint64_t *v)
{
	char *end;

	*v = strtoull(s, &end, 0);
	return *s && !*end ? 0 : -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t median(uint64_t *v, uint64_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

static void *map(uint64_t pages, uint64_t prot)
{
	long p = sys_mmap(NULL, pages * PAGE, prot, VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS);

	if (sys_failed(p)) {
		fprintf(stderr, "ptwork: mmap of %llu pages: error %ld\n",
			(unsigned long long)pages, p);
		exit(1);
	}
	return (void *)p;
}

static int spawn(uint64_t n)
{
	const char *argv[] = { "ptwork", "nop", NULL };

	for (uint64_t i = 0; i < n; i++) {
		long st = run_wait("ptwork", argv);

		if (st != 0) {
			fprintf(stderr, "ptwork: spawn %llu: status %ld\n", (unsigned long long)i,
				st);
			return 1;
		}
	}
	printf("ptwork: spawn %llu done\n", (unsigned long long)n);
	return 0;
}

static int mmap_loop(uint64_t n, uint64_t pages)
{
	for (uint64_t i = 0; i < n; i++) {
		volatile uint64_t *p = map(pages, VESSEL_PROT_READ | VESSEL_PROT_WRITE);

		for (uint64_t k = 0; k < pages; k++)
			p[k * PAGE / 8] = i + k;
		sys_munmap((void *)p, pages * PAGE);
	}
	printf("ptwork: mmap %llu x %llu done\n", (unsigned long long)n, (unsigned long long)pages);
	return 0;
}

static int mprotect_loop(uint64_t n, uint64_t pages)
{
	volatile uint64_t *p = map(pages, VESSEL_PROT_READ | VESSEL_PROT_WRITE);
	uint64_t sum = 0;

	for (uint64_t k = 0; k < pages; k++)
		p[k * PAGE / 8] = k;
	for (uint64_t i = 0; i < n; i++) {
		if (sys_mprotect((void *)p, pages * PAGE, VESSEL_PROT_READ))
			return 1;
		for (uint64_t k = 0; k < pages; k++)
			sum += p[k * PAGE / 8];
		if (sys_mprotect((void *)p, pages * PAGE, VESSEL_PROT_READ | VESSEL_PROT_WRITE))
			return 1;
		for (uint64_t k = 0; k < pages; k++)
			p[k * PAGE / 8] = sum + k;
	}
	printf("ptwork: mprotect %llu x %llu done\n", (unsigned long long)n,
	       (unsigned long long)pages);
	return 0;
}

/* Fill buf through read(): the kernel faults the pages in, user code does not. */
static int kernel_fill(uint8_t *buf, uint64_t len)
{
	long fd = open("usertests", O_RDONLY);
	uint64_t done = 0;

	if (fd < 0) {
		fprintf(stderr, "ptwork: cost needs the file 'usertests' in the initrd\n");
		return -1;
	}
	while (done < len) {
		long r = read((int)fd, buf + done, len - done);

		if (r == 0 && sys_lseek(fd, 0, SEEK_SET) == 0)
			continue;
		if (r <= 0) {
			close((int)fd);
			return -1;
		}
		done += (uint64_t)r;
	}
	close((int)fd);
	return 0;
}

static int cost(uint64_t pages)
{
	uint8_t *buf = map(pages, VESSEL_PROT_READ | VESSEL_PROT_WRITE);
	uint64_t *first = malloc(pages * sizeof(uint64_t)),
		 *again = malloc(pages * sizeof(uint64_t));
	uint64_t calls[64];
	volatile uint8_t sink = 0;

	if (!first || !again || kernel_fill(buf, pages * PAGE))
		return 1;
	for (uint64_t k = 0; k < pages; k++) {
		uint64_t t0 = rdtsc();

		sink += ((volatile uint8_t *)buf)[k * PAGE];
		first[k] = rdtsc() - t0;
	}
	for (uint64_t k = 0; k < pages; k++) {
		uint64_t t0 = rdtsc();

		sink += ((volatile uint8_t *)buf)[k * PAGE];
		again[k] = rdtsc() - t0;
	}
	for (int i = 0; i < 64; i++) {
		uint64_t t0 = rdtsc();

		sys_getpid();
		calls[i] = rdtsc() - t0;
	}
	printf("ptwork: cost pages %llu first %llu again %llu syscall %llu\n",
	       (unsigned long long)pages, (unsigned long long)median(first, pages),
	       (unsigned long long)median(again, pages), (unsigned long long)median(calls, 64));
	(void)sink;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t a = 0, b = 0;

	if (argc == 2 && !strcmp(argv[1], "nop"))
		return 0;
	if (argc == 3 && !arg_u64(argv[2], &a) && a > 0) {
		if (!strcmp(argv[1], "spawn"))
			return spawn(a);
		if (!strcmp(argv[1], "cost"))
			return cost(a);
	}
	if (argc == 4 && !arg_u64(argv[2], &a) && !arg_u64(argv[3], &b) && b > 0) {
		if (!strcmp(argv[1], "mmap"))
			return mmap_loop(a, b);
		if (!strcmp(argv[1], "mprotect"))
			return mprotect_loop(a, b);
	}
	fprintf(stderr, "usage: ptwork spawn N | mmap N PAGES | mprotect N PAGES | cost PAGES | "
			"nop\n");
	return 2;
}
