// SPDX-License-Identifier: MIT
/*
 * The migration sender: pre-copy with KVM dirty logging, then stop-and-copy.
 *
 *   connect; preamble; HELLO
 *   pass 1: every page of guest RAM
 *   pass n: the pages dirtied during pass n-1, while that set shrinks
 *   pause all vCPUs; last dirty pages; state records; END
 *   wait for the destination's ACK -> hand-over: the source VM stops, exit 0
 *
 * Every page goes through send_page(): poisoned pages (known in the poison
 * set) become POISONED records without being read; every other page is
 * copied into a bounce buffer with the memory-exception-safe copy, so a
 * memory error striking during the read becomes a POISONED record instead of
 * killing the VMM. Anything failing before the hand-over leaves the source
 * VM running (resumed if we paused it).
 *
 * tls:HOST:PORT runs the same stream over TLS (tls.h) with the credentials
 * of --tls-creds; the transport only ever sees the writer's buffer, never
 * guest memory.
 */
#include "migrate/live/internal.h"

#include "migrate/net.h"
#include "core/memerr.h"
#include "hcb/hcb.h"
#include "core/safecopy.h"
#include "migrate/stream.h"
#include "migrate/tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000
#define IO_TIMEOUT_MS	   30000
#define ACK_TIMEOUT_MS	   60000
#define STOP_PAGES	   1024u /* stop-and-copy once at most this many pages are dirty */
#define MAX_PASSES	   30u
#define NO_PROGRESS_PASSES 2u /* passes in a row whose dirty set did not shrink */

struct sender {
	struct live *l;
	struct dirty_log dirty;
	struct mig_writer w;
	struct mig_conn conn;	   /* plain or TLS; conn.fd -1 until connected */
	struct mig_tls_creds *tls; /* client credentials for tls:, else NULL */
	uint8_t bounce[MIG_PAGE_SIZE];
	double t_start;
	uint64_t pass_pages;
	long max_mib_s;		    /* bandwidth cap, 0 = none */
	int timeout_ms;		    /* per network wait */
	off_t data_start, data_end; /* memfd data range around the cursor (pass 1) */
	uint64_t run_gpa, run_n;    /* run of ZERO or FREE pages not yet written */
	enum mig_page_kind run_kind;
	uint64_t *free_map;	    /* frames the guest's callback reported free */
	uint64_t free_frames;	    /* bits in free_map */
	bool free_valid;	    /* free_map answers for this pass */
	bool verbose;
	char err[512];
};

const char *mig_status_name(enum mig_status s)
{
	static const char *const n[] = {
		[MIG_NONE] = "none",	      [MIG_SETUP] = "setup",
		[MIG_PRECOPY] = "pre-copy",   [MIG_STOP_COPY] = "stop-and-copy",
		[MIG_HANDOVER] = "hand-over", [MIG_COMPLETED] = "completed",
		[MIG_FAILED] = "failed"
	};

	return s <= MIG_FAILED ? n[s] : "unknown";
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void set_status(struct sender *s, enum mig_status st)
{
	pthread_mutex_lock(&s->l->lock);
	s->l->prog.status = st;
	pthread_mutex_unlock(&s->l->lock);
}

static void update_progress(struct sender *s)
{
	struct mig_progress *p = &s->l->prog;
	double el = now_ms() - s->t_start;

	pthread_mutex_lock(&s->l->lock);
	p->bytes = s->w.bytes + s->w.len;
	p->elapsed_ms = el;
	p->rate_mib_s = el > 0 ? (double)p->bytes / (1 << 20) / (el / 1e3) : 0;
	pthread_mutex_unlock(&s->l->lock);
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	n = strtol(v, &end, 10);
	return *end || n < 0 ? def : n;
}

/* Keep the average rate at most max_mib_s (VESSEL_MIG_MAX_MIBS; 0 = no cap). */
static void throttle(struct sender *s)
{
	double want_ms, el;

	if (!s->max_mib_s)
		return;
	want_ms = (double)(s->w.bytes + s->w.len) / (s->max_mib_s * 1048576.0) * 1e3;
	el = now_ms() - s->t_start;
	if (want_ms > el)
		usleep((useconds_t)((want_ms - el) * 1e3));
}

static bool is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (unsigned i = 0; i < MIG_PAGE_SIZE / 8; i++)
		if (q[i])
			return false;
	return true;
}

/*
 * Is the page at memfd offset off a hole (never written, reads as zero)?
 * Pass 1 sends holes as ZERO records without reading them, so migrating a
 * mostly idle guest neither reads nor allocates its untouched memory.
 */
static bool in_hole(struct sender *s, off_t off)
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

/* Write out the pending run of ZERO or FREE pages: one page record or a range. */
static int zero_flush(struct sender *s)
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
	rc = zero_flush(s);
	s->run_gpa = gpa;
	s->run_kind = kind;
	s->run_n = 1;
	return rc;
}

static int send_page(struct sender *s, uint64_t gpa, const uint8_t *host, bool hole)
{
	struct live *l = s->l;
	struct mig_progress *p = &l->prog;
	void *bad;
	int rc;

	if (memerr_is_poisoned(l->vm, gpa)) {
		rc = zero_flush(s);
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
	} else if (safe_copy(s->bounce, host, MIG_PAGE_SIZE, &bad) == -EHWPOISON) {
		memerr_record(l->vm, gpa);
		vm_log(l->vm,
		       "migration: memory error while reading guest page %#llx: sent as "
		       "POISONED",
		       (unsigned long long)gpa);
		rc = zero_flush(s);
		if (!rc)
			rc = mig_put_page(&s->w, gpa, MIG_PAGE_POISONED, MIG_POISON_ON_READ, NULL);
		p->pages_poisoned++;
		p->poison_on_read++;
	} else if (is_zero(s->bounce)) {
		rc = run_add(s, gpa, MIG_PAGE_ZERO);
	} else {
		rc = zero_flush(s);
		if (!rc)
			rc = mig_put_page(&s->w, gpa, MIG_PAGE_DATA, MIG_POISON_NONE, s->bounce);
		p->pages_data++;
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
static void free_pages_refresh(struct sender *s)
{
	int64_t n;

	s->free_valid = false;
	if (!s->free_map)
		return;
	memset(s->free_map, 0, (s->free_frames + 63) / 64 * sizeof(uint64_t));
	n = hcb_free_pages(s->l->vm, s->free_map, s->free_frames, NULL);
	s->free_valid = n >= 0;
}

/* Send every page whose bit is set in the dirty bitmaps (pass 1: skip_holes). */
static int send_dirty(struct sender *s, bool skip_holes)
{
	free_pages_refresh(s);
	for (unsigned i = 0; i < s->dirty.nslots; i++) {
		struct dirty_slot *sl = &s->dirty.slot[i];
		uint64_t words = (sl->npages + 63) / 64;
		off_t base = (off_t)s->l->vm->mem.regions[i].offset;

		s->data_start = s->data_end = 0;
		for (uint64_t w = 0; w < words; w++) {
			uint64_t bits = sl->bits[w];

			while (bits) {
				uint64_t p = w * 64 + (uint64_t)__builtin_ctzll(bits);
				int rc;

				bits &= bits - 1;
				rc = send_page(
					s, sl->gpa + p * MIG_PAGE_SIZE,
					sl->host + p * MIG_PAGE_SIZE,
					skip_holes &&
						in_hole(s, base + (off_t)(p * MIG_PAGE_SIZE)));
				if (rc)
					return rc;
			}
			sl->bits[w] = 0;
			if ((w & 15) == 15)
				throttle(s);
			if ((w & 15) == 15) { /* every 1024 pages: status shows progress */
				update_progress(s);
				if (__atomic_load_n(&s->l->cancel, __ATOMIC_ACQUIRE))
					return -ECANCELED;
			}
		}
	}
	update_progress(s);
	return zero_flush(s);
}

static void report(struct sender *s, const char *what, uint64_t dirty)
{
	struct mig_progress p;

	live_migrate_progress(s->l, &p);
	fprintf(stderr,
		"\rvessel: migration %s pass %u: %llu pages, %.1f MiB sent, %.0f MiB/s, "
		"%llu dirty pages left (dirty-log sync %.2f ms)\r\n",
		what, p.pass, (unsigned long long)s->pass_pages, p.bytes / 1048576.0, p.rate_mib_s,
		(unsigned long long)dirty, s->dirty.last_sync_ms);
}

static int fail(struct sender *s, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* Wait for the destination's verdict on the stream. */
static int wait_ack(struct sender *s)
{
	struct mig_reader r;
	struct mig_record rec;
	int rc;

	rc = mig_reader_init_conn(&r, &s->conn,
				  (int)env_long("VESSEL_MIG_TIMEOUT_MS", ACK_TIMEOUT_MS));
	if (rc)
		return fail(s, rc, "out of memory");
	r.seq = 0;
	rc = mig_read_record(&r, &rec);
	if (rc) {
		fail(s, rc, "no acknowledgement from the destination: %s", r.err);
	} else if (rec.type != MIG_REC_ACK) {
		rc = fail(s, -EPROTO, "the destination answered with a %s record, not ACK",
			  mig_rec_type_name(rec.type));
	} else if (rec.u.msg.code != 0) {
		rc = fail(s, -ECANCELED, "the destination refused the VM: %s", rec.u.msg.text);
	}
	mig_reader_free(&r);
	return rc;
}

static int run_migration(struct sender *s, const char *uri)
{
	struct live *l = s->l;
	struct vm *vm = l->vm;
	struct net_addr addr;
	struct mig_hello hello;
	uint64_t dirty = 0, prev = UINT64_MAX;
	unsigned stuck = 0;
	double t_pause, t_paused, t_pages, t_state;
	bool paused = false;
	const char *mode = getenv("VESSEL_DIRTY_LOG");
	int fd, rc;

	rc = net_parse_uri(uri, &addr, s->err, sizeof(s->err));
	if (rc)
		return rc;
	s->max_mib_s = env_long("VESSEL_MIG_MAX_MIBS", 0);
	s->timeout_ms = (int)env_long("VESSEL_MIG_TIMEOUT_MS", IO_TIMEOUT_MS);
	fd = net_connect(&addr, CONNECT_TIMEOUT_MS, s->err, sizeof(s->err));
	if (fd < 0)
		return fd;
	if (s->tls) {
		/* the destination's certificate must be issued for addr.host */
		rc = mig_tls_open(s->tls, fd, addr.host, &s->conn, s->err, sizeof(s->err));
		if (rc)
			return rc;
	} else {
		mig_conn_plain(&s->conn, fd);
	}
	pthread_mutex_lock(&l->lock);
	l->sock = fd;
	pthread_mutex_unlock(&l->lock);
	if (s->tls) {
		rc = mig_tls_handshake(&s->conn, CONNECT_TIMEOUT_MS, s->err, sizeof(s->err));
		if (rc)
			return rc;
	}
	rc = mig_writer_init_conn(&s->w, &s->conn, s->timeout_ms);
	if (rc)
		return fail(s, rc, "out of memory");
	hello = (struct mig_hello){ .mem_size = vm->mem.size,
				    .nr_vcpus = vm->nr_vcpus,
				    .page_size = MIG_PAGE_SIZE };
	rc = mig_put_preamble(&s->w);
	if (!rc)
		rc = mig_put_hello(&s->w, &hello);
	if (rc)
		return fail(s, rc, "%s", s->w.err);

	rc = gmem_dirty_track(&vm->mem, true); /* the VMM's own writes */
	if (rc)
		return fail(s, rc, "out of memory for the VMM's dirty-page bitmap");
	rc = dirty_start(&s->dirty, vm, !(mode && !strcmp(mode, "classic")), s->err,
			 sizeof(s->err));
	if (rc)
		return rc;

	/* pass 1: everything */
	set_status(s, MIG_PRECOPY);
	rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
	if (rc)
		return rc;
	for (unsigned i = 0; i < s->dirty.nslots; i++)
		memset(s->dirty.slot[i].bits, 0xff,
		       (s->dirty.slot[i].npages + 63) / 64 * sizeof(uint64_t));
	for (unsigned pass = 1;; pass++) {
		pthread_mutex_lock(&l->lock);
		l->prog.pass = pass;
		pthread_mutex_unlock(&l->lock);
		s->pass_pages = 0;
		if (pass == 1) {
			/* the bitmaps were rounded up to 64 pages: trim */
			for (unsigned i = 0; i < s->dirty.nslots; i++) {
				struct dirty_slot *sl = &s->dirty.slot[i];

				if (sl->npages % 64)
					sl->bits[sl->npages / 64] = (1ull << (sl->npages % 64)) - 1;
			}
		}
		rc = send_dirty(s, pass == 1);
		if (!rc)
			rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
		if (!rc)
			rc = mig_put_pass(&s->w, pass, s->pass_pages, dirty);
		/* nothing of pre-copy may wait in our buffer into the downtime */
		if (!rc)
			rc = mig_flush(&s->w);
		if (rc)
			return rc == -ECANCELED ? fail(s, rc, "cancelled") :
						  (s->err[0] ? rc : fail(s, rc, "%s", s->w.err));
		pthread_mutex_lock(&l->lock);
		l->prog.dirty_left = dirty;
		pthread_mutex_unlock(&l->lock);
		report(s, "pre-copy", dirty);
		if (dirty <= STOP_PAGES || pass >= MAX_PASSES)
			break;
		stuck = dirty >= prev ? stuck + 1 : 0;
		if (stuck >= NO_PROGRESS_PASSES)
			break;
		prev = dirty;
	}

	/* stop-and-copy */
	set_status(s, MIG_STOP_COPY);
	t_pause = now_ms();
	pthread_mutex_lock(&vm->lock);
	paused = vm->state == VM_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	l->paused_by_user = paused;
	/* held: a `resume` on the control socket must not let the guest run
	 * (and dirty memory) after the last dirty sync */
	rc = vm_pause_hold(vm);
	if (rc)
		return fail(s, rc, "cannot pause the VM: %s", vm->err);
	t_paused = now_ms();
	rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
	if (!rc) {
		pthread_mutex_lock(&l->lock);
		l->prog.pass++;
		pthread_mutex_unlock(&l->lock);
		s->pass_pages = 0;
		rc = send_dirty(s, false);
		if (rc && !s->err[0])
			fail(s, rc, "%s", s->w.err);
	}
	t_pages = now_ms();
	if (!rc) /* test mode only: what the destination must hold */
		live_write_checksums(vm, s->free_valid ? s->free_map : NULL, s->free_frames,
				     "source, at the hand-over");
	if (!rc)
		rc = vmstate_send(l, &s->w, s->err, sizeof(s->err));
	t_state = now_ms();
	if (!rc) {
		rc = mig_put_end(&s->w);
		if (!rc)
			rc = mig_flush(&s->w);
		if (rc)
			fail(s, rc, "%s", s->w.err);
	}
	if (!rc) {
		pthread_mutex_lock(&l->lock);
		l->prog.downtime_src_ms = now_ms() - t_pause;
		pthread_mutex_unlock(&l->lock);
		update_progress(s);
		report(s, "stop-and-copy", 0);
		fprintf(stderr,
			"\rvessel: migration downtime so far: vCPUs paused in %.1f ms, last pages "
			"%.1f ms, state saved %.1f ms, stream flushed %.1f ms\r\n",
			t_paused - t_pause, t_pages - t_paused, t_state - t_pages,
			now_ms() - t_state);
		set_status(s, MIG_HANDOVER);
		rc = wait_ack(s);
	}
	if (rc) {
		vm_pause_release(vm, !l->paused_by_user);
		return rc;
	}
	/* handed over: the hold stays until the VM stops here */
	pthread_mutex_lock(&l->lock);
	l->prog.downtime_ms = now_ms() - t_pause;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static void *sender_thread(void *arg)
{
	struct sender *s = arg;
	struct live *l = s->l;
	struct mig_progress p;
	char uri[sizeof(l->prog.uri)];
	bool stopped;
	int rc;

	pthread_mutex_lock(&l->lock);
	snprintf(uri, sizeof(uri), "%s", l->prog.uri);
	pthread_mutex_unlock(&l->lock);
	s->t_start = now_ms();
	rc = run_migration(s, uri);
	update_progress(s);
	if (rc && s->conn.fd >= 0 && s->w.buf) {
		/* tell the destination why, if it still listens */
		s->w.len = 0;
		s->w.timeout_ms = 1000;
		if (mig_put_msg(&s->w, MIG_REC_ABORT, rc, s->err) == 0)
			mig_flush(&s->w);
	}
	dirty_stop(&s->dirty);
	dirty_free(&s->dirty);
	gmem_dirty_track(&l->vm->mem, false);
	mig_writer_free(&s->w);
	pthread_mutex_lock(&l->lock);
	l->sock = -1;
	pthread_mutex_unlock(&l->lock);
	mig_conn_close(&s->conn);
	mig_tls_creds_free(s->tls);
	live_migrate_progress(l, &p);
	stopped = rc && (__atomic_load_n(&l->cancel, __ATOMIC_ACQUIRE) || vm_is_stopping(l->vm));
	pthread_mutex_lock(&l->lock);
	if (stopped) {
		/* the VM is going away here (quit, poweroff, a signal): the
		 * connection was shut by us, not by the destination */
		l->prog.status = MIG_FAILED;
		snprintf(l->prog.error, sizeof(l->prog.error), "cancelled: the VM stopped");
		snprintf(l->summary, sizeof(l->summary),
			 "migration to %s cancelled: the VM stopped here before the hand-over",
			 uri);
	} else if (rc) {
		l->prog.status = MIG_FAILED;
		snprintf(l->prog.error, sizeof(l->prog.error), "%s",
			 s->err[0] ? s->err : strerror(-rc));
		snprintf(l->summary, sizeof(l->summary),
			 "migration to %s failed: %s; the VM keeps running here", uri,
			 l->prog.error);
	} else {
		l->prog.status = MIG_COMPLETED;
		snprintf(
			l->summary, sizeof(l->summary),
			"migrated to %s: %u passes, %.1f MiB (%llu bytes) in %.0f ms (%.0f MiB/s), "
			"downtime %.1f ms (stream sent after %.1f ms), %llu poisoned pages sent as "
			"POISONED, %llu free pages sent as FREE",
			uri, p.pass, p.bytes / 1048576.0, (unsigned long long)p.bytes, p.elapsed_ms,
			p.rate_mib_s, l->prog.downtime_ms, l->prog.downtime_src_ms,
			(unsigned long long)p.pages_poisoned, (unsigned long long)p.pages_free);
	}
	pthread_mutex_unlock(&l->lock);
	vm_log(l->vm, "%s", l->summary);
	if (!rc)
		vm_stop(l->vm, 0, "%s", l->summary); /* hand-over: the destination runs it */
	free(s->free_map);
	free(s);
	return NULL;
}

/* The rest of live_migrate_start(): start the sender thread (owns tls then). */
static int start_sender(struct live *l, const char *uri, struct mig_tls_creds *tls, char *err,
			size_t errlen)
{
	struct sender *s;
	int rc;

	pthread_mutex_lock(&l->lock);
	if (l->prog.status >= MIG_SETUP && l->prog.status <= MIG_HANDOVER) {
		pthread_mutex_unlock(&l->lock);
		snprintf(err, errlen, "a migration to %s is already in progress", l->prog.uri);
		return -EBUSY;
	}
	if (l->prog.status == MIG_COMPLETED) {
		pthread_mutex_unlock(&l->lock);
		snprintf(err, errlen, "this VM was already migrated to %s", l->prog.uri);
		return -EALREADY;
	}
	pthread_mutex_lock(&l->vm->lock);
	rc = l->vm->state == VM_RUNNING || l->vm->state == VM_PAUSED ? 0 : -ENOTCONN;
	pthread_mutex_unlock(&l->vm->lock);
	if (rc) {
		pthread_mutex_unlock(&l->lock);
		snprintf(err, errlen, "the VM is not running");
		return rc;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		pthread_mutex_unlock(&l->lock);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->l = l;
	s->conn.fd = -1;
	s->tls = tls;
	if (hcb_registered(l->vm, VESSEL_HCB_FREE_PAGES)) {
		/* the guest direct-maps (and can free) RAM below 4 GiB only */
		const struct gmem_region *top = &l->vm->mem.regions[l->vm->mem.nr_regions - 1];
		uint64_t end = top->gpa + top->size;

		s->free_frames = (end < (1ull << 32) ? end : 1ull << 32) / MIG_PAGE_SIZE;
		s->free_map = calloc((s->free_frames + 63) / 64, sizeof(uint64_t));
	}
	memset(&l->prog, 0, sizeof(l->prog));
	l->prog.status = MIG_SETUP;
	l->prog.downtime_ms = -1;
	l->prog.downtime_src_ms = -1;
	l->cancel = false;
	snprintf(l->prog.uri, sizeof(l->prog.uri), "%s", uri);
	if (l->thread_alive) {
		pthread_join(l->thread, NULL);
		l->thread_alive = false;
	}
	rc = -pthread_create(&l->thread, NULL, sender_thread, s);
	if (rc) {
		l->prog.status = MIG_FAILED;
		pthread_mutex_unlock(&l->lock);
		free(s->free_map);
		free(s); /* the caller frees tls */
		snprintf(err, errlen, "cannot start the migration thread: %s", strerror(-rc));
		return rc;
	}
	l->thread_alive = true;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int live_migrate_start(struct live *l, const char *uri, char *err, size_t errlen)
{
	struct mig_tls_creds *tls = NULL;
	struct net_addr a;
	int rc;

	rc = net_parse_uri(uri, &a, err, errlen);
	if (rc)
		return rc;
	if (a.tls && !l->opts.tls_creds) {
		snprintf(err, errlen, "%s: this VM was started without --tls-creds DIR", uri);
		return -EINVAL;
	}
	if (a.tls) {
		/* read again for every migration: renewed certificates are used */
		rc = mig_tls_creds_load(l->opts.tls_creds, MIG_TLS_CLIENT, &tls, err, errlen);
		if (rc)
			return rc;
	}
	rc = start_sender(l, uri, tls, err, errlen);
	if (rc)
		mig_tls_creds_free(tls);
	return rc;
}

void live_migrate_progress(struct live *l, struct mig_progress *out)
{
	pthread_mutex_lock(&l->lock);
	*out = l->prog;
	pthread_mutex_unlock(&l->lock);
}

const char *live_migration_summary(struct vm *vm)
{
	struct live *l = live_of(vm);

	return l && l->summary[0] ? l->summary : NULL;
}
