/* SPDX-License-Identifier: MIT */
/*
 * TLS for the migration connection (GnuTLS), with mutual authentication.
 *
 * Credentials come from a directory, laid out as QEMU's tls-creds-x509 and
 * tls-creds-psk directories:
 *
 *   x509 (used when ca-cert.pem exists):
 *     ca-cert.pem                       the CA both ends trust
 *     server-cert.pem, server-key.pem   the destination's certificate and key
 *     client-cert.pem, client-key.pem   the source's certificate and key
 *   psk (used when keys.psk exists and ca-cert.pem does not):
 *     keys.psk      lines "IDENTITY:HEXKEY" (a key of 16 to 64 bytes); the
 *                   source uses the first line, the destination accepts any
 *
 * Each end checks the other: the destination requires a client certificate
 * signed by the CA (or a known PSK identity with the right key), the source
 * requires a server certificate signed by the CA and issued for the host it
 * connects to (the HOST of tls:HOST:PORT, a name or an IP address). TLS 1.2
 * or 1.3 only; PSK only with (EC)DHE, so traffic stays secret even if the key
 * leaks later.
 *
 * After the TLS handshake the destination sends one byte, 0x01 ("admitted"),
 * which the source waits for: with TLS 1.3 the client's handshake ends
 * before the server has checked the client's certificate, and this is how a
 * refused source learns so (and why) before sending anything.
 *
 * Library code: 0 or -errno, a one-line reason in err; never exits.
 * Error codes: -EACCES the peer failed authentication or refused ours,
 * -EPROTO not TLS / protocol error, -EPIPE closed, -ETIMEDOUT, -ENOENT a
 * missing file, -EINVAL a malformed one.
 */
#ifndef VESSEL_MIGRATE_TLS_H
#define VESSEL_MIGRATE_TLS_H

#include <stddef.h>

#include "conn.h"

enum mig_tls_role {
	MIG_TLS_CLIENT, /* the migration source */
	MIG_TLS_SERVER, /* the destination */
};

struct mig_tls_creds;

/*
 * mig_tls_creds_load - read the credentials in dir for role (see above).
 * They must outlive every connection made with them. 0 with *out, or -errno
 * with err naming the file and what is wrong with it.
 */
int mig_tls_creds_load(const char *dir, enum mig_tls_role role, struct mig_tls_creds **out,
		       char *err, size_t errlen);

/* mig_tls_creds_free - free credentials (NULL is fine). */
void mig_tls_creds_free(struct mig_tls_creds *cr);

/* mig_tls_creds_kind - "x509" or "psk". */
const char *mig_tls_creds_kind(const struct mig_tls_creds *cr);

/*
 * mig_tls_open - start TLS on the connected socket fd (taken over: closing
 * *out closes it) with cr's role. peer_name: for a client, the host name or
 * address the server's certificate must be issued for (NULL: "localhost");
 * ignored for a server. The handshake is then driven by mig_tls_step() or
 * mig_tls_handshake(). 0, or -ENOMEM with err (fd is then closed).
 */
int mig_tls_open(struct mig_tls_creds *cr, int fd, const char *peer_name, struct mig_conn *out,
		 char *err, size_t errlen);

/*
 * mig_tls_step - advance the handshake of c without blocking. 0 once it is
 * complete (the peer authenticated, the admission byte exchanged),
 * -EAGAIN with *events (POLLIN or POLLOUT) to wait for on c->fd, or -errno
 * with the reason in err (c must then be closed).
 */
int mig_tls_step(struct mig_conn *c, short *events, char *err, size_t errlen);

/*
 * mig_tls_handshake - drive the handshake of c to its end, for at most
 * timeout_ms. 0, -ETIMEDOUT, or -errno as mig_tls_step, with err.
 */
int mig_tls_handshake(struct mig_conn *c, int timeout_ms, char *err, size_t errlen);

/*
 * mig_tls_describe - the protocol version and cipher of c's session after
 * the handshake (e.g. "TLS1.3 AES-256-GCM"); "" for a connection that is
 * not TLS.
 */
void mig_tls_describe(const struct mig_conn *c, char *buf, size_t len);

#endif /* VESSEL_MIGRATE_TLS_H */
