// SPDX-License-Identifier: MIT
/*
 * Guest pages into records (see sender.h). Every page goes through
 * send_page(): poisoned pages (known in the poison set) become POISONED
 * records without being read; every other page is copied with the
 * memory-exception-safe copy into its place in a PAGES record of the
 * writer's buffer, so a memory error striking during the read becomes a
 * POISONED record instead of killing the VMM, and guest memory itself never
 * reaches the transport.
 */
#include "migrate/live/sender.h"

#include "core/memerr.h"
#include "core/safecopy.h"
#include "hcb/hcb.h"
#include "core/clock.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void send_update_progress(struct sender *s)
{
	struct mig_progress *p = &s->l->prog;
	double el = clock_now_ms() - s->t_start;

	pthread_mutex_lock(&s->l->lock);
	p->cpu_ms = clock_thread_cpu_ms();
	p->bytes = s->w.bytes + s->w.len;
	p->elapsed_ms = el;
	p->rate_mib_s = el > 0 ? (double)p->bytes / (1 << 20) / (el / 1e3) : 0;
	pthread_mutex_unlock(&s->l->lock);
}

double send_throttle_ms(struct sender *s)
{
	double want_ms, el;

	if (!s->max_mib_s)
		return 0;
	want_ms = (double)(s->w.bytes + s->w.len) / (s->max_mib_s * 1048576.0) * 1e3;
	el = clock_now_ms() - s->t_start;
	return want_ms > el ? want_ms - el : 0;
}

/* Whether the page at p (any alignment) is all zero: its first 8 bytes are
 * zero and every byte equals the one 8 bytes before it. */
static bool is_zero(const uint8_t *p)
{
	static const uint8_t zero[8];

	return !memcmp(p, zero, 8) && !memcmp(p, p + 8, MIG_PAGE_SIZE - 8);
}

/*
 * Is the page at memfd offset off a hole (never written, reads as zero)?
 * Pass 1 sends holes as ZERO records without reading them, so migrating a
 * mostly idle guest neither reads nor allocates its untouched memory.
 * Offsets must grow from call to call (data_start = data_end = 0 restarts).
 */
bool send_in_hole(struct sender *s, off_t off)
{
	if (off >= s->data_end) {
		off_t d = lseek(s->l->vm->mem.fd, off, SEEK_DATA);

		if (d < 0) {
			/* ENXIO: no data after off; anything else: assume data */
			s->data_start = errno == ENXIO ? INT64_MAX : off;
			s->data_end = errno == ENXIO ? INT64_MAX : off + MIG_PAGE_SIZE;
		} else {
			off_t h = lseek(s->l->vm->mem.fd, d, SEEK_HOLE);

			s->data_start = d;
			s->data_end = h > d ? h : d + MIG_PAGE_SIZE;
		}
	}
	return off < s->data_start;
}

int send_runs_flush(struct sender *s)
{
	int rc;

	if (!s->run_n)
		return 0;
	if (s->run_n == 1)
		rc = mig_put_page(&s->w, s->run_gpa, s->run_kind, MIG_POISON_NONE, NULL);
	else
		rc = mig_put_range(&s->w, s->run_kind, s->run_gpa, s->run_n);
	s->run_n = 0;
	return rc;
}

/* Add a page without data (ZERO or FREE) to the pending run. */
static int run_add(struct sender *s, uint64_t gpa, enum mig_page_kind kind)
{
	int rc = 0;

	if (kind == MIG_PAGE_ZERO)
		s->l->prog.pages_zero++;
	else
		s->l->prog.pages_free++;
	if (s->run_n && kind == s->run_kind && gpa == s->run_gpa + s->run_n * MIG_PAGE_SIZE) {
		s->run_n++;
		return 0;
	}
	rc = send_runs_flush(s);
	s->run_gpa = gpa;
	s->run_kind = kind;
	s->run_n = 1;
	return rc;
}

/* A memory error struck the page at gpa while we read it: known from now on. */
static void read_error_found(struct sender *s, uint64_t gpa)
{
	memerr_record(s->l->vm, gpa);
	vm_log(s->l->vm, "migration: memory error while reading guest page %#llx: sent as POISONED",
	       (unsigned long long)gpa);
}

/* The page at gpa had a memory error while we read it: record it, send POISONED. */
static int send_read_error(struct sender *s, uint64_t gpa)
{
	struct mig_progress *p = &s->l->prog;
	int rc;

	read_error_found(s, gpa);
	rc = send_runs_flush(s);
	if (!rc)
		rc = mig_put_page(&s->w, gpa, MIG_PAGE_POISONED, MIG_POISON_ON_READ, NULL);
	p->pages_poisoned++;
	p->poison_on_read++;
	return rc;
}

/* A page with data: copied straight into its slot of a PAGES record. */
static int send_data(struct sender *s, uint64_t gpa, const uint8_t *host)
{
	uint8_t *slot;
	void *bad;
	int rc;

	rc = mig_run_slot(&s->w, gpa, &slot);
	if (rc)
		return rc;
	if (safe_copy(slot, host, MIG_PAGE_SIZE, &bad) == -EHWPOISON) {
		mig_run_unslot(&s->w);
		return send_read_error(s, gpa);
	}
	if (is_zero(slot)) {
		mig_run_unslot(&s->w);
		return run_add(s, gpa, MIG_PAGE_ZERO);
	}
	s->l->prog.pages_data++;
	return 0;
}

int send_page(struct sender *s, uint64_t gpa, const uint8_t *host, bool hole)
{
	struct live *l = s->l;
	struct mig_progress *p = &l->prog;
	int rc;

	if (memerr_is_poisoned(l->vm, gpa)) {
		rc = send_runs_flush(s);
		if (!rc)
			rc = mig_put_page(&s->w, gpa, MIG_PAGE_POISONED, MIG_POISON_KNOWN, NULL);
		p->pages_poisoned++;
		p->poison_known++;
	} else if (s->free_valid && gpa / MIG_PAGE_SIZE < s->free_frames &&
		   (s->free_map[gpa / MIG_PAGE_SIZE / 64] >> (gpa / MIG_PAGE_SIZE % 64) & 1)) {
		/* free in the guest: nothing to read or send (a hint: a page
		 * allocated and written after the check is dirty, sent again) */
		rc = run_add(s, gpa, MIG_PAGE_FREE);
	} else if (hole) {
		rc = run_add(s, gpa, MIG_PAGE_ZERO);
	} else {
		rc = send_data(s, gpa, host);
	}
	p->pages_sent++;
	s->pass_pages++;
	return rc;
}

/*
 * Ask the guest's free-pages callback (hcb/hcb.h) which frames are free, right
 * after a dirty-log sync: a frame allocated and written after this is in the
 * next sync's dirty set. Without a callback every page is sent as before.
 */
void send_free_refresh(struct sender *s)
{
	int64_t n;

	s->free_valid = false;
	if (!s->free_map)
		return;
	memset(s->free_map, 0, (s->free_frames + 63) / 64 * sizeof(uint64_t));
	n = hcb_free_pages(s->l->vm, s->free_map, s->free_frames, NULL);
	s->free_valid = n >= 0;
}

/* Every 1024 pages: progress, the bandwidth cap, cancel and post-copy requests. */
static int checkpoint(struct sender *s)
{
	double wait = send_throttle_ms(s);

	if (wait > 0)
		usleep((useconds_t)(wait * 1e3));
	send_update_progress(s);
	if (__atomic_load_n(&s->l->cancel, __ATOMIC_ACQUIRE))
		return -ECANCELED;
	if (__atomic_load_n(&s->l->postcopy_req, __ATOMIC_ACQUIRE))
		return -EINTR;
	return 0;
}

int send_dirty(struct sender *s, bool skip_holes)
{
	int rc;

	send_free_refresh(s);
	for (unsigned i = 0; i < s->dirty.nslots; i++) {
		struct dirty_slot *sl = &s->dirty.slot[i];
		uint64_t words = (sl->npages + 63) / 64;
		off_t base = sl->offset;

		s->data_start = s->data_end = 0;
		for (uint64_t w = 0; w < words; w++) {
			while (sl->bits[w]) {
				uint64_t b = (uint64_t)__builtin_ctzll(sl->bits[w]), p = w * 64 + b;

				rc = send_page(
					s, sl->gpa + p * MIG_PAGE_SIZE,
					sl->host + p * MIG_PAGE_SIZE,
					skip_holes &&
						send_in_hole(s, base + (off_t)(p * MIG_PAGE_SIZE)));
				if (rc)
					return rc;
				sl->bits[w] &= ~(1ull << b);
			}
			if ((w & 15) == 15) {
				rc = checkpoint(s);
				if (rc) {
					send_runs_flush(s);
					return rc;
				}
			}
		}
	}
	send_update_progress(s);
	return send_runs_flush(s);
}

int send_page_to(struct sender *s, struct mig_writer *w, uint64_t gpa, const uint8_t *host,
		 struct page_counts *n)
{
	uint8_t *slot;
	void *bad;
	int rc;

	if (memerr_is_poisoned(s->l->vm, gpa)) {
		n->poisoned++;
		n->known++;
		return mig_put_page(w, gpa, MIG_PAGE_POISONED, MIG_POISON_KNOWN, NULL);
	}
	rc = mig_run_slot(w, gpa, &slot);
	if (rc)
		return rc;
	if (safe_copy(slot, host, MIG_PAGE_SIZE, &bad) == -EHWPOISON) {
		mig_run_unslot(w);
		read_error_found(s, gpa);
		n->poisoned++;
		n->on_read++;
		return mig_put_page(w, gpa, MIG_PAGE_POISONED, MIG_POISON_ON_READ, NULL);
	}
	if (is_zero(slot)) {
		mig_run_unslot(w);
		n->zero++;
		return mig_put_page(w, gpa, MIG_PAGE_ZERO, MIG_POISON_NONE, NULL);
	}
	n->data++;
	return 0;
}
