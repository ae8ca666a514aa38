// SPDX-License-Identifier: MIT
/*
 * Host unit tests of the cross-CPU call queues and TLB shootdown logic
 * (guest/lib/shootdown.c): queue order and acknowledgements, lazy mode and
 * its catch-up flush, generations (range, full, already up to date),
 * release of lazy CPUs, the lines each side touches in both layouts, and
 * two real threads racing shootdowns against lazy-mode switches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/shootdown.h"
#include "lib/string.h"

/* ---- a simulated machine: every CPU is this thread ---- */

struct sim {
	int kicks[SD_MAX_CPUS];
	int full[SD_MAX_CPUS], range[SD_MAX_CPUS], range_pages[SD_MAX_CPUS];
	int loads[SD_MAX_CPUS];
	struct sd_mm *loaded[SD_MAX_CPUS];
	void (*hook)(struct sd_sys *s, int self); /* runs once from the next relax */
};

static void sim_kick(struct sd_sys *s, int self, int cpu, const struct sd_csd *first)
{
	struct sim *m = s->ctx;

	(void)self;
	(void)first;
	m->kicks[cpu]++;
}

static void sim_flush(struct sd_sys *s, int self, uint64_t start, uint64_t end)
{
	struct sim *m = s->ctx;

	if (end == SD_FLUSH_ALL) {
		m->full[self]++;
	} else {
		m->range[self]++;
		m->range_pages[self] += (int)((end - start) / 4096);
	}
}

static void sim_load(struct sd_sys *s, int self, struct sd_mm *mm)
{
	struct sim *m = s->ctx;

	m->loads[self]++;
	m->loaded[self] = mm;
}

/* A waiting CPU lets every other CPU run its queue (they "take the IPI"). */
static void sim_relax(struct sd_sys *s, int self)
{
	struct sim *m = s->ctx;

	if (m->hook) {
		void (*h)(struct sd_sys *, int) = m->hook;

		m->hook = NULL;
		h(s, self);
	}
	for (int i = 0; i < SD_MAX_CPUS; i++) {
		if (i != self)
			sd_run_queue(s, i);
	}
}

static const struct sd_ops sim_ops = { sim_kick, sim_flush, sim_load, sim_relax };

static struct sd_sys *new_sys(struct sim *m, int layout)
{
	struct sd_sys *s = aligned_alloc(SD_LINE, sizeof(*s));

	assert_non_null(s);
	memset(m, 0, sizeof(*m));
	sd_init(s, layout, &sim_ops, m);
	return s;
}

/* ---- queue order and acknowledgement ---- */

static int order[32], norder;

static void record_fn(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s;
	assert_int_equal(self, 1);
	assert_true(c->flags & SD_CSD_BUSY); /* not acknowledged before it ran */
	order[norder++] = (int)(intptr_t)c->arg;
}

static void test_queue_fifo_and_ack(void **state)
{
	struct sim m;
	struct sd_sys *s = new_sys(&m, SD_CONSOLIDATED);
	static struct sd_csd c[10] __attribute__((aligned(SD_LINE)));

	(void)state;
	norder = 0;
	for (int i = 0; i < 10; i++)
		assert_int_equal(sd_call_async(s, 0, 1, &c[i], record_fn, (void *)(intptr_t)i),
				 i == 0); /* only the first finds the queue empty */
	assert_int_equal(m.kicks[1], 1);
	for (int i = 0; i < 10; i++)
		assert_true(c[i].flags & SD_CSD_BUSY);
	assert_int_equal(sd_run_queue(s, 1), 10);
	assert_int_equal(norder, 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(order[i], i); /* sent order */
		assert_false(c[i].flags & SD_CSD_BUSY);
	}
	assert_int_equal(sd_run_queue(s, 1), 0);
	/* a sync call through the sender's own entry */
	norder = 0;
	sd_call(s, 0, 1, record_fn, (void *)(intptr_t)42);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 42);
	assert_int_equal(m.kicks[1], 2);
	free(s);
}

/* ---- lazy mode ---- */

static void test_lazy_skip_and_catchup(void **state)
{
	struct sim m;
	struct sd_sys *s = new_sys(&m, SD_CONSOLIDATED);
	struct sd_mm mm = { 0, 0 };

	(void)state;
	sd_switch_mm(s, 1, &mm);
	assert_ptr_equal(m.loaded[1], &mm);
	assert_int_equal(mm.cpumask, 2);
	sd_switch_mm(s, 1, NULL); /* an idle thread: keeps mm, lazy */
	assert_true(sd_is_lazy(s, 1));
	assert_ptr_equal(sd_loaded_mm(s, 1), &mm);
	assert_int_equal(m.loads[1], 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sd_shootdown(s, 0, &mm, 0x1000, 0x2000), 0);
	assert_int_equal(m.kicks[1], 0);
	assert_int_equal(s->st[0].lazy_skipped, 3);
	assert_int_equal(m.full[1] + m.range[1], 0);
	/* back to a thread of mm: one full flush for the three it missed */
	sd_switch_mm(s, 1, &mm);
	assert_false(sd_is_lazy(s, 1));
	assert_int_equal(m.full[1], 1);
	assert_int_equal(s->st[1].lazy_catchups, 1);
	assert_int_equal(m.loads[1], 1); /* no page-table load */
	sd_switch_mm(s, 1, NULL);
	sd_switch_mm(s, 1, &mm); /* nothing missed: no flush */
	assert_int_equal(m.full[1], 1);
	/* the same in the split layout, switched with CPU 1 lazy */
	sd_switch_mm(s, 1, NULL);
	sd_set_layout(s, SD_SPLIT);
	assert_true(sd_is_lazy(s, 1));
	assert_int_equal(s->q[1].lazy, 0);
	assert_int_equal(s->ts[1].lazy, 1);
	assert_int_equal(sd_shootdown(s, 0, &mm, 0, SD_FLUSH_ALL), 0);
	sd_switch_mm(s, 1, &mm);
	assert_int_equal(m.full[1], 2);
	free(s);
}

/* ---- generations ---- */

static struct sd_mm gen_mm;

static void second_initiator(struct sd_sys *s, int self)
{
	(void)self;
	/* CPU 2 shoots down too while CPU 1 has not run CPU 0's request yet */
	assert_int_equal(sd_shootdown(s, 2, &gen_mm, 0x5000, 0x6000), 2); /* CPUs 0 and 1 */
}

static void nothing(struct sd_sys *s, int self, struct sd_csd *c)
{
	(void)s;
	(void)self;
	(void)c;
}

static void test_generations(void **state)
{
	struct sim m;
	struct sd_sys *s = new_sys(&m, SD_CONSOLIDATED);
	struct sd_mm other = { 0, 0 };

	(void)state;
	gen_mm.gen = gen_mm.cpumask = 0;
	sd_switch_mm(s, 0, &gen_mm);
	sd_switch_mm(s, 1, &gen_mm);
	/* one generation behind: only the range, on both sides */
	assert_int_equal(sd_shootdown(s, 0, &gen_mm, 0x1000, 0x3000), 1);
	assert_int_equal(m.range[0], 1);
	assert_int_equal(m.range[1], 1);
	assert_int_equal(m.range_pages[1], 2);
	assert_int_equal(s->ts[1].loaded_gen, 1);
	/* too large a range: everything */
	assert_int_equal(sd_shootdown(s, 0, &gen_mm, 0, 4096ull * (SD_RANGE_MAX + 1)), 1);
	assert_int_equal(m.full[1], 1);
	/*
	 * Two requests reach CPU 1 in the order of their generations: each is
	 * the next one, so each flushes only its range (the target does not
	 * read the space's newer generation to take both at once).
	 */
	m.hook = second_initiator;
	assert_int_equal(sd_shootdown(s, 0, &gen_mm, 0x1000, 0x2000), 1);
	assert_int_equal(gen_mm.gen, 4);
	assert_int_equal(s->ts[1].loaded_gen, 4);
	assert_int_equal(m.full[1], 1);
	assert_int_equal(m.range[1], 3);
	assert_int_equal(s->st[1].flush_uptodate, 0);
	assert_int_equal(m.range[0], 3); /* CPU 0: its own two, then CPU 2's */
	/*
	 * The other order: CPU 0's entry for CPU 1 is still busy with an
	 * earlier call, so CPU 2's request (generation 6) overtakes CPU 0's
	 * (5). Two behind: everything; then CPU 0's finds it up to date.
	 */
	sd_call_async(s, 0, 1, &s->cfd[0].csd[1], nothing, NULL);
	m.hook = second_initiator;
	assert_int_equal(sd_shootdown(s, 0, &gen_mm, 0x1000, 0x2000), 1);
	assert_int_equal(gen_mm.gen, 6);
	assert_int_equal(s->ts[1].loaded_gen, 6);
	assert_int_equal(m.full[1], 2);
	assert_int_equal(m.range[1], 3);
	assert_int_equal(s->st[1].flush_uptodate, 1);
	/* a CPU that switched away is not flushed, and is not asked any more */
	sd_switch_mm(s, 1, NULL);
	sd_switch_mm(s, 1, &other); /* another address space */
	assert_int_equal(other.cpumask, 2);
	assert_int_equal(gen_mm.cpumask, 1);
	assert_int_equal(sd_shootdown(s, 0, &gen_mm, 0, SD_FLUSH_ALL), 0);
	free(s);
}

/* ---- release ---- */

static void test_release_reaches_lazy_cpus(void **state)
{
	struct sim m;
	struct sd_sys *s = new_sys(&m, SD_SPLIT);
	struct sd_mm mm = { 0, 0 };

	(void)state;
	sd_switch_mm(s, 0, &mm);
	sd_switch_mm(s, 1, &mm);
	sd_switch_mm(s, 1, NULL); /* lazy */
	sd_switch_mm(s, 2, &mm);
	sd_release(s, 0, &mm);
	for (int i = 0; i < 3; i++) {
		assert_null(m.loaded[i]);
		assert_null(sd_loaded_mm(s, i));
		assert_false(sd_is_lazy(s, i));
	}
	assert_int_equal(mm.cpumask, 0);
	free(s);
}

/* ---- lines touched per shootdown ---- */

static int lines_of(struct sd_trace *t, int cpu)
{
	assert_int_equal(t->cpu[cpu].overflow, 0);
	return (int)t->cpu[cpu].n;
}

static void count_lines(int layout, int responders, int *initiator, int *responder)
{
	struct sim m;
	struct sd_sys *s = new_sys(&m, layout);
	struct sd_mm *mm = aligned_alloc(SD_LINE, SD_LINE);
	static struct sd_trace t;

	memset(mm, 0, SD_LINE);
	for (int i = 0; i <= responders; i++)
		sd_switch_mm(s, i, mm);
	assert_int_equal(sd_shootdown(s, 0, mm, 0x1000, 0x2000), responders); /* warm */
	memset(&t, 0, sizeof(t));
	s->trace = &t;
	assert_int_equal(sd_shootdown(s, 0, mm, 0x1000, 0x2000), responders);
	s->trace = NULL;
	*initiator = lines_of(&t, 0);
	*responder = lines_of(&t, 1);
	for (int i = 2; i <= responders; i++)
		assert_int_equal(lines_of(&t, i), *responder);
	free(mm);
	free(s);
}

static void test_lines_touched(void **state)
{
	int ci, cr, si, sr;

	(void)state;
	for (int n = 1; n <= 3; n++) {
		count_lines(SD_CONSOLIDATED, n, &ci, &cr);
		count_lines(SD_SPLIT, n, &si, &sr);
		assert_int_equal(ci, 3 + 2 * n);
		assert_int_equal(si, 3 + 3 * n);
		assert_int_equal(cr, 3);
		assert_int_equal(sr, 4);
	}
}

/* ---- two threads ---- */

#define RACE_ROUNDS 20000

struct race {
	struct sd_sys *s;
	struct sd_mm mm;
	volatile int doorbell[SD_MAX_CPUS];
	volatile uint64_t completed; /* generation of the last returned shootdown */
	volatile int stop;
	int bad;
};

static struct race race;

static void race_kick(struct sd_sys *s, int self, int cpu, const struct sd_csd *first)
{
	(void)s;
	(void)self;
	(void)first;
	__atomic_store_n(&race.doorbell[cpu], 1, __ATOMIC_RELEASE);
}

static void race_flush(struct sd_sys *s, int self, uint64_t start, uint64_t end)
{
	(void)s;
	(void)self;
	(void)start;
	(void)end;
}

static void race_load(struct sd_sys *s, int self, struct sd_mm *mm)
{
	(void)s;
	(void)self;
	(void)mm;
}

static void race_poll(struct sd_sys *s, int self)
{
	if (__atomic_exchange_n(&race.doorbell[self], 0, __ATOMIC_ACQ_REL))
		sd_run_queue(s, self);
}

static void race_relax(struct sd_sys *s, int self)
{
	__builtin_ia32_pause();
	race_poll(s, self);
}

static const struct sd_ops race_ops = { race_kick, race_flush, race_load, race_relax };

/* CPU 1: alternates between running mm's user code and lazy kernel work. */
static void *responder(void *arg)
{
	struct sd_sys *s = race.s;
	unsigned seed = 1;

	(void)arg;
	while (!__atomic_load_n(&race.stop, __ATOMIC_ACQUIRE)) {
		seed = seed * 1103515245 + 12345;
		sd_switch_mm(s, 1, (seed >> 16) % 4 ? &race.mm : NULL);
		for (int i = 0; i < 50; i++) {
			uint64_t done = __atomic_load_n(&race.completed, __ATOMIC_ACQUIRE);

			/*
			 * "user code" on CPU 1 must never use a generation older
			 * than a shootdown that has returned (a request still
			 * queued here belongs to one that has not)
			 */
			if (!sd_is_lazy(s, 1) && sd_loaded_mm(s, 1) == &race.mm &&
			    __atomic_load_n(&s->ts[1].loaded_gen, __ATOMIC_ACQUIRE) < done)
				race.bad++;
			race_poll(s, 1);
		}
	}
	return NULL;
}

static void run_race(int layout)
{
	struct sd_sys *s = aligned_alloc(SD_LINE, sizeof(*s));
	pthread_t t;
	uint64_t skipped, sent, run;

	memset(&race, 0, sizeof(race));
	race.s = s;
	sd_init(s, layout, &race_ops, NULL);
	sd_switch_mm(s, 0, &race.mm);
	sd_switch_mm(s, 1, &race.mm); /* before its thread starts */
	assert_int_equal(pthread_create(&t, NULL, responder, NULL), 0);
	for (int i = 0; i < RACE_ROUNDS; i++) {
		sd_shootdown(s, 0, &race.mm, 0x1000, 0x2000);
		__atomic_store_n(&race.completed, race.mm.gen, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	sd_run_queue(s, 1);
	skipped = s->st[0].lazy_skipped;
	sent = s->st[0].shootdown_calls;
	run = s->st[1].calls_run;
	assert_int_equal(race.bad, 0);
	assert_int_equal(skipped + sent, RACE_ROUNDS);
	assert_int_equal(run, sent);
	assert_int_equal(race.mm.gen, RACE_ROUNDS);
	free(s);
}

static void test_race_consolidated(void **state)
{
	(void)state;
	run_race(SD_CONSOLIDATED);
}

static void test_race_split(void **state)
{
	(void)state;
	run_race(SD_SPLIT);
}

static void test_line_names(void **state)
{
	struct sim m;
	struct sd_sys *s = new_sys(&m, SD_SPLIT);
	char b[32];

	(void)state;
	assert_string_equal(sd_line_name(s, (uintptr_t)&s->q[3].lazy / SD_LINE, b, sizeof(b)),
			    "queue[3]");
	assert_string_equal(sd_line_name(s, (uintptr_t)&s->ts[1] / SD_LINE, b, sizeof(b)),
			    "tlbstate[1]");
	assert_string_equal(
		sd_line_name(s, (uintptr_t)&s->cfd[0].csd[2].fi.gen / SD_LINE, b, sizeof(b)),
		"csd[0->2]");
	assert_string_equal(sd_line_name(s, (uintptr_t)&s->cfd[1].fi / SD_LINE, b, sizeof(b)),
			    "flush[1]");
	assert_string_equal(sd_line_name(s, 1, b, sizeof(b)), "mm/other");
	assert_string_equal(sd_line_name(s, (uintptr_t)&s->q[3] / SD_LINE, b, 4), "que");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_fifo_and_ack),
		cmocka_unit_test(test_lazy_skip_and_catchup),
		cmocka_unit_test(test_generations),
		cmocka_unit_test(test_release_reaches_lazy_cpus),
		cmocka_unit_test(test_lines_touched),
		cmocka_unit_test(test_line_names),
		cmocka_unit_test(test_race_consolidated),
		cmocka_unit_test(test_race_split),
	};

	return cmocka_run_group_tests_name("guest_shootdown", tests, NULL, NULL);
}
