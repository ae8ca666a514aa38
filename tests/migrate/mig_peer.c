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
 */
#include <errno.h>
#include <fcntl.h>
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

static int send_file(const char *port, const char *file, long limit)
{
	static uint8_t buf[1 << 16];
	struct mig_reader r;
	struct mig_record rec;
	struct net_addr a;
	char err[256];
	int in = open(file, O_RDONLY), fd = -1;
	long sent = 0;
	ssize_t n;

	snprintf(a.host, sizeof(a.host), "127.0.0.1");
	snprintf(a.port, sizeof(a.port), "%s", port);
	for (int i = 0; i < 50 && fd < 0; i++) {
		fd = net_connect(&a, 1000, err, sizeof(err));
		if (fd < 0)
			usleep(100000);
	}
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
	fprintf(stderr, "usage: mig_peer record PORT FILE | cut PORT N | send PORT FILE [N]\n");
	return 2;
}
