// SPDX-License-Identifier: MIT
/* Cross-CPU calls and TLB shootdowns, shared-memory part (see shootdown.h). */
#include <stddef.h>
#include "lib/shootdown.h"

/* ---- the layouts, held at compile time ---- */

_Static_assert(sizeof(struct sd_flush_info) == 32, "flush info is half a line");
_Static_assert(sizeof(struct sd_csd) == SD_LINE, "an entry is one line");
_Static_assert(offsetof(struct sd_csd, fi) + sizeof(struct sd_flush_info) <= SD_LINE,
	       "consolidated: the flush info lies in the entry's line");
_Static_assert(sizeof(struct sd_queue) == SD_LINE, "a queue head is one line");
_Static_assert(offsetof(struct sd_queue, lazy) / SD_LINE ==
		       offsetof(struct sd_queue, head) / SD_LINE,
	       "consolidated: the lazy indicator shares the queue head's line");
_Static_assert(sizeof(struct sd_tlbstate) == SD_LINE, "a CPU's TLB state is one line");
_Static_assert(offsetof(struct sd_tlbstate, lazy) < SD_LINE,
	       "split: the lazy indicator lies in the TLB-state line");
_Static_assert(offsetof(struct sd_cfd, fi) % SD_LINE == 0 &&
		       offsetof(struct sd_cfd, fi) >= sizeof(struct sd_csd) * SD_MAX_CPUS,
	       "split: the flush record has a line of its own, after the entries");
_Static_assert(offsetof(struct sd_sys, q) % SD_LINE == 0 &&
		       offsetof(struct sd_sys, ts) % SD_LINE == 0 &&
		       offsetof(struct sd_sys, cfd) % SD_LINE == 0 &&
		       offsetof(struct sd_sys, st) % SD_LINE == 0,
	       "per-CPU arrays start on a line");
_Static_assert(sizeof(struct sd_mm) == 16, "an address space's part fits a line");
_Static_assert(SD_MAX_CPUS <= 64, "cpumask is 64 bits");
_Static_assert(offsetof(struct sd_sys, run) % SD_LINE == 0, "run lists start on a line");

/* ---- traced accessors ---- */

static void touch(struct sd_sys *s, int self, const volatile void *p)
{
	struct sd_trace *t = __atomic_load_n(&s->trace, __ATOMIC_RELAXED);
	struct sd_trace_cpu *c;
	uintptr_t line = (uintptr_t)p / SD_LINE;

	if (!t)
		return;
	c = &t->cpu[self];
	for (uint32_t i = 0; i < c->n; i++) {
		if (c->line[i] == line)
			return;
	}
	if (c->n < SD_TRACE_LINES)
		c->line[c->n++] = line;
	else
		c->overflow = 1;
}

#define LD(p)	    (touch(s, self, (p)), __atomic_load_n((p), __ATOMIC_ACQUIRE))
#define ST(p, v)    (touch(s, self, (p)), __atomic_store_n((p), (v), __ATOMIC_RELEASE))
#define ST_SC(p, v) (touch(s, self, (p)), __atomic_store_n((p), (v), __ATOMIC_SEQ_CST))
#define XCHG(p, v)  (touch(s, self, (p)), __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL))
#define ADD(p, v)   (touch(s, self, (p)), __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST))
#define OR(p, v)    (touch(s, self, (p)), __atomic_or_fetch((p), (v), __ATOMIC_SEQ_CST))
#define AND(p, v)   (touch(s, self, (p)), __atomic_and_fetch((p), (v), __ATOMIC_SEQ_CST))
#define CAS(p, o, n)                                                                               \
	(touch(s, self, (p)),                                                                      \
	 __atomic_compare_exchange_n((p), (o), (n), 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))

static uint32_t *lazy_of(struct sd_sys *s, int cpu)
{
	return s->layout == SD_SPLIT ? &s->ts[cpu].lazy : &s->q[cpu].lazy;
}

/* ---- setup ---- */

void sd_init(struct sd_sys *s, enum sd_layout layout, const struct sd_ops *ops, void *ctx)
{
	unsigned char *b = (unsigned char *)s;

	for (size_t i = 0; i < sizeof(*s); i++)
		b[i] = 0;
	s->layout = layout;
	s->ops = ops;
	s->ctx = ctx;
	for (int i = 0; i < SD_MAX_CPUS; i++) {
		for (int k = 0; k < SD_MAX_CPUS; k++)
			s->cfd[i].csd[k].src = (uint32_t)i;
	}
}

void sd_set_layout(struct sd_sys *s, enum sd_layout layout)
{
	for (int i = 0; i < SD_MAX_CPUS; i++) {
		uint32_t lazy = *lazy_of(s, i);

		s->q[i].lazy = 0;
		s->ts[i].lazy = 0;
		if (layout == SD_SPLIT)
			s->ts[i].lazy = lazy;
		else
			s->q[i].lazy = lazy;
	}
	__atomic_store_n(&s->layout, (int)layout, __ATOMIC_SEQ_CST);
}

const char *sd_layout_name(int layout)
{
	return layout == SD_SPLIT ? "split" : "consolidated";
}

/* ---- the call-function queue ---- */

/* Pushes c on cpu's queue. 1 if the queue was empty (the target needs a kick). */
static int enqueue(struct sd_sys *s, int self, int cpu, struct sd_csd *c)
{
	struct sd_csd *old = LD(&s->q[cpu].head);

	do {
		ST(&c->next, old);
	} while (!CAS(&s->q[cpu].head, &old, c));
	return old == NULL;
}

int sd_call_async(struct sd_sys *s, int self, int cpu, struct sd_csd *c, sd_call_fn *fn, void *arg)
{
	int kick;

	ST(&c->fn, fn);
	ST(&c->arg, arg);
	ST(&c->src, (uint32_t)self);
	ST(&c->flags, SD_CSD_BUSY);
	s->st[self].calls_sent++;
	kick = enqueue(s, self, cpu, c);
	if (kick) {
		s->st[self].kicks++;
		s->ops->kick(s, self, cpu, c);
	}
	return kick;
}

void sd_csd_wait(struct sd_sys *s, int self, struct sd_csd *c)
{
	while (LD(&c->flags) & SD_CSD_BUSY)
		s->ops->relax(s, self);
}

void sd_call(struct sd_sys *s, int self, int cpu, sd_call_fn *fn, void *arg)
{
	struct sd_csd *c = &s->cfd[self].csd[cpu];

	sd_csd_wait(s, self, c); /* our previous call to cpu may still be queued */
	sd_call_async(s, self, cpu, c, fn, arg);
	sd_csd_wait(s, self, c);
}

int sd_queue_pending(struct sd_sys *s, int self)
{
	return __atomic_load_n(&s->q[self].head, __ATOMIC_RELAXED) != NULL;
}

int sd_run_queue(struct sd_sys *s, int self)
{
	struct sd_runlist *run = &s->run[self];
	struct sd_csd *c, *next, *fifo = NULL, *last = NULL;
	int n = 0;

	if (sd_queue_pending(s, self)) {
		c = XCHG(&s->q[self].head, NULL);
		/* the queue is last-in first-out: reverse it */
		for (; c; c = next) {
			next = LD(&c->next);
			ST(&c->next, fifo);
			if (!fifo)
				last = c;
			fifo = c;
		}
		if (run->tail)
			ST(&run->tail->next, fifo);
		else
			run->head = fifo;
		run->tail = last;
	}
	while ((c = run->head)) {
		sd_call_fn *fn = LD(&c->fn);

		/* unlinked before it runs: the entry is the sender's again after the ack */
		run->head = LD(&c->next);
		if (!run->head)
			run->tail = NULL;
		fn(s, self, c);
		ST(&c->flags, 0u); /* the acknowledgement */
		n++;
	}
	s->st[self].calls_run += (uint64_t)n;
	return n;
}

/* ---- TLB state ---- */

struct sd_mm *sd_loaded_mm(struct sd_sys *s, int cpu)
{
	return __atomic_load_n(&s->ts[cpu].loaded_mm, __ATOMIC_ACQUIRE);
}

int sd_is_lazy(struct sd_sys *s, int cpu)
{
	return (int)__atomic_load_n(lazy_of(s, cpu), __ATOMIC_ACQUIRE);
}

/*
 * Brings CPU self, which has the address space loaded, to its generation
 * `gen`, the one the change of [start, end) made: nothing if it is there
 * already, the range if that change is the only one it missed, everything
 * otherwise.
 *
 * It reads nothing of the address space itself. A target that read the
 * space's current generation (to catch up with changes made after this
 * one as well, as Linux's flush_tlb_func does) would pull the line the
 * initiator has just written, and which it writes again at its next
 * shootdown, away from it: two more line transfers on every round trip's
 * critical path. The later changes come with requests of their own, or
 * find this CPU lazy and are caught up with when it leaves lazy mode.
 */
static void flush_to(struct sd_sys *s, int self, uint64_t gen, uint64_t start, uint64_t end)
{
	struct sd_tlbstate *ts = &s->ts[self];
	uint64_t local = LD(&ts->loaded_gen);

	if (local >= gen) {
		s->st[self].flush_uptodate++;
		return;
	}
	if (gen == local + 1 && end != SD_FLUSH_ALL && end > start &&
	    (end - start) / 4096 <= SD_RANGE_MAX) {
		s->ops->flush(s, self, start, end);
		s->st[self].flush_range++;
	} else {
		s->ops->flush(s, self, 0, SD_FLUSH_ALL);
		s->st[self].flush_full++;
	}
	ST(&ts->loaded_gen, gen);
}

static void flush_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	struct sd_flush_info *f = LD(&c->arg);
	struct sd_mm *mm = LD(&f->mm);

	if (LD(&s->ts[self].loaded_mm) != mm) {
		s->st[self].flush_notloaded++; /* switched away since: loading it flushes */
		return;
	}
	flush_to(s, self, LD(&f->gen), LD(&f->start), LD(&f->end));
}

int sd_csd_is_flush(const struct sd_csd *c)
{
	return c->fn == flush_fn;
}

static void fill_info(struct sd_sys *s, int self, struct sd_flush_info *f, struct sd_mm *mm,
		      uint64_t start, uint64_t end, uint64_t gen)
{
	ST(&f->mm, mm);
	ST(&f->start, start);
	ST(&f->end, end);
	ST(&f->gen, gen);
}

int sd_shootdown(struct sd_sys *s, int self, struct sd_mm *mm, uint64_t start, uint64_t end)
{
	struct sd_cfd *cfd = &s->cfd[self];
	uint64_t gen, mask, sent = 0;
	int split = s->layout == SD_SPLIT, n = 0;

	/* after the page-table change, before looking at who holds mm */
	gen = ADD(&mm->gen, 1);
	mask = LD(&mm->cpumask);
	if (LD(&s->ts[self].loaded_mm) == mm && !LD(lazy_of(s, self)))
		flush_to(s, self, gen, start, end);
	mask &= ~(1ull << self);
	if (!mask)
		return 0;
	if (split)
		fill_info(s, self, &cfd->fi, mm, start, end, gen);
	for (int cpu = 0; cpu < SD_MAX_CPUS; cpu++) {
		struct sd_csd *c = &cfd->csd[cpu];

		if (!(mask & (1ull << cpu)))
			continue;
		if (LD(lazy_of(s, cpu))) {
			s->st[self].lazy_skipped++; /* it flushes when it leaves lazy mode */
			continue;
		}
		sd_csd_wait(s, self, c);
		if (!split)
			fill_info(s, self, &c->fi, mm, start, end, gen);
		if (sd_call_async(s, self, cpu, c, flush_fn, split ? &cfd->fi : &c->fi))
			s->st[self].shootdown_kicks++;
		sent |= 1ull << cpu;
		n++;
	}
	if (!n)
		return 0;
	s->st[self].shootdowns++;
	s->st[self].shootdown_calls += (uint64_t)n;
	for (int cpu = 0; cpu < SD_MAX_CPUS; cpu++) {
		if (sent & (1ull << cpu))
			sd_csd_wait(s, self, &cfd->csd[cpu]);
	}
	return n;
}

/* CPU self lets go of the address space it has loaded (if it is mm). */
static void drop(struct sd_sys *s, int self, struct sd_mm *mm)
{
	struct sd_tlbstate *ts = &s->ts[self];

	if (LD(&ts->loaded_mm) != mm)
		return;
	s->ops->load(s, self, NULL);
	AND(&mm->cpumask, ~(1ull << self));
	ST(&ts->loaded_mm, (struct sd_mm *)NULL);
	ST(lazy_of(s, self), 0u);
}

static void drop_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	drop(s, self, LD(&c->arg));
}

void sd_release(struct sd_sys *s, int self, struct sd_mm *mm)
{
	struct sd_cfd *cfd = &s->cfd[self];
	uint64_t mask, sent = 0;

	drop(s, self, mm);
	mask = LD(&mm->cpumask) & ~(1ull << self);
	for (int cpu = 0; cpu < SD_MAX_CPUS; cpu++) {
		if (!(mask & (1ull << cpu)))
			continue;
		sd_csd_wait(s, self, &cfd->csd[cpu]);
		sd_call_async(s, self, cpu, &cfd->csd[cpu], drop_fn, mm);
		sent |= 1ull << cpu;
	}
	for (int cpu = 0; cpu < SD_MAX_CPUS; cpu++) {
		if (sent & (1ull << cpu))
			sd_csd_wait(s, self, &cfd->csd[cpu]);
	}
}

void sd_switch_mm(struct sd_sys *s, int self, struct sd_mm *mm)
{
	struct sd_tlbstate *ts = &s->ts[self];
	struct sd_mm *prev = LD(&ts->loaded_mm);
	uint32_t *lazy = lazy_of(s, self);
	uint64_t gen;

	if (!mm) {
		if (prev && !LD(lazy))
			ST(lazy, 1u); /* keep prev loaded; shootdowns skip us */
		return;
	}
	if (mm == prev) {
		if (!LD(lazy))
			return;
		/* leaving lazy mode: catch up with the shootdowns that skipped us */
		ST_SC(lazy, 0u);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		gen = LD(&mm->gen);
		if (LD(&ts->loaded_gen) < gen) {
			s->ops->flush(s, self, 0, SD_FLUSH_ALL);
			ST(&ts->loaded_gen, gen);
			s->st[self].lazy_catchups++;
		}
		return;
	}
	if (prev)
		AND(&prev->cpumask, ~(1ull << self));
	OR(&mm->cpumask, 1ull << self); /* before reading the generation */
	gen = LD(&mm->gen);
	s->ops->load(s, self, mm); /* a fresh TLB for mm: every change up to gen is in */
	ST(&ts->loaded_mm, mm);
	ST(&ts->loaded_gen, gen);
	if (LD(lazy))
		ST(lazy, 0u);
}

/* ---- naming lines for the lines-touched report ---- */

static char *put(char *p, char *end, const char *str)
{
	while (*str && p < end)
		*p++ = *str++;
	return p;
}

static char *put_num(char *p, char *end, unsigned v)
{
	char tmp[12];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

/* index of the element of base[count] (each `size` bytes) holding line, or -1 */
static int index_of(const void *base, size_t size, int count, uintptr_t line)
{
	uintptr_t a = (uintptr_t)base;

	for (int i = 0; i < count; i++) {
		uintptr_t lo = (a + (size_t)i * size) / SD_LINE;
		uintptr_t hi = (a + (size_t)(i + 1) * size - 1) / SD_LINE;

		if (line >= lo && line <= hi)
			return i;
	}
	return -1;
}

char *sd_line_name(const struct sd_sys *s, uintptr_t line, char *buf, unsigned size)
{
	char *p = buf, *end = buf + (size ? size - 1 : 0);
	int i;

	if (!size)
		return buf;
	if ((i = index_of(s->q, sizeof(s->q[0]), SD_MAX_CPUS, line)) >= 0) {
		p = put_num(put(p, end, "queue["), end, (unsigned)i);
		p = put(p, end, "]");
	} else if ((i = index_of(s->ts, sizeof(s->ts[0]), SD_MAX_CPUS, line)) >= 0) {
		p = put_num(put(p, end, "tlbstate["), end, (unsigned)i);
		p = put(p, end, "]");
	} else if ((i = index_of(s->cfd, sizeof(s->cfd[0]), SD_MAX_CPUS, line)) >= 0) {
		const struct sd_cfd *c = &s->cfd[i];
		int k = index_of(c->csd, sizeof(c->csd[0]), SD_MAX_CPUS, line);

		if (k >= 0) {
			p = put_num(put(p, end, "csd["), end, (unsigned)i);
			p = put_num(put(p, end, "->"), end, (unsigned)k);
		} else {
			p = put_num(put(p, end, "flush["), end, (unsigned)i);
		}
		p = put(p, end, "]");
	} else {
		p = put(p, end, "mm/other");
	}
	*p = 0;
	return buf;
}
