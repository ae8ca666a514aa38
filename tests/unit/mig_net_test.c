// SPDX-License-Identifier: MIT
/* Unit tests of the migration TCP transport over real loopback sockets. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "migrate/net.h"

static void test_parse(void **state)
{
	struct net_addr a;
	char err[256];

	assert_int_equal(net_parse_uri("tcp:127.0.0.1:4444", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_string_equal(a.port, "4444");
	assert_int_equal(net_parse_uri("tcp::80", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "");
	assert_int_equal(net_parse_uri("tcp:[::1]:9", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(net_parse_uri("tcp:localhost:65535", &a, err, sizeof(err)), 0);
	assert_false(a.tls);
	assert_int_equal(net_parse_uri("tls:[::1]:9", &a, err, sizeof(err)), 0);
	assert_true(a.tls);
	assert_string_equal(a.host, "::1");
	assert_int_equal(net_parse_uri("tls:10.0.0.2", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected tls:HOST:PORT"));
	assert_int_equal(net_parse_uri("TLS:h:1", &a, err, sizeof(err)), -EINVAL);

	assert_int_equal(net_parse_uri("udp:1.2.3.4:5", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected tcp:HOST:PORT"));
	assert_int_equal(net_parse_uri("tcp:1.2.3.4", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "missing :PORT"));
	assert_int_equal(net_parse_uri("tcp:h:0", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1..65535"));
	assert_int_equal(net_parse_uri("tcp:h:65536", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(net_parse_uri("tcp:h:12x", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(net_parse_uri("tcp:h:", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(net_parse_uri("tcp:::1:80", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "brackets"));
	assert_int_equal(net_parse_uri("tcp:[::1:80", &a, err, sizeof(err)), -EINVAL);
	assert_int_equal(net_parse_uri(NULL, &a, err, sizeof(err)), -EINVAL);
}

static int listen_any(struct net_addr *a)
{
	char err[256];
	int fd;

	assert_int_equal(net_parse_uri("tcp:127.0.0.1:1", a, err, sizeof(err)), 0);
	strcpy(a->port, "0");
	fd = net_listen(a, err, sizeof(err));
	assert_true(fd >= 0);
	snprintf(a->port, sizeof(a->port), "%d", net_local_port(fd));
	return fd;
}

static void test_connect_refused(void **state)
{
	struct net_addr a;
	char err[256];
	int lfd = listen_any(&a);

	close(lfd); /* nobody listens there now */
	assert_true(net_connect(&a, 1000, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot connect to 127.0.0.1 port"));
	assert_non_null(strstr(err, "refused"));
	assert_int_equal(net_parse_uri("tcp:no-such-host.invalid:80", &a, err, sizeof(err)), 0);
	assert_true(net_connect(&a, 1000, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot resolve host 'no-such-host.invalid'"));
}

static void test_listen_busy(void **state)
{
	struct net_addr a;
	char err[256];
	int lfd = listen_any(&a), fd2;

	fd2 = net_listen(&a, err, sizeof(err));
	assert_true(fd2 < 0);
	assert_non_null(strstr(err, "cannot listen on 127.0.0.1 port"));
	close(lfd);
}

static void test_accept_timeout(void **state)
{
	struct net_addr a;
	char err[256];
	int lfd = listen_any(&a);

	assert_int_equal(net_accept(lfd, 50, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "no incoming connection"));
	close(lfd);
}

#define BIG (8u << 20)

struct slow_reader {
	int fd;
	uint8_t *buf;
	int rc;
};

/* Reads in small bites with pauses, so the writer sees partial writes. */
static void *slow_read(void *arg)
{
	struct slow_reader *r = arg;
	size_t got = 0;

	while (got < BIG) {
		ssize_t n =
			net_read_some(r->fd, r->buf + got, got < BIG / 2 ? 1000 : BIG - got, 2000);

		if (n <= 0) {
			r->rc = (int)n;
			return NULL;
		}
		got += (size_t)n;
		if (got < BIG / 2 && (got % 100000) < 1000)
			usleep(1000);
	}
	r->rc = 0;
	return NULL;
}

static void test_big_transfer(void **state)
{
	struct net_addr a;
	struct slow_reader r;
	char err[256];
	uint8_t *src = malloc(BIG);
	pthread_t t;
	int lfd = listen_any(&a), cfd, sfd;

	for (size_t i = 0; i < BIG; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 12));
	cfd = net_connect(&a, 1000, err, sizeof(err));
	assert_true(cfd >= 0);
	sfd = net_accept(lfd, 1000, err, sizeof(err));
	assert_true(sfd >= 0);
	r = (struct slow_reader){ .fd = sfd, .buf = calloc(1, BIG), .rc = -1 };
	pthread_create(&t, NULL, slow_read, &r);
	assert_int_equal(net_write_full(cfd, src, BIG, 5000), 0);
	pthread_join(t, NULL);
	assert_int_equal(r.rc, 0);
	assert_memory_equal(r.buf, src, BIG);
	free(r.buf);
	free(src);
	close(cfd);
	close(sfd);
	close(lfd);
}

static void test_timeouts_and_eof(void **state)
{
	struct net_addr a;
	char err[256], buf[16];
	uint8_t *big = calloc(1, 64u << 20);
	int lfd = listen_any(&a), cfd, sfd;

	cfd = net_connect(&a, 1000, err, sizeof(err));
	sfd = net_accept(lfd, 1000, err, sizeof(err));
	assert_true(cfd >= 0 && sfd >= 0);
	/* nothing sent: the read times out */
	assert_int_equal(net_read_full(sfd, buf, 4, 50), -ETIMEDOUT);
	/* a peer that never reads: the write times out instead of hanging */
	assert_int_equal(net_write_full(cfd, big, 64u << 20, 100), -ETIMEDOUT);
	close(sfd);
	/* a closed peer: the write fails with EPIPE (no SIGPIPE) */
	{
		int rc = 0;

		for (int i = 0; i < 100 && rc == 0; i++)
			rc = net_write_full(cfd, big, 1 << 20, 100);
		assert_int_equal(rc, -EPIPE);
	}
	close(cfd);
	/* end of stream in the middle of a read */
	cfd = net_connect(&a, 1000, err, sizeof(err));
	sfd = net_accept(lfd, 1000, err, sizeof(err));
	assert_int_equal(net_write_full(cfd, "ab", 2, 100), 0);
	close(cfd);
	assert_int_equal(net_read_full(sfd, buf, 4, 1000), -EPIPE);
	close(sfd);
	close(lfd);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	     cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_listen_busy),  cmocka_unit_test(test_accept_timeout),
		cmocka_unit_test(test_big_transfer), cmocka_unit_test(test_timeouts_and_eof),
	};

	return cmocka_run_group_tests_name("mig_net", tests, NULL, NULL);
}
