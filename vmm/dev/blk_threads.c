// SPDX-License-Identifier: MIT
/* The worker-pool disk backend (blk_backend.h): pread/pwrite/fdatasync. */
#include "dev/blk_backend.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define WORKERS 4

struct blk_backend {
	int fd;
	int efd;
	unsigned depth;
	unsigned outstanding; /* submitted, not reaped */
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct blk_io *staged, **staged_tail; /* submitted, not committed (caller only) */
	struct blk_io *todo, **todo_tail;     /* committed, for the workers */
	struct blk_io *done, **done_tail;     /* finished, for reap() */
	unsigned running;		      /* workers inside a request */
	bool stop;
	pthread_t th[WORKERS];
	unsigned nth;
	unsigned delay_us; /* test mode: VESSEL_BLK_TEST_DELAY_US per request */
};

static ssize_t transfer(int fd, struct blk_io *io)
{
	size_t got = 0;

	if (io->op == BLK_OP_FLUSH)
		return fdatasync(fd) ? -errno : 0;
	while (got < io->len) {
		ssize_t n = io->op == BLK_OP_READ ? pread(fd, (char *)io->buf + got, io->len - got,
							  (off_t)(io->off + got)) :
						    pwrite(fd, (char *)io->buf + got, io->len - got,
							   (off_t)(io->off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* end of file: the image shrank under us */
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void *worker(void *arg)
{
	struct blk_backend *b = arg;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct blk_io *io;
		uint64_t one = 1;

		while (!b->todo && !b->stop)
			pthread_cond_wait(&b->work, &b->lock);
		if (!b->todo)
			break; /* stop, and nothing left */
		io = b->todo;
		b->todo = io->next;
		if (!b->todo)
			b->todo_tail = &b->todo;
		b->running++;
		pthread_mutex_unlock(&b->lock);
		if (b->delay_us)
			usleep(b->delay_us); /* a slow disk: requests stay in flight */
		io->res = transfer(b->fd, io);
		pthread_mutex_lock(&b->lock);
		b->running--;
		io->next = NULL;
		*b->done_tail = io;
		b->done_tail = &io->next;
		if (write(b->efd, &one, sizeof(one)) < 0) {
			/* saturated counter: the reader wakes anyway */
		}
		pthread_cond_broadcast(&b->work); /* close() waits for idle workers */
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static void threads_close(struct blk_backend *b);

static int threads_open(int fd, unsigned depth, struct blk_backend **out, char *err, size_t errlen)
{
	struct blk_backend *b = calloc(1, sizeof(*b));
	sigset_t all, old;
	int rc = 0;

	if (!b)
		return -ENOMEM;
	b->fd = fd;
	b->depth = depth;
	if (getenv("VESSEL_BLK_TEST_DELAY_US"))
		b->delay_us =
			(unsigned)strtoul(getenv("VESSEL_BLK_TEST_DELAY_US"), NULL, 10) % 1000000;
	b->staged_tail = &b->staged;
	b->todo_tail = &b->todo;
	b->done_tail = &b->done;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->work, NULL);
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-rc));
		free(b);
		return rc;
	}
	/* workers take no signals: those belong to the main and vCPU threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < WORKERS && !rc; i++) {
		rc = -pthread_create(&b->th[i], NULL, worker, b);
		if (!rc)
			b->nth++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start disk worker threads: %s", strerror(-rc));
		threads_close(b);
		return rc;
	}
	*out = b;
	return 0;
}

static int threads_submit(struct blk_backend *b, struct blk_io *io)
{
	if (b->outstanding >= b->depth)
		return -EAGAIN;
	io->next = NULL;
	*b->staged_tail = io;
	b->staged_tail = &io->next;
	b->outstanding++;
	return 0;
}

static void threads_commit(struct blk_backend *b)
{
	if (!b->staged)
		return;
	pthread_mutex_lock(&b->lock);
	*b->todo_tail = b->staged;
	b->todo_tail = b->staged_tail;
	pthread_cond_broadcast(&b->work);
	pthread_mutex_unlock(&b->lock);
	b->staged = NULL;
	b->staged_tail = &b->staged;
}

static int threads_event_fd(struct blk_backend *b)
{
	return b->efd;
}

static unsigned threads_reap(struct blk_backend *b, struct blk_io **done, unsigned max)
{
	unsigned n = 0;
	uint64_t cnt;

	if (read(b->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing signalled since the last look */
	}
	pthread_mutex_lock(&b->lock);
	while (n < max && b->done) {
		struct blk_io *io = b->done;

		b->done = io->next;
		if (!b->done)
			b->done_tail = &b->done;
		done[n++] = io;
	}
	pthread_mutex_unlock(&b->lock);
	b->outstanding -= n;
	/* more left than max: keep the fd readable for the next poll */
	if (b->done) {
		uint64_t one = 1;

		if (write(b->efd, &one, sizeof(one)) < 0) {
			/* saturated: already readable */
		}
	}
	return n;
}

static void threads_close(struct blk_backend *b)
{
	if (!b)
		return;
	threads_commit(b);
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_broadcast(&b->work);
	pthread_mutex_unlock(&b->lock);
	for (unsigned i = 0; i < b->nth; i++)
		pthread_join(b->th[i], NULL);
	close(b->efd);
	pthread_cond_destroy(&b->work);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

const struct blk_backend_ops blk_threads_ops = {
	.name = "threads",
	.open = threads_open,
	.submit = threads_submit,
	.commit = threads_commit,
	.event_fd = threads_event_fd,
	.reap = threads_reap,
	.close = threads_close,
};

const struct blk_backend_ops *blk_backend_find(const char *name)
{
	if (!strcmp(name, "uring"))
		return &blk_uring_ops;
	if (!strcmp(name, "threads"))
		return &blk_threads_ops;
	return NULL;
}
