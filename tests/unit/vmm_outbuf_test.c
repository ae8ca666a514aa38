// SPDX-License-Identifier: MIT
/*
 * Unit tests: the console output buffer over real pipes. A producer never
 * waits for a pipe nobody reads (bytes are dropped and counted exactly), a
 * reader that comes late still gets every byte in order, draining gives up
 * on a stalled or closed pipe instead of hanging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/outbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PATTERN(i) ((uint8_t)((i)*7 + (i) / 251))

struct reader {
	int fd;
	size_t got;
	size_t bad_at; /* first byte that differs from the pattern, or SIZE_MAX */
};

/* Read the pipe to EOF, checking the bytes against PATTERN(). */
static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[8192];
	ssize_t n;

	r->bad_at = SIZE_MAX;
	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != PATTERN(r->got + (size_t)i) && r->bad_at == SIZE_MAX)
				r->bad_at = r->got + (size_t)i;
		r->got += (size_t)n;
	}
	return NULL;
}

static void fill(uint8_t *buf, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = PATTERN(off + i);
}

/*
 * Drain ob (the reader keeps reading, so it must succeed), close the pipe,
 * and check the reader got `total` bytes of the pattern; free ob.
 */
static void drain_and_check(struct outbuf *ob, int p[2], pthread_t t, struct reader *r,
			    size_t total)
{
	assert_int_equal(outbuf_drain(ob, 30000), 0);
	close(p[1]);
	pthread_join(t, NULL);
	assert_int_equal(r->got, total);
	assert_int_equal(r->bad_at, SIZE_MAX);
	outbuf_free(ob, 0);
	close(p[0]);
}

/*
 * The pipe is full and nobody reads yet: writes return at once. A reader
 * that then starts gets every byte, in order, and the drain succeeds.
 */
static void test_late_reader_gets_everything(void **state)
{
	const size_t total = 200 << 10;
	uint8_t *buf = malloc(total);
	struct reader r;
	struct outbuf *ob;
	pthread_t t;
	int p[2];

	assert_int_equal(pipe(p), 0);
	fill(buf, 0, total);
	assert_int_equal(outbuf_new(p[1], 256 << 10, &ob), 0);
	for (size_t off = 0; off < total; off += 1000) {
		size_t n = total - off < 1000 ? total - off : 1000;

		assert_int_equal(outbuf_write(ob, buf + off, n), n);
	}
	r.fd = p[0];
	r.got = 0;
	assert_int_equal(pthread_create(&t, NULL, reader_thread, &r), 0);
	assert_int_equal(outbuf_dropped(ob), 0);
	drain_and_check(ob, p, t, &r, total);
	free(buf);
}

/*
 * A small ring wraps around many times while a reader drains it; the
 * producer re-offers what did not fit, so nothing may be missing or
 * reordered.
 */
static void test_wraparound_in_order(void **state)
{
	const size_t total = 1 << 20;
	uint8_t *buf = malloc(total);
	struct reader r = { 0 };
	struct outbuf *ob;
	pthread_t t;
	size_t off = 0;
	int p[2];

	assert_int_equal(pipe(p), 0);
	fill(buf, 0, total);
	r.fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, reader_thread, &r), 0);
	assert_int_equal(outbuf_new(p[1], 4093, &ob), 0); /* odd size: chunks straddle the end */
	while (off < total) {
		size_t n = total - off < 777 ? total - off : 777;

		off += outbuf_write(ob, buf + off, n);
	}
	drain_and_check(ob, p, t, &r, total);
	free(buf);
}

/*
 * Nobody reads the pipe: the producer is never held (every call returns),
 * what does not fit is counted, and the drain gives up on the stalled
 * writer (blocked inside write()) instead of hanging. Every byte is either
 * in the pipe or counted as dropped.
 */
static void test_blocked_fd_drops_and_counts(void **state)
{
	const size_t total = 4 << 20, cap = 128 << 10;
	uint8_t chunk[4096];
	struct outbuf *ob;
	size_t queued = 0;
	int p[2], inpipe = 0;

	assert_int_equal(pipe(p), 0);
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(outbuf_new(p[1], cap, &ob), 0);
	for (size_t off = 0; off < total; off += sizeof(chunk))
		queued += outbuf_write(ob, chunk, sizeof(chunk));
	assert_true(queued < total); /* 4 MiB cannot fit in 128 KiB + a pipe */
	assert_true(outbuf_dropped(ob) >= total - queued);
	assert_int_equal(outbuf_drain(ob, 100), -ETIMEDOUT);
	assert_int_equal(ioctl(p[0], FIONREAD, &inpipe), 0);
	assert_int_equal((uint64_t)inpipe + outbuf_dropped(ob), total);
	/* after the drain nothing more is queued */
	assert_int_equal(outbuf_write(ob, chunk, 10), 0);
	assert_int_equal((uint64_t)inpipe + outbuf_dropped(ob), total + 10);
	assert_int_equal(outbuf_drain(ob, 100), -ETIMEDOUT); /* idempotent */
	outbuf_free(ob, 0);
	close(p[0]);
	close(p[1]);
}

/* The reader is gone: the drain reports EPIPE and every byte is counted. */
static void test_closed_reader(void **state)
{
	struct outbuf *ob;
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(outbuf_new(p[1], 1024, &ob), 0);
	assert_int_equal(outbuf_write(ob, "hello", 5), 5);
	assert_int_equal(outbuf_drain(ob, 30000), -EPIPE);
	assert_int_equal(outbuf_dropped(ob), 5);
	outbuf_free(ob, 0);
	close(p[1]);
}

/* A non-blocking fd (O_NONBLOCK set by whoever shares stdout) loses nothing. */
static void test_nonblocking_fd(void **state)
{
	const size_t total = 300 << 10;
	uint8_t *buf = malloc(total);
	struct reader r = { 0 };
	struct outbuf *ob;
	pthread_t t;
	int p[2];

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	fcntl(p[0], F_SETFL, 0);
	fill(buf, 0, total);
	assert_int_equal(outbuf_new(p[1], total, &ob), 0);
	assert_int_equal(outbuf_write(ob, buf, total), total);
	r.fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, reader_thread, &r), 0);
	assert_int_equal(outbuf_dropped(ob), 0);
	drain_and_check(ob, p, t, &r, total);
	free(buf);
}

static void test_bad_args(void **state)
{
	struct outbuf *ob;

	assert_int_equal(outbuf_new(1, 0, &ob), -EINVAL);
	outbuf_free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_late_reader_gets_everything),
		cmocka_unit_test(test_wraparound_in_order),
		cmocka_unit_test(test_blocked_fd_drops_and_counts),
		cmocka_unit_test(test_closed_reader),
		cmocka_unit_test(test_nonblocking_fd),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests_name("vmm_outbuf", tests, NULL, NULL);
}
