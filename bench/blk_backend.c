// SPDX-License-Identifier: MIT
/*
 * blk_backend: the two disk backends of virtio-blk (vmm/dev/blk_backend.h),
 * io_uring and the worker pool, on the same image file, the way the device
 * thread uses them: submit a batch, commit, wait on the event fd, reap.
 * 4 KiB random reads and writes at 1 and 32 in flight; for each, requests
 * per second (wall) and host CPU time per request (user + system, all
 * threads). Host code only: these are real times. Median of 5 runs.
 *
 *   blk_backend [IMAGE_MIB] [REQUESTS]   (defaults 64, 20000)
 */
#include "dev/blk_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define IO   4096u
#define RUNS 5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One run: n requests of op at depth q. Returns 0 and wall/cpu seconds. */
static int run(const struct blk_backend_ops *ops, int fd, uint64_t blocks, enum blk_op op,
	       unsigned q, unsigned n, double *wall, double *cpu)
{
	struct blk_backend *b;
	struct blk_io *io = calloc(q, sizeof(*io)), *done[64];
	char err[256];
	unsigned sent = 0, got = 0, inflight = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	double t0, c0;
	int rc;

	if (!io)
		return -ENOMEM;
	rc = ops->open(fd, 256, &b, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "blk_backend: %s: %s\n", ops->name, err);
		free(io);
		return rc;
	}
	for (unsigned i = 0; i < q; i++) {
		if (posix_memalign(&io[i].buf, 4096, IO))
			return -ENOMEM;
		memset(io[i].buf, (int)i, IO);
	}
	t0 = now_s();
	c0 = cpu_s();
	while (got < n) {
		struct pollfd p = { .fd = ops->event_fd(b), .events = POLLIN };
		unsigned k;

		/* refill to q in flight, as the device does after each wake-up */
		for (unsigned i = 0; i < q && sent < n && inflight < q; i++) {
			struct blk_io *x = NULL;

			for (unsigned j = 0; j < q && !x; j++)
				if (!io[j].tag)
					x = &io[j];
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			x->op = op;
			x->off = (rng % blocks) * IO;
			x->len = IO;
			x->tag = x;
			if (ops->submit(b, x))
				break;
			sent++;
			inflight++;
		}
		ops->commit(b);
		poll(&p, 1, -1);
		while ((k = ops->reap(b, done, 64)) > 0) {
			for (unsigned i = 0; i < k; i++) {
				if (done[i]->res != (ssize_t)IO) {
					fprintf(stderr, "blk_backend: I/O error %zd\n", done[i]->res);
					exit(1);
				}
				done[i]->tag = NULL;
			}
			got += k;
			inflight -= k;
		}
	}
	*wall = now_s() - t0;
	*cpu = cpu_s() - c0;
	ops->close(b);
	for (unsigned i = 0; i < q; i++)
		free(io[i].buf);
	free(io);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned mib = argc > 1 ? (unsigned)atoi(argv[1]) : 64;
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 20000;
	char path[] = "/tmp/vessel-blk-bench-XXXXXX";
	const struct blk_backend_ops *be[] = { &blk_uring_ops, &blk_threads_ops };
	static const char *const opname[] = { "read", "write" };
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, (off_t)mib << 20)) {
		perror("blk_backend: image");
		return 1;
	}
	unlink(path);
	/* every block once, so reads come from the page cache like a warm image */
	for (uint64_t off = 0; off < (uint64_t)mib << 20; off += 1 << 20) {
		static char mb[1 << 20];

		if (pwrite(fd, mb, sizeof(mb), (off_t)off) != (ssize_t)sizeof(mb)) {
			perror("blk_backend: fill");
			return 1;
		}
	}
	printf("%-8s %-5s %5s %12s %12s %14s\n", "backend", "op", "depth", "requests/s", "us/request",
	       "cpu us/request");
	for (unsigned op = 0; op < 2; op++) {
		for (unsigned qi = 0; qi < 2; qi++) {
			unsigned q = qi ? 32 : 1;

			for (unsigned bi = 0; bi < 2; bi++) {
				double rate[RUNS], cpu[RUNS];

				for (unsigned r = 0; r < RUNS; r++) {
					double w, c;

					if (run(be[bi], fd, ((uint64_t)mib << 20) / IO, (enum blk_op)op,
						q, n, &w, &c))
						return 1;
					rate[r] = n / w;
					cpu[r] = c / n * 1e6;
				}
				qsort(rate, RUNS, sizeof(double), cmp);
				qsort(cpu, RUNS, sizeof(double), cmp);
				printf("%-8s %-5s %5u %12.0f %12.2f %14.2f\n", be[bi]->name, opname[op],
				       q, rate[RUNS / 2], 1e6 / rate[RUNS / 2], cpu[RUNS / 2]);
			}
		}
	}
	close(fd);
	return 0;
}
