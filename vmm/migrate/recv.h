/* SPDX-License-Identifier: MIT */
/*
 * The receiving side's stream state machine: preamble, HELLO first and once,
 * page records well formed, STATE records, optional ABORT, END last
 * with matching counts. Everything the VMM's callbacks see has been checked;
 * the callbacks add the VM-specific checks (does HELLO match this VM, is the
 * address RAM, does the state blob restore). Shared by the real destination
 * and the stream fuzzer, so the fuzzer exercises exactly this code.
 */
#ifndef VESSEL_MIGRATE_RECV_H
#define VESSEL_MIGRATE_RECV_H

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
	/* One state record (rec->type == MIG_REC_STATE). */
	int (*state)(void *ctx, const struct mig_record *rec, char *err, size_t errlen);
	/* Optional: end of a pre-copy pass, for progress output. */
	void (*pass)(void *ctx, const struct mig_record *rec);
};

struct mig_recv_stats {
	uint64_t pages_data, pages_zero, pages_poisoned, pages_free;
	uint64_t states, passes, bytes;
};

/*
 * Read a whole stream from r: preamble through END. Returns 0 once a valid END
 * arrived (nothing after END is read), or -errno with a one-line reason in err:
 * any reader error, an ordering error (-EPROTO), -ECANCELED for an ABORT from
 * the source, or whatever a callback returned. stats may be NULL.
 */
int mig_recv_stream(struct mig_reader *r, const struct mig_recv_ops *ops, void *ctx,
		    struct mig_recv_stats *stats, char *err, size_t errlen);

#endif /* VESSEL_MIGRATE_RECV_H */
