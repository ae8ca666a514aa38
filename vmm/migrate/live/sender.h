/* SPDX-License-Identifier: MIT */
/*
 * The migration sender's state, shared by its files (not for use outside
 * live/): send.c runs the thread (connect, pre-copy, stop-and-copy or the
 * switch to post-copy, the summary), send_pages.c turns guest pages into
 * records, retpath.c reads what the destination sends back, postcopy_src.c
 * serves the pages of a post-copy migration.
 */
#ifndef VESSEL_MIGRATE_LIVE_SENDER_H
#define VESSEL_MIGRATE_LIVE_SENDER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "migrate/conn.h"
#include "migrate/live/internal.h"
#include "migrate/stream.h"

/*
 * The return channel (retpath.c): a thread reading the destination's
 * records (SYNC after each pre-copy pass, REQUEST during post-copy, ACK)
 * while the sender thread writes.
 */
#define RETPATH_QUEUE 256 /* page requests waiting (more: the oldest are merged away) */

struct retpath {
	struct mig_conn conn; /* a copy of the sender's connection */
	pthread_t thread;
	bool alive;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	uint32_t synced_pass; /* the last SYNC: the destination has taken in pass n */
	unsigned acks;	      /* ACK records so far */
	int ack_code;	      /* of the last */
	char ack_text[MIG_MSG_MAX + 1];
	int rc; /* the channel ended (-errno; -EPIPE: closed) */
	char err[256];
	struct {
		uint64_t gpa;
		uint32_t npages;
	} q[RETPATH_QUEUE];
	unsigned qhead, qlen;
	uint64_t requests; /* REQUEST records received */
};

struct sender {
	struct live *l;
	struct dirty_log dirty;
	struct mig_writer w;
	struct mig_conn conn;	   /* plain or TLS; conn.fd -1 until connected */
	struct mig_tls_creds *tls; /* client credentials for tls:, else NULL */
	struct retpath rp;
	double t_start;
	uint64_t pass_pages;
	long max_mib_s;		    /* bandwidth cap, 0 = none */
	int timeout_ms;		    /* per network wait */
	off_t data_start, data_end; /* memfd data range around the cursor (pass 1) */
	uint64_t run_gpa, run_n;    /* run of ZERO or FREE pages not yet written */
	enum mig_page_kind run_kind;
	uint64_t *free_map;	  /* frames the guest's callback reported free */
	uint64_t free_frames;	  /* bits in free_map */
	bool free_valid;	  /* free_map answers for this pass */
	bool postcopy;		  /* migrate ... postcopy: switch at once */
	uint64_t max_downtime_ms; /* 0: stop when the dirty set stops shrinking */
	char uri[300];
	/* post-copy (atomic: the urgent thread takes pages too) */
	uint64_t pc_left;	   /* pending pages not taken yet */
	bool pc_serving;	   /* the destination runs the VM: requests are answered */
	unsigned urgent_inflight;  /* pages the urgent thread took and has not sent yet */
	struct urgent_src *urgent; /* the second connection, or NULL */
	uint8_t token[MIG_TOKEN_LEN];
	bool announced; /* the CHANNEL record with token went out (only one may) */
	char err[512];
};

/* Pages of one kind sent by a thread (merged into the progress at the end). */
struct page_counts {
	uint64_t data, zero, poisoned, known, on_read;
};

/* ---- send_pages.c ---- */

/*
 * send_page - one page as a record: POISONED if it is in the poison set,
 * FREE if the guest's callback said so, ZERO for a memfd hole (`hole`) or an
 * all-zero page, else DATA (copied with the memory-error-safe copy; a memory
 * error during the copy makes it POISONED). 0 or -errno (s->w.err).
 */
int send_page(struct sender *s, uint64_t gpa, const uint8_t *host, bool hole);

/*
 * send_page_to - one page on writer w, without runs (the post-copy urgent
 * connection): POISONED, ZERO or DATA as send_page() decides; counted in n.
 * 0 or -errno (w->err).
 */
int send_page_to(struct sender *s, struct mig_writer *w, uint64_t gpa, const uint8_t *host,
		 struct page_counts *n);

/* send_runs_flush - write out the pending run of ZERO or FREE pages. */
int send_runs_flush(struct sender *s);

/* send_free_refresh - ask the guest's free-pages callback (hcb.h) again. */
void send_free_refresh(struct sender *s);

/*
 * send_dirty - every page whose bit is set in the dirty bitmaps, clearing
 * each bit once its page is written (pass 1: memfd holes go as ZERO without
 * being read). Throttled to s->max_mib_s. Returns 0, -ECANCELED (the VM is
 * going away), -EINTR (post-copy was asked for: the bits left are the pages
 * not sent yet) or -errno.
 */
int send_dirty(struct sender *s, bool skip_holes);

/* send_in_hole - whether the page at memfd offset off is a hole (reads as zero). */
bool send_in_hole(struct sender *s, off_t off);

/* send_throttle_ms - how long to wait to stay at s->max_mib_s (0: go on). */
double send_throttle_ms(struct sender *s);

/* send_update_progress - the numbers migrate-status shows. */
void send_update_progress(struct sender *s);

/* ---- retpath.c ---- */

/* retpath_start - start reading the destination's records on c. 0 or -errno. */
int retpath_start(struct retpath *rp, const struct mig_conn *c, char *err, size_t errlen);

/* retpath_stop - join the thread (the caller shut the connection down first). */
void retpath_stop(struct retpath *rp);

/*
 * retpath_wait_sync - wait until the destination has taken in everything up
 * to PASS `pass` (its SYNC record), at most timeout_ms. 0, or -errno with
 * err set (the channel ended, or -ETIMEDOUT).
 */
int retpath_wait_sync(struct retpath *rp, uint32_t pass, int timeout_ms, char *err, size_t errlen);

/*
 * retpath_wait_ack - wait for the destination's ACK number n (1: the first),
 * at most timeout_ms. 0 for ACK(0); -ECANCELED with the destination's
 * reason for another status; -errno if the channel ended first or
 * -ETIMEDOUT; err says why.
 */
int retpath_wait_ack(struct retpath *rp, unsigned n, int timeout_ms, char *err, size_t errlen);

/* retpath_pop - the oldest page request, if any (true). */
bool retpath_pop(struct retpath *rp, uint64_t *gpa, uint32_t *npages);

/*
 * retpath_idle - wait at most ms for a page request or the end of the
 * channel (no wait if one is there already).
 */
void retpath_idle(struct retpath *rp, double ms);

/* retpath_failed - the channel's end (0 while it is open), with its reason in err. */
int retpath_failed(struct retpath *rp, char *err, size_t errlen);

/* ---- postcopy_src.c ---- */

/*
 * postcopy_announce - a second connection will carry the pages the
 * destination asks for: a fresh token, in a CHANNEL record. 0 or -errno.
 */
int postcopy_announce(struct sender *s);

/*
 * postcopy_prepare - while the guest runs, before the pause: send the pages
 * still to be sent that need no data (POISONED, FREE, holes as ZERO); the
 * bits left are data. 0 or -errno (s->w.err).
 */
int postcopy_prepare(struct sender *s);

/*
 * postcopy_source - the vCPUs are paused (held) and the dirty log synced:
 * move the VM to the destination and serve the pages it has not got (the
 * bits left in s->dirty) until it has all of them. t_pause: when the vCPUs
 * were asked to pause, t_paused: when they were. Returns 0 once the destination has every page; a
 * negative errno before the destination ran the VM (the source may resume
 * it); MIG_POSTCOPY_BROKEN once the destination was running it (the source
 * must not resume on its own). s->err says why.
 */
#define MIG_POSTCOPY_BROKEN (-10000)
int postcopy_source(struct sender *s, double t_pause, double t_paused);

/*
 * postcopy_page - the host address of the page at gpa and whether it was
 * still pending (then it is no longer: the caller sends it). NULL if gpa is
 * not RAM.
 */
const uint8_t *postcopy_page(struct sender *s, uint64_t gpa, bool *was_pending);

/* postcopy_untake - the page at gpa could not be sent after all: pending again. */
void postcopy_untake(struct sender *s, uint64_t gpa);

/* ---- urgent_src.c: post-copy's second connection ---- */

/*
 * urgent_src_start - connect the second connection (to s->uri, TLS like the
 * first), say which migration it belongs to (CHANNEL, s->token) and answer
 * its REQUEST records on a thread of its own, past the background stream,
 * once s->pc_serving is set (a REQUEST before the switch ends it). Called
 * after postcopy_announce() and only once a SYNC showed that the destination
 * admitted the main connection (else this one could be admitted in its
 * place): before the pause for `migrate --postcopy`, after the switch for
 * migrate-start-postcopy.
 * NULL if it cannot be started (requests then come over the main one).
 */
struct urgent_src *urgent_src_start(struct sender *s);

/* urgent_src_stop - end it (NULL: nothing); its counts go into the progress. */
void urgent_src_stop(struct sender *s, struct urgent_src *u);

#endif
