// SPDX-License-Identifier: MIT
/*
 * The migration receiver (destination): `vessel run --incoming tcp:HOST:PORT`
 * (or tls:HOST:PORT). The listener admits the first connection that proves
 * to be a source (admit.h); all of it happens within the incoming deadline.
 * Pages go straight into the not-yet-running VM's memory; POISONED pages are
 * poisoned again for real (UFFDIO_POISON), never filled with zeros; state
 * records are applied as they come (the sender orders them). Only after a
 * valid END and a complete set of states does the destination ACK and run.
 */
#include "migrate/live/internal.h"

#include "core/memerr.h"
#include "migrate/admit.h"
#include "migrate/net.h"
#include "migrate/recv.h"
#include "migrate/stream.h"
#include "migrate/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HANDSHAKE_TIMEOUT_MS 10000 /* a connection proves itself within this */
#define STREAM_TIMEOUT_MS    60000 /* a started stream must keep flowing */

struct rx {
	struct live *l;
	struct vmstate_rx vs;
	uint64_t *written; /* pages holding data (a later ZERO must clear them) */
	uint64_t written_npages;
	uint64_t repoisoned;
	unsigned last_pass;
	struct timespec t_state; /* first STATE record: the source is paused */
};

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static int rx_hello(void *ctx, const struct mig_hello *h, char *err, size_t errlen)
{
	struct rx *rx = ctx;
	struct vm *vm = rx->l->vm;

	if (h->mem_size != vm->mem.size || h->nr_vcpus != vm->nr_vcpus) {
		snprintf(err, errlen,
			 "the source VM has %llu MiB and %u vCPUs, this one %llu MiB and %u vCPUs: "
			 "start the destination with the same --mem and --cpus",
			 (unsigned long long)(h->mem_size >> 20), h->nr_vcpus,
			 (unsigned long long)(vm->mem.size >> 20), vm->nr_vcpus);
		return -EINVAL;
	}
	return 0;
}

static int rx_page(void *ctx, uint64_t gpa, uint32_t kind, uint32_t origin, const uint8_t *data,
		   char *err, size_t errlen)
{
	struct rx *rx = ctx;
	struct live *l = rx->l;
	uint8_t *host = gmem_ptr(&l->vm->mem, gpa, MIG_PAGE_SIZE);
	uint64_t pfn = gpa / MIG_PAGE_SIZE;
	int rc;

	if (!host) {
		snprintf(err, errlen, "PAGE record for %#llx: not guest RAM in this VM",
			 (unsigned long long)gpa);
		return -ERANGE;
	}
	if (memerr_is_poisoned(l->vm, gpa)) {
		if (kind == MIG_PAGE_POISONED)
			return 0;
		snprintf(err, errlen,
			 "%s record for page %#llx, which the source reported "
			 "poisoned before",
			 mig_page_kind_name(kind), (unsigned long long)gpa);
		return -EPROTO;
	}
	switch (kind) {
	case MIG_PAGE_DATA:
		memcpy(host, data, MIG_PAGE_SIZE);
		if (pfn < rx->written_npages)
			rx->written[pfn / 64] |= 1ull << (pfn % 64);
		return 0;
	case MIG_PAGE_ZERO:
		/* fresh memory is zero: only a page we filled must be cleared */
		if (pfn < rx->written_npages && (rx->written[pfn / 64] & (1ull << (pfn % 64)))) {
			memset(host, 0, MIG_PAGE_SIZE);
			rx->written[pfn / 64] &= ~(1ull << (pfn % 64));
		}
		return 0;
	case MIG_PAGE_FREE:
		/* free in the guest: leave it unpopulated; drop what we wrote there */
		if (pfn < rx->written_npages && (rx->written[pfn / 64] & (1ull << (pfn % 64)))) {
			const struct gmem_region *r = gmem_region_of(&l->vm->mem, gpa);

			if (fallocate(l->vm->mem.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)(r->offset + (gpa - r->gpa)), MIG_PAGE_SIZE) < 0)
				memset(host, 0, MIG_PAGE_SIZE);
			rx->written[pfn / 64] &= ~(1ull << (pfn % 64));
		}
		return 0;
	case MIG_PAGE_POISONED:
		rc = memerr_poison(l->vm, gpa, false, err, errlen);
		if (rc < 0)
			return rc;
		rx->repoisoned++;
		return 0;
	}
	snprintf(err, errlen, "unknown page kind %u", kind);
	return -EPROTO;
}

static int rx_state(void *ctx, const struct mig_record *rec, char *err, size_t errlen)
{
	struct rx *rx = ctx;

	if (!rx->t_state.tv_sec)
		clock_gettime(CLOCK_MONOTONIC, &rx->t_state);
	return vmstate_restore(rx->l, &rx->vs, rec, err, errlen);
}

static void rx_pass(void *ctx, const struct mig_record *rec)
{
	struct rx *rx = ctx;

	rx->last_pass = rec->u.pass.pass;
}

static const struct mig_recv_ops rx_ops = {
	.hello = rx_hello, .page = rx_page, .state = rx_state, .pass = rx_pass
};

static void send_ack(struct mig_conn *c, int code, const char *msg)
{
	struct mig_writer w;

	if (mig_writer_init_conn(&w, c, 5000))
		return;
	if (mig_put_msg(&w, MIG_REC_ACK, code, msg) == 0)
		mig_flush(&w);
	mig_writer_free(&w);
}

static void log_turned_away(void *ctx, const char *line)
{
	fprintf(stderr, "vessel: incoming migration: %s\n", line);
}

/* Admit a source on uri within the deadline: 0 with *c and its preamble. */
static int admit_source(struct live *l, const struct net_addr *a, const char *uri, double deadline,
			struct mig_conn *c, uint8_t *pre, char *err, size_t errlen)
{
	struct mig_admit_opts ao = { .tls = a->tls ? l->tls_server : NULL,
				     .handshake_ms = HANDSHAKE_TIMEOUT_MS,
				     .deadline = deadline,
				     .log = log_turned_away };
	const char *how;
	int lfd, rc;

	if (a->tls && !ao.tls) {
		snprintf(err, errlen, "%s needs --tls-creds DIR", uri);
		return -EINVAL;
	}
	lfd = net_listen(a, err, errlen);
	if (lfd < 0)
		return lfd;
	if (!ao.tls)
		how = "";
	else if (!strcmp(mig_tls_creds_kind(ao.tls), "psk"))
		how = " (TLS, pre-shared key)";
	else
		how = " (TLS, certificates)";
	fprintf(stderr, "vessel: waiting for an incoming migration on %s%s\n", uri, how);
	rc = mig_admit(lfd, &ao, c, pre, err, errlen);
	close(lfd);
	return rc;
}

int live_incoming(struct vm *vm, const char *uri, char *err, size_t errlen)
{
	struct live *l = live_of(vm);
	struct mig_recv_stats st;
	struct mig_reader r;
	struct net_addr a;
	struct mig_conn c;
	struct timespec t0, t1;
	struct rx rx = { .l = l };
	const struct gmem *m = &vm->mem;
	const struct gmem_region *top = &m->regions[m->nr_regions - 1];
	unsigned limit;
	double deadline;
	uint8_t pre[MIG_PREAMBLE_LEN];
	char via[96], desc[64];
	int rc;

	if (!l) {
		snprintf(err, errlen, "live migration is not attached to this VM");
		return -EINVAL;
	}
	limit = l->opts.incoming_timeout_s;
	deadline = limit ? mig_conn_now_ms() + limit * 1e3 : 0;

	rc = net_parse_uri(uri, &a, err, errlen);
	if (rc)
		return rc;
	rx.written_npages = (top->gpa + top->size) / MIG_PAGE_SIZE;
	rx.written = calloc((rx.written_npages + 63) / 64, sizeof(uint64_t));
	if (!rx.written) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = admit_source(l, &a, uri, deadline, &c, pre, err, errlen);
	if (rc) {
		if (rc == -ETIMEDOUT)
			snprintf(
				err, errlen,
				"no migration source arrived within the --incoming-timeout of %u s",
				limit);
		free(rx.written);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = mig_reader_init_conn(&r, &c, STREAM_TIMEOUT_MS);
	if (!rc)
		rc = mig_reader_push(&r, pre, sizeof(pre));
	if (!rc)
		rc = mig_recv_stream(&r, &rx_ops, &rx, &st, err, errlen);
	if (!rc)
		rc = vmstate_rx_complete(l, &rx.vs, err, errlen);
	if (!rc) /* test mode only: what the guest will find here */
		live_write_checksums(vm, NULL, 0, "destination, before it runs");
	mig_reader_free(&r);
	mig_tls_describe(&c, desc, sizeof(desc));
	snprintf(via, sizeof(via), "%s%s%s%s", c.ops->name, desc[0] ? " (" : "", desc,
		 desc[0] ? ")" : "");
	c.deadline = 0; /* the ACK (or the reason) still goes out */
	if (rc == -ETIMEDOUT && deadline && mig_conn_now_ms() >= deadline)
		snprintf(err, errlen,
			 "the migration did not complete within the --incoming-timeout of %u s "
			 "(%llu MiB arrived)",
			 limit, (unsigned long long)(r.bytes >> 20));
	if (rc) {
		send_ack(&c, rc, err);
		mig_conn_close(&c);
		free(rx.written);
		return rc;
	}
	send_ack(&c, 0, "restored");
	mig_conn_close(&c);
	free(rx.written);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr,
		"vessel: incoming migration complete: %llu MiB in %.0f ms over %s, %u passes, "
		"pages: %llu data, %llu zero, %llu free, %llu poisoned (re-poisoned here); VM "
		"state applied and acknowledged %.1f ms after it began to arrive\n",
		(unsigned long long)(st.bytes >> 20), ms_between(&t0, &t1), via, rx.last_pass + 1,
		(unsigned long long)st.pages_data, (unsigned long long)st.pages_zero,
		(unsigned long long)st.pages_free, (unsigned long long)st.pages_poisoned,
		ms_between(&rx.t_state, &t1));
	return 0;
}
