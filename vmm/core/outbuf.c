// SPDX-License-Identifier: MIT
/* A bounded output buffer drained to a file descriptor by its own thread (see outbuf.h). */
#include "core/outbuf.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KICK_INTERVAL_MS 10 /* a kick can land just before write(): kick again */

struct outbuf {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t more;	 /* writer waits: bytes queued, or stop */
	pthread_cond_t progress; /* drain waits: bytes written, failure, writer gone */
	pthread_t thread;
	uint8_t *ring;
	size_t cap, head, len; /* queued bytes: ring[head..head+len) modulo cap */
	uint64_t written, dropped;
	int error;	  /* the fd's write error (-errno), then everything is dropped */
	bool stop;	  /* the writer is to exit */
	bool writer_done; /* it did */
	bool drained;	  /* outbuf_drain() ran: later bytes are dropped */
	int drain_rc;
};

static void kick_handler(int sig)
{
	(void)sig; /* only there to make a blocked write() return EINTR */
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* With ob->lock held: the fd failed, so what is queued will never reach it. */
static void fail_locked(struct outbuf *ob, int err)
{
	ob->error = err;
	ob->dropped += ob->len;
	ob->head = ob->len = 0;
	pthread_cond_broadcast(&ob->progress);
}

static void *writer_thread(void *arg)
{
	struct outbuf *ob = arg;
	struct pollfd pfd = { .fd = ob->fd, .events = POLLOUT };
	sigset_t set;
	size_t chunk;
	ssize_t n;
	int err;

	sigemptyset(&set);
	sigaddset(&set, OUTBUF_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	pthread_mutex_lock(&ob->lock);
	for (;;) {
		while (!ob->stop && !ob->len)
			pthread_cond_wait(&ob->more, &ob->lock);
		if (ob->stop)
			break;
		/* producers only append after head + len: this part stays put */
		chunk = ob->cap - ob->head < ob->len ? ob->cap - ob->head : ob->len;
		pthread_mutex_unlock(&ob->lock);
		n = write(ob->fd, ob->ring + ob->head, chunk);
		err = errno;
		if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
			poll(&pfd, 1, -1); /* a non-blocking fd: wait here (a kick ends it) */
		pthread_mutex_lock(&ob->lock);
		if (n > 0) {
			ob->head = (ob->head + (size_t)n) % ob->cap;
			ob->len -= (size_t)n;
			ob->written += (uint64_t)n;
			pthread_cond_broadcast(&ob->progress);
		} else if (n == 0 || (err != EINTR && err != EAGAIN && err != EWOULDBLOCK)) {
			fail_locked(ob, n == 0 ? -EIO : -err);
		}
	}
	ob->writer_done = true;
	pthread_cond_broadcast(&ob->progress);
	pthread_mutex_unlock(&ob->lock);
	return NULL;
}

int outbuf_new(int fd, size_t cap, struct outbuf **out)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */
	pthread_condattr_t ca;
	sigset_t all, old;
	struct outbuf *ob;
	int rc;

	if (!cap)
		return -EINVAL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(OUTBUF_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return -ENOMEM;
	ob->ring = malloc(cap);
	if (!ob->ring) {
		free(ob);
		return -ENOMEM;
	}
	ob->fd = fd;
	ob->cap = cap;
	pthread_mutex_init(&ob->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ob->more, &ca);
	pthread_cond_init(&ob->progress, &ca);
	pthread_condattr_destroy(&ca);

	/* the thread starts with every signal blocked and opens only its kick */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&ob->thread, NULL, writer_thread, ob);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pthread_cond_destroy(&ob->more);
		pthread_cond_destroy(&ob->progress);
		pthread_mutex_destroy(&ob->lock);
		free(ob->ring);
		free(ob);
		return rc;
	}
	*out = ob;
	return 0;
}

size_t outbuf_write(struct outbuf *ob, const void *buf, size_t len)
{
	size_t take = 0, tail, first;

	pthread_mutex_lock(&ob->lock);
	if (!ob->error && !ob->drained) {
		take = ob->cap - ob->len < len ? ob->cap - ob->len : len;
		tail = (ob->head + ob->len) % ob->cap;
		first = ob->cap - tail < take ? ob->cap - tail : take;
		memcpy(ob->ring + tail, buf, first);
		memcpy(ob->ring, (const uint8_t *)buf + first, take - first);
		if (take && !ob->len)
			pthread_cond_signal(&ob->more);
		ob->len += take;
	}
	ob->dropped += len - take;
	pthread_mutex_unlock(&ob->lock);
	return take;
}

uint64_t outbuf_dropped(struct outbuf *ob)
{
	uint64_t d;

	pthread_mutex_lock(&ob->lock);
	d = ob->dropped;
	pthread_mutex_unlock(&ob->lock);
	return d;
}

int outbuf_drain(struct outbuf *ob, int idle_ms)
{
	struct timespec deadline;
	uint64_t seen;
	int rc;

	pthread_mutex_lock(&ob->lock);
	if (ob->drained) {
		rc = ob->drain_rc;
		pthread_mutex_unlock(&ob->lock);
		return rc;
	}
	ob->drained = true; /* from now on nothing new is queued */
	seen = ob->written;
	deadline_in(&deadline, idle_ms);
	while (ob->len && !ob->error) {
		int w = pthread_cond_timedwait(&ob->progress, &ob->lock, &deadline);

		if (ob->written != seen) {
			seen = ob->written; /* still accepting bytes: keep waiting */
			deadline_in(&deadline, idle_ms);
		} else if (w == ETIMEDOUT) {
			break;
		}
	}
	ob->stop = true;
	pthread_cond_signal(&ob->more);
	while (!ob->writer_done) {
		/* interrupt a write() that stdout does not take */
		pthread_kill(ob->thread, OUTBUF_KICK_SIGNAL);
		deadline_in(&deadline, KICK_INTERVAL_MS);
		pthread_cond_timedwait(&ob->progress, &ob->lock, &deadline);
	}
	rc = ob->error ? ob->error : ob->len ? -ETIMEDOUT : 0;
	ob->dropped += ob->len;
	ob->head = ob->len = 0;
	ob->drain_rc = rc;
	pthread_mutex_unlock(&ob->lock);
	pthread_join(ob->thread, NULL);
	return rc;
}

void outbuf_free(struct outbuf *ob, int idle_ms)
{
	if (!ob)
		return;
	outbuf_drain(ob, idle_ms);
	pthread_cond_destroy(&ob->more);
	pthread_cond_destroy(&ob->progress);
	pthread_mutex_destroy(&ob->lock);
	free(ob->ring);
	free(ob);
}
