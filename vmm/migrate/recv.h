/* SPDX-License-Identifier: MIT */
/*
 * The receiving side's stream state machine: preamble, HELLO first and once,
 * page records well formed, STATE records, optional ABORT, END last
 * with matching counts. Everything the VMM's callbacks see has been checked;
 * the callbacks add the VM-specific checks (does HELLO match this VM, is the
 * address RAM, does the state blob restore). Shared by the real destination
 * and the stream fuzzer, so the fuzzer exercises exactly this code.
 *
 * A post-copy stream has a second part: PENDING records (the pages that
 * come later), the STATE records and POSTCOPY, after which the destination
 * runs the VM while the pending pages arrive (page records only), up to END.
 * mig_recv_run() returns at POSTCOPY so that the caller can start the VM,
 * and is called again for the rest.
 */
#ifndef VESSEL_MIGRATE_RECV_H
#define VESSEL_MIGRATE_RECV_H

#include <stdbool.h>

#include "stream.h"

struct mig_recv_ops {
	/* HELLO: 0 if the destination VM has this shape, else -errno + err. */
	int (*hello)(void *ctx, const struct mig_hello *h, char *err, size_t errlen);
	/*
	 * One page: gpa is page aligned and below MIG_MAX_MEM; whether it is RAM
	 * is the callback's check (guest RAM may have holes, so addresses can
	 * exceed the RAM size). data is non-NULL for DATA only.
	 */
	int (*page)(void *ctx, uint64_t gpa, uint32_t kind, uint32_t origin, const uint8_t *data,
		    char *err, size_t errlen);
	/*
	 * Optional: npages (1..MIG_RUN_MAX) contiguous DATA pages from gpa (a
	 * PAGES record; the run ends at or below MIG_MAX_MEM). Without it,
	 * page() is called for each.
	 */
	int (*pages)(void *ctx, uint64_t gpa, uint32_t npages, const uint8_t *data, char *err,
		     size_t errlen);
	/*
	 * Optional: npages (>= 1) ZERO or FREE pages from gpa (a ZERO_RANGE or
	 * FREE_RANGE record; the run ends at or below MIG_MAX_MEM). Without
	 * it, page() is called for each.
	 */
	int (*range)(void *ctx, uint64_t gpa, uint64_t npages, uint32_t kind, char *err,
		     size_t errlen);
	/* One state record (rec->type == MIG_REC_STATE). */
	int (*state)(void *ctx, const struct mig_record *rec, char *err, size_t errlen);
	/* Optional: end of a pre-copy pass, for progress output. */
	void (*pass)(void *ctx, const struct mig_record *rec);
	/*
	 * Post-copy: a PENDING record (rec->u.pending, checked: aligned, below
	 * MIG_MAX_MEM, no bits past the end). Without it a post-copy stream is
	 * refused (at its first PENDING, CHANNEL or POSTCOPY record).
	 */
	int (*pending)(void *ctx, const struct mig_record *rec, char *err, size_t errlen);
	/*
	 * Optional: a CHANNEL record (a second connection will come); ignored
	 * without. 0, or -errno with err set to refuse the stream.
	 */
	int (*channel)(void *ctx, const struct mig_record *rec, char *err, size_t errlen);
};

struct mig_recv_stats {
	uint64_t pages_data, pages_zero, pages_poisoned, pages_free;
	uint64_t states, passes, bytes;
};

/* A receiver in progress (fields private to recv.c but for st). */
struct mig_recv {
	const struct mig_recv_ops *ops;
	void *ctx;
	struct mig_recv_stats st;
	uint64_t page_records;
	bool started, have_hello, postcopy;
};

#define MIG_RECV_POSTCOPY 1 /* mig_recv_run(): POSTCOPY arrived, call again for the rest */

/* mig_recv_init - a receiver that reports to ops/ctx. */
void mig_recv_init(struct mig_recv *rv, const struct mig_recv_ops *ops, void *ctx);

/*
 * mig_recv_run - read from r (the preamble first, on the first call): 0
 * once a valid END arrived (nothing after END is read), MIG_RECV_POSTCOPY
 * once a valid POSTCOPY arrived (counts checked; call again with the same
 * r for the pages that follow), or -errno with a one-line reason in err:
 * any reader error, an ordering error (-EPROTO), -ECANCELED for an ABORT
 * from the source, or whatever a callback returned.
 */
int mig_recv_run(struct mig_recv *rv, struct mig_reader *r, char *err, size_t errlen);

/*
 * Read a whole stream from r: preamble through END (through POSTCOPY and
 * on to END for a post-copy stream). 0, or -errno as mig_recv_run().
 * stats may be NULL.
 */
int mig_recv_stream(struct mig_reader *r, const struct mig_recv_ops *ops, void *ctx,
		    struct mig_recv_stats *stats, char *err, size_t errlen);

#endif /* VESSEL_MIGRATE_RECV_H */
