// SPDX-License-Identifier: MIT
/*
 * blkbench: one disk workload, with the kernel's own counters around it
 * (bench/blk.sh runs it in each interrupt mode; docs/blk.md).
 *
 *   blkbench [-d DEV[,DEV...]] [-m sync|async] [-o read|write] [-n IOS] [-q DEPTH]
 *            [-b BYTES]
 *     -d  the disk (default /dev/vda); with a comma-separated list of K disks
 *         (at most 8) the work alternates between them: sync request i, or
 *         async batch i, goes to disk i mod K (bench/blk.sh compares two
 *         interrupt modes, one per disk, under the same load this way)
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
 *     completions=C kicks=K exits=E irq_per_kio=R disks=D
 * ns is guest time (the kernel is emulated on the development host: it is
 * dominated by kernel instructions); interrupts are the kernel's interrupt
 * handler entries for the disks, kicks its queue notifications (all disks
 * together; the VMM counts per disk).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXQ 64
#define MAXD 8

static uint8_t bufs[MAXQ * 65536] __attribute__((aligned(4096)));

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The disks of -d: request (sync) or batch (async) i goes to disk i % nd. */
static struct disk {
	int fd;
	uint64_t blocks; /* its size in requests */
} disk[MAXD];
static int nd;

static int usage(void)
{
	printf("usage: blkbench [-d DEV[,DEV...]] [-m sync|async] [-o read|write] [-n IOS] "
	       "[-q DEPTH] [-b BYTES]\n");
	return 2;
}

static long run_sync(int write_op, uint64_t n, uint64_t bytes)
{
	for (uint64_t i = 0; i < n; i++) {
		const struct disk *d = &disk[i % (uint64_t)nd];
		int fd = d->fd;
		long r = lseek(fd, (int64_t)((rnd() % d->blocks) * bytes), SEEK_SET);

		if (r >= 0)
			r = write_op ? write(fd, bufs, bytes) : read(fd, bufs, bytes);
		if (r != (long)bytes)
			return r < 0 ? r : -1;
	}
	return 0;
}

static long run_async(int write_op, uint64_t n, uint64_t q, uint64_t bytes)
{
	struct vessel_blk_io io[MAXQ];
	struct vessel_blk_done done[MAXQ];

	for (uint64_t i = 0, b = 0; i < n; b++) {
		uint64_t k = n - i < q ? n - i : q, sent = 0, got = 0;
		int fd = disk[b % (uint64_t)nd].fd;
		uint64_t blocks = disk[b % (uint64_t)nd].blocks;

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

/*
 * Opens the disks of a -d list (comma-separated, at most MAXD) into disk[]:
 * 0, or 1 after a message naming the one that failed.
 */
static int open_disks(const char *list, int flags, uint64_t bytes)
{
	char name[64];

	for (const char *p = list;;) {
		size_t len = 0;
		long size;

		while (p[len] && p[len] != ',')
			len++;
		if (!len || len >= sizeof(name) || nd == MAXD) {
			printf("blkbench: bad -d list '%s' (at most %d disks, comma-separated)\n",
			       list, MAXD);
			return 1;
		}
		memcpy(name, p, len);
		name[len] = 0;
		disk[nd].fd = (int)open(name, flags);
		if (disk[nd].fd < 0) {
			printf("blkbench: cannot open %s: error %d\n", name, disk[nd].fd);
			return 1;
		}
		size = lseek(disk[nd].fd, 0, SEEK_END);
		if (size < (long)bytes) {
			printf("blkbench: %s is too small\n", name);
			return 1;
		}
		disk[nd++].blocks = (uint64_t)size / bytes;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int main(int argc, char **argv)
{
	static struct vessel_stats s0, s1;
	const char *dev = "/dev/vda", *mode = "sync", *op = "read";
	uint64_t n = 256, q = 32, bytes = 4096, t0, t1, ios, irqs;
	long r;

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
	if (open_disks(dev, strcmp(op, "write") ? O_RDONLY : O_RDWR, bytes))
		return 1;
	memset(bufs, 0x5a, (size_t)(q * bytes)); /* only what is used: each page costs a fault */
	sys_stats(&s0, sizeof(s0));
	t0 = now_ns();
	r = strcmp(mode, "sync") ? run_async(!strcmp(op, "write"), n, q, bytes) :
				   run_sync(!strcmp(op, "write"), n, bytes);
	t1 = now_ns();
	sys_stats(&s1, sizeof(s1));
	if (r) {
		printf("blkbench: I/O failed: error %ld\n", r);
		return 1;
	}
	ios = stats_named(&s1, "blk.completions") - stats_named(&s0, "blk.completions");
	irqs = stats_named(&s1, "blk.interrupts") - stats_named(&s0, "blk.interrupts");
	printf("blkbench: mode=%s op=%s depth=%llu bytes=%llu ios=%llu ns=%llu iops=%llu "
	       "interrupts=%llu completions=%llu kicks=%llu exits=%llu irq_per_kio=%llu disks=%d\n",
	       mode, op, (unsigned long long)(strcmp(mode, "sync") ? q : 1),
	       (unsigned long long)bytes, (unsigned long long)n, (unsigned long long)(t1 - t0),
	       (unsigned long long)(t1 > t0 ? n * 1000000000ull / (t1 - t0) : 0),
	       (unsigned long long)irqs, (unsigned long long)ios,
	       (unsigned long long)(stats_named(&s1, "blk.kicks") - stats_named(&s0, "blk.kicks")),
	       (unsigned long long)(stats_named(&s1, "blk.exits") - stats_named(&s0, "blk.exits")),
	       (unsigned long long)(ios ? irqs * 1000 / ios : 0), nd);
	for (int i = 0; i < nd; i++)
		close(disk[i].fd);
	return 0;
}
