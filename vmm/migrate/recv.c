// SPDX-License-Identifier: MIT
/* The receiving side's stream state machine (see recv.h). */
#include "recv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int mig_recv_stream(struct mig_reader *r, const struct mig_recv_ops *ops, void *ctx,
		    struct mig_recv_stats *stats, char *err, size_t errlen)
{
	struct mig_recv_stats local;
	struct mig_record rec;
	int have_hello = 0, rc;
	uint64_t pages = 0;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	rc = mig_read_preamble(r);
	if (rc)
		return fail(err, errlen, rc, "%s", r->err);
	for (;;) {
		rc = mig_read_record(r, &rec);
		stats->bytes = r->bytes;
		if (rc)
			return fail(err, errlen, rc, "%s", r->err);
		if (!have_hello && rec.type != MIG_REC_HELLO && rec.type != MIG_REC_ABORT)
			return fail(
				err, errlen, -EPROTO,
				"%s record #%llu before HELLO: the stream must start with HELLO",
				mig_rec_type_name(rec.type), (unsigned long long)rec.seq);
		switch (rec.type) {
		case MIG_REC_HELLO:
			if (have_hello)
				return fail(err, errlen, -EPROTO, "second HELLO record (#%llu)",
					    (unsigned long long)rec.seq);
			have_hello = 1;
			rc = ops->hello ? ops->hello(ctx, &rec.u.hello, err, errlen) : 0;
			if (rc)
				return rc;
			break;
		case MIG_REC_PAGE:
			rc = ops->page(ctx, rec.u.page.gpa, rec.u.page.kind, rec.u.page.origin,
				       rec.u.page.data, err, errlen);
			if (rc)
				return rc;
			pages++;
			if (rec.u.page.kind == MIG_PAGE_DATA)
				stats->pages_data++;
			else if (rec.u.page.kind == MIG_PAGE_ZERO)
				stats->pages_zero++;
			else if (rec.u.page.kind == MIG_PAGE_FREE)
				stats->pages_free++;
			else
				stats->pages_poisoned++;
			break;
		case MIG_REC_ZERO_RANGE:
		case MIG_REC_FREE_RANGE: {
			uint32_t kind = rec.type == MIG_REC_ZERO_RANGE ? MIG_PAGE_ZERO : MIG_PAGE_FREE;

			for (uint64_t i = 0; i < rec.u.zrange.npages; i++) {
				rc = ops->page(ctx, rec.u.zrange.gpa + i * MIG_PAGE_SIZE, kind,
					       MIG_POISON_NONE, NULL, err, errlen);
				if (rc)
					return rc;
			}
			pages++; /* one page record */
			if (kind == MIG_PAGE_ZERO)
				stats->pages_zero += rec.u.zrange.npages;
			else
				stats->pages_free += rec.u.zrange.npages;
			break;
		}
		case MIG_REC_PASS:
			stats->passes++;
			if (ops->pass)
				ops->pass(ctx, &rec);
			break;
		case MIG_REC_STATE:
			rc = ops->state ? ops->state(ctx, &rec, err, errlen) : 0;
			if (rc)
				return rc;
			stats->states++;
			break;
		case MIG_REC_END:
			if (rec.u.end.page_records != pages ||
			    rec.u.end.state_records != stats->states)
				return fail(err, errlen, -EPROTO,
					    "END: source sent %llu pages and %llu state records, "
					    "%llu and %llu arrived",
					    (unsigned long long)rec.u.end.page_records,
					    (unsigned long long)rec.u.end.state_records,
					    (unsigned long long)pages,
					    (unsigned long long)stats->states);
			return 0;
		case MIG_REC_ABORT:
			return fail(err, errlen, -ECANCELED, "the source aborted the migration: %s",
				    rec.u.msg.text[0] ? rec.u.msg.text : "(no reason given)");
		case MIG_REC_ACK:
			return fail(err, errlen, -EPROTO,
				    "unexpected ACK record #%llu in a source stream",
				    (unsigned long long)rec.seq);
		}
	}
}
