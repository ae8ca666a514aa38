// SPDX-License-Identifier: MIT
/*
 * The migration sender: pre-copy with KVM dirty logging, then stop-and-copy
 * or post-copy.
 *
 *   connect; preamble; HELLO; the return channel's thread (retpath.c)
 *   pass 1: every page of guest RAM
 *   pass n: the pages dirtied during pass n-1, while that set shrinks
 *   the destination has taken in the last pass (SYNC): nothing of pre-copy
 *   is left in the socket buffers to delay the hand-over
 *   pause all vCPUs; last dirty pages; state records; END
 *   wait for the destination's ACK -> hand-over: the source VM stops, exit 0
 *
 * With post-copy (migrate ... postcopy at once, or migrate-start-postcopy
 * during pre-copy) the pause is followed by postcopy_source() instead: the
 * state moves first and the pages follow while the destination runs.
 *
 * Pages become records in send_pages.c (the memory-error-safe copy, POISONED
 * records). Anything failing before the destination runs the VM leaves the
 * source VM running (resumed if we paused it).
 *
 * tls:HOST:PORT runs the same stream over TLS (tls.h) with the credentials
 * of --tls-creds; the transport only ever sees the writer's buffer, never
 * guest memory.
 */
#include "migrate/live/sender.h"

#include "migrate/live/incoming.h"

#include "hcb/hcb.h"
#include "migrate/net.h"
#include "migrate/tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000
#define IO_TIMEOUT_MS	   30000
#define ACK_TIMEOUT_MS	   60000
#define STOP_PAGES	   1024u /* stop-and-copy once at most this many pages are dirty */
#define MAX_PASSES	   30u
#define NO_PROGRESS_PASSES 2u /* passes in a row whose dirty set did not shrink */

const char *mig_status_name(enum mig_status s)
{
	static const char *const n[] = {
		[MIG_NONE] = "none",	       [MIG_SETUP] = "setup",
		[MIG_PRECOPY] = "pre-copy",    [MIG_STOP_COPY] = "stop-and-copy",
		[MIG_HANDOVER] = "hand-over",  [MIG_POSTCOPY] = "post-copy",
		[MIG_COMPLETED] = "completed", [MIG_FAILED] = "failed"
	};

	return s <= MIG_FAILED ? n[s] : "unknown";
}

static void set_status(struct sender *s, enum mig_status st)
{
	pthread_mutex_lock(&s->l->lock);
	s->l->prog.status = st;
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

/* A failed put/flush: say why (the writer knows) unless something else did. */
static int wfail(struct sender *s, int rc)
{
	if (rc == -ECANCELED)
		return fail(s, rc, "cancelled");
	return s->err[0] ? rc : fail(s, rc, "%s", s->w.err);
}

/* Connect (and for tls: shake hands), preamble, HELLO, the return channel. */
static int open_stream(struct sender *s, const char *uri)
{
	struct live *l = s->l;
	struct vm *vm = l->vm;
	struct net_addr addr;
	struct mig_hello hello;
	int fd, rc;

	rc = net_parse_uri(uri, &addr, s->err, sizeof(s->err));
	if (rc)
		return rc;
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
		return wfail(s, rc);
	return retpath_start(&s->rp, &s->conn, s->err, sizeof(s->err));
}

/*
 * Whether pre-copy is done after a pass that left `dirty` pages (prev: the
 * pass before). Without a downtime limit: when at most STOP_PAGES are dirty,
 * after MAX_PASSES, or when the dirty set stopped shrinking. With one
 * (max_downtime_ms): only when the dirty pages can be sent within it at the
 * rate measured so far; until then pre-copy goes on (migrate-start-postcopy
 * or a cancel ends it).
 */
static bool precopy_done(struct sender *s, unsigned pass, uint64_t dirty, uint64_t prev,
			 unsigned *stuck)
{
	double rate;

	if (dirty <= STOP_PAGES && !s->max_downtime_ms)
		return true;
	if (s->max_downtime_ms) {
		rate = s->l->prog.rate_mib_s > 0 ? s->l->prog.rate_mib_s : 1;
		return dirty * (double)MIG_PAGE_SIZE / 1048576.0 / rate * 1e3 <=
		       (double)s->max_downtime_ms;
	}
	if (pass >= MAX_PASSES)
		return true;
	*stuck = dirty >= prev ? *stuck + 1 : 0;
	return *stuck >= NO_PROGRESS_PASSES;
}

/* Every page to be sent (pass 1, or all pending for post-copy at once). */
static void mark_all(struct sender *s)
{
	for (unsigned i = 0; i < s->dirty.nslots; i++) {
		struct dirty_slot *sl = &s->dirty.slot[i];

		/* the bitmaps are rounded up to 64 pages: trim */
		memset(sl->bits, 0xff, (sl->npages + 63) / 64 * sizeof(uint64_t));
		if (sl->npages % 64)
			sl->bits[sl->npages / 64] = (1ull << (sl->npages % 64)) - 1;
	}
}

/*
 * Pre-copy passes until precopy_done(); then wait until the destination has
 * taken in all of it (its SYNC of the last pass), and if the guest dirtied
 * too much meanwhile, go on. Returns 0, -EINTR (post-copy asked for) or
 * -errno.
 */
static int precopy(struct sender *s)
{
	struct live *l = s->l;
	uint64_t dirty = 0, prev = UINT64_MAX;
	unsigned stuck = 0;
	int rc;

	set_status(s, MIG_PRECOPY);
	rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
	if (rc)
		return rc;
	mark_all(s);
	for (unsigned pass = 1;; pass++) {
		pthread_mutex_lock(&l->lock);
		l->prog.pass = pass;
		pthread_mutex_unlock(&l->lock);
		s->pass_pages = 0;
		rc = send_dirty(s, pass == 1);
		if (!rc)
			rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
		if (!rc)
			rc = mig_put_pass(&s->w, pass, s->pass_pages, dirty);
		/* nothing of pre-copy may wait in our buffer into the downtime */
		if (!rc || rc == -EINTR) {
			int frc = mig_flush(&s->w);

			rc = frc ? frc : rc;
		}
		if (rc)
			return rc == -EINTR ? rc : wfail(s, rc);
		pthread_mutex_lock(&l->lock);
		l->prog.dirty_left = dirty;
		pthread_mutex_unlock(&l->lock);
		report(s, "pre-copy", dirty);
		if (s->postcopy || __atomic_load_n(&l->postcopy_req, __ATOMIC_ACQUIRE))
			return -EINTR;
		if (!precopy_done(s, pass, dirty, prev, &stuck)) {
			prev = dirty;
			continue;
		}
		/* the destination may still be reading what we sent: wait */
		rc = retpath_wait_sync(&s->rp, pass,
				       (int)env_long("VESSEL_MIG_TIMEOUT_MS", ACK_TIMEOUT_MS),
				       s->err, sizeof(s->err));
		if (!rc)
			rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
		if (!rc && __atomic_load_n(&l->postcopy_req, __ATOMIC_ACQUIRE))
			return -EINTR; /* asked for while we waited: honoured */
		if (rc || dirty <= STOP_PAGES || pass >= MAX_PASSES || s->max_downtime_ms)
			return rc;
		prev = dirty;
	}
}

/* Pause the vCPUs and hold them paused; *t_pause: when. */
static int pause_guest(struct sender *s, double *t_pause)
{
	struct vm *vm = s->l->vm;
	int rc;

	*t_pause = clock_now_ms();
	pthread_mutex_lock(&vm->lock);
	s->l->paused_by_user = vm->state == VM_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	/* held: a `resume` on the control socket must not let the guest run
	 * (and dirty memory) after the last dirty sync */
	rc = vm_pause_hold(vm);
	return rc ? fail(s, rc, "cannot pause the VM: %s", vm->err) : 0;
}

/* Stop-and-copy: the last dirty pages, the state, END; the ACK. */
static int stop_and_copy(struct sender *s)
{
	struct live *l = s->l;
	struct vm *vm = l->vm;
	double t_pause, t_paused, t_pages, t_state;
	uint64_t dirty;
	int rc;

	set_status(s, MIG_STOP_COPY);
	rc = pause_guest(s, &t_pause);
	if (rc)
		return rc;
	t_paused = clock_now_ms();
	rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
	if (!rc) {
		pthread_mutex_lock(&l->lock);
		l->prog.pass++;
		pthread_mutex_unlock(&l->lock);
		s->pass_pages = 0;
		rc = send_dirty(s, false);
		if (rc)
			wfail(s, rc);
	}
	t_pages = clock_now_ms();
	if (!rc) /* test mode only: what the destination must hold */
		live_write_checksums(vm, s->free_valid ? s->free_map : NULL, s->free_frames,
				     "source, at the hand-over");
	if (!rc)
		rc = vmstate_send(l, &s->w, s->err, sizeof(s->err));
	t_state = clock_now_ms();
	if (!rc) {
		rc = mig_put_end(&s->w);
		if (!rc)
			rc = mig_flush(&s->w);
		if (rc)
			wfail(s, rc);
	}
	if (!rc) {
		pthread_mutex_lock(&l->lock);
		l->prog.downtime_src_ms = clock_now_ms() - t_pause;
		pthread_mutex_unlock(&l->lock);
		send_update_progress(s);
		report(s, "stop-and-copy", 0);
		fprintf(stderr,
			"\rvessel: migration downtime so far: vCPUs paused in %.1f ms, last pages "
			"%.1f ms, state saved %.1f ms, stream flushed %.1f ms\r\n",
			t_paused - t_pause, t_pages - t_paused, t_state - t_pages,
			clock_now_ms() - t_state);
		set_status(s, MIG_HANDOVER);
		rc = retpath_wait_ack(&s->rp, 1,
				      (int)env_long("VESSEL_MIG_TIMEOUT_MS", ACK_TIMEOUT_MS),
				      s->err, sizeof(s->err));
	}
	if (rc) {
		vm_pause_release(vm, !l->paused_by_user);
		return rc;
	}
	/* handed over: the hold stays until the VM stops here */
	pthread_mutex_lock(&l->lock);
	l->prog.downtime_ms = clock_now_ms() - t_pause;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

/* The dataless pages first, then pause, sync, and hand the rest to postcopy_source(). */
static int switch_to_postcopy(struct sender *s)
{
	struct vm *vm = s->l->vm;
	double t_pause, t_paused;
	uint64_t dirty;
	unsigned pass;
	int rc;

	rc = postcopy_prepare(s);
	if (rc)
		return wfail(s, rc);
	/* as before a stop-and-copy: the destination takes all of it in first */
	pthread_mutex_lock(&s->l->lock);
	pass = ++s->l->prog.pass;
	pthread_mutex_unlock(&s->l->lock);
	rc = mig_put_pass(&s->w, pass, s->pass_pages, 0);
	if (!rc)
		rc = mig_flush(&s->w);
	if (rc)
		return wfail(s, rc);
	rc = retpath_wait_sync(&s->rp, pass, (int)env_long("VESSEL_MIG_TIMEOUT_MS", ACK_TIMEOUT_MS),
			       s->err, sizeof(s->err));
	if (rc)
		return rc;
	/*
	 * The SYNC came over the main connection, so the destination admitted
	 * it and took in the CHANNEL record: a second connection made before
	 * could have been admitted in the main one's place.
	 */
	if (s->announced && !s->urgent)
		s->urgent = urgent_src_start(s);
	set_status(s, MIG_STOP_COPY);
	rc = pause_guest(s, &t_pause);
	if (rc)
		return rc;
	t_paused = clock_now_ms();
	rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
	if (!rc)
		rc = postcopy_source(s, t_pause, t_paused);
	if (rc == MIG_POSTCOPY_BROKEN) {
		/* the destination ran the guest: never resume it here on our
		 * own; the operator may (see docs/migration.md, "Post-copy") */
		vm_pause_release(vm, false);
		return rc;
	}
	if (rc)
		vm_pause_release(vm, !s->l->paused_by_user);
	return rc;
}

static int run_migration(struct sender *s, const char *uri)
{
	struct vm *vm = s->l->vm;
	const char *mode = getenv("VESSEL_DIRTY_LOG");
	int rc;

	s->max_mib_s = env_long("VESSEL_MIG_MAX_MIBS", 0);
	s->timeout_ms = (int)env_long("VESSEL_MIG_TIMEOUT_MS", IO_TIMEOUT_MS);
	rc = open_stream(s, uri);
	if (rc)
		return rc;
	rc = gmem_dirty_track(&vm->mem, true); /* the VMM's own writes */
	if (rc)
		return fail(s, rc, "out of memory for the VMM's dirty-page bitmap");
	rc = dirty_start(&s->dirty, vm, !(mode && !strcmp(mode, "classic")), s->err,
			 sizeof(s->err));
	if (rc)
		return rc;
	if (s->postcopy) {
		/* everything is to be sent; the first sync only starts the log
		 * (in manual mode it reports every page once) */
		uint64_t dirty;

		rc = dirty_sync(&s->dirty, &dirty, s->err, sizeof(s->err));
		if (rc)
			return rc;
		/* the second connection comes up before the pause (below) */
		rc = postcopy_announce(s);
		if (rc)
			return wfail(s, rc);
		mark_all(s);
		return switch_to_postcopy(s);
	}
	rc = precopy(s);
	if (rc == -EINTR)
		return switch_to_postcopy(s);
	return rc ? rc : stop_and_copy(s);
}

/* A migration out ended (rc: 0 or not): into the stats counters (under lock). */
static void count_migration(struct live_counters *c, const struct mig_progress *p, int rc,
			    bool postcopy)
{
	if (rc)
		c->out_failed++;
	else
		c->out_completed++;
	c->out_postcopy += postcopy;
	c->out_pages_data += p->pages_data;
	c->out_pages_zero += p->pages_zero;
	c->out_pages_free += p->pages_free;
	c->out_pages_poisoned += p->pages_poisoned;
	c->out_requests += p->requests + p->urgent_requests;
	c->out_requests_second += p->urgent_requests;
}

static void *sender_thread(void *arg)
{
	struct sender *s = arg;
	struct live *l = s->l;
	struct mig_progress p;
	char uri[sizeof(l->prog.uri)];
	bool stopped;
	int rc;

	pthread_setname_np(pthread_self(), "mig-send"); /* for top, perf */
	pthread_mutex_lock(&l->lock);
	snprintf(uri, sizeof(uri), "%s", l->prog.uri);
	pthread_mutex_unlock(&l->lock);
	s->t_start = clock_now_ms();
	rc = run_migration(s, uri);
	send_update_progress(s);
	if (rc && s->conn.fd >= 0 && s->w.buf) {
		/* tell the destination why, if it still listens */
		s->w.len = 0;
		s->w.run_n = 0;
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
	urgent_src_stop(s, s->urgent); /* post-copy's second connection, if any */
	s->urgent = NULL;
	if (s->conn.fd >= 0)
		shutdown(s->conn.fd, SHUT_RDWR); /* the return channel's read ends */
	retpath_stop(&s->rp);
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
	} else if (rc == MIG_POSTCOPY_BROKEN) {
		l->prog.status = MIG_FAILED;
		snprintf(l->prog.error, sizeof(l->prog.error),
			 "post-copy broke after the destination ran the VM: %.400s", s->err);
		snprintf(l->summary, sizeof(l->summary),
			 "migration to %s failed: %s; the VM stays paused here as it was at the "
			 "switch (resume it only if the destination's copy is lost: the guest "
			 "goes back to that moment)",
			 uri, l->prog.error);
	} else if (rc) {
		l->prog.status = MIG_FAILED;
		snprintf(l->prog.error, sizeof(l->prog.error), "%s",
			 s->err[0] ? s->err : strerror(-rc));
		snprintf(l->summary, sizeof(l->summary),
			 "migration to %s failed: %s; the VM keeps running here", uri,
			 l->prog.error);
	} else if (p.requests || p.status == MIG_POSTCOPY) {
		l->prog.status = MIG_COMPLETED;
		snprintf(l->summary, sizeof(l->summary),
			 "migrated to %s with post-copy: %.1f MiB (%llu bytes) in %.0f ms (%.0f "
			 "MiB/s), paused %.1f ms until the destination ran the VM, then %llu pages "
			 "followed, %llu asked for by the destination (%llu over the second "
			 "connection); %llu poisoned pages sent as POISONED, %llu free pages sent "
			 "as FREE, sender CPU %.0f ms",
			 uri, p.bytes / 1048576.0, (unsigned long long)p.bytes, p.elapsed_ms,
			 p.rate_mib_s, l->prog.downtime_ms, (unsigned long long)p.postcopy_pages,
			 (unsigned long long)(p.requests + p.urgent_requests),
			 (unsigned long long)p.urgent_requests,
			 (unsigned long long)p.pages_poisoned, (unsigned long long)p.pages_free,
			 p.cpu_ms);
	} else {
		l->prog.status = MIG_COMPLETED;
		snprintf(
			l->summary, sizeof(l->summary),
			"migrated to %s: %u passes, %.1f MiB (%llu bytes) in %.0f ms (%.0f MiB/s), "
			"downtime %.1f ms (stream sent after %.1f ms), %llu poisoned pages sent as "
			"POISONED, %llu free pages sent as FREE, sender CPU %.0f ms",
			uri, p.pass, p.bytes / 1048576.0, (unsigned long long)p.bytes, p.elapsed_ms,
			p.rate_mib_s, l->prog.downtime_ms, l->prog.downtime_src_ms,
			(unsigned long long)p.pages_poisoned, (unsigned long long)p.pages_free,
			p.cpu_ms);
	}
	count_migration(&l->cnt, &p, rc, !rc && (p.requests || p.status == MIG_POSTCOPY));
	pthread_mutex_unlock(&l->lock);
	vm_log(l->vm, "%s", l->summary);
	if (!rc)
		vm_stop(l->vm, 0, "%s", l->summary); /* hand-over: the destination runs it */
	free(s->free_map);
	free(s);
	return NULL;
}

/* The rest of live_migrate_start(): start the sender thread (owns tls then). */
static int start_sender(struct live *l, const struct live_migrate_args *a,
			struct mig_tls_creds *tls, char *err, size_t errlen)
{
	const char *uri = a->uri;
	struct sender *s;
	int rc;

	pthread_mutex_lock(&l->lock);
	if (l->prog.status >= MIG_SETUP && l->prog.status <= MIG_POSTCOPY) {
		pthread_mutex_unlock(&l->lock);
		snprintf(err, errlen, "a migration to %s is already in progress", l->prog.uri);
		return -EBUSY;
	}
	if (l->prog.status == MIG_COMPLETED) {
		pthread_mutex_unlock(&l->lock);
		snprintf(err, errlen, "this VM was already migrated to %s", l->prog.uri);
		return -EALREADY;
	}
	if (pcd_active(l)) {
		pthread_mutex_unlock(&l->lock);
		snprintf(err, errlen,
			 "this VM is still arriving here (post-copy): it can migrate once all "
			 "of its pages are in");
		return -EBUSY;
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
	s->postcopy = a->postcopy;
	s->max_downtime_ms = a->max_downtime_ms;
	snprintf(s->uri, sizeof(s->uri), "%s", uri);
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
	l->postcopy_req = false;
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

/* the secure domain reads its memory without faults the destination could serve */
static const char no_postcopy_why[] =
	"post-copy is not supported for a VM with --integrity (its secure domain's "
	"memory must all be there before it runs): use pre-copy";

int live_migrate_start(struct live *l, const struct live_migrate_args *args, char *err,
		       size_t errlen)
{
	const char *uri = args->uri;
	struct mig_tls_creds *tls = NULL;
	struct net_addr a;
	int rc;

	rc = net_parse_uri(uri, &a, err, errlen);
	if (rc)
		return rc;
	if (args->postcopy && l->vm->nr_ro) {
		snprintf(err, errlen, "%s", no_postcopy_why);
		return -ENOTSUP;
	}
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
	rc = start_sender(l, args, tls, err, errlen);
	if (rc)
		mig_tls_creds_free(tls);
	return rc;
}

int live_migrate_start_postcopy(struct live *l, char *err, size_t errlen)
{
	int rc = 0;

	if (l->vm->nr_ro) {
		snprintf(err, errlen, "%s", no_postcopy_why);
		return -ENOTSUP;
	}
	pthread_mutex_lock(&l->lock);
	if (l->prog.status == MIG_SETUP || l->prog.status == MIG_PRECOPY)
		__atomic_store_n(&l->postcopy_req, true, __ATOMIC_RELEASE);
	else if (l->prog.status >= MIG_STOP_COPY && l->prog.status <= MIG_POSTCOPY)
		rc = -EALREADY, snprintf(err, errlen, "the migration to %s is past pre-copy (%s)",
					 l->prog.uri, mig_status_name(l->prog.status));
	else
		rc = -ENOENT, snprintf(err, errlen, "no migration is running");
	pthread_mutex_unlock(&l->lock);
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
