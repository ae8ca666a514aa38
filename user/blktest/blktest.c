// SPDX-License-Identifier: MIT
/*
 * blktest: data integrity of a disk through read/write/lseek/fsync and the
 * asynchronous blk_submit/blk_reap (docs/blk.md). It overwrites the disk.
 *
 *   blktest [-d DEV] [-s SEED]     the suite: "ok N - name" / "not ok N - name"
 *                                  lines, then "N passed, M failed"; the exit
 *                                  status is the failure count
 *   blktest -r [-d DEV]            the read-only suite (DEV is read-only)
 *   blktest fill DEV SEED FIRST COUNT    write the pattern of SEED to sectors
 *                                  [FIRST, FIRST + COUNT), 32 requests of 4 KiB
 *                                  in flight (batches); "blktest: fill done ..."
 *   blktest verify DEV SEED FIRST COUNT  read them back the same way and
 *                                  compare; "blktest: verify ok ..." or MISMATCH
 *   blktest batch DEV N            one batch of N asynchronous 4-KiB writes:
 *                                  "blktest: batch N interrupts I completions C"
 *                                  (the kernel's blk.* counters around it)
 *   blktest orphan DEV             (internal) submit writes and exit unreaped
 *
 * The pattern: 64-bit word k of sector s is mix(SEED, s * 64 + k), the
 * splitmix64 finaliser of SEED * 2^64/phi + the index (tests/blk/check.py
 * computes the same on the host).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECT   512u
#define WORDS  (SECT / 8)
#define IO     4096u /* bytes per request of fill/verify/batch */
#define DEPTH  32
#define REGION 2048u /* sectors the random test writes into */

static int npass, nfail;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t mix(uint64_t seed, uint64_t i)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ull + i;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void pattern(void *buf, uint64_t seed, uint64_t sector, uint64_t nsect)
{
	uint64_t *w = buf;

	for (uint64_t s = 0; s < nsect; s++)
		for (uint64_t k = 0; k < WORDS; k++)
			w[s * WORDS + k] = mix(seed, (sector + s) * WORDS + k);
}

/* The first sector of buf (nsect long) that differs from the pattern, or -1. */
static long check(const void *buf, uint64_t seed, uint64_t sector, uint64_t nsect)
{
	const uint64_t *w = buf;

	for (uint64_t s = 0; s < nsect; s++)
		for (uint64_t k = 0; k < WORDS; k++)
			if (w[s * WORDS + k] != mix(seed, (sector + s) * WORDS + k))
				return (long)s;
	return -1;
}

static void result(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(int ok, const char *name, const char *fmt, ...)
{
	char why[200] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (ok)
		npass++;
	else
		nfail++;
	printf("%sok %d - %s%s%s\n", ok ? "" : "not ", npass + nfail, name, ok || !*why ? "" : ": ",
	       ok ? "" : why);
}

static long pwrite_at(int fd, const void *buf, uint64_t len, uint64_t off)
{
	long r = lseek(fd, (int64_t)off, SEEK_SET);

	return r < 0 ? r : write(fd, buf, len);
}

static long pread_at(int fd, void *buf, uint64_t len, uint64_t off)
{
	long r = lseek(fd, (int64_t)off, SEEK_SET);

	return r < 0 ? r : read(fd, buf, len);
}

static uint64_t named(const char *name)
{
	static struct vessel_stats s;

	if (sys_stats(&s, sizeof(s)) < 0)
		return 0;
	return stats_named(&s, name);
}

/* Submits and reaps `n` requests of IO bytes (sector per index) in one batch. */
static int batch(int fd, int op, uint8_t *bufs, const uint64_t *sectors, int n,
		 struct vessel_blk_done *done)
{
	struct vessel_blk_io io[64];
	int got = 0;

	for (int i = 0; i < n; i++)
		io[i] = (struct vessel_blk_io){ .op = (uint32_t)op,
						.offset = sectors[i] * SECT,
						.buf = (uint64_t)(bufs + (size_t)i * IO),
						.len = IO,
						.tag = (uint64_t)i };
	for (int sent = 0; sent < n;) {
		long r = sys_blk_submit(fd, io + sent, (uint64_t)(n - sent));

		if (r <= 0)
			return r ? (int)r : -1;
		sent += (int)r;
	}
	while (got < n) {
		long r = sys_blk_reap(fd, done + got, (uint64_t)(n - got), (uint64_t)(n - got));

		if (r <= 0)
			return r ? (int)r : -1;
		got += (int)r;
	}
	for (int i = 0; i < n; i++)
		if (done[i].result != IO)
			return (int)(done[i].result < 0 ? done[i].result : -1);
	return 0;
}

/* fill or verify [first, first + count) with DEPTH requests of IO bytes in flight. */
static int stream(const char *dev, int verify, uint64_t seed, uint64_t first, uint64_t count)
{
	static uint8_t bufs[DEPTH * IO] __attribute__((aligned(4096)));
	struct vessel_blk_done done[DEPTH];
	uint64_t sectors[DEPTH], per = IO / SECT, reqs = 0;
	int fd = (int)open(dev, verify ? O_RDONLY : O_RDWR);

	if (fd < 0) {
		printf("blktest: cannot open %s: error %d\n", dev, fd);
		return 1;
	}
	if (count % per) {
		printf("blktest: COUNT must be a multiple of %llu sectors\n",
		       (unsigned long long)per);
		return 2;
	}
	for (uint64_t s = first; s < first + count;) {
		int n = 0, r;

		for (; n < DEPTH && s < first + count; n++, s += per) {
			sectors[n] = s;
			if (!verify)
				pattern(bufs + (size_t)n * IO, seed, s, per);
		}
		r = batch(fd, verify ? VESSEL_BLK_READ : VESSEL_BLK_WRITE, bufs, sectors, n, done);
		if (r) {
			printf("blktest: %s at sector %llu: error %d\n", verify ? "read" : "write",
			       (unsigned long long)sectors[0], r);
			return 1;
		}
		reqs += (uint64_t)n;
		for (int i = 0; verify && i < n; i++) {
			/* done[] is in completion order: the tag says which buffer */
			uint64_t t = done[i].tag;
			long bad = check(bufs + t * IO, seed, sectors[t], per);

			if (bad >= 0) {
				printf("blktest: verify MISMATCH at sector %llu\n",
				       (unsigned long long)(sectors[t] + (uint64_t)bad));
				return 1;
			}
		}
	}
	printf("blktest: %s %s seed %llu sectors %llu..%llu requests %llu\n",
	       verify ? "verify ok" : "fill done", dev, (unsigned long long)seed,
	       (unsigned long long)first, (unsigned long long)(first + count),
	       (unsigned long long)reqs);
	close(fd);
	return 0;
}

static int batch_cmd(const char *dev, int n)
{
	static uint8_t bufs[64 * IO] __attribute__((aligned(4096)));
	struct vessel_blk_done done[64];
	uint64_t sectors[64], i0, c0;
	int fd = (int)open(dev, O_RDWR), r;

	if (fd < 0 || n < 1 || n > 64) {
		printf("blktest: batch: cannot open %s or bad N (1..64)\n", dev);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		sectors[i] = (uint64_t)i * (IO / SECT);
		pattern(bufs + (size_t)i * IO, 99, sectors[i], IO / SECT);
	}
	i0 = named("blk.interrupts");
	c0 = named("blk.completions");
	r = batch(fd, VESSEL_BLK_WRITE, bufs, sectors, n, done);
	printf("blktest: batch %d interrupts %llu completions %llu%s\n", n,
	       (unsigned long long)(named("blk.interrupts") - i0),
	       (unsigned long long)(named("blk.completions") - c0), r ? " FAILED" : "");
	close(fd);
	return r != 0;
}

/* Leaves requests in flight and exits (the kernel must reclaim them). */
static int orphan_cmd(const char *dev)
{
	static uint8_t bufs[16 * IO];
	struct vessel_blk_io io[16];
	int fd = (int)open(dev, O_RDWR);

	for (int i = 0; i < 16; i++)
		io[i] = (struct vessel_blk_io){ .op = VESSEL_BLK_WRITE,
						.offset = (uint64_t)i * IO,
						.buf = (uint64_t)(bufs + (size_t)i * IO),
						.len = IO };
	return fd < 0 || sys_blk_submit(fd, io, 16) != 16;
}

/* ---------------------------------------------------------------- the suite */

static uint8_t big[160 * 1024] __attribute__((aligned(4096)));
static uint8_t big2[160 * 1024] __attribute__((aligned(4096)));

static void t_capacity(int fd, uint64_t *bytes)
{
	long end = lseek(fd, 0, SEEK_END);

	*bytes = end > 0 ? (uint64_t)end : 0;
	result(end > 0 && end % SECT == 0 && lseek(fd, 0, SEEK_SET) == 0, "capacity",
	       "lseek(SEEK_END) = %ld", end);
}

static void t_single(int fd, uint64_t seed)
{
	long w, r;

	pattern(big, seed, 3, 1);
	w = pwrite_at(fd, big, SECT, 3 * SECT);
	memset(big2, 0, SECT);
	r = pread_at(fd, big2, SECT, 3 * SECT);
	result(w == SECT && r == SECT && !memcmp(big, big2, SECT), "one sector written and read",
	       "write %ld read %ld", w, r);
}

static void t_random(int fd, uint64_t seed)
{
	static uint8_t gen[REGION]; /* 0: never written by this test */
	long bad = -1, r = 0;
	uint64_t bad_at = 0;

	memset(gen, 0, sizeof(gen));
	for (int i = 0; i < 24 && r >= 0; i++) {
		uint64_t n = 1 + rnd() % 16, s = rnd() % (REGION - n);
		uint8_t g = (uint8_t)(1 + i);

		for (uint64_t k = 0; k < n; k++)
			pattern(big + k * SECT, seed + g, s + k, 1);
		r = pwrite_at(fd, big, n * SECT, s * SECT);
		if (r != (long)(n * SECT))
			r = r < 0 ? r : -1;
		for (uint64_t k = 0; k < n; k++)
			gen[s + k] = g;
	}
	for (uint64_t s = 0; r >= 0 && s < REGION && bad < 0; s += 128) {
		r = pread_at(fd, big2, 128 * SECT, s * SECT);
		for (uint64_t k = 0; r >= 0 && k < 128 && bad < 0; k++)
			if (gen[s + k] &&
			    check(big2 + k * SECT, seed + gen[s + k], s + k, 1) >= 0) {
				bad = (long)k;
				bad_at = s + k;
			}
	}
	result(r >= 0 && bad < 0, "24 random writes (1-16 sectors) read back",
	       "error %ld or mismatch at sector %llu", r, (unsigned long long)bad_at);
}

static void t_large(int fd, uint64_t seed)
{
	uint64_t s = 4096, n = sizeof(big) / SECT; /* 160 KiB: 3 requests of 64 KiB at most */
	long w, r;

	pattern(big, seed, s, n);
	w = pwrite_at(fd, big, sizeof(big), s * SECT);
	memset(big2, 0, sizeof(big2));
	r = pread_at(fd, big2, sizeof(big2), s * SECT);
	result(w == (long)sizeof(big) && r == (long)sizeof(big) && check(big2, seed, s, n) < 0,
	       "160 KiB write and read (split into requests)", "write %ld read %ld", w, r);
}

static void t_async(int fd, uint64_t seed, uint64_t bytes)
{
	struct vessel_blk_done done[DEPTH];
	uint64_t sectors[DEPTH], slots = (bytes / 2) / IO; /* in the upper half */
	int rw, rr, bad = -1;

	for (int i = 0; i < DEPTH; i++) {
		int dup;

		do { /* distinct 4-KiB blocks */
			sectors[i] = (slots + rnd() % slots) * (IO / SECT);
			dup = 0;
			for (int j = 0; j < i; j++)
				dup |= sectors[j] == sectors[i];
		} while (dup);
		pattern(big + (size_t)i * IO, seed, sectors[i], IO / SECT);
	}
	rw = batch(fd, VESSEL_BLK_WRITE, big, sectors, DEPTH, done);
	memset(big, 0, DEPTH * IO);
	rr = batch(fd, VESSEL_BLK_READ, big, sectors, DEPTH, done);
	for (int i = 0; !rw && !rr && i < DEPTH && bad < 0; i++)
		if (check(big + (size_t)i * IO, seed, sectors[i], IO / SECT) >= 0)
			bad = i;
	result(!rw && !rr && bad < 0, "32 asynchronous writes then 32 reads in flight",
	       "write batch %d read batch %d mismatch in request %d", rw, rr, bad);
}

static void t_flush(int fd)
{
	struct vessel_blk_io io = { .op = VESSEL_BLK_FLUSH, .tag = 7 };
	struct vessel_blk_done d = { 0, -1 };
	long f = fsync(fd), s = sys_blk_submit(fd, &io, 1), r = sys_blk_reap(fd, &d, 1, 1);

	result(f == 0 && s == 1 && r == 1 && d.tag == 7 && d.result == 0,
	       "fsync and an asynchronous flush", "fsync %ld submit %ld reap %ld result %lld", f, s,
	       r, (long long)d.result);
}

static void t_errors(int fd, uint64_t bytes)
{
	struct vessel_blk_io io = { .op = VESSEL_BLK_WRITE, .buf = (uint64_t)big, .len = IO };
	struct vessel_blk_done d;
	long e[12];

	e[0] = pwrite_at(fd, big, 100, 0);		  /* not whole sectors */
	e[1] = pread_at(fd, big, SECT, 100);		  /* misaligned position */
	e[2] = pread_at(fd, big, SECT, bytes);		  /* at the end: 0 */
	e[3] = pwrite_at(fd, big, SECT, bytes);		  /* at the end: no space */
	e[4] = pread_at(fd, big, 2 * SECT, bytes - SECT); /* across the end: cut */
	io.offset = bytes;
	e[5] = sys_blk_submit(fd, &io, 1); /* beyond the end */
	io.offset = 0;
	io.len = 0;
	e[6] = sys_blk_submit(fd, &io, 1); /* empty */
	io.len = 128 * 1024;
	e[7] = sys_blk_submit(fd, &io, 1); /* larger than a request */
	io.len = IO;
	io.op = 9;
	e[8] = sys_blk_submit(fd, &io, 1);  /* unknown operation */
	e[9] = sys_blk_submit(1, &io, 1);   /* the console */
	e[10] = open("/dev/vdz", O_RDONLY); /* no such disk */
	e[11] = sys_blk_reap(fd, &d, 1, 2); /* min > max */
	result(e[0] == -EINVAL && e[1] == -EINVAL && e[2] == 0 && e[3] == -ENOSPC && e[4] == SECT &&
		       e[5] == -ENOSPC && e[6] == -EINVAL && e[7] == -EINVAL && e[8] == -EINVAL &&
		       e[9] == -ENOTBLK && e[10] == -ENOENT && e[11] == -EINVAL,
	       "errors: alignment, end of disk, bad requests, not a disk",
	       "%ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", e[0], e[1], e[2], e[3], e[4],
	       e[5], e[6], e[7], e[8], e[9], e[10], e[11]);
}

/* Every request slot must be free again: 64 requests in one call (it would block otherwise). */
static long all_slots(const char *dev)
{
	static uint8_t bufs[64 * IO];
	struct vessel_blk_io io[64];
	struct vessel_blk_done done[64];
	int fd = (int)open(dev, O_RDONLY);
	long s, got = 0;

	for (int i = 0; i < 64; i++)
		io[i] = (struct vessel_blk_io){ .op = VESSEL_BLK_READ,
						.offset = (uint64_t)i * IO,
						.buf = (uint64_t)(bufs + (size_t)i * IO),
						.len = IO };
	/* each call sleeps until one slot is free: with a slot leaked this
	 * never reaches 64 and the test hangs (the harness times it out) */
	for (s = 0; s < 64;) {
		long r = sys_blk_submit(fd, io + s, (uint64_t)(64 - s));

		if (r <= 0)
			break;
		s += r;
	}
	while (s > 0 && got < s) {
		long r = sys_blk_reap(fd, done, 64, 1);

		if (r <= 0)
			break;
		got += r;
	}
	close(fd);
	return s == got ? s : -1;
}

static void t_orphans(const char *dev)
{
	static uint8_t bufs[16 * IO];
	struct vessel_blk_io io[16];
	const char *argv[] = { "/blktest", "orphan", dev, NULL };
	int fd = (int)open(dev, O_RDWR);
	long st, s1, s2;

	for (int i = 0; i < 16; i++)
		io[i] = (struct vessel_blk_io){ .op = VESSEL_BLK_WRITE,
						.offset = (uint64_t)i * IO,
						.buf = (uint64_t)(bufs + (size_t)i * IO),
						.len = IO };
	s1 = sys_blk_submit(fd, io, 16);
	close(fd);			 /* with 16 requests in flight */
	st = run_wait("/blktest", argv); /* a process that exits with 16 in flight */
	s2 = all_slots(dev);
	result(s1 == 16 && st == 0 && s2 == 64,
	       "requests left in flight by close and by exit are reclaimed",
	       "submit %ld child %ld then 64 slots: %ld", s1, st, s2);
}

static int suite(const char *dev, uint64_t seed)
{
	uint64_t bytes = 0;
	int fd = (int)open(dev, O_RDWR);

	rng ^= seed;
	if (fd < 0) {
		printf("blktest: cannot open %s: error %d\n", dev, fd);
		return 1;
	}
	t_capacity(fd, &bytes);
	if (bytes < 8u << 20) {
		printf("blktest: %s is %llu bytes; the suite needs at least 8 MiB\n", dev,
		       (unsigned long long)bytes);
		return 1;
	}
	t_single(fd, seed);
	t_random(fd, seed);
	t_large(fd, seed);
	t_async(fd, seed, bytes);
	t_flush(fd);
	t_errors(fd, bytes);
	close(fd);
	t_orphans(dev);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail;
}

static int suite_readonly(const char *dev)
{
	struct vessel_blk_io io = { .op = VESSEL_BLK_WRITE, .buf = (uint64_t)big, .len = SECT };
	long rw = open(dev, O_RDWR), wo = open(dev, O_WRONLY);
	int fd = (int)open(dev, O_RDONLY);
	long w, r, s, f;

	result(rw == -EROFS && wo == -EROFS && fd >= 0, "a read-only disk opens for reading only",
	       "O_RDWR %ld O_WRONLY %ld O_RDONLY %d", rw, wo, fd);
	w = write(fd, big, SECT);
	s = sys_blk_submit(fd, &io, 1);
	r = pread_at(fd, big, SECT, 0);
	f = fsync(fd);
	result(w == -EBADF && s == -EBADF && r == SECT && f == 0,
	       "writes are refused, reads and fsync work",
	       "write %ld submit %ld read %ld fsync %ld", w, s, r, f);
	close(fd);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail;
}

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/vda";
	uint64_t seed = 1;
	int ro = 0;

	if (argc == 6 && (!strcmp(argv[1], "fill") || !strcmp(argv[1], "verify")))
		return stream(argv[2], !strcmp(argv[1], "verify"), num(argv[3]), num(argv[4]),
			      num(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "batch"))
		return batch_cmd(argv[2], (int)num(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "orphan"))
		return orphan_cmd(argv[2]);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			dev = argv[++i];
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			seed = num(argv[++i]);
		} else if (!strcmp(argv[i], "-r")) {
			ro = 1;
		} else {
			printf("usage: blktest [-d DEV] [-s SEED] [-r] | fill|verify DEV SEED "
			       "FIRST "
			       "COUNT | batch DEV N\n");
			return 2;
		}
	}
	return ro ? suite_readonly(dev) : suite(dev, seed);
}
