// SPDX-License-Identifier: MIT
/* The destination's listener: admit one real source (see admit.h). */
#include "admit.h"
#include "net.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct pending {
	struct mig_conn c;
	double expires; /* clock_now_ms() by which it must have proved itself */
	bool tls_done;	/* TLS handshake complete (or plain TCP) */
	short events;	/* what it waits for */
	size_t got;	/* preamble bytes so far */
	uint8_t pre[MIG_PREAMBLE_LEN];
	char peer[80];
};

struct admit {
	const struct mig_admit_opts *o;
	struct pending p[MIG_ADMIT_PENDING];
	unsigned n;
};

static void say(struct admit *a, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!a->o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->o->log(a->o->log_ctx, line);
}

/* Close and forget pending connection i, saying why (why NULL: silently). */
static void drop(struct admit *a, unsigned i, const char *why)
{
	if (why)
		say(a, "turned away a connection from %s: %s", a->p[i].peer, why);
	mig_conn_close(&a->p[i].c);
	a->p[i] = a->p[--a->n];
}

/* Accept one connection into the pending set: true if one was added. */
static bool take(struct admit *a, int lfd)
{
	struct pending *p;
	char err[256];
	int fd, one = 1;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC); /* blocking: see mig_admit() */
	if (fd < 0)
		return false; /* gone already (or out of fds): the listener stays */
	if (a->n == MIG_ADMIT_PENDING)
		drop(a, 0, "too many connections waiting to prove themselves");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p = &a->p[a->n];
	*p = (struct pending){ .expires = clock_now_ms() + a->o->handshake_ms, .events = POLLIN };
	net_peer_name(fd, p->peer, sizeof(p->peer));
	if (!a->o->tls) {
		mig_conn_plain(&p->c, fd);
		p->tls_done = true;
	} else if (mig_tls_open(a->o->tls, fd, NULL, &p->c, err, sizeof(err))) {
		say(a, "turned away a connection from %s: %s", p->peer, err);
		return false;
	}
	a->n++;
	return true;
}

/*
 * Move pending connection i on as far as it goes without waiting.
 * 1: admitted, 0: waits (p->events), -1: dropped.
 */
static int step(struct admit *a, unsigned i)
{
	struct pending *p = &a->p[i];
	char err[256];
	ssize_t n;
	int rc;

	if (!p->tls_done) {
		rc = mig_tls_step(&p->c, &p->events, err, sizeof(err));
		if (rc == -EAGAIN)
			return 0;
		if (rc) {
			drop(a, i, err);
			return -1;
		}
		p->tls_done = true;
	}
	while (p->got < MIG_PREAMBLE_LEN) {
		n = mig_conn_read_some(&p->c, p->pre + p->got, MIG_PREAMBLE_LEN - p->got, 0);
		if (n == -ETIMEDOUT) {
			p->events = POLLIN;
			return 0;
		}
		if (n <= 0) {
			snprintf(err, sizeof(err),
				 n == 0 ? "it closed the connection after %zu bytes" :
					  "reading its first %zu bytes failed",
				 p->got);
			drop(a, i, err);
			return -1;
		}
		p->got += (size_t)n;
	}
	if (mig_check_preamble(p->pre, err, sizeof(err))) {
		drop(a, i, err);
		return -1;
	}
	return 1;
}

static double next_wakeup(const struct admit *a)
{
	double t = a->o->deadline;

	for (unsigned i = 0; i < a->n; i++)
		if (!t || a->p[i].expires < t)
			t = a->p[i].expires;
	return t;
}

/* Drop the pending connections whose handshake deadline has passed. */
static void expire(struct admit *a, double now)
{
	char why[128];

	for (unsigned i = a->n; i-- > 0;) {
		if (now < a->p[i].expires)
			continue;
		if (a->p[i].tls_done)
			snprintf(why, sizeof(why),
				 "no migration stream within %d ms (%zu of %u preamble bytes)",
				 a->o->handshake_ms, a->p[i].got, MIG_PREAMBLE_LEN);
		else
			snprintf(why, sizeof(why), "no TLS handshake within %d ms",
				 a->o->handshake_ms);
		drop(a, i, why);
	}
}

int mig_admit(int lfd, const struct mig_admit_opts *o, struct mig_conn *out,
	      uint8_t preamble[MIG_PREAMBLE_LEN], char *err, size_t errlen)
{
	struct admit a = { .o = o };
	struct pollfd fds[2 + MIG_ADMIT_PENDING];
	int won = -1;

	/* poll() may report a connection that is reset before accept4() */
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	while (won < 0) {
		double now = clock_now_ms(), wake;
		unsigned n;
		int rc;

		expire(&a, now);
		if (o->deadline && now >= o->deadline) {
			while (a.n)
				drop(&a, a.n - 1, "the deadline of the incoming migration passed");
			snprintf(err, errlen, "no migration source connected and proved itself");
			return -ETIMEDOUT;
		}
		n = a.n;
		fds[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (unsigned i = 0; i < n; i++)
			fds[1 + i] = (struct pollfd){ .fd = a.p[i].c.fd, .events = a.p[i].events };
		fds[1 + n] =
			(struct pollfd){ .fd = o->stop_fd > 0 ? o->stop_fd : -1, .events = POLLIN };
		wake = next_wakeup(&a);
		rc = poll(fds, 2 + n, wake ? (int)(wake - now) + 1 : -1);
		if (rc > 0 && fds[1 + n].revents) {
			while (a.n)
				drop(&a, a.n - 1, NULL);
			snprintf(err, errlen, "stopped while waiting for a connection");
			return -ECANCELED;
		}
		if (rc < 0 && errno != EINTR) {
			rc = -errno;
			snprintf(err, errlen, "waiting for a migration source: %s", strerror(-rc));
			while (a.n)
				drop(&a, a.n - 1, NULL);
			return rc;
		}
		if (rc <= 0)
			continue;
		/* downwards: drop() moves the last entry, already looked at, into i */
		for (unsigned i = n; i-- > 0 && won < 0;)
			if (fds[1 + i].revents && step(&a, i) == 1)
				won = (int)i;
		/* a fresh connection may have sent everything already */
		if (won < 0 && (fds[0].revents & POLLIN) && take(&a, lfd) && step(&a, a.n - 1) == 1)
			won = (int)a.n - 1;
	}
	*out = a.p[won].c;
	out->deadline = o->deadline;
	memcpy(preamble, a.p[won].pre, MIG_PREAMBLE_LEN);
	a.p[won] = a.p[--a.n];
	while (a.n)
		drop(&a, a.n - 1, "another source was admitted first");
	return 0;
}
