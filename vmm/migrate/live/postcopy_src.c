// SPDX-License-Identifier: MIT
/*
 * Post-copy, the source's side (see sender.h and docs/migration.md):
 *
 *   while the guest still runs, of the pages not sent yet those that need no
 *   data go: POISONED, FREE, memfd holes as ZERO (postcopy_prepare)
 *   vCPUs paused (held), dirty log synced: the bits left in s->dirty are the
 *   pages the destination does not have (never sent, or dirtied since)
 *   PENDING (those), STATE records, POSTCOPY; the destination runs the VM
 *   and says so (ACK 1): from here on the source never resumes on its own
 *   the pending pages, in address order, in PAGES records; pages the
 *   destination asks for (REQUEST, read by the return channel) go first
 *   END; the destination has them all (ACK 2): the hand-over is complete
 *
 * The source's copy of the VM is frozen from the switch on, so a page sent
 * twice (asked for while on its way) is the same both times, and a memory
 * error striking now is found by the safe copy (POISONED, ON_READ) like in
 * pre-copy; one recorded in the poison set meanwhile goes as KNOWN.
 */
#include "migrate/live/sender.h"

#include "core/memerr.h"
#include "migrate/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define ACK_TIMEOUT_MS	 60000
#define BATCH_PAGES	 MIG_RUN_MAX /* background pages between looks at the requests */
/*
 * Socket buffers during post-copy: an asked-for page queues behind what the
 * buffers hold (with loopback's automatic sizing, megabytes: 10-40 ms of
 * latency measured), so they are kept small.
 */
#define POSTCOPY_SOCKBUF (128u << 10)

static struct dirty_slot *slot_of(struct sender *s, uint64_t gpa, uint64_t *page)
{
	for (unsigned i = 0; i < s->dirty.nslots; i++) {
		struct dirty_slot *sl = &s->dirty.slot[i];

		if (gpa >= sl->gpa && gpa < sl->gpa + sl->npages * MIG_PAGE_SIZE) {
			*page = (gpa - sl->gpa) / MIG_PAGE_SIZE;
			return sl;
		}
	}
	return NULL;
}

/*
 * Before the pause, while the guest still runs: send what needs no data
 * (poisoned, free, memfd holes) among the pages still to be sent, so that
 * the pause does not pay for looking at every page. A page the guest writes
 * after this is in the dirty log: pending after the pause, sent with data.
 */
int postcopy_prepare(struct sender *s)
{
	int rc = 0;

	send_free_refresh(s);
	for (unsigned i = 0; i < s->dirty.nslots && !rc; i++) {
		struct dirty_slot *sl = &s->dirty.slot[i];
		off_t base = sl->offset;

		s->data_start = s->data_end = 0;
		for (uint64_t w = 0; w < (sl->npages + 63) / 64 && !rc; w++) {
			uint64_t bits = sl->bits[w];

			while (bits && !rc) {
				uint64_t p = w * 64 + (uint64_t)__builtin_ctzll(bits);
				uint64_t gpa = sl->gpa + p * MIG_PAGE_SIZE, f = gpa / MIG_PAGE_SIZE;
				bool is_free = s->free_valid && f < s->free_frames &&
					       (s->free_map[f / 64] >> (f % 64) & 1);

				bits &= bits - 1;
				if (!memerr_is_poisoned(s->l->vm, gpa) && !is_free &&
				    !send_in_hole(s, base + (off_t)(p * MIG_PAGE_SIZE)))
					continue; /* data: pending */
				rc = send_page(s, gpa, sl->host + p * MIG_PAGE_SIZE, true);
				sl->bits[w] &= ~(1ull << (p % 64));
			}
		}
	}
	if (!rc)
		rc = send_runs_flush(s);
	if (!rc)
		rc = mig_flush(&s->w);
	return rc;
}

/* The pages left in the bitmaps: pending. */
static uint64_t count_pending(struct sender *s)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < s->dirty.nslots; i++)
		for (uint64_t w = 0; w < (s->dirty.slot[i].npages + 63) / 64; w++)
			n += (uint64_t)__builtin_popcountll(s->dirty.slot[i].bits[w]);
	return n;
}

/* PENDING records: the bitmaps of s->dirty, in pieces of at most MIG_PENDING_MAX pages. */
static int send_pending(struct sender *s)
{
	for (unsigned i = 0; i < s->dirty.nslots; i++) {
		struct dirty_slot *sl = &s->dirty.slot[i];

		for (uint64_t p = 0; p < sl->npages; p += MIG_PENDING_MAX) {
			uint64_t n =
				sl->npages - p < MIG_PENDING_MAX ? sl->npages - p : MIG_PENDING_MAX;
			int rc;

			/* bit i of the bitmap words, LSB first, is byte i/8 bit i%8
			 * on a little-endian host; MIG_PENDING_MAX is a multiple of 64 */
			rc = mig_put_pending(&s->w, sl->gpa + p * MIG_PAGE_SIZE, n,
					     (const uint8_t *)(sl->bits + p / 64));
			if (rc)
				return rc;
		}
	}
	return 0;
}

const uint8_t *postcopy_page(struct sender *s, uint64_t gpa, bool *was_pending)
{
	uint64_t p, m;
	struct dirty_slot *sl = slot_of(s, gpa, &p);

	*was_pending = false;
	if (!sl)
		return NULL;
	m = 1ull << (p % 64);
	if (__atomic_fetch_and(&sl->bits[p / 64], ~m, __ATOMIC_ACQ_REL) & m) {
		*was_pending = true;
		__atomic_fetch_sub(&s->pc_left, 1, __ATOMIC_ACQ_REL);
	}
	return sl->host + p * MIG_PAGE_SIZE;
}

void postcopy_untake(struct sender *s, uint64_t gpa)
{
	uint64_t p;
	struct dirty_slot *sl = slot_of(s, gpa, &p);

	if (!sl)
		return;
	__atomic_fetch_or(&sl->bits[p / 64], 1ull << (p % 64), __ATOMIC_ACQ_REL);
	__atomic_fetch_add(&s->pc_left, 1, __ATOMIC_ACQ_REL);
}

/*
 * The pages among npages from gpa: all of them when the destination asked
 * (`asked`: a page on its way already is sent again, the destination keeps
 * the first), else those still pending (the background stream).
 */
static int send_range(struct sender *s, uint64_t gpa, uint64_t npages, bool asked)
{
	int rc = 0;

	for (uint64_t i = 0; i < npages && !rc; i++) {
		uint64_t g = gpa + i * MIG_PAGE_SIZE;
		bool took;
		const uint8_t *host = postcopy_page(s, g, &took);

		if (host && (took || asked))
			rc = send_page(s, g, host, false);
	}
	if (!rc)
		rc = send_runs_flush(s);
	return rc;
}

/* The next BATCH_PAGES pending pages from the cursor (slot *si, page *pi). */
static int send_batch(struct sender *s, unsigned *si, uint64_t *pi)
{
	unsigned sent = 0;
	int rc = 0;

	while (*si < s->dirty.nslots && sent < BATCH_PAGES && !rc) {
		struct dirty_slot *sl = &s->dirty.slot[*si];
		uint64_t w = *pi / 64, bits;

		if (*pi >= sl->npages) {
			(*si)++;
			*pi = 0;
			continue;
		}
		bits = __atomic_load_n(&sl->bits[w], __ATOMIC_ACQUIRE) & (~0ull << (*pi % 64));
		if (!bits) {
			*pi = (w + 1) * 64;
			continue;
		}
		*pi = w * 64 + (uint64_t)__builtin_ctzll(bits);
		rc = send_range(s, sl->gpa + *pi * MIG_PAGE_SIZE, 1, false);
		sent++;
	}
	return rc;
}

/* What migrate-status shows during post-copy. */
static void progress(struct sender *s, uint64_t total)
{
	uint64_t requests, left = __atomic_load_n(&s->pc_left, __ATOMIC_ACQUIRE);

	pthread_mutex_lock(&s->rp.lock);
	requests = s->rp.requests;
	pthread_mutex_unlock(&s->rp.lock);
	pthread_mutex_lock(&s->l->lock);
	s->l->prog.dirty_left = left;
	s->l->prog.postcopy_pages = total - left;
	s->l->prog.requests = requests;
	pthread_mutex_unlock(&s->l->lock);
}

/* The pages asked for on the main connection. */
static int serve_requests(struct sender *s)
{
	uint64_t gpa;
	uint32_t n;
	int rc = 0;

	while (!rc && retpath_pop(&s->rp, &gpa, &n)) {
		rc = send_range(s, gpa, n, true);
		if (!rc)
			rc = mig_flush(&s->w);
	}
	return rc;
}

/* Pages asked for first, then a batch of the rest, until none is left. */
static int serve(struct sender *s, uint64_t total)
{
	unsigned si = 0;
	uint64_t pi = 0;
	int rc = 0;

	/* pages the urgent thread took and may yet give back count as left */
	while (!rc && (__atomic_load_n(&s->pc_left, __ATOMIC_ACQUIRE) ||
		       __atomic_load_n(&s->urgent_inflight, __ATOMIC_ACQUIRE))) {
		progress(s, total);
		rc = serve_requests(s);
		if (rc)
			break;
		retpath_idle(&s->rp, send_throttle_ms(s)); /* the cap; a request ends the wait */
		if (send_throttle_ms(s) > 0)
			continue;
		if (si >= s->dirty.nslots) { /* went round: what the urgent thread gave back */
			si = 0;
			pi = 0;
			retpath_idle(&s->rp, 1);
		}
		rc = send_batch(s, &si, &pi);
		if (!rc)
			rc = mig_flush(&s->w);
		send_update_progress(s);
		if (!rc && retpath_failed(&s->rp, s->err, sizeof(s->err)))
			rc = -EPIPE;
		if (!rc && __atomic_load_n(&s->l->cancel, __ATOMIC_ACQUIRE))
			rc = -ECANCELED;
	}
	progress(s, total);
	return rc;
}

/* END sent: until the destination's last ACK, answer what it still asks for here. */
static int finish(struct sender *s)
{
	double until = clock_now_ms() + ACK_TIMEOUT_MS;
	int rc;

	for (;;) {
		rc = retpath_wait_ack(&s->rp, 2, 10, s->err, sizeof(s->err));
		if (rc != -ETIMEDOUT || clock_now_ms() > until)
			return rc;
		rc = serve_requests(s);
		if (rc) {
			snprintf(s->err, sizeof(s->err), "%s", s->w.err);
			return rc;
		}
	}
}

int postcopy_announce(struct sender *s)
{
	if (getrandom(s->token, sizeof(s->token), 0) != (ssize_t)sizeof(s->token))
		return -errno;
	s->announced = true;
	return mig_put_channel(&s->w, MIG_CHANNEL_URGENT, s->token);
}

int postcopy_source(struct sender *s, double t_pause, double t_paused)
{
	struct live *l = s->l;
	double t_state, t_sent;
	uint64_t pending = count_pending(s);
	int rc;

	rc = s->announced ? 0 : postcopy_announce(s); /* migrate-start-postcopy */
	if (!rc)
		rc = send_pending(s);
	if (!rc)
		rc = vmstate_send(l, &s->w, s->err, sizeof(s->err));
	t_state = clock_now_ms();
	/*
	 * Requests may come as soon as POSTCOPY is out (the destination runs
	 * the VM on it), on the second connection before our ACK wait returns:
	 * the pending set (frozen: the VM is paused) is served from here on.
	 */
	__atomic_store_n(&s->pc_left, pending, __ATOMIC_RELEASE);
	__atomic_store_n(&s->pc_serving, true, __ATOMIC_RELEASE);
	if (!rc)
		rc = mig_put_postcopy(&s->w, pending);
	if (!rc)
		rc = mig_flush(&s->w);
	if (rc) {
		if (!s->err[0])
			snprintf(s->err, sizeof(s->err), "%s", s->w.err);
		return rc;
	}
	t_sent = clock_now_ms();
	pthread_mutex_lock(&l->lock);
	l->prog.downtime_src_ms = t_sent - t_pause;
	l->prog.dirty_left = pending;
	pthread_mutex_unlock(&l->lock);
	rc = retpath_wait_ack(&s->rp, 1, ACK_TIMEOUT_MS, s->err, sizeof(s->err));
	if (rc)
		return rc; /* the destination does not run it: ours to resume */
	pthread_mutex_lock(&l->lock);
	l->prog.downtime_ms = clock_now_ms() - t_pause;
	l->prog.status = MIG_POSTCOPY;
	pthread_mutex_unlock(&l->lock);
	fprintf(stderr,
		"\rvessel: migration switched to post-copy: the destination runs the VM after a "
		"pause of %.1f ms (vCPUs paused in %.1f ms, pending bitmaps and state %.1f ms, "
		"stream flushed %.1f ms, the destination's answer %.1f ms); %llu pages "
		"follow\r\n",
		l->prog.downtime_ms, t_paused - t_pause, t_state - t_paused, t_sent - t_state,
		l->prog.downtime_ms - (t_sent - t_pause), (unsigned long long)pending);
	net_limit_buffers(s->conn.fd, POSTCOPY_SOCKBUF);
	if (!s->urgent)
		s->urgent = urgent_src_start(s);

	rc = serve(s, pending);
	if (!rc)
		rc = mig_put_end(&s->w);
	if (!rc)
		rc = mig_flush(&s->w);
	if (rc && !s->err[0])
		snprintf(s->err, sizeof(s->err), "%s", rc == -ECANCELED ? "cancelled" : s->w.err);
	if (!rc)
		rc = finish(s);
	urgent_src_stop(s, s->urgent);
	s->urgent = NULL;
	return rc ? MIG_POSTCOPY_BROKEN : 0;
}
