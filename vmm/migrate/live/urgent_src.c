// SPDX-License-Identifier: MIT
/*
 * Post-copy's second connection, the source's side (see sender.h and
 * urgent_dst.c): the destination asks for the pages its vCPUs wait for on
 * this connection, and they come back on it at once, instead of queueing
 * behind the background pages in the main connection's buffers. Pages are
 * read with the memory-error-safe copy like every other (send_page_to());
 * a page taken here is not sent again by the background stream.
 */
#include "migrate/live/sender.h"

#include "migrate/net.h"
#include "migrate/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CONNECT_TIMEOUT_MS 10000
#define WRITE_TIMEOUT_MS   30000

struct urgent_src {
	struct sender *s;
	pthread_t thread;
	pthread_mutex_t lock; /* c.fd and stopping */
	bool stopping;
	struct mig_conn c;
	struct mig_writer w;
	struct page_counts n;
	uint64_t requests;
};

/* Connect, shake hands, preamble, CHANNEL: 0 or -errno with err set. */
static int open_channel(struct urgent_src *u, char *err, size_t errlen)
{
	struct sender *s = u->s;
	struct net_addr a;
	struct mig_conn c;
	int fd, rc;

	rc = net_parse_uri(s->uri, &a, err, errlen);
	if (rc)
		return rc;
	fd = net_connect(&a, CONNECT_TIMEOUT_MS, err, errlen);
	if (fd < 0)
		return fd;
	if (s->tls) {
		rc = mig_tls_open(s->tls, fd, a.host, &c, err, errlen);
		if (rc)
			return rc;
	} else {
		mig_conn_plain(&c, fd);
	}
	pthread_mutex_lock(&u->lock); /* from here urgent_src_stop() can shut it down */
	u->c = c;
	rc = u->stopping ? -ECANCELED : 0;
	pthread_mutex_unlock(&u->lock);
	if (!rc && s->tls)
		rc = mig_tls_handshake(&u->c, CONNECT_TIMEOUT_MS, err, errlen);
	if (rc)
		return rc;
	rc = mig_writer_init_conn(&u->w, &u->c, WRITE_TIMEOUT_MS);
	if (!rc)
		rc = mig_put_preamble(&u->w);
	if (!rc)
		rc = mig_put_channel(&u->w, MIG_CHANNEL_URGENT, s->token);
	if (!rc)
		rc = mig_flush(&u->w);
	if (rc)
		snprintf(err, errlen, "%s", u->w.err[0] ? u->w.err : strerror(-rc));
	return rc;
}

/* The pages of one request; a page it takes and cannot send is pending again. */
static int answer(struct urgent_src *u, uint64_t gpa, uint32_t npages)
{
	struct sender *s = u->s;
	int rc = 0;

	/* the connection is up before the switch; the pending set is not */
	if (!__atomic_load_n(&s->pc_serving, __ATOMIC_ACQUIRE))
		return -EPROTO;
	u->requests++;
	for (uint32_t i = 0; i < npages && !rc; i++) {
		uint64_t g = gpa + (uint64_t)i * MIG_PAGE_SIZE;
		const uint8_t *host;
		bool took;

		__atomic_fetch_add(&s->urgent_inflight, 1, __ATOMIC_ACQ_REL);
		host = postcopy_page(s, g, &took);
		/* asked for although on its way already: sent again, the
		 * destination keeps the first to arrive (the source's copy is
		 * frozen, both are the same) */
		if (host)
			rc = send_page_to(s, &u->w, g, host, &u->n);
		if (!rc)
			rc = mig_flush(&u->w);
		if (rc && took)
			postcopy_untake(s, g);
		__atomic_fetch_sub(&s->urgent_inflight, 1, __ATOMIC_ACQ_REL);
	}
	return rc;
}

static void *urgent_thread(void *arg)
{
	struct urgent_src *u = arg;
	struct mig_reader r;
	struct mig_record rec;
	char err[256];
	int rc;

	pthread_setname_np(pthread_self(), "mig-urgent");
	rc = open_channel(u, err, sizeof(err));
	if (rc == -ECANCELED)
		return NULL;
	if (rc) {
		fprintf(stderr,
			"\rvessel: post-copy: no second connection (%s); pages asked for go over "
			"the "
			"main one\r\n",
			err);
		return NULL;
	}
	rc = mig_reader_init_conn(&r, &u->c, -1);
	while (!rc) {
		rc = mig_read_record(&r, &rec);
		if (!rc && rec.type != MIG_REC_REQUEST) {
			snprintf(r.err, sizeof(r.err), "a %s record", mig_rec_type_name(rec.type));
			rc = -EPROTO;
		} else if (!rc) {
			rc = answer(u, rec.u.request.gpa, rec.u.request.npages);
			if (rc == -EPROTO)
				snprintf(r.err, sizeof(r.err), "a request before the switch");
			else if (rc)
				snprintf(r.err, sizeof(r.err), "%s", u->w.err);
		}
	}
	pthread_mutex_lock(&u->lock);
	if (rc == -EPROTO || (rc != -EPIPE && !u->stopping))
		fprintf(stderr,
			"\rvessel: post-copy: the second connection ended (%s); pages asked for "
			"go over the main one\r\n",
			r.err[0] ? r.err : strerror(-rc));
	pthread_mutex_unlock(&u->lock);
	mig_reader_free(&r);
	return NULL;
}

struct urgent_src *urgent_src_start(struct sender *s)
{
	struct urgent_src *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->s = s;
	u->c.fd = -1;
	pthread_mutex_init(&u->lock, NULL);
	if (pthread_create(&u->thread, NULL, urgent_thread, u)) {
		pthread_mutex_destroy(&u->lock);
		free(u);
		return NULL;
	}
	return u;
}

void urgent_src_stop(struct sender *s, struct urgent_src *u)
{
	struct mig_progress *p = &s->l->prog;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	u->stopping = true;
	if (u->c.fd >= 0)
		shutdown(u->c.fd, SHUT_RDWR); /* its read or write returns */
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	pthread_mutex_destroy(&u->lock);
	mig_writer_free(&u->w);
	mig_conn_close(&u->c);
	pthread_mutex_lock(&s->l->lock);
	p->pages_data += u->n.data;
	p->pages_zero += u->n.zero;
	p->pages_poisoned += u->n.poisoned;
	p->poison_known += u->n.known;
	p->poison_on_read += u->n.on_read;
	p->pages_sent += u->n.data + u->n.zero + u->n.poisoned;
	p->urgent_requests = u->requests;
	pthread_mutex_unlock(&s->l->lock);
	free(u);
}
