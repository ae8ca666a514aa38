// SPDX-License-Identifier: MIT
/*
 * The system-call search trampoline under change (docs/jumpswitch.md): one
 * thread per CPU makes system calls whose hot set shifts every few dozen
 * calls, so the kernel keeps re-learning and re-writing the trampoline
 * while the other CPUs dispatch through it. Every call's result is checked:
 * a call dispatched to the wrong entry returns something else.
 */
#include <stdlib.h>
#include <vessel/thread.h>

#include "ut.h"

#define STRESS_CALLS 2000 /* per thread; `usertests -r N jumpswitch_stress` for more */
#define PHASE_CALLS  48	  /* calls before a thread's hot set moves on */
#define NKINDS	     9

struct stress_arg {
	int cpu;
	long pid, brk0;
	long calls;		/* checked calls */
	int bad_kind, bad_iter; /* the first wrong result */
	long bad_got;
	struct vessel_timespec last; /* clock_gettime must not go back */
};

/* Makes call `kind` and checks its result; 1 if right. */
static int call_kind(struct stress_arg *a, int kind, long tid, long *got)
{
	struct vessel_timespec ts = { -1, -1 };
	long r;

	switch (kind) {
	case 0:
		return (*got = sys_getpid()) == a->pid;
	case 1:
		return (*got = sys_gettid()) == tid;
	case 2:
		return (*got = sys_getcpu()) == a->cpu;
	case 3:
		r = *got = sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, &ts);
		if (r != 0 || ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return 0;
		if (ts.tv_sec < a->last.tv_sec ||
		    (ts.tv_sec == a->last.tv_sec && ts.tv_nsec < a->last.tv_nsec))
			return 0;
		a->last = ts;
		return 1;
	case 4:
		return (*got = sys_brk(NULL)) == a->brk0;
	case 5:
		return (*got = sys_lseek(99, 0, 0)) == -EBADF;
	case 6:
		return (*got = sys_kill(1, 0)) == -EPERM;
	case 7:
		return (*got = sys_kill(0x7fffffff, 0)) == -ESRCH;
	default:
		return (*got = sys_stats(NULL, 0)) == -EINVAL;
	}
}

static long stress_fn(void *arg)
{
	struct stress_arg *a = arg;
	long tid = sys_gettid(), got, r = sys_setaffinity(0, a->cpu);

	if (r < 0)
		return r;
	for (int it = 0; it < STRESS_CALLS; it++) {
		int phase = it / PHASE_CALLS + a->cpu, kind;

		if (it % 13 == 0) /* a cold call now and then: the miss path */
			kind = (it * 5 + a->cpu) % NKINDS;
		else
			kind = (3 * phase + it % 3) % NKINDS;
		if (!call_kind(a, kind, tid, &got)) {
			a->bad_kind = kind;
			a->bad_iter = it;
			a->bad_got = got;
			return -1;
		}
		a->calls++;
	}
	return 0;
}

void test_jumpswitch_stress(void)
{
	unsigned ncpus = ut_ncpus();
	struct stress_arg args[VESSEL_STATS_CPUS];
	struct thread t[VESSEL_STATS_CPUS];
	struct vessel_stats s0, s1;
	long calls = 0, v;
	long long on, hits, misses, rewrites, irq_calls, irq_rewrites;

	ut_stats(&s0);
	on = ut_named(&s0, "jumpswitch.on");
	CHECK(on == 0 || on == 1);
	for (unsigned i = 0; i < ncpus; i++) {
		args[i] = (struct stress_arg){
			.cpu = (int)i, .pid = sys_getpid(), .brk0 = sys_brk(NULL), .bad_kind = -1
		};
		CHECK_OK(thread_start(&t[i], stress_fn, &args[i]));
	}
	for (unsigned i = 0; i < ncpus; i++) {
		CHECK_OK(thread_wait(&t[i], &v));
		if (args[i].bad_kind >= 0)
			ut_fail(__FILE__, __LINE__, "cpu %u call %d: kind %d returned %ld", i,
				args[i].bad_iter, args[i].bad_kind, args[i].bad_got);
		CHECK_EQ(v, 0);
		CHECK_EQ(args[i].calls, STRESS_CALLS);
		calls += args[i].calls;
	}
	ut_stats(&s1);
	hits = ut_named(&s1, "jumpswitch.sys.hits") - ut_named(&s0, "jumpswitch.sys.hits");
	misses = ut_named(&s1, "jumpswitch.sys.misses") - ut_named(&s0, "jumpswitch.sys.misses");
	rewrites =
		ut_named(&s1, "jumpswitch.sys.rewrites") - ut_named(&s0, "jumpswitch.sys.rewrites");
	/* the interrupt table's trampoline: the timer ticks on every CPU meanwhile */
	irq_calls = ut_named(&s1, "jumpswitch.irq.hits") + ut_named(&s1, "jumpswitch.irq.misses") -
		    ut_named(&s0, "jumpswitch.irq.hits") - ut_named(&s0, "jumpswitch.irq.misses");
	irq_rewrites =
		ut_named(&s1, "jumpswitch.irq.rewrites") - ut_named(&s0, "jumpswitch.irq.rewrites");
	ut_note("%ld calls checked on %u CPUs; trampoline %s: %lld rewrites, %lld hits, %lld "
		"misses (total rewrites %lld); interrupt table: %lld dispatches, %lld rewrites",
		calls, ncpus, on ? "on" : "off", rewrites, hits, misses,
		ut_named(&s1, "jumpswitch.sys.rewrites"), irq_calls, irq_rewrites);
	if (on) {
		CHECK(hits + misses >= calls); /* every call went through it */
		CHECK(hits > 0);
		CHECK(rewrites > 0); /* the hot set moved: re-learned */
		CHECK(irq_calls > 0);
	} else {
		CHECK_EQ(hits + misses, 0);
		CHECK_EQ(rewrites, 0);
		CHECK_EQ(irq_calls, 0);
		CHECK_EQ(irq_rewrites, 0);
	}
}
