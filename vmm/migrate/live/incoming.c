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
#include "migrate/live/incoming.h"

#include "core/clock.h"
#include "core/memerr.h"
#include "core/poison.h"
#include "migrate/admit.h"
#include "migrate/net.h"
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
#define REPLY_TIMEOUT_MS     5000  /* our records to the source */

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

/*
 * Put npages of DATA from gpa into guest memory: written into the memfd
 * (pwrite) rather than through our mapping, which would take a page fault
 * and clear each fresh page before the copy (measured: about half the cost);
 * copied through the mapping when the memory was preallocated (--mem-prealloc:
 * no fault, and no system call). The range must be RAM in one region
 * (checked by the caller).
 */
static int install_data(struct rx *rx, uint64_t gpa, uint32_t npages, const uint8_t *data,
			char *err, size_t errlen)
{
	struct vm *vm = rx->l->vm;
	const struct gmem_region *r = gmem_region_of(&vm->mem, gpa);
	size_t len = (size_t)npages * MIG_PAGE_SIZE, done = 0;
	off_t off = (off_t)(r->offset + (gpa - r->gpa));
	uint64_t pfn = gpa / MIG_PAGE_SIZE;

	for (uint32_t i = 0; i < npages; i++) {
		if (memerr_is_poisoned(vm, gpa + (uint64_t)i * MIG_PAGE_SIZE)) {
			snprintf(err, errlen,
				 "DATA for page %#llx, which the source reported poisoned before",
				 (unsigned long long)(gpa + (uint64_t)i * MIG_PAGE_SIZE));
			return -EPROTO;
		}
	}
	if (vm->mem.populated) {
		memcpy(gmem_ptr(&vm->mem, gpa, len), data, len);
	} else {
		while (done < len) {
			ssize_t n = pwrite(vm->mem.fd, data + done, len - done, off + (off_t)done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				snprintf(err, errlen, "writing guest page %#llx: %s",
					 (unsigned long long)(gpa + done),
					 n ? strerror(errno) : "no space");
				return n ? -errno : -ENOSPC;
			}
			done += (size_t)n;
		}
	}
	for (uint64_t f = pfn; f < pfn + npages && f < rx->npages; f++)
		rx->written[f / 64] |= 1ull << (f % 64);
	return 0;
}

static int rx_pages(void *ctx, uint64_t gpa, uint32_t npages, const uint8_t *data, char *err,
		    size_t errlen)
{
	struct rx *rx = ctx;

	if (pcd_running(rx))
		return pcd_data(rx, gpa, npages, data, err, errlen);
	if (!gmem_ptr(&rx->l->vm->mem, gpa, (uint64_t)npages * MIG_PAGE_SIZE)) {
		snprintf(err, errlen,
			 "PAGES record for %u pages from %#llx: not guest RAM in this VM", npages,
			 (unsigned long long)gpa);
		return -ERANGE;
	}
	return install_data(rx, gpa, npages, data, err, errlen);
}

static int rx_page(void *ctx, uint64_t gpa, uint32_t kind, uint32_t origin, const uint8_t *data,
		   char *err, size_t errlen)
{
	struct rx *rx = ctx;
	struct live *l = rx->l;
	uint8_t *host = gmem_ptr(&l->vm->mem, gpa, MIG_PAGE_SIZE);
	uint64_t pfn = gpa / MIG_PAGE_SIZE;
	int rc;

	if (pcd_running(rx))
		return kind == MIG_PAGE_DATA ? pcd_data(rx, gpa, 1, data, err, errlen) :
					       pcd_page(rx, gpa, kind, err, errlen);
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
		return install_data(rx, gpa, 1, data, err, errlen);
	case MIG_PAGE_ZERO:
		/* fresh memory is zero: only a page we filled must be cleared */
		if (pfn < rx->npages && (rx->written[pfn / 64] & (1ull << (pfn % 64)))) {
			memset(host, 0, MIG_PAGE_SIZE);
			rx->written[pfn / 64] &= ~(1ull << (pfn % 64));
		}
		return 0;
	case MIG_PAGE_FREE:
		/* free in the guest: leave it unpopulated; drop what we wrote there */
		if (pfn < rx->npages && (rx->written[pfn / 64] & (1ull << (pfn % 64)))) {
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

	if (!rx->t_state)
		rx->t_state = clock_now_ms();
	return vmstate_restore(rx->l, &rx->vs, rec, err, errlen);
}

/*
 * A run of ZERO or FREE pages: only the pages we wrote before need anything
 * (fresh memory is zero), so look at the bitmap a word at a time. A run that
 * is not RAM in one piece, or holds a page reported poisoned, goes page by
 * page (for the exact error).
 */
static int rx_range(void *ctx, uint64_t gpa, uint64_t npages, uint32_t kind, char *err,
		    size_t errlen)
{
	struct rx *rx = ctx;
	const struct poison_set *ps = &rx->l->vm->memerr->poison;
	uint64_t f0 = gpa / MIG_PAGE_SIZE, end = f0 + npages, p;
	int rc = 0;

	p = poison_set_next(ps, gpa);
	if (pcd_running(rx) || !gmem_ptr(&rx->l->vm->mem, gpa, npages * MIG_PAGE_SIZE) ||
	    (p != POISON_NONE && p < end * MIG_PAGE_SIZE)) {
		for (uint64_t i = 0; !rc && i < npages; i++)
			rc = rx_page(rx, gpa + i * MIG_PAGE_SIZE, kind, MIG_POISON_NONE, NULL, err,
				     errlen);
		return rc;
	}
	for (uint64_t f = f0; f < end && !rc;) {
		uint64_t bits = rx->written[f / 64] >> (f % 64);

		if (!bits) {
			f = (f / 64 + 1) * 64;
			continue;
		}
		f += (uint64_t)__builtin_ctzll(bits);
		if (f < end)
			rc = rx_page(rx, f * MIG_PAGE_SIZE, kind, MIG_POISON_NONE, NULL, err,
				     errlen);
		f++;
	}
	return rc;
}

/* End of a pre-copy pass: tell the source it is in (it waits before the pause). */
static void rx_pass(void *ctx, const struct mig_record *rec)
{
	struct rx *rx = ctx;

	rx->last_pass = rec->u.pass.pass;
	rx_send_sync(rx, rec->u.pass.pass); /* a broken connection shows on the next read */
}

/* post-copy will have a second connection: note its token */
static int rx_channel(void *ctx, const struct mig_record *rec, char *err, size_t errlen)
{
	struct rx *rx = ctx;

	if (rx->has_token) { /* the second connection's thread reads the token */
		snprintf(err, errlen, "CHANNEL record #%llu: a second one",
			 (unsigned long long)rec->seq);
		return -EPROTO;
	}
	memcpy(rx->token, rec->u.channel.token, MIG_TOKEN_LEN);
	rx->has_token = true;
	rx->urgent = urgent_dst_start(rx); /* admitted while the rest of the stream comes */
	return 0;
}

static int rx_pending(void *ctx, const struct mig_record *rec, char *err, size_t errlen)
{
	return pcd_pending(ctx, rec, err, errlen);
}

static const struct mig_recv_ops rx_ops = { .hello = rx_hello,
					    .page = rx_page,
					    .pages = rx_pages,
					    .range = rx_range,
					    .state = rx_state,
					    .pass = rx_pass,
					    .pending = rx_pending,
					    .channel = rx_channel };

/* vessel run --no-postcopy: the same without post-copy (recv.c refuses it) */
static const struct mig_recv_ops rx_ops_no_postcopy = { .hello = rx_hello,
							.page = rx_page,
							.pages = rx_pages,
							.range = rx_range,
							.state = rx_state,
							.pass = rx_pass };

/* One record to the source, written out at once (callers on any thread). */
static int rx_send(struct rx *rx, int (*put)(struct rx *, const void *), const void *arg)
{
	int rc;

	pthread_mutex_lock(&rx->wlock);
	rc = put(rx, arg);
	if (!rc)
		rc = mig_flush(&rx->w);
	pthread_mutex_unlock(&rx->wlock);
	return rc;
}

static int put_sync(struct rx *rx, const void *arg)
{
	return mig_put_sync(&rx->w, *(const uint32_t *)arg, rx->r.bytes);
}

int rx_send_sync(struct rx *rx, uint32_t pass)
{
	return rx_send(rx, put_sync, &pass);
}

struct req_arg {
	uint64_t gpa;
	uint32_t npages;
};

static int put_request(struct rx *rx, const void *arg)
{
	const struct req_arg *q = arg;

	return mig_put_request(&rx->w, q->gpa, q->npages);
}

int rx_send_request(struct rx *rx, uint64_t gpa, uint32_t npages)
{
	struct req_arg q = { gpa, npages };

	return rx_send(rx, put_request, &q);
}

struct ack_arg {
	int code;
	const char *msg;
};

static int put_ack(struct rx *rx, const void *arg)
{
	const struct ack_arg *a = arg;

	return mig_put_msg(&rx->w, MIG_REC_ACK, a->code, a->msg);
}

int rx_send_ack(struct rx *rx, int code, const char *msg)
{
	struct ack_arg a = { code, msg };

	return rx_send(rx, put_ack, &a);
}

static struct rx *rx_new(struct live *l, char *err, size_t errlen)
{
	const struct gmem *m = &l->vm->mem;
	const struct gmem_region *top = &m->regions[m->nr_regions - 1];
	struct rx *rx = calloc(1, sizeof(*rx));

	if (rx) {
		rx->l = l;
		rx->c.fd = -1;
		rx->lfd = -1;
		rx->npages = (top->gpa + top->size) / MIG_PAGE_SIZE;
		rx->written = calloc((rx->npages + 63) / 64, sizeof(uint64_t));
		pthread_mutex_init(&rx->wlock, NULL);
		mig_recv_init(&rx->rv, l->opts.no_postcopy ? &rx_ops_no_postcopy : &rx_ops, rx);
	}
	if (!rx || !rx->written) {
		if (rx)
			rx_free(rx);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return rx;
}

void rx_free(struct rx *rx)
{
	pcd_discard(rx);
	urgent_dst_stop(rx->urgent);
	mig_reader_free(&rx->r);
	mig_writer_free(&rx->w);
	if (rx->c.ops)
		mig_conn_close(&rx->c);
	if (rx->lfd >= 0)
		close(rx->lfd);
	pthread_mutex_destroy(&rx->wlock);
	free(rx->written);
	free(rx);
}

static void log_turned_away(void *ctx, const char *line)
{
	fprintf(stderr, "vessel: incoming migration: %s\n", line);
}

/*
 * Admit a source on uri within the deadline: 0 with rx->c and its preamble;
 * the listener stays open in rx->lfd (post-copy's second connection).
 */
static int admit_source(struct rx *rx, const struct net_addr *a, const char *uri, double deadline,
			uint8_t *pre, char *err, size_t errlen)
{
	struct live *l = rx->l;
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
	rc = mig_admit(lfd, &ao, &rx->c, pre, err, errlen);
	rx->lfd = lfd;
	rx->tls = ao.tls;
	return rc;
}

/* The stream up to END (all in: 0) or POSTCOPY (the VM runs now: 1). */
static int receive(struct live *l, struct rx *rx, double deadline, unsigned limit, char *err,
		   size_t errlen)
{
	int rc;

	rc = mig_recv_run(&rx->rv, &rx->r, err, errlen);
	if (rc >= 0) {
		int vrc = vmstate_rx_complete(l, &rx->vs, err, errlen);

		rc = vrc ? vrc : rc;
	}
	if (rc == 0) /* test mode only: what the guest will find here */
		live_write_checksums(l->vm, NULL, 0, "destination, before it runs");
	rx->c.deadline = 0; /* the ACK (or the reason) still goes out */
	rx->r.conn.deadline = 0;
	rx->w.conn.deadline = 0;
	if (rc == -EPROTO && l->opts.no_postcopy && strstr(err, "does not take post-copy") &&
	    strlen(err) + 32 < errlen)
		strcat(err, " (it runs with --no-postcopy)");
	if (rc == -ETIMEDOUT && deadline && clock_now_ms() >= deadline)
		snprintf(err, errlen,
			 "the migration did not complete within the --incoming-timeout of %u s "
			 "(%llu MiB arrived)",
			 limit, (unsigned long long)(rx->r.bytes >> 20));
	return rc;
}

int live_incoming(struct vm *vm, const char *uri, char *err, size_t errlen)
{
	struct live *l = live_of(vm);
	const struct mig_recv_stats *st;
	struct net_addr a;
	struct rx *rx;
	unsigned limit;
	double deadline, t1;
	uint8_t pre[MIG_PREAMBLE_LEN];
	char desc[64];
	int rc;

	if (!l) {
		snprintf(err, errlen, "live migration is not attached to this VM");
		return -EINVAL;
	}
	limit = l->opts.incoming_timeout_s;
	deadline = limit ? clock_now_ms() + limit * 1e3 : 0;

	rc = net_parse_uri(uri, &a, err, errlen);
	if (rc)
		return rc;
	rx = rx_new(l, err, errlen);
	if (!rx)
		return -ENOMEM;
	rc = admit_source(rx, &a, uri, deadline, pre, err, errlen);
	if (rc) {
		if (rc == -ETIMEDOUT)
			snprintf(
				err, errlen,
				"no migration source arrived within the --incoming-timeout of %u s",
				limit);
		rx_free(rx);
		return rc;
	}
	rx->t0 = clock_now_ms();
	rx->cpu0 = clock_thread_cpu_ms();
	mig_tls_describe(&rx->c, desc, sizeof(desc));
	snprintf(rx->via, sizeof(rx->via), "%s%s%s%s", rx->c.ops->name, desc[0] ? " (" : "", desc,
		 desc[0] ? ")" : "");
	rc = mig_reader_init_conn(&rx->r, &rx->c, STREAM_TIMEOUT_MS);
	if (!rc)
		rc = mig_writer_init_conn(&rx->w, &rx->c, REPLY_TIMEOUT_MS);
	if (!rc)
		rc = mig_reader_push(&rx->r, pre, sizeof(pre));
	if (rc)
		snprintf(err, errlen, "out of memory");
	else
		rc = receive(l, rx, deadline, limit, err, errlen);
	if (rc == MIG_RECV_POSTCOPY) {
		rc = pcd_start(rx, err, errlen);
		if (rc == 0) {
			fprintf(stderr,
				"vessel: incoming migration switched to post-copy: %llu MiB so far "
				"over %s; VM state applied and acknowledged %.1f ms after it began "
				"to arrive; the VM runs while the rest of its pages follow\n",
				(unsigned long long)(rx->r.bytes >> 20), rx->via,
				clock_now_ms() - rx->t_state);
			return 0; /* rx belongs to the post-copy threads now */
		}
	}
	if (rc) {
		rx_send_ack(rx, rc, err);
		rx_free(rx);
		return rc;
	}
	rx_send_ack(rx, 0, "restored");
	t1 = clock_now_ms();
	st = &rx->rv.st;
	fprintf(stderr,
		"vessel: incoming migration complete: %llu MiB in %.0f ms over %s, %u passes, "
		"pages: %llu data, %llu zero, %llu free, %llu poisoned (re-poisoned here); VM "
		"state applied and acknowledged %.1f ms after it began to arrive; receiver CPU "
		"%.0f ms\n",
		(unsigned long long)(st->bytes >> 20), t1 - rx->t0, rx->via, rx->last_pass + 1,
		(unsigned long long)st->pages_data, (unsigned long long)st->pages_zero,
		(unsigned long long)st->pages_free, (unsigned long long)st->pages_poisoned,
		t1 - rx->t_state, clock_thread_cpu_ms() - rx->cpu0);
	rx_free(rx);
	return 0;
}
