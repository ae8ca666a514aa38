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

void mig_recv_init(struct mig_recv *rv, const struct mig_recv_ops *ops, void *ctx)
{
	memset(rv, 0, sizeof(*rv));
	rv->ops = ops;
	rv->ctx = ctx;
}

/* PAGE, PAGES, ZERO_RANGE, FREE_RANGE: one page record each. */
static int page_record(struct mig_recv *rv, const struct mig_record *rec, char *err, size_t errlen)
{
	const struct mig_recv_ops *ops = rv->ops;
	struct mig_recv_stats *st = &rv->st;
	uint32_t kind;
	int rc = 0;

	switch (rec->type) {
	case MIG_REC_PAGE:
		rc = ops->page(rv->ctx, rec->u.page.gpa, rec->u.page.kind, rec->u.page.origin,
			       rec->u.page.data, err, errlen);
		if (rec->u.page.kind == MIG_PAGE_DATA)
			st->pages_data++;
		else if (rec->u.page.kind == MIG_PAGE_ZERO)
			st->pages_zero++;
		else if (rec->u.page.kind == MIG_PAGE_FREE)
			st->pages_free++;
		else
			st->pages_poisoned++;
		break;
	case MIG_REC_PAGES:
		if (ops->pages)
			rc = ops->pages(rv->ctx, rec->u.pages.gpa, rec->u.pages.npages,
					rec->u.pages.data, err, errlen);
		for (uint32_t i = 0; !ops->pages && !rc && i < rec->u.pages.npages; i++)
			rc = ops->page(rv->ctx, rec->u.pages.gpa + (uint64_t)i * MIG_PAGE_SIZE,
				       MIG_PAGE_DATA, MIG_POISON_NONE,
				       rec->u.pages.data + (size_t)i * MIG_PAGE_SIZE, err, errlen);
		st->pages_data += rec->u.pages.npages;
		break;
	default: /* ZERO_RANGE, FREE_RANGE */
		kind = rec->type == MIG_REC_ZERO_RANGE ? MIG_PAGE_ZERO : MIG_PAGE_FREE;
		if (ops->range)
			rc = ops->range(rv->ctx, rec->u.zrange.gpa, rec->u.zrange.npages, kind, err,
					errlen);
		for (uint64_t i = 0; !ops->range && !rc && i < rec->u.zrange.npages; i++)
			rc = ops->page(rv->ctx, rec->u.zrange.gpa + i * MIG_PAGE_SIZE, kind,
				       MIG_POISON_NONE, NULL, err, errlen);
		if (kind == MIG_PAGE_ZERO)
			st->pages_zero += rec->u.zrange.npages;
		else
			st->pages_free += rec->u.zrange.npages;
		break;
	}
	rv->page_records++;
	return rc;
}

/* END or POSTCOPY: do the counts match what arrived? */
static int counts_match(struct mig_recv *rv, const struct mig_record *rec, char *err, size_t errlen)
{
	if (rec->u.end.page_records == rv->page_records &&
	    rec->u.end.state_records == rv->st.states)
		return 0;
	return fail(err, errlen, -EPROTO,
		    "%s: source sent %llu pages and %llu state records, %llu and %llu arrived",
		    mig_rec_type_name(rec->type), (unsigned long long)rec->u.end.page_records,
		    (unsigned long long)rec->u.end.state_records,
		    (unsigned long long)rv->page_records, (unsigned long long)rv->st.states);
}

/* A post-copy record for a destination without ops->pending: -EPROTO. */
static int no_postcopy(const struct mig_record *rec, char *err, size_t errlen)
{
	return fail(err, errlen, -EPROTO,
		    "%s record #%llu: this destination does not take post-copy",
		    mig_rec_type_name(rec->type), (unsigned long long)rec->seq);
}

/* Records that only the first part of a stream (before POSTCOPY) may carry. */
static bool before_postcopy_only(uint32_t type)
{
	return type == MIG_REC_HELLO || type == MIG_REC_PASS || type == MIG_REC_STATE ||
	       type == MIG_REC_PENDING || type == MIG_REC_POSTCOPY || type == MIG_REC_CHANNEL;
}

int mig_recv_run(struct mig_recv *rv, struct mig_reader *r, char *err, size_t errlen)
{
	const struct mig_recv_ops *ops = rv->ops;
	struct mig_record rec;
	int rc;

	if (!rv->started) {
		rc = mig_read_preamble(r);
		if (rc)
			return fail(err, errlen, rc, "%s", r->err);
		rv->started = true;
	}
	for (;;) {
		rc = mig_read_record(r, &rec);
		rv->st.bytes = r->bytes;
		if (rc)
			return fail(err, errlen, rc, "%s", r->err);
		if (!rv->have_hello && rec.type != MIG_REC_HELLO && rec.type != MIG_REC_ABORT)
			return fail(
				err, errlen, -EPROTO,
				"%s record #%llu before HELLO: the stream must start with HELLO",
				mig_rec_type_name(rec.type), (unsigned long long)rec.seq);
		if (rv->postcopy && before_postcopy_only(rec.type))
			return fail(err, errlen, -EPROTO,
				    "%s record #%llu after POSTCOPY: only pages may follow it",
				    mig_rec_type_name(rec.type), (unsigned long long)rec.seq);
		switch (rec.type) {
		case MIG_REC_HELLO:
			if (rv->have_hello)
				return fail(err, errlen, -EPROTO, "second HELLO record (#%llu)",
					    (unsigned long long)rec.seq);
			rv->have_hello = true;
			rc = ops->hello ? ops->hello(rv->ctx, &rec.u.hello, err, errlen) : 0;
			if (rc)
				return rc;
			break;
		case MIG_REC_PAGE:
		case MIG_REC_PAGES:
		case MIG_REC_ZERO_RANGE:
		case MIG_REC_FREE_RANGE:
			rc = page_record(rv, &rec, err, errlen);
			if (rc)
				return rc;
			break;
		case MIG_REC_PASS:
			rv->st.passes++;
			if (ops->pass)
				ops->pass(rv->ctx, &rec);
			break;
		case MIG_REC_STATE:
			rc = ops->state ? ops->state(rv->ctx, &rec, err, errlen) : 0;
			if (rc)
				return rc;
			rv->st.states++;
			break;
		case MIG_REC_PENDING:
			rc = ops->pending ? ops->pending(rv->ctx, &rec, err, errlen) :
					    no_postcopy(&rec, err, errlen);
			if (rc)
				return rc;
			break;
		case MIG_REC_CHANNEL:
			rc = !ops->pending ? no_postcopy(&rec, err, errlen) :
			     ops->channel  ? ops->channel(rv->ctx, &rec, err, errlen) :
					     0;
			if (rc)
				return rc;
			break;
		case MIG_REC_POSTCOPY:
			rc = ops->pending ? counts_match(rv, &rec, err, errlen) :
					    no_postcopy(&rec, err, errlen);
			if (rc)
				return rc;
			rv->postcopy = true;
			return MIG_RECV_POSTCOPY;
		case MIG_REC_END:
			return counts_match(rv, &rec, err, errlen);
		case MIG_REC_ABORT:
			return fail(err, errlen, -ECANCELED, "the source aborted the migration: %s",
				    rec.u.msg.text[0] ? rec.u.msg.text : "(no reason given)");
		default: /* ACK, SYNC, REQUEST: the destination's own */
			return fail(err, errlen, -EPROTO,
				    "unexpected %s record #%llu in a source stream",
				    mig_rec_type_name(rec.type), (unsigned long long)rec.seq);
		}
	}
}

int mig_recv_stream(struct mig_reader *r, const struct mig_recv_ops *ops, void *ctx,
		    struct mig_recv_stats *stats, char *err, size_t errlen)
{
	struct mig_recv rv;
	int rc;

	mig_recv_init(&rv, ops, ctx);
	do
		rc = mig_recv_run(&rv, r, err, errlen);
	while (rc == MIG_RECV_POSTCOPY);
	if (stats)
		*stats = rv.st;
	return rc;
}
