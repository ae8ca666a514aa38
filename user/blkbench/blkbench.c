// SPDX-License-Identifier: MIT
/*
 * blkbench: one disk workload, with the kernel's own counters around it
 * (bench/blk.sh runs it in each interrupt mode; docs/blk.md).
 *
 *   blkbench [-d DEV] [-m sync|async] [-o read|write] [-n IOS] [-q DEPTH] [-b BYTES]
 *     -d  the disk (default /dev/vda)
 *     -m  sync: one read()/write() at a time (each request URGENT);
 *         async: batches of DEPTH requests through blk_submit/blk_reap
 *         (the last of each batch a BARRIER) (default sync)
 *     -o  read or write (default read)
 *     -n  requests in all (default 256, at most 1000000)
 *     -q  requests in flight in async mode (default 32, at most 64)
 *     -b  bytes per request, a multiple of 512 up to 65536 (default 4096)
 * Offsets are random multiples of BYTES in the disk (a fixed seed).
 *
 * Output (one line, parsed by bench/blk.sh):
 *   blkbench: mode=M op=O depth=Q bytes=B ios=N ns=T iops=I interrupts=X
 *     completions=C kicks=K irq_per_kio=R
 * ns is guest time (the kernel is emulated on the development host: it is
 * dominated by kernel instructions); interrupts are the kernel's interrupt
 * handler entries for the disks, kicks its queue notifications.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXQ 64

static uint8_t bufs[MAXQ * 65536] __attribute__((aligned(4096)));

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int usage(void)
{
	printf("usage: blkbench [-d DEV] [-m sync|async] [-o read|write] [-n IOS] [-q DEPTH] "
	       "[-b BYTES]\n");
	return 2;
}

static long run_sync(int fd, int write_op, uint64_t n, uint64_t bytes, uint64_t blocks)
{
	for (uint64_t i = 0; i < n; i++) {
		long r = lseek(fd, (int64_t)((rnd() % blocks) * bytes), SEEK_SET);

		if (r >= 0)
			r = write_op ? write(fd, bufs, bytes) : read(fd, bufs, bytes);
		if (r != (long)bytes)
			return r < 0 ? r : -1;
	}
	return 0;
}

static long run_async(int fd, int write_op, uint64_t n, uint64_t q, uint64_t bytes, uint64_t blocks)
{
	struct vessel_blk_io io[MAXQ];
	struct vessel_blk_done done[MAXQ];

	for (uint64_t i = 0; i < n;) {
		uint64_t k = n - i < q ? n - i : q, sent = 0, got = 0;

		for (uint64_t j = 0; j < k; j++)
			io[j] = (struct vessel_blk_io){
				.op = write_op ? VESSEL_BLK_WRITE : VESSEL_BLK_READ,
				.offset = (rnd() % blocks) * bytes,
				.buf = (uint64_t)(bufs + j * bytes),
				.len = bytes,
				.tag = j,
			};
		while (sent < k) {
			long r = sys_blk_submit(fd, io + sent, k - sent);

			if (r <= 0)
				return r ? r : -1;
			sent += (uint64_t)r;
		}
		while (got < k) {
			long r = sys_blk_reap(fd, done, MAXQ, k - got);

			if (r <= 0)
				return r ? r : -1;
			for (long j = 0; j < r; j++)
				if (done[j].result != (int64_t)bytes)
					return done[j].result < 0 ? done[j].result : -1;
			got += (uint64_t)r;
		}
		i += k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct vessel_stats s0, s1;
	const char *dev = "/dev/vda", *mode = "sync", *op = "read";
	uint64_t n = 256, q = 32, bytes = 4096, t0, t1, blocks, ios, irqs;
	long size, r;
	int fd;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *v = argv[i + 1];

		if (!strcmp(argv[i], "-d"))
			dev = v;
		else if (!strcmp(argv[i], "-m"))
			mode = v;
		else if (!strcmp(argv[i], "-o"))
			op = v;
		else if (!strcmp(argv[i], "-n"))
			n = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "-q"))
			q = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "-b"))
			bytes = strtoull(v, NULL, 0);
		else
			return usage();
	}
	if (argc % 2 == 0 || (strcmp(mode, "sync") && strcmp(mode, "async")) ||
	    (strcmp(op, "read") && strcmp(op, "write")) || !n || n > 1000000 || !q || q > MAXQ ||
	    !bytes || bytes % 512 || bytes > 65536)
		return usage();
	fd = (int)open(dev, strcmp(op, "write") ? O_RDONLY : O_RDWR);
	if (fd < 0) {
		printf("blkbench: cannot open %s: error %d\n", dev, fd);
		return 1;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < (long)bytes) {
		printf("blkbench: %s is too small\n", dev);
		return 1;
	}
	blocks = (uint64_t)size / bytes;
	memset(bufs, 0x5a, (size_t)(q * bytes)); /* only what is used: each page costs a fault */
	sys_stats(&s0, sizeof(s0));
	t0 = now_ns();
	r = strcmp(mode, "sync") ? run_async(fd, !strcmp(op, "write"), n, q, bytes, blocks) :
				   run_sync(fd, !strcmp(op, "write"), n, bytes, blocks);
	t1 = now_ns();
	sys_stats(&s1, sizeof(s1));
	if (r) {
		printf("blkbench: I/O failed: error %ld\n", r);
		return 1;
	}
	ios = stats_named(&s1, "blk.completions") - stats_named(&s0, "blk.completions");
	irqs = stats_named(&s1, "blk.interrupts") - stats_named(&s0, "blk.interrupts");
	printf("blkbench: mode=%s op=%s depth=%llu bytes=%llu ios=%llu ns=%llu iops=%llu "
	       "interrupts=%llu completions=%llu kicks=%llu exits=%llu irq_per_kio=%llu\n",
	       mode, op, (unsigned long long)(strcmp(mode, "sync") ? q : 1),
	       (unsigned long long)bytes, (unsigned long long)n, (unsigned long long)(t1 - t0),
	       (unsigned long long)(t1 > t0 ? n * 1000000000ull / (t1 - t0) : 0),
	       (unsigned long long)irqs, (unsigned long long)ios,
	       (unsigned long long)(stats_named(&s1, "blk.kicks") - stats_named(&s0, "blk.kicks")),
	       (unsigned long long)(stats_named(&s1, "blk.exits") - stats_named(&s0, "blk.exits")),
	       (unsigned long long)(ios ? irqs * 1000 / ios : 0));
	close(fd);
	return 0;
}
