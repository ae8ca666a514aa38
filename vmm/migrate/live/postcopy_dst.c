// SPDX-License-Identifier: MIT
/*
 * Post-copy, the destination's side (see incoming.h and docs/migration.md).
 *
 * At POSTCOPY the destination knows which pages are still at the source
 * (PENDING). It punches them out of the memfd (what pre-copy put there is
 * stale), registers guest RAM with a userfaultfd in MISSING mode and lets
 * the VM run. Two threads then:
 *
 *   the fault thread   a vCPU (through KVM) or the VMM touches a page that is
 *                      not in the memfd: a pending page is asked for
 *                      (REQUEST) and the toucher waits for it; any other hole
 *                      (zero or free at the source) gets a zero page at once
 *   the receiver       the rest of the stream: pages installed with
 *                      UFFDIO_COPY (which wakes whoever waits), ZERO with
 *                      UFFDIO_ZEROPAGE, POISONED with UFFDIO_POISON (the
 *                      toucher gets its machine check, as in pre-copy);
 *                      at END every page is here: unregister, ACK, done
 *
 * A pending bit is cleared only after its page is installed, so the fault
 * thread never zero-fills a page whose data is on its way. If the stream
 * breaks, the VM cannot go on: it is stopped (exit status 1), and the pages
 * that will never come are poisoned so that nothing stays blocked on them.
 * The latency of each fault that had to be asked for (from the fault thread
 * reading it to the page installed) is recorded for the summary.
 */
#include "migrate/live/incoming.h"

#include "core/memerr.h"
#include "core/poison.h"
#include "core/uffd.h"
#include "migrate/net.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAULT_BATCH   16    /* fault messages read at once */
#define OUT_SLOTS     4096u /* requests in flight whose latency is measured */
#define LAT_MAX	      (1u << 20)
#define SOCKBUF	      (128u << 10) /* see POSTCOPY_SOCKBUF in postcopy_src.c */
#define LAST_PAGES_MS 10000	   /* after END, for pages on the second connection */

struct postcopy_dst {
	struct rx *rx;
	int uffd, stop_efd;
	uint64_t *pending;    /* bit per frame: content still at the source (atomic) */
	uint64_t *requested;  /* bit per frame: asked for (atomic) */
	uint64_t total, left; /* pending pages; of which not installed (atomic) */
	bool running, failed; /* (atomic) */
	pthread_t fault_thread, recv_thread;
	bool fault_alive, recv_alive;
	double t_run; /* when the VM was let run (clock_now_ms) */
	/* faults */
	uint64_t faults_asked, faults_zero, faults_late; /* late: installed meanwhile */
	/* latency of asked-for faults */
	pthread_mutex_t lat_lock;
	struct {
		uint64_t pfn1; /* pfn + 1; 0: free slot */
		double t;
	} out[OUT_SLOTS];
	double *lat;
	size_t nlat;
};

static bool test_bit(const uint64_t *map, uint64_t i)
{
	return __atomic_load_n(&map[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) & 1;
}

/* Set bit i; whether it was clear. */
static bool set_bit_once(uint64_t *map, uint64_t i)
{
	uint64_t m = 1ull << (i % 64);

	return !(__atomic_fetch_or(&map[i / 64], m, __ATOMIC_ACQ_REL) & m);
}

/* Clear bit i; whether it was set. */
static bool clear_bit_once(uint64_t *map, uint64_t i)
{
	uint64_t m = 1ull << (i % 64);

	return __atomic_fetch_and(&map[i / 64], ~m, __ATOMIC_ACQ_REL) & m;
}

/* ---- latency of the faults that were asked for ---- */

static void lat_start(struct postcopy_dst *pc, uint64_t pfn)
{
	pthread_mutex_lock(&pc->lat_lock);
	for (unsigned i = 0, h = (unsigned)(pfn * 2654435761u) % OUT_SLOTS; i < OUT_SLOTS;
	     i++, h = (h + 1) % OUT_SLOTS) {
		if (!pc->out[h].pfn1) {
			pc->out[h].pfn1 = pfn + 1;
			pc->out[h].t = clock_now_ms();
			break;
		}
	}
	pthread_mutex_unlock(&pc->lat_lock);
}

static void lat_end(struct postcopy_dst *pc, uint64_t pfn)
{
	double t = clock_now_ms();

	pthread_mutex_lock(&pc->lat_lock);
	for (unsigned i = 0, h = (unsigned)(pfn * 2654435761u) % OUT_SLOTS; i < OUT_SLOTS;
	     i++, h = (h + 1) % OUT_SLOTS) {
		if (!pc->out[h].pfn1)
			break;
		if (pc->out[h].pfn1 == pfn + 1) {
			if (pc->lat && pc->nlat < LAT_MAX)
				pc->lat[pc->nlat++] = t - pc->out[h].t;
			/* remove, keeping the probe chains whole: re-insert the rest */
			pc->out[h].pfn1 = 0;
			for (unsigned j = (h + 1) % OUT_SLOTS; pc->out[j].pfn1;
			     j = (j + 1) % OUT_SLOTS) {
				uint64_t p1 = pc->out[j].pfn1;
				double tj = pc->out[j].t;
				unsigned k = (unsigned)((p1 - 1) * 2654435761u) % OUT_SLOTS;

				pc->out[j].pfn1 = 0;
				while (pc->out[k].pfn1)
					k = (k + 1) % OUT_SLOTS;
				pc->out[k].pfn1 = p1;
				pc->out[k].t = tj;
			}
			break;
		}
	}
	pthread_mutex_unlock(&pc->lat_lock);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * "p50 0.21 ms, p90 ..., max ..." of the recorded latencies, or "none asked
 * for"; with the counts, into live's stats counters (ok: it completed).
 */
static void lat_summary(struct postcopy_dst *pc, bool ok, uint64_t second, char *out, size_t len)
{
	struct live *l = pc->rx->l;
	struct live_counters *c = &l->cnt;
	double *v = pc->lat;
	size_t n;

	pthread_mutex_lock(&pc->lat_lock); /* after a failure, pages may still come */
	n = pc->nlat;
	if (n)
		qsort(v, n, sizeof(*v), cmp_double);
	pthread_mutex_lock(&l->lock);
	c->in_completed += ok;
	c->in_failed += !ok;
	c->in_pages += pc->total - __atomic_load_n(&pc->left, __ATOMIC_ACQUIRE);
	c->in_pages_second += second;
	c->in_faults_waited += n;
	c->in_faults_zero += pc->faults_zero;
	c->in_repoisoned += __atomic_load_n(&pc->rx->repoisoned, __ATOMIC_RELAXED);
	c->in_lat_p50_ms = n ? v[n / 2] : -1;
	c->in_lat_p99_ms = n ? v[n * 99 / 100] : -1;
	c->in_lat_max_ms = n ? v[n - 1] : -1;
	pthread_mutex_unlock(&l->lock);
	if (!n) {
		pthread_mutex_unlock(&pc->lat_lock);
		snprintf(out, len, "no fault had to wait for the source");
		return;
	}
	snprintf(out, len,
		 "%zu faults waited for the source: latency p50 %.2f ms, p90 %.2f ms, p99 %.2f "
		 "ms, max %.2f ms",
		 n, v[n / 2], v[n * 9 / 10], v[n * 99 / 100], v[n - 1]);
	pthread_mutex_unlock(&pc->lat_lock);
}

/* ---- installing pages ---- */

/* Page pfn is in (installed now, or found there): no longer pending. */
static void installed(struct postcopy_dst *pc, uint64_t pfn)
{
	if (clear_bit_once(pc->pending, pfn))
		__atomic_fetch_sub(&pc->left, 1, __ATOMIC_ACQ_REL);
	if (clear_bit_once(pc->requested, pfn))
		lat_end(pc, pfn);
}

int pcd_data(struct rx *rx, uint64_t gpa, uint32_t npages, const uint8_t *data, char *err,
	     size_t errlen)
{
	struct postcopy_dst *pc = rx->pc;
	uint8_t *host = gmem_ptr(&rx->l->vm->mem, gpa, (uint64_t)npages * MIG_PAGE_SIZE);
	uint64_t pfn = gpa / MIG_PAGE_SIZE;
	uint32_t i = 0;

	if (!host) {
		snprintf(err, errlen, "%u pages from %#llx: not guest RAM in this VM", npages,
			 (unsigned long long)gpa);
		return -ERANGE;
	}
	for (uint32_t k = 0; k < npages; k++) {
		if (memerr_is_poisoned(rx->l->vm, gpa + (uint64_t)k * MIG_PAGE_SIZE)) {
			snprintf(err, errlen,
				 "DATA for page %#llx, which the source reported poisoned before",
				 (unsigned long long)(gpa + (uint64_t)k * MIG_PAGE_SIZE));
			return -EPROTO;
		}
	}
	while (i < npages) {
		size_t done;
		int rc = uffd_copy(pc->uffd, host + (size_t)i * MIG_PAGE_SIZE,
				   data + (size_t)i * MIG_PAGE_SIZE,
				   (size_t)(npages - i) * MIG_PAGE_SIZE, &done);

		for (uint32_t k = 0; k < done / MIG_PAGE_SIZE; k++)
			installed(pc, pfn + i + k);
		i += (uint32_t)(done / MIG_PAGE_SIZE);
		if (rc == -EEXIST) { /* there already (sent twice) */
			installed(pc, pfn + i);
			i++;
		} else if (rc && rc != -EAGAIN) {
			snprintf(err, errlen, "installing page %#llx: %s",
				 (unsigned long long)(gpa + (uint64_t)i * MIG_PAGE_SIZE),
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int pcd_page(struct rx *rx, uint64_t gpa, uint32_t kind, char *err, size_t errlen)
{
	struct postcopy_dst *pc = rx->pc;
	uint8_t *host = gmem_ptr(&rx->l->vm->mem, gpa, MIG_PAGE_SIZE);
	int rc;

	if (!host) {
		snprintf(err, errlen, "page %#llx: not guest RAM in this VM",
			 (unsigned long long)gpa);
		return -ERANGE;
	}
	if (kind == MIG_PAGE_POISONED) {
		rc = uffd_poison_range(pc->uffd, host, MIG_PAGE_SIZE);
		if (rc && rc != -EEXIST) {
			snprintf(err, errlen, "poisoning page %#llx: %s", (unsigned long long)gpa,
				 strerror(-rc));
			return rc;
		}
		if (rc == 0) { /* EEXIST: the page came already, healthy */
			memerr_record(rx->l->vm, gpa);
			__atomic_fetch_add(&rx->repoisoned, 1, __ATOMIC_RELAXED);
		}
	} else { /* ZERO, FREE: nothing to keep, a zero page for whoever waits */
		rc = uffd_zeropage(pc->uffd, host, MIG_PAGE_SIZE);
		if (rc && rc != -EEXIST) {
			snprintf(err, errlen, "zero page at %#llx: %s", (unsigned long long)gpa,
				 strerror(-rc));
			return rc;
		}
	}
	installed(pc, gpa / MIG_PAGE_SIZE);
	return 0;
}

/* ---- the fault thread ---- */

static void on_fault(struct postcopy_dst *pc, uint64_t addr)
{
	struct vm *vm = pc->rx->l->vm;
	uint8_t *hva = (uint8_t *)(uintptr_t)(addr & ~(uint64_t)(MIG_PAGE_SIZE - 1));
	uint64_t gpa = memerr_hva_to_gpa(vm, hva), pfn = gpa / MIG_PAGE_SIZE;

	if (gpa == UINT64_MAX)
		return; /* not guest RAM: cannot be ours */
	if (test_bit(pc->pending, pfn)) {
		if (__atomic_load_n(&pc->failed, __ATOMIC_ACQUIRE)) {
			/* it will never come: nothing may wait on it */
			uffd_poison_range(pc->uffd, hva, MIG_PAGE_SIZE);
			return;
		}
		if (set_bit_once(pc->requested, pfn)) {
			lat_start(pc, pfn);
			pc->faults_asked++;
			/* a broken main stream: the receiver sees it */
			if (urgent_dst_request(pc->rx->urgent, gpa, 1))
				rx_send_request(pc->rx, gpa, 1);
		}
		return;
	}
	if (uffd_zeropage(pc->uffd, hva, MIG_PAGE_SIZE) == -EEXIST)
		pc->faults_late++; /* installed since (the installer woke it) */
	else
		pc->faults_zero++;
}

static void *fault_thread(void *arg)
{
	struct postcopy_dst *pc = arg;
	struct uffd_msg msg[FAULT_BATCH];
	struct pollfd fds[2] = { { pc->uffd, POLLIN, 0 }, { pc->stop_efd, POLLIN, 0 } };

	pthread_setname_np(pthread_self(), "mig-faults");
	for (;;) {
		ssize_t n;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		n = read(pc->uffd, msg, sizeof(msg));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(msg[0]); i++)
			if (msg[i].event == UFFD_EVENT_PAGEFAULT)
				on_fault(pc, msg[i].arg.pagefault.address);
	}
	return NULL;
}

/* ---- start, the receiver thread, the end ---- */

static void unregister_all(struct postcopy_dst *pc)
{
	const struct gmem *m = &pc->rx->l->vm->mem;

	for (unsigned i = 0; i < m->nr_regions; i++)
		uffd_unregister(pc->uffd, m->regions[i].host, m->regions[i].size);
}

static void stop_fault_thread(struct postcopy_dst *pc)
{
	uint64_t one = 1;

	if (!pc->fault_alive)
		return;
	if (write(pc->stop_efd, &one, sizeof(one)) != sizeof(one))
		pthread_cancel(pc->fault_thread);
	pthread_join(pc->fault_thread, NULL);
	pc->fault_alive = false;
}

/* The stream broke: the VM cannot go on. Stop it; release every waiter. */
static void broken(struct postcopy_dst *pc, const char *why)
{
	struct rx *rx = pc->rx;
	const struct gmem *m = &rx->l->vm->mem;
	uint64_t left = __atomic_load_n(&pc->left, __ATOMIC_ACQUIRE);

	__atomic_store_n(&pc->failed, true, __ATOMIC_RELEASE);
	vm_stop(rx->l->vm, 1,
		"incoming post-copy migration failed: %s; %llu pages never arrived, so the VM "
		"cannot go on here (the source keeps its copy as of the switch)",
		why, (unsigned long long)left);
	for (unsigned i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->regions[i];

		for (uint64_t p = 0; p < r->size / MIG_PAGE_SIZE; p++)
			if (test_bit(pc->pending, r->gpa / MIG_PAGE_SIZE + p))
				uffd_poison_range(pc->uffd, r->host + p * MIG_PAGE_SIZE,
						  MIG_PAGE_SIZE);
	}
}

/*
 * END came over the main connection; pages asked for over the second one
 * may still be on their way. Wait for them (re-asking on the main
 * connection, which the source serves until our last ACK). 0, or -ETIMEDOUT.
 */
static int wait_last_pages(struct postcopy_dst *pc, char *err, size_t errlen)
{
	uint64_t words = (pc->rx->npages + 63) / 64, left = 0;

	for (unsigned t = 0; t < LAST_PAGES_MS; t++) {
		left = __atomic_load_n(&pc->left, __ATOMIC_ACQUIRE);
		if (!left)
			return 0;
		if (t % 200 == 199)
			for (uint64_t w = 0; w < words; w++) {
				uint64_t b = __atomic_load_n(&pc->pending[w], __ATOMIC_ACQUIRE) &
					     __atomic_load_n(&pc->requested[w], __ATOMIC_ACQUIRE);

				for (; b; b &= b - 1)
					rx_send_request(pc->rx,
							(w * 64 + (uint64_t)__builtin_ctzll(b)) *
								MIG_PAGE_SIZE,
							1);
			}
		usleep(1000);
	}
	snprintf(err, errlen, "END came, and %llu pages still had not %d ms later",
		 (unsigned long long)left, LAST_PAGES_MS);
	return -ETIMEDOUT;
}

static void *recv_thread(void *arg)
{
	struct postcopy_dst *pc = arg;
	struct rx *rx = pc->rx;
	double cpu0;
	char err[512], lat[160];
	uint64_t urgent;
	int rc;

	pthread_setname_np(pthread_self(), "mig-recv");
	cpu0 = clock_thread_cpu_ms();
	rc = mig_recv_run(&rx->rv, &rx->r, err, sizeof(err));
	if (rc == 0)
		rc = wait_last_pages(pc, err, sizeof(err));
	if (rc) {
		broken(pc, err);
		lat_summary(pc, false, urgent_dst_pages(rx->urgent), lat, sizeof(lat));
		return NULL;
	}
	unregister_all(pc); /* everything is here: no more faults */
	stop_fault_thread(pc);
	rx_send_ack(rx, 0, "all pages in");
	urgent = urgent_dst_pages(rx->urgent);
	urgent_dst_stop(rx->urgent);
	rx->urgent = NULL;
	lat_summary(pc, true, urgent, lat, sizeof(lat));
	fprintf(stderr,
		"\rvessel: incoming post-copy migration complete: %llu pages arrived in %.0f ms "
		"while the VM ran (%llu MiB in all over %s, %llu pages over the second "
		"connection); %s; %llu faults zero-filled; %llu poisoned (re-poisoned here); "
		"receiver CPU %.0f ms\r\n",
		(unsigned long long)pc->total, clock_now_ms() - pc->t_run,
		(unsigned long long)(rx->r.bytes >> 20), rx->via, (unsigned long long)urgent, lat,
		(unsigned long long)pc->faults_zero, (unsigned long long)rx->repoisoned,
		clock_thread_cpu_ms() - cpu0);
	__atomic_store_n(&pc->running, false, __ATOMIC_RELEASE);
	return NULL;
}

static struct postcopy_dst *pc_new(struct rx *rx)
{
	struct postcopy_dst *pc = calloc(1, sizeof(*pc));
	size_t words = (rx->npages + 63) / 64;

	if (!pc)
		return NULL;
	pc->rx = rx;
	pc->uffd = pc->stop_efd = -1;
	pc->pending = calloc(words, sizeof(uint64_t));
	pc->requested = calloc(words, sizeof(uint64_t));
	pc->lat = calloc(LAT_MAX, sizeof(double));
	pthread_mutex_init(&pc->lat_lock, NULL);
	if (!pc->pending || !pc->requested) {
		free(pc->pending);
		free(pc->requested);
		free(pc->lat);
		free(pc);
		return NULL;
	}
	return pc;
}

int pcd_pending(struct rx *rx, const struct mig_record *rec, char *err, size_t errlen)
{
	uint64_t gpa = rec->u.pending.gpa, n = rec->u.pending.npages, f0 = gpa / MIG_PAGE_SIZE;
	const struct poison_set *ps = &rx->l->vm->memerr->poison;
	struct postcopy_dst *pc;

	if (!rx->pc) /* the second connection's thread reads it (pcd_running) */
		__atomic_store_n(&rx->pc, pc_new(rx), __ATOMIC_RELEASE);
	pc = rx->pc;
	if (!pc) {
		snprintf(err, errlen, "out of memory for the post-copy bitmaps");
		return -ENOMEM;
	}
	if (!gmem_ptr(&rx->l->vm->mem, gpa, n * MIG_PAGE_SIZE)) {
		snprintf(err, errlen,
			 "PENDING record for %llu pages from %#llx: not guest RAM in this VM",
			 (unsigned long long)n, (unsigned long long)gpa);
		return -ERANGE;
	}
	/* no thread looks at the bitmap yet: plain stores, a byte at a time */
	for (uint64_t i = 0; i < n; i += 8) {
		uint8_t b = rec->u.pending.bitmap[i / 8];

		while (b) {
			uint64_t f = f0 + i + (uint64_t)__builtin_ctz(b);

			b &= (uint8_t)(b - 1);
			if (!(pc->pending[f / 64] >> (f % 64) & 1)) {
				pc->pending[f / 64] |= 1ull << (f % 64);
				pc->total++;
			}
		}
	}
	/* a page the source reported poisoned has no content to wait for: it
	 * comes as POISONED again if at all */
	for (uint64_t p = poison_set_next(ps, gpa); p != POISON_NONE && p < gpa + n * MIG_PAGE_SIZE;
	     p = poison_set_next(ps, p + MIG_PAGE_SIZE)) {
		uint64_t f = p / MIG_PAGE_SIZE;

		if (pc->pending[f / 64] >> (f % 64) & 1) {
			pc->pending[f / 64] &= ~(1ull << (f % 64));
			pc->total--;
		}
	}
	return 0;
}

/* Drop what pre-copy put in the pending pages: they must fault (holes). */
static int punch_pending(struct postcopy_dst *pc, char *err, size_t errlen)
{
	const struct gmem *m = &pc->rx->l->vm->mem;

	for (unsigned i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->regions[i];
		uint64_t n = r->size / MIG_PAGE_SIZE, f0 = r->gpa / MIG_PAGE_SIZE;

		for (uint64_t p = 0; p < n;) {
			uint64_t q = p;

			if (!test_bit(pc->pending, f0 + p)) {
				p++;
				continue;
			}
			while (q < n && test_bit(pc->pending, f0 + q))
				q++;
			if (fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)(r->offset + p * MIG_PAGE_SIZE),
				      (off_t)((q - p) * MIG_PAGE_SIZE)) < 0) {
				snprintf(err, errlen, "dropping the stale pages at %#llx: %s",
					 (unsigned long long)(r->gpa + p * MIG_PAGE_SIZE),
					 strerror(errno));
				return -errno;
			}
			p = q;
		}
	}
	return 0;
}

/* Undo pcd_pending()/pcd_start(): the threads, the registration, the memory. */
static void pc_free(struct postcopy_dst *pc)
{
	if (pc->recv_alive) {
		shutdown(pc->rx->c.fd, SHUT_RDWR); /* a blocked read returns */
		pthread_join(pc->recv_thread, NULL);
	}
	stop_fault_thread(pc); /* it asks over the second connection */
	/* which installs pages with pc->uffd */
	urgent_dst_stop(pc->rx->urgent);
	pc->rx->urgent = NULL;
	if (pc->uffd >= 0) {
		unregister_all(pc);
		close(pc->uffd);
	}
	if (pc->stop_efd >= 0)
		close(pc->stop_efd);
	pthread_mutex_destroy(&pc->lat_lock);
	free(pc->pending);
	free(pc->requested);
	free(pc->lat);
	free(pc);
}

void pcd_discard(struct rx *rx)
{
	if (rx->pc)
		pc_free(rx->pc);
	rx->pc = NULL;
}

int pcd_start(struct rx *rx, char *err, size_t errlen)
{
	struct postcopy_dst *pc = rx->pc;
	const struct gmem *m = &rx->l->vm->mem;
	int rc;

	if (!pc) { /* nothing pending: post-copy of nothing */
		pc = pc_new(rx);
		__atomic_store_n(&rx->pc, pc, __ATOMIC_RELEASE);
	}
	if (!pc) {
		snprintf(err, errlen, "out of memory for the post-copy bitmaps");
		return -ENOMEM;
	}
	pc->left = pc->total;
	net_limit_buffers(rx->c.fd, SOCKBUF);
	rc = punch_pending(pc, err, errlen);
	if (rc)
		return rc;
	pc->uffd = uffd_open(err, errlen);
	if (pc->uffd < 0)
		return pc->uffd;
	for (unsigned i = 0; i < m->nr_regions; i++) {
		rc = uffd_register_missing(pc->uffd, m->regions[i].host, m->regions[i].size, err,
					   errlen);
		if (rc)
			return rc;
	}
	pc->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (pc->stop_efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -errno;
	}
	/* before the first fault can be asked for: its answer is installed */
	__atomic_store_n(&pc->running, true, __ATOMIC_RELEASE);
	rc = -pthread_create(&pc->fault_thread, NULL, fault_thread, pc);
	if (rc) {
		snprintf(err, errlen, "cannot start the fault thread: %s", strerror(-rc));
		return rc;
	}
	pc->fault_alive = true;
	pc->t_run = clock_now_ms();
	rc = rx_send_ack(rx, 0, "running, pages follow");
	if (rc) {
		snprintf(err, errlen, "cannot tell the source that the VM runs here: %s",
			 strerror(-rc));
		return rc;
	}
	rc = -pthread_create(&pc->recv_thread, NULL, recv_thread, pc);
	if (rc) {
		snprintf(err, errlen, "cannot start the receiver thread: %s", strerror(-rc));
		return rc;
	}
	pc->recv_alive = true;
	rx->l->pc = pc;
	return 0;
}

bool pcd_running(const struct rx *rx)
{
	const struct postcopy_dst *pc = __atomic_load_n(&rx->pc, __ATOMIC_ACQUIRE);

	return pc && __atomic_load_n(&pc->running, __ATOMIC_ACQUIRE);
}

uint64_t pcd_pages_left(struct live *l)
{
	return pcd_active(l) ? __atomic_load_n(&l->pc->left, __ATOMIC_ACQUIRE) : 0;
}

bool pcd_active(struct live *l)
{
	return l->pc && __atomic_load_n(&l->pc->running, __ATOMIC_ACQUIRE);
}

void pcd_stop(struct live *l)
{
	struct postcopy_dst *pc = l->pc;
	struct rx *rx;

	if (!pc)
		return;
	rx = pc->rx;
	pc_free(pc);
	rx->pc = NULL;
	rx_free(rx);
	l->pc = NULL;
}
