/* SPDX-License-Identifier: MIT */
/*
 * The destination's receiving state, shared by incoming.c (the stream into
 * a VM that does not run yet) and postcopy_dst.c (the pages that arrive
 * while it runs). Not for use outside live/.
 */
#ifndef VESSEL_MIGRATE_LIVE_INCOMING_H
#define VESSEL_MIGRATE_LIVE_INCOMING_H

#include <pthread.h>
#include <time.h>

#include "migrate/live/internal.h"
#include "migrate/recv.h"
#include "migrate/stream.h"

struct postcopy_dst;

struct rx {
	struct live *l;
	struct vmstate_rx vs;
	uint64_t *written; /* pages holding data (a later ZERO must clear them) */
	uint64_t npages;   /* frames up to the top of guest RAM */
	uint64_t repoisoned;
	unsigned last_pass;
	double t0, cpu0; /* the stream began (clock_now_ms, clock_thread_cpu_ms) */
	double t_state;	 /* first STATE record (clock_now_ms): the source is paused */
	struct mig_conn c;
	struct mig_reader r;
	struct mig_recv rv;
	struct mig_writer w; /* to the source: SYNC, REQUEST, ACK (under wlock) */
	pthread_mutex_t wlock;
	struct postcopy_dst *pc; /* from the first PENDING record on */
	char via[96];		 /* "tcp", "tls (TLS1.3 ...)" */
	/* the listener stays open for post-copy's second connection */
	int lfd;
	struct mig_tls_creds *tls; /* its server credentials (live's), or NULL */
	bool has_token;		   /* a CHANNEL record announced that connection */
	uint8_t token[MIG_TOKEN_LEN];
	struct urgent_dst *urgent; /* its thread, from the CHANNEL record on */
};

/* rx_send_sync / rx_send_request / rx_send_ack - one record to the source,
 * written out at once (any thread). 0 or -errno. */
int rx_send_sync(struct rx *rx, uint32_t pass);
int rx_send_request(struct rx *rx, uint64_t gpa, uint32_t npages);
int rx_send_ack(struct rx *rx, int code, const char *msg);

/* rx_free - close the connection, free everything. */
void rx_free(struct rx *rx);

/* ---- postcopy_dst.c ---- */

/* pcd_pending - a PENDING record: these pages come after the VM runs. */
int pcd_pending(struct rx *rx, const struct mig_record *rec, char *err, size_t errlen);

/*
 * pcd_start - POSTCOPY arrived and the state is complete: drop what we hold
 * of the pending pages, register guest RAM with a userfaultfd, start the
 * threads that answer faults and receive the rest, and tell the source
 * (ACK). From 0 on, rx belongs to the post-copy state (pcd_stop() frees it)
 * and the caller starts the VM. -errno with err set otherwise.
 */
int pcd_start(struct rx *rx, char *err, size_t errlen);

/* pcd_discard - pcd_start() failed or never came: forget the post-copy state. */
void pcd_discard(struct rx *rx);

/* pcd_running - whether pages now go in with the userfaultfd. */
bool pcd_running(const struct rx *rx);

/* After pcd_start(): install npages of DATA from gpa / one ZERO, FREE or
 * POISONED page. 0 or -errno + err. */
int pcd_data(struct rx *rx, uint64_t gpa, uint32_t npages, const uint8_t *data, char *err,
	     size_t errlen);
int pcd_page(struct rx *rx, uint64_t gpa, uint32_t kind, char *err, size_t errlen);

/* ---- urgent_dst.c: post-copy's second connection (REQUEST out, pages in) ---- */

struct urgent_dst;

/*
 * urgent_dst_start - when the source announced a second connection (CHANNEL),
 * start a thread that admits it on rx->lfd (within 30 s; the first record
 * must be the CHANNEL with the same token) and, once post-copy runs
 * (pcd_start), installs the pages that come over it. NULL if there is none
 * to wait for (requests then go over the main connection).
 */
struct urgent_dst *urgent_dst_start(struct rx *rx);

/* urgent_dst_request - ask for npages from gpa over the second connection:
 * 0, or -ENOTCONN while it is not (or no longer) up. */
int urgent_dst_request(struct urgent_dst *u, uint64_t gpa, uint32_t npages);

/* urgent_dst_stop - end the thread, close the connection, free u (may be NULL). */
void urgent_dst_stop(struct urgent_dst *u);

/* urgent_dst_pages - pages that came over the second connection. */
uint64_t urgent_dst_pages(const struct urgent_dst *u);

/* pcd_stop - from live's detach hook: end the threads, free rx. No-op
 * without post-copy. */
void pcd_stop(struct live *l);

/* pcd_active - an incoming post-copy migration is still receiving pages. */
bool pcd_active(struct live *l);

/* pcd_pages_left - its pages not in yet (0 when none is active). */
uint64_t pcd_pages_left(struct live *l);

#endif
