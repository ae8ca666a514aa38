/* SPDX-License-Identifier: MIT */
/*
 * The destination's listener: accept connections until one proves to be a
 * migration source, without letting a stray connection use it up.
 *
 * A connection proves itself by completing the TLS handshake with an
 * authenticated peer (for tls:) and then sending a valid stream preamble
 * (magic, version, flags), all within a short handshake deadline. Up to
 * MIG_ADMIT_PENDING connections are driven at once, so one that sends
 * nothing, sends garbage or fails the handshake is closed (and logged) while
 * a real source connecting next to it goes through. When all slots are
 * taken, the oldest waiting connection is dropped for the new one.
 */
#ifndef VESSEL_MIGRATE_ADMIT_H
#define VESSEL_MIGRATE_ADMIT_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "stream.h"

#define MIG_ADMIT_PENDING 16

struct mig_tls_creds;

struct mig_admit_opts {
	struct mig_tls_creds *tls; /* server credentials; NULL: plain TCP */
	int handshake_ms;	   /* each connection must prove itself within this */
	double deadline;	   /* clock_now_ms() of core/clock.h; 0: none */
	int stop_fd; /* > 0: readable (an eventfd written) ends the wait, -ECANCELED */
	/* one line for each connection turned away (may be NULL) */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

/*
 * mig_admit - accept connections on the listening socket lfd until one
 * proves itself (see above). Returns 0 with *out, the admitted connection
 * (its deadline set to o->deadline), and preamble, the 16 bytes it sent
 * (hand them to the stream reader with mig_reader_push()); every other
 * connection is closed. -ETIMEDOUT when o->deadline passes first, or -errno
 * if accepting fails, -ECANCELED when o->stop_fd became readable; err says
 * why. lfd stays open (made non-blocking): call again for another connection.
 */
int mig_admit(int lfd, const struct mig_admit_opts *o, struct mig_conn *out,
	      uint8_t preamble[MIG_PREAMBLE_LEN], char *err, size_t errlen);

#endif /* VESSEL_MIGRATE_ADMIT_H */
