// SPDX-License-Identifier: MIT
#include "dev/cintr.h"

#include "abi/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cintr_init(struct cintr *c)
{
	memset(c, 0, sizeof(*c));
	c->threshold = VESSEL_BLK_CINTR_DEF_THRESHOLD;
	c->timeout_us = VESSEL_BLK_CINTR_DEF_TIMEOUT;
}

void cintr_reset(struct cintr *c, bool calibrated)
{
	c->calibrated = calibrated;
	memset(c->seq, 0, sizeof(c->seq));
	c->nbarrier = 0;
	c->pending = 0;
	c->pending_since_ns = 0;
	c->pending_avail_ns = 0;
}

void cintr_config(struct cintr *c, uint32_t threshold, uint32_t timeout_us)
{
	if (threshold < 1)
		threshold = 1;
	if (threshold > VESSEL_BLK_CINTR_THRESHOLD_MAX)
		threshold = VESSEL_BLK_CINTR_THRESHOLD_MAX;
	if (timeout_us < 1)
		timeout_us = 1;
	if (timeout_us > VESSEL_BLK_CINTR_TIMEOUT_MAX)
		timeout_us = VESSEL_BLK_CINTR_TIMEOUT_MAX;
	c->threshold = threshold;
	c->timeout_us = timeout_us;
}

int cintr_start(struct cintr *c, unsigned slot)
{
	if (slot >= CINTR_SLOTS || c->seq[slot])
		return -EBUSY;
	c->seq[slot] = ++c->next_seq; /* seq + 1 of the next_seq before */
	return 0;
}

/* The smallest seq + 1 still in flight, or UINT64_MAX when none is. */
static uint64_t oldest_in_flight(const struct cintr *c)
{
	uint64_t min = UINT64_MAX;

	for (unsigned i = 0; i < CINTR_SLOTS; i++)
		if (c->seq[i] && c->seq[i] < min)
			min = c->seq[i];
	return min;
}

/* Drops the barriers everything before which has completed; true if any. */
static bool barriers_satisfied(struct cintr *c)
{
	uint64_t oldest;
	unsigned kept = 0;
	bool any = false;

	if (!c->nbarrier)
		return false;
	oldest = oldest_in_flight(c);
	for (unsigned i = 0; i < c->nbarrier; i++) {
		if (c->barrier[i] < oldest)
			any = true;
		else
			c->barrier[kept++] = c->barrier[i];
	}
	c->nbarrier = kept;
	return any;
}

enum cintr_reason cintr_complete(struct cintr *c, unsigned slot, uint32_t flags, uint64_t avail_ns,
				 uint64_t now_ns)
{
	uint64_t seq = slot < CINTR_SLOTS ? c->seq[slot] : 0;

	if (slot < CINTR_SLOTS)
		c->seq[slot] = 0;
	if (!c->pending) {
		c->pending_since_ns = now_ns;
		c->pending_min_avail_ns = avail_ns;
	} else if (avail_ns < c->pending_min_avail_ns) {
		c->pending_min_avail_ns = avail_ns;
	}
	if (c->pending < CINTR_WAIT)
		c->waiting[c->pending] = avail_ns;
	c->pending++;
	c->pending_avail_ns += avail_ns;
	if (!c->calibrated)
		return CINTR_EVERY;
	if (flags & VESSEL_BLK_REQ_URGENT)
		return CINTR_URGENT;
	if ((flags & VESSEL_BLK_REQ_BARRIER) && seq && c->nbarrier < CINTR_SLOTS)
		c->barrier[c->nbarrier++] = seq;
	if (barriers_satisfied(c))
		return CINTR_BARRIER;
	if (c->pending >= c->threshold)
		return CINTR_THRESHOLD;
	return CINTR_NONE;
}

uint64_t cintr_deadline(const struct cintr *c)
{
	if (!c->pending)
		return 0;
	return c->pending_since_ns + (uint64_t)c->timeout_us * 1000;
}

enum cintr_reason cintr_poll(const struct cintr *c, uint64_t now_ns)
{
	uint64_t d = cintr_deadline(c);

	return d && now_ns >= d ? CINTR_TIMEOUT : CINTR_NONE;
}

void cintr_fired(struct cintr *c, enum cintr_reason why, uint64_t now_ns)
{
	if (why > CINTR_NONE && why < CINTR_NR)
		c->fired[why]++;
	if (c->pending) {
		uint64_t total = c->pending * now_ns - c->pending_avail_ns;
		uint64_t longest = now_ns - c->pending_min_avail_ns;

		for (uint32_t i = 0; i < c->pending && i < CINTR_WAIT; i++)
			c->recent[(c->lat_count + i) % CINTR_RECENT] = now_ns - c->waiting[i];
		c->lat_count += c->pending;
		c->lat_sum_ns += total;
		if (longest > c->lat_max_ns)
			c->lat_max_ns = longest;
	}
	c->pending = 0;
	c->pending_since_ns = 0;
	c->pending_avail_ns = 0;
}

void cintr_save(const struct cintr *c, uint64_t now_ns, struct cintr_saved *s)
{
	*s = (struct cintr_saved){ .calibrated = c->calibrated,
				   .threshold = c->threshold,
				   .timeout_us = c->timeout_us,
				   .pending = c->pending,
				   .next_seq = c->next_seq,
				   .lat_count = c->lat_count,
				   .lat_sum_ns = c->lat_sum_ns,
				   .lat_max_ns = c->lat_max_ns };
	memcpy(s->fired, c->fired, sizeof(s->fired));
	if (c->pending) {
		s->pending_age_ns = now_ns - c->pending_since_ns;
		s->pending_wait_sum_ns = c->pending * now_ns - c->pending_avail_ns;
		s->pending_max_wait_ns = now_ns - c->pending_min_avail_ns;
	}
}

static const char *saved_problem(const struct cintr_saved *s)
{
	if (s->calibrated > 1)
		return "mode is neither every nor calibrated";
	if (s->threshold < 1 || s->threshold > VESSEL_BLK_CINTR_THRESHOLD_MAX)
		return "threshold out of range";
	if (s->timeout_us < 1 || s->timeout_us > VESSEL_BLK_CINTR_TIMEOUT_MAX)
		return "timeout out of range";
	if (s->pending > CINTR_SAVED_PENDING_MAX)
		return "too many pending completions";
	if (!s->pending && (s->pending_age_ns || s->pending_wait_sum_ns || s->pending_max_wait_ns))
		return "waiting times without pending completions";
	if (s->pending_max_wait_ns > CINTR_SAVED_AGE_MAX)
		return "a pending completion waited longer than an hour";
	if (s->pending_age_ns > s->pending_max_wait_ns)
		return "a completion older than the earliest request";
	if (s->pending_wait_sum_ns > (uint64_t)s->pending * s->pending_max_wait_ns)
		return "waiting times add up to more than the longest allows";
	if (s->next_seq >= 1ull << 62)
		return "request sequence near wrapping";
	return NULL;
}

int cintr_saved_check(const struct cintr_saved *s, char *why, size_t whylen)
{
	const char *bad = saved_problem(s);

	if (!bad)
		return 0;
	snprintf(why, whylen, "calibrated-interrupt state: %s", bad);
	return -EINVAL;
}

int cintr_restore(struct cintr *c, const struct cintr_saved *s, uint64_t now_ns, char *why,
		  size_t whylen)
{
	uint64_t max_wait, sum, age, mean_avail;

	if (cintr_saved_check(s, why, whylen))
		return -EINVAL;
	/* a host whose clock started less than max_wait ago: cut the ages */
	max_wait = s->pending_max_wait_ns < now_ns ? s->pending_max_wait_ns : now_ns;
	age = s->pending_age_ns < max_wait ? s->pending_age_ns : max_wait;
	sum = s->pending_wait_sum_ns < (uint64_t)s->pending * max_wait ?
		      s->pending_wait_sum_ns :
		      (uint64_t)s->pending * max_wait;
	cintr_reset(c, s->calibrated);
	cintr_config(c, s->threshold, s->timeout_us);
	c->next_seq = s->next_seq;
	c->pending = s->pending;
	if (c->pending) {
		c->pending_since_ns = now_ns - age;
		c->pending_avail_ns = c->pending * now_ns - sum;
		c->pending_min_avail_ns = now_ns - max_wait;
		/* the individual times were not saved: their mean stands in */
		mean_avail = now_ns - sum / c->pending;
		for (uint32_t i = 0; i < c->pending && i < CINTR_WAIT; i++)
			c->waiting[i] = mean_avail;
	}
	memcpy(c->fired, s->fired, sizeof(c->fired));
	c->lat_count = s->lat_count;
	c->lat_sum_ns = s->lat_sum_ns;
	c->lat_max_ns = s->lat_max_ns;
	return 0;
}

const char *cintr_reason_name(enum cintr_reason r)
{
	static const char *const names[CINTR_NR] = {
		[CINTR_NONE] = "none",		 [CINTR_EVERY] = "every",
		[CINTR_URGENT] = "urgent",	 [CINTR_BARRIER] = "barrier",
		[CINTR_THRESHOLD] = "threshold", [CINTR_TIMEOUT] = "timeout",
	};

	return r < CINTR_NR ? names[r] : "?";
}

uint64_t cintr_percentile(const struct cintr *c, unsigned p)
{
	uint64_t v[CINTR_RECENT];
	unsigned n = c->lat_count < CINTR_RECENT ? (unsigned)c->lat_count : CINTR_RECENT;

	if (!n)
		return 0;
	/* an insertion sort of at most 128 values, not qsort(): glibc's asks
	 * the kernel how much memory there is (sysinfo), which the sandboxed
	 * monitor's filter forbids (docs/monitor.md) */
	for (unsigned i = 0; i < n; i++) {
		uint64_t x = c->recent[i];
		unsigned j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[(n - 1) * (p > 100 ? 100 : p) / 100];
}
