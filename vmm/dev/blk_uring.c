// SPDX-License-Identifier: MIT
/* The io_uring disk backend (blk_backend.h). */
#include "dev/blk_backend.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

struct blk_backend {
	struct io_uring ring;
	int fd;
	int efd;
	unsigned depth;
	unsigned queued, inflight;
};

/* What the device submits (uring_submit): nothing else is accepted. */
static struct io_uring_restriction restrictions[] = {
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READ },
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITE },
	{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC },
	{ .opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = 0 },
	{ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED, .sqe_flags = 0 },
};

/* io_uring_register(2) itself: Debian's liburing 2.3 does not export its
 * wrappers for these two (io_uring_register_restrictions, _enable_rings). */
static int ring_register(struct io_uring *ring, unsigned op, void *arg, unsigned nr)
{
	return syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr) < 0 ? -errno : 0;
}

static int uring_open(int fd, unsigned depth, struct blk_backend **out, char *err, size_t errlen)
{
	struct blk_backend *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	b->fd = fd;
	b->depth = depth;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-rc));
		free(b);
		return rc;
	}
	/* created disabled, so that the restrictions are in force before the
	 * first submission */
	rc = io_uring_queue_init(depth, &b->ring, IORING_SETUP_R_DISABLED);
	if (rc < 0) {
		snprintf(err, errlen, "io_uring_queue_init(%u): %s", depth, strerror(-rc));
		close(b->efd);
		free(b);
		return rc;
	}
	rc = io_uring_register_eventfd(&b->ring, b->efd);
	if (rc < 0)
		snprintf(err, errlen, "io_uring_register_eventfd: %s", strerror(-rc));
	/* the ring does what pread, pwrite and fdatasync do and nothing else
	 * (no open, connect, ...): the sandboxed monitor's seccomp filter,
	 * which allows io_uring_enter, cannot be bypassed through it */
	if (!rc && (rc = ring_register(&b->ring, IORING_REGISTER_RESTRICTIONS, restrictions,
				       sizeof(restrictions) / sizeof(restrictions[0]))) < 0)
		snprintf(err, errlen, "IORING_REGISTER_RESTRICTIONS: %s", strerror(-rc));
	if (!rc && (rc = ring_register(&b->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0)) < 0)
		snprintf(err, errlen, "IORING_REGISTER_ENABLE_RINGS: %s", strerror(-rc));
	if (rc < 0) {
		io_uring_queue_exit(&b->ring);
		close(b->efd);
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int blk_uring_try_op(struct blk_backend *b, uint8_t opcode)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
	struct io_uring_cqe *cqe;
	int rc;

	if (!sqe)
		return -EAGAIN;
	io_uring_prep_rw(opcode, sqe, -1, NULL, 0, 0);
	io_uring_sqe_set_data(sqe, NULL);
	rc = io_uring_submit(&b->ring);
	if (rc < 0)
		return rc;
	rc = io_uring_wait_cqe(&b->ring, &cqe);
	if (rc < 0)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(&b->ring, cqe);
	return rc;
}

static int uring_submit(struct blk_backend *b, struct blk_io *io)
{
	struct io_uring_sqe *sqe;

	if (b->queued + b->inflight >= b->depth)
		return -EAGAIN;
	sqe = io_uring_get_sqe(&b->ring);
	if (!sqe)
		return -EAGAIN;
	switch (io->op) {
	case BLK_OP_READ:
		io_uring_prep_read(sqe, b->fd, io->buf, (unsigned)io->len, io->off);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_write(sqe, b->fd, io->buf, (unsigned)io->len, io->off);
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data(sqe, io);
	b->queued++;
	return 0;
}

static void uring_commit(struct blk_backend *b)
{
	while (b->queued) {
		int n = io_uring_submit(&b->ring);

		if (n == -EINTR || n == -EAGAIN || n == -EBUSY)
			continue; /* retried: the entries are still in the ring */
		if (n <= 0)
			break; /* reported by reap() when nothing completes: not expected */
		b->queued -= (unsigned)n < b->queued ? (unsigned)n : b->queued;
		b->inflight += (unsigned)n;
	}
}

static int uring_event_fd(struct blk_backend *b)
{
	return b->efd;
}

static unsigned uring_reap(struct blk_backend *b, struct blk_io **done, unsigned max)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;
	uint64_t cnt;

	/* clear the eventfd before looking, so a completion after the look wakes us */
	if (read(b->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing signalled, the ring may still hold entries */
	}
	while (n < max && io_uring_peek_cqe(&b->ring, &cqe) == 0) {
		struct blk_io *io = io_uring_cqe_get_data(cqe);

		if (cqe->res < 0)
			io->res = cqe->res;
		else if (io->op != BLK_OP_FLUSH && (size_t)cqe->res != io->len)
			io->res = -EIO; /* short transfer: the image shrank under us */
		else
			io->res = io->op == BLK_OP_FLUSH ? 0 : (ssize_t)io->len;
		io_uring_cqe_seen(&b->ring, cqe);
		b->inflight--;
		done[n++] = io;
	}
	return n;
}

static void uring_close(struct blk_backend *b)
{
	struct io_uring_cqe *cqe;

	if (!b)
		return;
	uring_commit(b);
	while (b->inflight && io_uring_wait_cqe(&b->ring, &cqe) == 0) {
		io_uring_cqe_seen(&b->ring, cqe);
		b->inflight--;
	}
	io_uring_queue_exit(&b->ring);
	close(b->efd);
	free(b);
}

const struct blk_backend_ops blk_uring_ops = {
	.name = "uring",
	.open = uring_open,
	.submit = uring_submit,
	.commit = uring_commit,
	.event_fd = uring_event_fd,
	.reap = uring_reap,
	.close = uring_close,
};
