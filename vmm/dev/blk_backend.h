/* SPDX-License-Identifier: MIT */
/*
 * Where a disk's requests run: off the vCPU threads, on the host, against
 * the image file. Two interchangeable backends, chosen with `--disk
 * PATH,io=uring|threads` (bench/blk.sh measures both; docs/blk.md):
 *
 *   uring    io_uring (liburing): one submission syscall per batch, the
 *            kernel completes the I/O asynchronously (the default)
 *   threads  a pool of worker threads doing pread/pwrite/fdatasync
 *            (test mode: the environment variable VESSEL_BLK_TEST_DELAY_US
 *            makes each request wait that long first, a slow disk that
 *            keeps requests in flight, for the migration test)
 *
 * The device thread submits with submit(), starts the batch with commit(),
 * polls event_fd() and collects finished requests with reap(). A request
 * is one whole transfer: res is the byte count or -errno (a short transfer
 * is reported as -EIO). FLUSH is fdatasync(). Not thread-safe: one caller.
 */
#ifndef VMM_DEV_BLK_BACKEND_H
#define VMM_DEV_BLK_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH };

struct blk_io {
	enum blk_op op;
	uint64_t off; /* bytes */
	void *buf;
	size_t len;
	ssize_t res;	     /* on completion: len, or -errno */
	void *tag;	     /* the caller's */
	struct blk_io *next; /* the backend's list link */
};

struct blk_backend;

struct blk_backend_ops {
	const char *name;
	/*
	 * open - a backend on the open image fd with room for `depth` requests
	 * in flight. 0 and *out, or -errno with err set.
	 */
	int (*open)(int fd, unsigned depth, struct blk_backend **out, char *err, size_t errlen);
	/* submit - queue io (not started before commit). 0 or -EAGAIN (depth reached). */
	int (*submit)(struct blk_backend *b, struct blk_io *io);
	/* commit - start everything queued. */
	void (*commit)(struct blk_backend *b);
	/* event_fd - readable (an eventfd) when reap() may find something. */
	int (*event_fd)(struct blk_backend *b);
	/* reap - up to max finished requests into done[]; never blocks. */
	unsigned (*reap)(struct blk_backend *b, struct blk_io **done, unsigned max);
	/* close - wait for everything in flight (dropped unreaped), free. */
	void (*close)(struct blk_backend *b);
};

extern const struct blk_backend_ops blk_uring_ops;

/*
 * The io_uring backend's ring is restricted to the operations it submits
 * (read, write, fsync; IORING_REGISTER_RESTRICTIONS before the ring is
 * enabled): what a process can do through it is what pread, pwrite and
 * fdatasync do. blk_uring_try_op - submit one entry of `opcode` on a
 * uring backend with nothing in flight (fd -1) and wait for it: its result
 * (-EACCES: refused by the restrictions). For the tests.
 */
int blk_uring_try_op(struct blk_backend *b, uint8_t opcode);
extern const struct blk_backend_ops blk_threads_ops;

/* blk_backend_find - "uring" or "threads", else NULL. */
const struct blk_backend_ops *blk_backend_find(const char *name);

#endif
