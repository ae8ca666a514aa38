/* SPDX-License-Identifier: MIT */
/*
 * TCP transport for migration: "tcp:HOST:PORT" and "tls:HOST:PORT" addresses
 * (TLS itself is tls.h, over these sockets), connect/listen with
 * clear errors, and full reads/writes that survive partial transfers, EINTR
 * and enforce a timeout. Library code: returns 0/-errno, never exits; every
 * failing call writes a one-line reason into the caller's err buffer.
 */
#ifndef VESSEL_MIGRATE_NET_H
#define VESSEL_MIGRATE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define NET_HOST_MAX 256
#define NET_ERR_MAX  256

/*
 * net_fail - the error convention of the migration library: write the
 * printf-style reason into err (when err is not NULL) and return rc.
 */
int net_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct net_addr {
	char host[NET_HOST_MAX]; /* name, IPv4, or IPv6 without brackets */
	char port[8];		 /* decimal 1..65535 */
	bool tls;		 /* "tls:": TLS over this TCP connection */
};

/*
 * Parse "tcp:HOST:PORT" or "tls:HOST:PORT" (HOST may be "[v6addr]"; an empty
 * HOST means any address for listen and localhost for connect). 0 or -EINVAL
 * with err set.
 */
int net_parse_uri(const char *uri, struct net_addr *a, char *err, size_t errlen);

/* Connect to a, waiting at most timeout_ms (-1: the system's limit).
 * Returns a connected blocking socket, or -errno with err set. */
int net_connect(const struct net_addr *a, int timeout_ms, char *err, size_t errlen);

/* Listening socket on a (SO_REUSEADDR). Returns the fd or -errno with err set. */
int net_listen(const struct net_addr *a, char *err, size_t errlen);

/* Accept one connection within timeout_ms (-1: forever): fd or -errno
 * (-ETIMEDOUT). The returned socket has TCP_NODELAY set. */
int net_accept(int lfd, int timeout_ms, char *err, size_t errlen);

/* "ADDR:PORT" of the socket's peer (numeric), or "an unknown peer". */
void net_peer_name(int fd, char *buf, size_t len);

/* Wait at most timeout_ms (-1: forever) for events (POLLIN/POLLOUT) on fd:
 * 0, -ETIMEDOUT or -errno. Retries on EINTR. */
int net_wait(int fd, short events, int timeout_ms);

/* The port a bound socket listens on (for tests that bind port 0), or -errno. */
int net_local_port(int fd);

/*
 * Write all len bytes (looping over partial writes and EINTR), waiting at
 * most timeout_ms for each chunk to go out. 0, -ETIMEDOUT, -EPIPE (peer
 * closed) or -errno. Never raises SIGPIPE.
 */
int net_write_full(int fd, const void *buf, size_t len, int timeout_ms);

/*
 * Read up to len bytes, waiting at most timeout_ms for the first to arrive.
 * Returns the count (0 = end of stream), -ETIMEDOUT or -errno.
 */
ssize_t net_read_some(int fd, void *buf, size_t len, int timeout_ms);

/* Read exactly len bytes: 0, -EPIPE if the stream ends first, -ETIMEDOUT, -errno. */
int net_read_full(int fd, void *buf, size_t len, int timeout_ms);

#endif /* VESSEL_MIGRATE_NET_H */
