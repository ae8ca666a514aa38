/* SPDX-License-Identifier: MIT */
/*
 * Calibrated interrupts (VESSEL_VIRTIO_BLK_F_CINTR, include/abi/virtio.h):
 * when a completion is worth an interrupt. A pure state machine, no clock
 * and no I/O of its own, so the policy is unit-tested exactly: the device
 * tells it when a request is made available and when it completes, with
 * the time; it answers with the reason to interrupt now (or none) and the
 * deadline of the coalescing timeout.
 *
 *   mode        interrupts when
 *   every       each completion (the standard virtio behaviour, feature off)
 *   calibrated  an URGENT request completes; a BARRIER and everything made
 *               available before it have completed; `threshold` completions
 *               are unsignalled; or the oldest of them waited `timeout_us`
 *
 * (coalesce is calibrated with requests that carry no flags.)
 *
 * Every interrupt covers all completions before it. For each request the
 * machine also measures the time from "made available" to "its interrupt
 * raised", the latency a waiting thread sees from the device.
 */
#ifndef VMM_DEV_CINTR_H
#define VMM_DEV_CINTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/virtqueue.h"

enum cintr_reason {
	CINTR_NONE = 0,
	CINTR_EVERY,	 /* feature off: one per completion */
	CINTR_URGENT,	 /* an URGENT request completed */
	CINTR_BARRIER,	 /* a BARRIER and all before it completed */
	CINTR_THRESHOLD, /* `threshold` completions unsignalled */
	CINTR_TIMEOUT,	 /* the oldest unsignalled completion waited timeout_us */
	CINTR_NR
};

#define CINTR_SLOTS  VQ_NUM_MAX /* requests in flight at most (slot = chain head) */
#define CINTR_RECENT 128	/* latencies kept for the percentiles */
#define CINTR_WAIT   1024	/* unsignalled completions whose times are kept */

struct cintr {
	bool calibrated;     /* the driver accepted the feature */
	uint32_t threshold;  /* completions per interrupt at most */
	uint32_t timeout_us; /* longest wait of an unsignalled completion */

	uint64_t next_seq;	       /* order in which requests became available */
	uint64_t seq[CINTR_SLOTS];     /* in-flight request of each slot: its seq + 1, 0 = free */
	uint64_t barrier[CINTR_SLOTS]; /* completed BARRIER requests still waiting (seqs) */
	unsigned nbarrier;

	uint32_t pending;	       /* completions not yet signalled */
	uint64_t pending_since_ns;     /* when the oldest of them completed */
	uint64_t pending_avail_ns;     /* sum of their "made available" times */
	uint64_t pending_min_avail_ns; /* the earliest of them */

	uint64_t waiting[CINTR_WAIT]; /* "made available" times of the unsignalled */

	/* statistics (kept across resets) */
	uint64_t fired[CINTR_NR]; /* interrupts by reason */
	uint64_t lat_count;	  /* requests whose interrupt was raised */
	uint64_t lat_sum_ns;	  /* total time available -> interrupt */
	uint64_t lat_max_ns;
	uint64_t recent[CINTR_RECENT]; /* the last latencies, a ring */
};

/*
 * cintr_percentile - the p-th percentile (0..100) of the last CINTR_RECENT
 * latencies (fewer if not that many yet), 0 if none.
 */
uint64_t cintr_percentile(const struct cintr *c, unsigned p);

/* cintr_init - defaults (threshold, timeout from the ABI), feature off, zero stats. */
void cintr_init(struct cintr *c);

/*
 * cintr_reset - forget requests and pending completions (device reset or
 * feature renegotiation); `calibrated` is the new mode. Keeps threshold,
 * timeout and statistics.
 */
void cintr_reset(struct cintr *c, bool calibrated);

/* cintr_config - set threshold and timeout, clamped to the ABI's ranges. */
void cintr_config(struct cintr *c, uint32_t threshold, uint32_t timeout_us);

/*
 * cintr_start - request in `slot` (< CINTR_SLOTS, free) was made available.
 * Returns -EBUSY if the slot is already in flight, else 0.
 */
int cintr_start(struct cintr *c, unsigned slot);

/*
 * cintr_complete - the request in `slot` completed at now_ns; flags are its
 * VESSEL_BLK_REQ_* bits (ignored unless calibrated); avail_ns is when it was
 * made available. Returns the reason to interrupt now, or CINTR_NONE. The
 * caller raises the interrupt and then calls cintr_fired().
 */
enum cintr_reason cintr_complete(struct cintr *c, unsigned slot, uint32_t flags, uint64_t avail_ns,
				 uint64_t now_ns);

/* cintr_deadline - when the timeout expires (CLOCK_MONOTONIC ns), 0 if nothing waits. */
uint64_t cintr_deadline(const struct cintr *c);

/* cintr_poll - CINTR_TIMEOUT if the deadline has passed at now_ns, else CINTR_NONE. */
enum cintr_reason cintr_poll(const struct cintr *c, uint64_t now_ns);

/*
 * cintr_fired - an interrupt for `why` was raised at now_ns: every pending
 * completion is signalled (latencies recorded), the count starts over.
 * CINTR_NONE: they are covered without one (the driver has them already).
 */
void cintr_fired(struct cintr *c, enum cintr_reason why, uint64_t now_ns);

/*
 * The machine's part of a device's saved state (migration): mode,
 * settings, the pending completions as ages relative to the moment of the
 * save (the two hosts' clocks differ), statistics. Requests in flight are
 * not in it: a device saves only when none is.
 */
struct cintr_saved {
	uint32_t calibrated, threshold, timeout_us, pending;
	uint64_t pending_age_ns;      /* now - the oldest pending completion */
	uint64_t pending_wait_sum_ns; /* sum over them of now - made available */
	uint64_t pending_max_wait_ns; /* now - the earliest made available */
	uint64_t next_seq;
	uint64_t fired[CINTR_NR];
	uint64_t lat_count, lat_sum_ns, lat_max_ns;
};

/* The longest a saved completion may have waited (ages beyond are corrupt). */
#define CINTR_SAVED_AGE_MAX (3600ull * 1000000000ull)

/* cintr_save - the state at now_ns into *s (nothing may be in flight). */
void cintr_save(const struct cintr *c, uint64_t now_ns, struct cintr_saved *s);

/*
 * cintr_restore - check *s and make it the state at now_ns. Refused with
 * the reason in why (-EINVAL, *c untouched): a mode other than 0/1,
 * settings outside the ABI's ranges, more than CINTR_SAVED_PENDING_MAX
 * pending, ages that do not fit together (the oldest completion older
 * than the earliest request, a sum beyond pending times the longest, any
 * beyond CINTR_SAVED_AGE_MAX, ages without pending completions), a
 * sequence number near wrapping. Accepted, a pending completion is
 * signalled within timeout_us of now_ns at the latest (ages longer than
 * this host's clock are cut to it).
 */
#define CINTR_SAVED_PENDING_MAX (VQ_NUM_MAX * 64u)

/* cintr_saved_check - the checks of cintr_restore alone: 0, or -EINVAL with the reason in why. */
int cintr_saved_check(const struct cintr_saved *s, char *why, size_t whylen);

int cintr_restore(struct cintr *c, const struct cintr_saved *s, uint64_t now_ns, char *why,
		  size_t whylen);

/* cintr_reason_name - "every", "urgent", ... */
const char *cintr_reason_name(enum cintr_reason r);

#endif
