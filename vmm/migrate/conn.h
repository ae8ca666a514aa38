/* SPDX-License-Identifier: MIT */
/*
 * A migration connection: the stream writer, the reader and the sender do
 * not care whether bytes cross plain TCP or TLS. A connection is a socket
 * plus a small table of operations (read, write, close, last error); the
 * plain one is here, the TLS one in tls.h.
 *
 * A struct mig_conn may be copied: copies share the same transport (the fd
 * and, for TLS, the session), and exactly one of them is closed. An optional
 * deadline (CLOCK_MONOTONIC, ms) bounds every wait of every operation: past
 * it, reads and writes fail with -ETIMEDOUT.
 *
 * Buffers handed to the write operation are sent as they are: the sender
 * copies guest pages into its own buffers first (with the memory-error-safe
 * copy), so no transport ever reads guest memory directly.
 */
#ifndef VESSEL_MIGRATE_CONN_H
#define VESSEL_MIGRATE_CONN_H

#include <stddef.h>
#include <sys/types.h>
#include "core/clock.h" /* clock_now_ms(): what deadlines are in */

struct mig_conn;

struct mig_conn_ops {
	/* Up to len bytes, waiting at most timeout_ms (-1: forever) for the
	 * first: the count, 0 at the end of the stream, -ETIMEDOUT, -EPIPE
	 * (reset) or -errno. */
	ssize_t (*read_some)(struct mig_conn *c, void *buf, size_t len, int timeout_ms);
	/* All len bytes, waiting at most timeout_ms for each chunk: 0,
	 * -ETIMEDOUT, -EPIPE (peer closed) or -errno. Never raises SIGPIPE. */
	int (*write_full)(struct mig_conn *c, const void *buf, size_t len, int timeout_ms);
	/* Close the transport (TLS: say goodbye without waiting long). */
	void (*close)(struct mig_conn *c);
	/* Optional: the transport's own words for its last failure, or NULL. */
	const char *(*last_error)(struct mig_conn *c);
	const char *name; /* "tcp" or "tls" */
};

struct mig_conn {
	const struct mig_conn_ops *ops;
	int fd;		 /* the socket (or any fd for plain) */
	void *priv;	 /* the transport's state (the TLS session) */
	double deadline; /* clock_now_ms() after which waits fail; 0: none */
};

/* mig_conn_plain - a plain connection over fd (a socket or a pipe). */
void mig_conn_plain(struct mig_conn *c, int fd);

/*
 * mig_conn_read_some / mig_conn_write_full / mig_conn_read_full - the
 * operations, with waits clamped to the connection's deadline. read_full:
 * exactly len bytes, -EPIPE if the stream ends first.
 */
ssize_t mig_conn_read_some(struct mig_conn *c, void *buf, size_t len, int timeout_ms);
int mig_conn_write_full(struct mig_conn *c, const void *buf, size_t len, int timeout_ms);
int mig_conn_read_full(struct mig_conn *c, void *buf, size_t len, int timeout_ms);

/* mig_conn_close - close the transport once; c->fd becomes -1. No-op if closed. */
void mig_conn_close(struct mig_conn *c);

/* mig_conn_error - the transport's description of its last failure, or NULL. */
const char *mig_conn_error(struct mig_conn *c);

#endif /* VESSEL_MIGRATE_CONN_H */
