// SPDX-License-Identifier: MIT
/*
 * mig_peer: the other end of a migration connection, for the integration
 * tests (tests/migrate/run.sh), built on the same transport code.
 *
 *   mig_peer record PORT FILE    accept one migration, store its bytes until
 *                                the source goes quiet (1.5 s), then close
 *                                without an ACK
 *   mig_peer cut PORT N          accept, read N bytes, close (connection cut)
 *   mig_peer send PORT FILE [N]  connect to 127.0.0.1:PORT (retrying for 5 s),
 *                                send FILE (its first N bytes), print the
 *                                destination's ACK message if one comes
 *   mig_peer stray PORT S        connect to 127.0.0.1:PORT, send nothing, and
 *                                say whether the destination closed the
 *                                connection within S seconds
 *   mig_peer relay PORT DPORT FILE  accept one connection on PORT, relay it
 *                                to 127.0.0.1:DPORT both ways, store what
 *                                goes towards DPORT in FILE (what crosses
 *                                the network)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migrate/net.h"
#include "migrate/stream.h"

static int listen_accept(const char *port)
{
	struct net_addr a;
	char err[256];
	int lfd, fd;

	snprintf(a.host, sizeof(a.host), "127.0.0.1");
	snprintf(a.port, sizeof(a.port), "%s", port);
	lfd = net_listen(&a, err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, "mig_peer: %s\n", err);
		exit(1);
	}
	printf("listening\n");
	fflush(stdout);
	fd = net_accept(lfd, 60000, err, sizeof(err));
	close(lfd);
	if (fd < 0) {
		fprintf(stderr, "mig_peer: %s\n", err);
		exit(1);
	}
	return fd;
}

static int record(const char *port, const char *file)
{
	static uint8_t buf[1 << 16];
	int fd = listen_accept(port), out = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	ssize_t n;
	size_t total = 0;

	while ((n = net_read_some(fd, buf, sizeof(buf), 1500)) > 0) {
		if (write(out, buf, (size_t)n) != n)
			return 1;
		total += (size_t)n;
	}
	printf("recorded %zu bytes\n", total);
	close(out);
	close(fd);
	return 0;
}

static int cut(const char *port, long want)
{
	static uint8_t buf[1 << 16];
	int fd = listen_accept(port);
	long got = 0;
	ssize_t n;

	while (got < want &&
	       (n = net_read_some(fd, buf,
				  (size_t)(want - got) < sizeof(buf) ? (size_t)(want - got) :
								       sizeof(buf),
				  10000)) > 0)
		got += n;
	printf("cut after %ld bytes\n", got);
	close(fd);
	return 0;
}

static int connect_retry(const char *port, char *err, size_t errlen)
{
	struct net_addr a;
	int fd = -1;

	snprintf(a.host, sizeof(a.host), "127.0.0.1");
	snprintf(a.port, sizeof(a.port), "%s", port);
	for (int i = 0; i < 50 && fd < 0; i++) {
		fd = net_connect(&a, 1000, err, errlen);
		if (fd < 0)
			usleep(100000);
	}
	return fd;
}

static int stray(const char *port, int seconds)
{
	char err[256], buf[4096];
	int fd = connect_retry(port, err, sizeof(err));
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "mig_peer: %s\n", err);
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	do
		n = net_read_some(fd, buf, sizeof(buf), seconds * 1000);
	while (n > 0);
	printf(n == -ETIMEDOUT ? "still open after %d s\n" : "closed by the destination\n",
	       seconds);
	close(fd);
	return 0;
}

static int relay(const char *port, const char *dport, const char *file)
{
	static uint8_t buf[1 << 16];
	char err[256];
	int in = listen_accept(port), out = connect_retry(dport, err, sizeof(err));
	int rec = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = out, .events = POLLIN } };
	size_t total = 0;

	if (out < 0 || rec < 0) {
		fprintf(stderr, "mig_peer: %s\n", out < 0 ? err : strerror(errno));
		return 1;
	}
	while (poll(p, 2, 30000) > 0) {
		int from = p[0].revents ? 0 : 1;
		ssize_t n = read(p[from].fd, buf, sizeof(buf));

		if (n <= 0 || net_write_full(p[!from].fd, buf, (size_t)n, 10000))
			break;
		if (from == 0 && write(rec, buf, (size_t)n) == n)
			total += (size_t)n;
	}
	printf("relayed %zu bytes\n", total);
	close(rec);
	close(in);
	close(out);
	return 0;
}

static int send_file(const char *port, const char *file, long limit)
{
	static uint8_t buf[1 << 16];
	struct mig_reader r;
	struct mig_record rec;
	char err[256];
	int in = open(file, O_RDONLY), fd = connect_retry(port, err, sizeof(err));
	long sent = 0;
	ssize_t n;

	if (in < 0 || fd < 0) {
		fprintf(stderr, "mig_peer: %s\n", in < 0 ? strerror(errno) : err);
		return 1;
	}
	while ((limit < 0 || sent < limit) && (n = read(in, buf, sizeof(buf))) > 0) {
		if (limit >= 0 && sent + n > limit)
			n = limit - sent;
		if (net_write_full(fd, buf, (size_t)n, 5000))
			break;
		sent += n;
	}
	shutdown(fd, SHUT_WR);
	printf("sent %ld bytes\n", sent);
	mig_reader_init_fd(&r, fd, 10000);
	if (mig_read_record(&r, &rec) == 0 && rec.type == MIG_REC_ACK)
		printf("ack %d: %s\n", rec.u.msg.code, rec.u.msg.text);
	else
		printf("no ack: %s\n", r.err);
	mig_reader_free(&r);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "record"))
		return record(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "cut"))
		return cut(argv[2], atol(argv[3]));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "send"))
		return send_file(argv[2], argv[3], argc == 5 ? atol(argv[4]) : -1);
	if (argc == 4 && !strcmp(argv[1], "stray"))
		return stray(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "relay"))
		return relay(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: mig_peer record PORT FILE | cut PORT N | send PORT FILE [N] |\n"
			"                stray PORT S | relay PORT DPORT FILE\n");
	return 2;
}
