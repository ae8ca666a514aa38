// SPDX-License-Identifier: MIT
/* TLS for the migration connection with GnuTLS (see tls.h). */
#include "tls.h"
#include "net.h"
#include "tls_creds.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define ADMITTED       0x01 /* the destination's byte after the handshake */
#define BYE_TIMEOUT_MS 100
#define READ_AHEAD     (256u << 10)
#define WRITE_BEHIND   (256u << 10)

/* The state behind a TLS struct mig_conn (c->priv). */
struct tls_conn {
	gnutls_session_t s;
	struct mig_tls_creds *cr;
	int fd;
	bool handshaken; /* the TLS handshake is over */
	bool admitted;	 /* ... and the admission byte was exchanged */
	char err[256];	 /* what the last TLS-level failure was */
	/* what the peer's certificate must say (GnuTLS keeps a pointer) */
	gnutls_typed_vdata_st vdata[2];
	char host[NET_HOST_MAX];
	/*
	 * Read-ahead: GnuTLS asks for a record's 5-byte header, then for its
	 * body, two system calls per 16 KiB; pull() fills this buffer with
	 * whatever has arrived instead. It is empty whenever pull() says
	 * EAGAIN, so waiting for the socket after GNUTLS_E_AGAIN stays right.
	 */
	uint8_t *ra;
	size_t ra_start, ra_end;
	/*
	 * Write-behind, only inside tls_write_full(): push() gathers records
	 * here and sends them in large pieces (one system call per 16 KiB
	 * record otherwise); tls_write_full() sends the rest before it returns.
	 */
	uint8_t *wb;
	size_t wb_len;
	bool batching;
};

/* The destination looks the source's identity up (GnuTLS calls this). */
int tls_psk_lookup(gnutls_session_t s, const gnutls_datum_t *id, gnutls_datum_t *key)
{
	struct tls_conn *t = gnutls_session_get_ptr(s);
	const struct psk_key *k = tls_psk_find(t->cr, id->data, id->size);

	if (!k) {
		snprintf(t->err, sizeof(t->err), "unknown PSK identity '%.*s'",
			 (int)(id->size < 64 ? id->size : 64), (const char *)id->data);
		return -1;
	}
	key->data = gnutls_malloc(k->len);
	if (!key->data)
		return -1;
	memcpy(key->data, k->key, k->len);
	key->size = k->len;
	return 0;
}

/* ---- the connection ---- */

/* Send what the write-behind holds, as far as the socket takes it now:
 * 0 (all or part of it went), or -errno (-EAGAIN: nothing went). */
static int wb_send(struct tls_conn *t)
{
	ssize_t n;

	if (!t->wb_len)
		return 0;
	n = send(t->fd, t->wb, t->wb_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	memmove(t->wb, t->wb + n, t->wb_len - (size_t)n);
	t->wb_len -= (size_t)n;
	return 0;
}

/* Our own transport: never blocks, never raises SIGPIPE. */
static ssize_t push(gnutls_transport_ptr_t p, const void *buf, size_t len)
{
	struct tls_conn *t = p;
	int rc;

	if (t->batching && len <= WRITE_BEHIND) {
		if (t->wb_len + len > WRITE_BEHIND) {
			rc = wb_send(t);
			if (rc || t->wb_len + len > WRITE_BEHIND) {
				errno = rc ? -rc : EAGAIN;
				return -1;
			}
		}
		memcpy(t->wb + t->wb_len, buf, len);
		t->wb_len += len;
		return (ssize_t)len;
	}
	rc = wb_send(t); /* what is gathered goes first */
	if (!rc && t->wb_len)
		rc = -EAGAIN;
	if (rc) {
		errno = -rc;
		return -1;
	}
	return send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	struct tls_conn *t = p;
	ssize_t n;

	if (t->ra_start == t->ra_end) {
		n = recv(t->fd, t->ra, READ_AHEAD, MSG_DONTWAIT);
		if (n <= 0)
			return n; /* errno says why: GnuTLS reads it (thread-local, while
				   * gnutls_transport_set_errno() is the session's, which a
				   * sending and a receiving thread would share) */
		t->ra_start = 0;
		t->ra_end = (size_t)n;
	}
	n = (ssize_t)(len < t->ra_end - t->ra_start ? len : t->ra_end - t->ra_start);
	memcpy(buf, t->ra + t->ra_start, (size_t)n);
	t->ra_start += (size_t)n;
	return n;
}

static short direction(struct tls_conn *t)
{
	return gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN;
}

/* GnuTLS wants to read, and pull() still holds bytes it has not asked for
 * yet: go on at once, the socket may stay silent. */
static bool ready(struct tls_conn *t)
{
	return direction(t) == POLLIN && t->ra_start < t->ra_end;
}

/* Wait until GnuTLS can go on: 0, -ETIMEDOUT or -errno. */
static int wait_io(struct tls_conn *t, int timeout_ms)
{
	return ready(t) ? 0 : net_wait(t->fd, direction(t), timeout_ms);
}

static bool again(int rc)
{
	return rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED;
}

/* A failed GnuTLS call -> -errno; keeps GnuTLS's reason in t->err. */
static int tls_fail(struct tls_conn *t, int rc)
{
	switch (rc) {
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		return -EPIPE;
	case GNUTLS_E_PREMATURE_TERMINATION:
		snprintf(t->err, sizeof(t->err), "the peer closed the connection");
		return -EPIPE;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		snprintf(t->err, sizeof(t->err), "the peer ended the TLS session: %s",
			 gnutls_alert_get_name(gnutls_alert_get(t->s)));
		return -EACCES;
	case GNUTLS_E_DECRYPTION_FAILED:
		snprintf(t->err, sizeof(t->err),
			 "TLS record failed its integrity check (data altered in transit)");
		return -EBADMSG;
	}
	snprintf(t->err, sizeof(t->err), "TLS: %s", gnutls_strerror(rc));
	return -EPROTO;
}

/*
 * Once the handshake is over, a read only waits to read and a write only to
 * write: one thread may read while another writes (the return channel), and
 * gnutls_record_get_direction() reports the last call of either.
 */
static ssize_t tls_read_some(struct mig_conn *c, void *buf, size_t len, int timeout_ms)
{
	struct tls_conn *t = c->priv;

	for (;;) {
		ssize_t n = gnutls_record_recv(t->s, buf, len);
		int rc;

		if (n >= 0)
			return n;
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0; /* cut without close_notify: the stream ended */
		if (!again((int)n))
			return tls_fail(t, (int)n);
		rc = t->ra_start < t->ra_end ? 0 : net_wait(t->fd, POLLIN, timeout_ms);
		if (rc)
			return rc;
	}
}

static int tls_write_full(struct mig_conn *c, const void *buf, size_t len, int timeout_ms)
{
	struct tls_conn *t = c->priv;
	const uint8_t *p = buf;
	int rc = 0;

	t->batching = true;
	while (len) {
		/* after GNUTLS_E_AGAIN, the same p and len again */
		ssize_t n = gnutls_record_send(t->s, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (!again((int)n)) {
			rc = n == 0 ? -EPIPE : tls_fail(t, (int)n);
			break;
		}
		rc = net_wait(t->fd, POLLOUT, timeout_ms);
		if (rc)
			break;
	}
	t->batching = false;
	while (!rc && t->wb_len) {
		rc = wb_send(t);
		if (rc == -EAGAIN)
			rc = net_wait(t->fd, POLLOUT, timeout_ms);
		else if (rc)
			rc = rc == -ECONNRESET ? -EPIPE : rc;
	}
	return rc;
}

static void tls_close(struct mig_conn *c)
{
	struct tls_conn *t = c->priv;

	if (t->admitted) {
		/* close_notify, best effort: a peer that does not read is not waited for */
		for (int i = 0; i < 3; i++) {
			int rc = gnutls_bye(t->s, GNUTLS_SHUT_WR);

			if (!again(rc) || wait_io(t, BYE_TIMEOUT_MS))
				break;
		}
	}
	gnutls_deinit(t->s);
	close(t->fd);
	free(t->ra);
	free(t->wb);
	free(t);
}

static const char *tls_last_error(struct mig_conn *c)
{
	struct tls_conn *t = c->priv;

	return t && t->err[0] ? t->err : NULL;
}

static const struct mig_conn_ops tls_ops = {
	.read_some = tls_read_some,
	.write_full = tls_write_full,
	.close = tls_close,
	.last_error = tls_last_error,
	.name = "tls",
};

/*
 * The peer's chain must lead to our CA, its certificate must be meant for
 * its role (a destination's cannot authenticate a source, nor the other way
 * round), and a destination's must name the host the source connects to.
 */
static void set_verify(struct tls_conn *t, bool server, const char *peer_name)
{
	unsigned n = 0;

	t->vdata[n++] = (gnutls_typed_vdata_st){
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)(server ? GNUTLS_KP_TLS_WWW_CLIENT :
						   GNUTLS_KP_TLS_WWW_SERVER),
	};
	if (!server) {
		snprintf(t->host, sizeof(t->host), "%s",
			 peer_name && *peer_name ? peer_name : "localhost");
		t->vdata[n++] = (gnutls_typed_vdata_st){ .type = GNUTLS_DT_DNS_HOSTNAME,
							 .data = (unsigned char *)t->host };
	}
	gnutls_session_set_verify_cert2(t->s, t->vdata, n, 0);
}

int mig_tls_open(struct mig_tls_creds *cr, int fd, const char *peer_name, struct mig_conn *out,
		 char *err, size_t errlen)
{
	bool server = cr->role == MIG_TLS_SERVER;
	struct tls_conn *t = calloc(1, sizeof(*t));
	int rc;

	if (t) {
		t->ra = malloc(READ_AHEAD);
		t->wb = malloc(WRITE_BEHIND);
	}
	if (!t || !t->ra || !t->wb) {
		if (t) {
			free(t->ra);
			free(t->wb);
			free(t);
		}
		close(fd);
		return net_fail(err, errlen, -ENOMEM, "out of memory");
	}
	t->cr = cr;
	t->fd = fd;
	rc = gnutls_init(&t->s, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_TICKETS);
	if (rc < 0) {
		free(t->ra);
		free(t->wb);
		free(t);
		close(fd);
		return net_fail(err, errlen, -ENOMEM, "TLS session: %s", gnutls_strerror(rc));
	}
	gnutls_session_set_ptr(t->s, t);
	gnutls_priority_set(t->s, cr->prio);
	if (cr->psk) {
		rc = gnutls_credentials_set(t->s, GNUTLS_CRD_PSK,
					    server ? (void *)cr->psk_server :
						     (void *)cr->psk_client);
	} else {
		rc = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, cr->x509);
		if (server)
			gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
		set_verify(t, server, peer_name);
	}
	if (rc < 0) {
		gnutls_deinit(t->s);
		free(t->ra);
		free(t->wb);
		free(t);
		close(fd);
		return net_fail(err, errlen, -EINVAL, "TLS credentials: %s", gnutls_strerror(rc));
	}
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_push_function(t->s, push);
	gnutls_transport_set_pull_function(t->s, pull);
	*out = (struct mig_conn){ .ops = &tls_ops, .fd = fd, .priv = t };
	return 0;
}

void mig_tls_describe(const struct mig_conn *c, char *buf, size_t len)
{
	const struct tls_conn *t = c->priv;

	if (c->ops != &tls_ops || !t) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "%s %s", gnutls_protocol_get_name(gnutls_protocol_get_version(t->s)),
		 gnutls_cipher_get_name(gnutls_cipher_get(t->s)));
}

/* Why the handshake failed, in words. */
static int handshake_fail(struct tls_conn *t, int rc, char *err, size_t errlen)
{
	bool server = t->cr->role == MIG_TLS_SERVER;
	const char *peer = server ? "source" : "destination";
	gnutls_datum_t why = { 0 };
	unsigned status;
	int ret;

	/* tell the peer why, so that it need not guess (best effort: never waits) */
	if (rc != GNUTLS_E_FATAL_ALERT_RECEIVED && rc != GNUTLS_E_PREMATURE_TERMINATION &&
	    rc != GNUTLS_E_PULL_ERROR && rc != GNUTLS_E_PUSH_ERROR)
		gnutls_alert_send_appropriate(t->s, rc);
	switch (rc) {
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		status = gnutls_session_get_verify_cert_status(t->s);
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0) <
		    0)
			why.data = NULL;
		if (why.data) /* GnuTLS ends it with a space */
			for (size_t n = strlen((char *)why.data); n && why.data[n - 1] == ' ';)
				why.data[--n] = 0;
		ret = net_fail(err, errlen, -EACCES, "the %s's certificate is refused: %s", peer,
			       why.data ? (const char *)why.data : "verification failed");
		gnutls_free(why.data);
		return ret;
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
	case GNUTLS_E_CERTIFICATE_REQUIRED:
		return net_fail(err, errlen, -EACCES,
				"the %s presented no certificate issued by the CA in ca-cert.pem",
				peer);
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return net_fail(err, errlen, -EACCES, "the %s refused the TLS handshake: %s", peer,
				gnutls_alert_get_name(gnutls_alert_get(t->s)));
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return net_fail(err, errlen, -EPIPE,
				"the %s closed the connection during the TLS handshake", peer);
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNEXPECTED_PACKET:
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
		return net_fail(err, errlen, -EPROTO, "the %s does not speak TLS as expected: %s",
				peer, gnutls_strerror(rc));
	}
	if (t->err[0]) /* e.g. the PSK lookup said why */
		return net_fail(err, errlen, -EACCES, "TLS handshake with the %s failed: %s (%s)",
				peer, t->err, gnutls_strerror(rc));
	return net_fail(err, errlen, t->cr->psk ? -EACCES : -EPROTO,
			"TLS handshake with the %s failed: %s%s", peer, gnutls_strerror(rc),
			t->cr->psk ? " (is the pre-shared key the same at both ends?)" : "");
}

static int step_once(struct mig_conn *c, short *events, char *err, size_t errlen)
{
	struct tls_conn *t = c->priv;
	uint8_t b = ADMITTED;
	ssize_t n;
	int rc;

	if (!t->handshaken) {
		rc = gnutls_handshake(t->s);
		if (again(rc)) {
			*events = direction(t);
			return -EAGAIN;
		}
		if (rc < 0)
			return handshake_fail(t, rc, err, errlen);
		t->handshaken = true;
		t->err[0] = 0;
	}
	if (t->admitted)
		return 0;
	if (t->cr->role == MIG_TLS_SERVER)
		n = gnutls_record_send(t->s, &b, 1);
	else
		n = gnutls_record_recv(t->s, &b, 1);
	if (again((int)n)) {
		*events = direction(t);
		return -EAGAIN;
	}
	if (n == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return net_fail(err, errlen, -EACCES, "the %s refused this %s (TLS alert: %s)",
				t->cr->role == MIG_TLS_SERVER ? "source" : "destination",
				t->cr->role == MIG_TLS_SERVER ? "destination" : "source",
				gnutls_alert_get_name(gnutls_alert_get(t->s)));
	if (n < 0 && n != GNUTLS_E_PREMATURE_TERMINATION && n != GNUTLS_E_PULL_ERROR &&
	    n != GNUTLS_E_PUSH_ERROR) {
		tls_fail(t, (int)n);
		return net_fail(err, errlen, -EPROTO, "after the TLS handshake: %s", t->err);
	}
	if (n <= 0)
		return net_fail(err, errlen, -EPIPE,
				"the %s closed the connection right after the TLS handshake",
				t->cr->role == MIG_TLS_SERVER ? "source" : "destination");
	if (b != ADMITTED)
		return net_fail(err, errlen, -EPROTO,
				"the destination sent %#x instead of its admission byte", b);
	t->admitted = true;
	return 0;
}

int mig_tls_step(struct mig_conn *c, short *events, char *err, size_t errlen)
{
	int rc;

	do
		rc = step_once(c, events, err, errlen);
	while (rc == -EAGAIN && ready(c->priv));
	return rc;
}

int mig_tls_handshake(struct mig_conn *c, int timeout_ms, char *err, size_t errlen)
{
	double end = clock_now_ms() + timeout_ms;
	short ev = POLLIN;
	int rc;

	for (;;) {
		double left;

		rc = mig_tls_step(c, &ev, err, errlen);
		if (rc != -EAGAIN)
			return rc;
		left = end - clock_now_ms();
		rc = left > 0 ? net_wait(c->fd, ev, (int)left + 1) : -ETIMEDOUT;
		if (rc == -ETIMEDOUT)
			return net_fail(err, errlen, rc,
					"the TLS handshake did not complete within %d ms",
					timeout_ms);
		if (rc)
			return net_fail(err, errlen, rc, "waiting for the TLS handshake: %s",
					strerror(-rc));
	}
}
