// SPDX-License-Identifier: MIT
/*
 * Post-copy's second connection, the destination's side (see incoming.h).
 *
 * The main connection carries the background pages: a page a vCPU waits for
 * would queue behind what its socket buffers hold. So the source opens a
 * second connection, announced on the main stream by a CHANNEL record with
 * a random token (for `migrate --postcopy` before the pause, so that it is
 * up when the VM starts here; for migrate-start-postcopy during the pause):
 * once the VM runs here, requests go out on it and the pages asked for come
 * back on it, past the background stream. It is admitted on the same
 * listener as the first (TLS and all), and its first record must be the
 * same CHANNEL; a page that comes on it before post-copy runs is refused. Until it is up, or if it
 * fails, requests go over the main connection as before.
 */
#include "migrate/live/incoming.h"

#include "migrate/admit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define ADMIT_WITHIN_MS	 30000 /* the source connects right after the switch */
#define HANDSHAKE_MS	 10000
#define READ_TIMEOUT_MS	 -1 /* idle while nothing is asked for */
#define WRITE_TIMEOUT_MS 5000

struct urgent_dst {
	struct rx *rx;
	pthread_t thread;
	int stop_fd;
	struct mig_conn c;
	struct mig_writer w; /* REQUEST records, under wlock */
	pthread_mutex_t wlock;
	bool ready;	/* c and w are up (atomic) */
	bool stopping;	/* urgent_dst_stop() (atomic) */
	uint64_t pages; /* (atomic: read while it runs) */
};

static void log_line(void *ctx, const char *line)
{
	fprintf(stderr, "\rvessel: incoming post-copy migration, second connection: %s\r\n", line);
}

/* Admit connections until one is this migration's second one: true with u->c. */
static bool admit(struct urgent_dst *u, struct mig_reader *r)
{
	struct rx *rx = u->rx;
	struct mig_admit_opts ao = { .tls = rx->tls,
				     .handshake_ms = HANDSHAKE_MS,
				     .deadline = clock_now_ms() + ADMIT_WITHIN_MS,
				     .stop_fd = u->stop_fd,
				     .log = log_line };
	uint8_t pre[MIG_PREAMBLE_LEN];
	struct mig_record rec;
	struct mig_conn c;
	char err[256];

	for (;;) {
		int rc = mig_admit(rx->lfd, &ao, &c, pre, err, sizeof(err));

		if (rc) {
			if (rc != -ECANCELED)
				log_line(NULL, "none came; pages are asked for on the main one");
			return false;
		}
		c.deadline = 0;
		pthread_mutex_lock(&u->wlock); /* urgent_dst_stop() may shut it down */
		u->c = c;
		pthread_mutex_unlock(&u->wlock);
		rc = mig_reader_init_conn(r, &u->c, HANDSHAKE_MS);
		if (!rc)
			rc = mig_reader_push(r, pre, sizeof(pre));
		if (!rc)
			rc = mig_read_preamble(r);
		if (!rc)
			rc = mig_read_record(r, &rec);
		if (!rc && rec.type == MIG_REC_CHANNEL &&
		    rec.u.channel.kind == MIG_CHANNEL_URGENT &&
		    !memcmp(rec.u.channel.token, rx->token, MIG_TOKEN_LEN))
			return true;
		snprintf(err, sizeof(err), "turned away a connection: %.200s",
			 rc ? r->err : "it does not belong to this migration");
		log_line(NULL, err);
		mig_reader_free(r);
		pthread_mutex_lock(&u->wlock);
		mig_conn_close(&u->c);
		pthread_mutex_unlock(&u->wlock);
	}
}

/* Install one record that came over the second connection. */
static int install(struct urgent_dst *u, const struct mig_record *rec, char *err, size_t errlen)
{
	struct rx *rx = u->rx;
	int rc = 0;

	/* pages come only as answers, and nothing is asked before the VM runs */
	if (!pcd_running(rx)) {
		snprintf(err, errlen, "a %s record before post-copy began",
			 mig_rec_type_name(rec->type));
		return -EPROTO;
	}
	switch (rec->type) {
	case MIG_REC_PAGES:
		__atomic_fetch_add(&u->pages, rec->u.pages.npages, __ATOMIC_RELAXED);
		return pcd_data(rx, rec->u.pages.gpa, rec->u.pages.npages, rec->u.pages.data, err,
				errlen);
	case MIG_REC_PAGE:
		__atomic_fetch_add(&u->pages, 1, __ATOMIC_RELAXED);
		return rec->u.page.kind == MIG_PAGE_DATA ?
			       pcd_data(rx, rec->u.page.gpa, 1, rec->u.page.data, err, errlen) :
			       pcd_page(rx, rec->u.page.gpa, rec->u.page.kind, err, errlen);
	case MIG_REC_ZERO_RANGE:
		for (uint64_t i = 0; !rc && i < rec->u.zrange.npages; i++)
			rc = pcd_page(rx, rec->u.zrange.gpa + i * MIG_PAGE_SIZE, MIG_PAGE_ZERO, err,
				      errlen);
		__atomic_fetch_add(&u->pages, rec->u.zrange.npages, __ATOMIC_RELAXED);
		return rc;
	}
	snprintf(err, errlen, "a %s record", mig_rec_type_name(rec->type));
	return -EPROTO;
}

static void *urgent_thread(void *arg)
{
	struct urgent_dst *u = arg;
	struct mig_reader r;
	struct mig_record rec;
	char err[256];
	int rc;

	pthread_setname_np(pthread_self(), "mig-urgent");
	if (!admit(u, &r))
		return NULL;
	/* the listener has done its work */
	close(u->rx->lfd);
	u->rx->lfd = -1;
	r.timeout_ms = READ_TIMEOUT_MS;
	rc = mig_writer_init_conn(&u->w, &u->c, WRITE_TIMEOUT_MS);
	if (!rc)
		__atomic_store_n(&u->ready, true, __ATOMIC_RELEASE);
	while (!rc) {
		rc = mig_read_record(&r, &rec);
		if (rc)
			snprintf(err, sizeof(err), "%s", r.err);
		else
			rc = install(u, &rec, err, sizeof(err));
	}
	__atomic_store_n(&u->ready, false, __ATOMIC_RELEASE);
	if (rc != -EPIPE && !__atomic_load_n(&u->stopping, __ATOMIC_ACQUIRE)) {
		snprintf(err + strlen(err), sizeof(err) - strlen(err),
			 "; pages are asked for on the main one");
		log_line(NULL, err);
	}
	mig_reader_free(&r);
	return NULL;
}

struct urgent_dst *urgent_dst_start(struct rx *rx)
{
	struct urgent_dst *u;

	if (!rx->has_token || rx->lfd < 0)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->rx = rx;
	u->c.fd = -1;
	pthread_mutex_init(&u->wlock, NULL);
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0 || pthread_create(&u->thread, NULL, urgent_thread, u)) {
		if (u->stop_fd >= 0)
			close(u->stop_fd);
		pthread_mutex_destroy(&u->wlock);
		free(u);
		return NULL;
	}
	return u;
}

int urgent_dst_request(struct urgent_dst *u, uint64_t gpa, uint32_t npages)
{
	int rc;

	if (!u || !__atomic_load_n(&u->ready, __ATOMIC_ACQUIRE))
		return -ENOTCONN;
	pthread_mutex_lock(&u->wlock);
	rc = mig_put_request(&u->w, gpa, npages);
	if (!rc)
		rc = mig_flush(&u->w);
	pthread_mutex_unlock(&u->wlock);
	return rc ? -ENOTCONN : 0;
}

uint64_t urgent_dst_pages(const struct urgent_dst *u)
{
	return u ? __atomic_load_n(&u->pages, __ATOMIC_RELAXED) : 0;
}

void urgent_dst_stop(struct urgent_dst *u)
{
	uint64_t one = 1;

	if (!u)
		return;
	__atomic_store_n(&u->stopping, true, __ATOMIC_RELEASE);
	__atomic_store_n(&u->ready, false, __ATOMIC_RELEASE);
	if (write(u->stop_fd, &one, sizeof(one)) != sizeof(one)) {
		/* an eventfd write cannot fail here */
	}
	pthread_mutex_lock(&u->wlock);
	if (u->c.fd >= 0)
		shutdown(u->c.fd, SHUT_RDWR); /* a blocked read returns */
	pthread_mutex_unlock(&u->wlock);
	pthread_join(u->thread, NULL);
	mig_writer_free(&u->w);
	mig_conn_close(&u->c);
	close(u->stop_fd);
	pthread_mutex_destroy(&u->wlock);
	free(u);
}
