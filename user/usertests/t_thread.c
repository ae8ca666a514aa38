// SPDX-License-Identifier: MIT
/*
 * Threads (create/exit/join, several CPUs, affinity), scheduling
 * (preemption, FPU state across switches) and fault isolation.
 */
#include <stdlib.h>
#include <vessel/thread.h>

#include "ut.h"

static volatile long shared_counter;

static long add_fn(void *arg)
{
	long n = (long)arg;

	for (long i = 0; i < n; i++)
		__atomic_fetch_add(&shared_counter, 1, __ATOMIC_RELAXED);
	return n * 2 + sys_gettid() % 2; /* a value the joiner can check */
}

void test_threads(void)
{
	struct thread t[8];
	struct vessel_procinfo p[64];
	long tids_seen = 0;

	shared_counter = 0;
	for (int i = 0; i < 8; i++) {
		CHECK_OK(thread_start(&t[i], add_fn, (void *)(long)(1000 * (i + 1))));
		CHECK(t[i].tid != sys_getpid());
	}
	for (int i = 0; i < 8; i++) {
		long v = -1;

		CHECK_OK(thread_wait(&t[i], &v));
		CHECK_EQ(v, 2000 * (i + 1) + t[i].tid % 2);
		tids_seen += t[i].tid;
	}
	CHECK_EQ(shared_counter, 1000 * 36);
	CHECK(tids_seen > 0);
	/* all joined: one thread left, and getpid is the same in every thread */
	long n = CHECK_OK(sys_ps(p, 64));
	for (long i = 0; i < n && i < 64; i++)
		if (p[i].pid == sys_getpid())
			CHECK_EQ(p[i].nthreads, 1);
}

static long pid_fn(void *arg)
{
	(void)arg;
	return sys_getpid();
}

static long sleep_fn(void *arg)
{
	msleep((uint64_t)(long)arg);
	return 0;
}

static volatile int release;

/* Stay alive until `release` is set (however slow thread creation is). */
static long hold_fn(void *arg)
{
	(void)arg;
	while (!release)
		msleep(5);
	return 0;
}

void test_thread_errors(void)
{
	struct thread t[VESSEL_THREADS_MAX];
	long v;
	int n = 0;
	int r;

	CHECK_ERR(sys_thread_join(sys_gettid(), NULL), EDEADLK);
	CHECK_ERR(sys_thread_join(0x7fffffff, NULL), ESRCH);
	CHECK_ERR(sys_thread_join(1, NULL), ESRCH); /* init's thread, not ours */
	CHECK_ERR(sys_thread_create(NULL, NULL, (void *)0x500000), EINVAL);
	CHECK_ERR(sys_thread_create(BAD_KERNEL, NULL, (void *)0x500000), EINVAL);
	CHECK_ERR(sys_thread_create((void *)test_thread_errors, NULL, BAD_KERNEL), EINVAL);
	CHECK_ERR(sys_thread_create((void *)test_thread_errors, NULL, NULL), EINVAL);
	/* the same process, joined once */
	CHECK_OK(thread_start(&t[0], pid_fn, NULL));
	long tid = t[0].tid;
	CHECK_OK(thread_wait(&t[0], &v));
	CHECK_EQ(v, sys_getpid());
	CHECK_ERR(sys_thread_join(tid, NULL), ESRCH);
	/* bad value pointer: not released, a second join works */
	CHECK_OK(thread_start(&t[0], sleep_fn, (void *)20));
	CHECK_ERR(sys_thread_join(t[0].tid, BAD_KERNEL), EFAULT);
	CHECK_OK(thread_wait(&t[0], NULL));
	/* at most VESSEL_THREADS_MAX live threads, the main one included */
	release = 0;
	while ((r = thread_start(&t[n], hold_fn, NULL)) == 0)
		CHECK(++n < VESSEL_THREADS_MAX);
	CHECK_ERR(r, EAGAIN);
	CHECK_EQ(n, VESSEL_THREADS_MAX - 1);
	release = 1;
	while (n--)
		CHECK_OK(thread_wait(&t[n], NULL));
}

/* Live threads of this process, from ps. */
static long live_threads(void)
{
	struct vessel_procinfo ps[64];
	long n = CHECK_OK(sys_ps(ps, 64)), me = sys_getpid();

	for (long i = 0; i < n && i < 64; i++)
		if (ps[i].pid == me)
			return ps[i].nthreads;
	ut_fail(__FILE__, __LINE__, "pid %ld not in ps", me);
}

/*
 * Threads that exited but were never joined keep their kernel state (for
 * the join): they count toward VESSEL_THREADS_MAX, or one process could
 * use up kernel memory by starting threads that exit at once.
 */
void test_thread_unjoined(void)
{
	struct thread t[4 * VESSEL_THREADS_MAX];
	int n = 0, r;

	while ((r = thread_start(&t[n], pid_fn, NULL)) == 0) {
		for (int tries = 0; live_threads() > 1; tries++) {
			CHECK(tries < 5000);
			msleep(1);
		}
		if (++n == 4 * VESSEL_THREADS_MAX)
			break;
	}
	CHECK_ERR(r, EAGAIN);
	CHECK_EQ(n, VESSEL_THREADS_MAX - 1);
	while (n--)
		CHECK_OK(thread_wait(&t[n], NULL));
	/* joined: room again */
	CHECK_OK(thread_start(&t[0], pid_fn, NULL));
	CHECK_OK(thread_wait(&t[0], NULL));
}

void test_thread_exit_last(void)
{
	/* main thread leaves first; the other thread ends the process with 42 */
	CHECK_EQ(ut_run_helper("threadexit", NULL), EXITED(42));
	/* the last thread leaves with thread_exit: the process exits with 0 */
	CHECK_EQ(ut_run_helper("lastthread", NULL), EXITED(0));
}

struct smp_arg {
	int cpu;
	volatile int *arrived;
	int ncpus;
	long bad_cpu;
};

static long smp_fn(void *arg)
{
	struct smp_arg *a = arg;
	uint64_t deadline;
	long r = sys_setaffinity(0, a->cpu);

	if (r < 0)
		return r;
	if (sys_getcpu() != a->cpu) {
		a->bad_cpu = sys_getcpu();
		return -1000;
	}
	__atomic_fetch_add(a->arrived, 1, __ATOMIC_SEQ_CST);
	/* spin (no yield) until every thread is running at once: only possible if
	 * they really run in parallel on different CPUs */
	deadline = now_ns() + 30000000000ull;
	while (__atomic_load_n(a->arrived, __ATOMIC_SEQ_CST) < a->ncpus)
		if (now_ns() > deadline)
			return -2000;
	if (sys_getcpu() != a->cpu) {
		a->bad_cpu = sys_getcpu();
		return -1000;
	}
	return 0;
}

void test_threads_smp(void)
{
	unsigned ncpus = ut_ncpus();
	struct smp_arg args[VESSEL_STATS_CPUS];
	struct thread t[VESSEL_STATS_CPUS];
	volatile int arrived = 0;
	struct vessel_stats s0, s1;

	if (ncpus < 2) {
		ut_note("one CPU: nothing to run in parallel (checked on one)");
	}
	ut_stats(&s0);
	for (unsigned i = 0; i < ncpus; i++) {
		args[i] = (struct smp_arg){ (int)i, &arrived, (int)ncpus, -1 };
		CHECK_OK(thread_start(&t[i], smp_fn, &args[i]));
	}
	for (unsigned i = 0; i < ncpus; i++) {
		long v;

		CHECK_OK(thread_wait(&t[i], &v));
		if (v == -1000)
			ut_fail(__FILE__, __LINE__, "thread pinned to cpu %u ran on cpu %ld", i,
				args[i].bad_cpu);
		if (v == -2000)
			ut_fail(__FILE__, __LINE__, "threads never ran at the same time");
		CHECK_EQ(v, 0);
	}
	ut_stats(&s1);
	for (unsigned i = 0; i < ncpus; i++)
		CHECK(s1.cpu[i].syscalls > s0.cpu[i].syscalls); /* every CPU served us */
}

void test_affinity(void)
{
	unsigned ncpus = ut_ncpus();
	struct thread t;

	for (unsigned i = 0; i < ncpus; i++) {
		CHECK_OK(sys_setaffinity(0, i));
		for (int k = 0; k < 5; k++) {
			CHECK_EQ(sys_getcpu(), i);
			sys_yield();
		}
	}
	CHECK_OK(sys_setaffinity(0, -1));
	long c = sys_getcpu();
	CHECK(c >= 0 && c < (long)ncpus);
	CHECK_OK(sys_setaffinity(sys_gettid(), 0));
	CHECK_EQ(sys_getcpu(), 0);
	CHECK_ERR(sys_setaffinity(0, ncpus), EINVAL);
	CHECK_ERR(sys_setaffinity(0, -2), EINVAL);
	CHECK_ERR(sys_setaffinity(0, 1000), EINVAL);
	CHECK_ERR(sys_setaffinity(0x7fffffff, 0), ESRCH);
	CHECK_ERR(sys_setaffinity(1, 0), ESRCH); /* init's thread is not ours */
	CHECK_OK(thread_start(&t, sleep_fn, (void *)50));
	CHECK_OK(sys_setaffinity(t.tid, ncpus - 1)); /* another thread of ours */
	CHECK_OK(thread_wait(&t, NULL));
	CHECK_ERR(sys_setaffinity(t.tid, 0), ESRCH);
}

/* kill() stops every thread of a process, wherever they run. */
void test_kill_threads(void)
{
	struct vessel_stats s0, s1;
	long pid;

	ut_stats(&s0);
	pid = ut_spawn_helper("threads", "hold", NULL);
	msleep(200);
	CHECK_OK(sys_kill(pid, VESSEL_SIGKILL));
	CHECK_EQ(ut_wait(pid), KILLED(VESSEL_SIGKILL));
	ut_stats(&s1);
	CHECK(s1.nprocs <= s0.nprocs);
}

/* exit() from one thread ends the others (running on other CPUs) too. */
void test_exit_threads(void)
{
	CHECK_EQ(ut_run_helper("threads", "exit", NULL), EXITED(7));
}

/*
 * exit() by one thread while another enters a blocking wait(): the waiter
 * must not sleep for good in a process that is already dying (it was
 * spinning for the BKL when the kill came, so the kill's wakeup missed it).
 * Several start offsets; the victim's child stays until the victim is gone.
 */
void test_exit_vs_wait(void)
{
	static const char *const delays[] = {
		"0", "1000", "10000", "30000", "100000", "300000", "1000000", "3000000",
	};

	if (ut_ncpus() < 2) {
		ut_note("one CPU: no race to provoke");
		return;
	}
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(delays) / sizeof(*delays); i++) {
			long pid = ut_spawn_helper("waitrace", delays[i], NULL);
			int32_t st = -1;
			long r = 0;

			for (int tries = 0; tries < 500 && r == 0; tries++) {
				r = CHECK_OK(sys_wait(pid, &st, VESSEL_WNOHANG));
				if (r == 0)
					msleep(20);
			}
			if (r == 0) {
				/* a second kill wakes the sleeper */
				CHECK_OK(sys_kill(pid, VESSEL_SIGKILL));
				ut_wait(pid);
				ut_fail(__FILE__, __LINE__, "delay %s: wait() slept on after exit",
					delays[i]);
			}
			CHECK_EQ(st, EXITED(5));
		}
	}
}

/* munmap/mprotect take effect on other CPUs before they return. */
void test_tlb_shootdown(void)
{
	if (ut_ncpus() < 2) {
		ut_note("one CPU: no remote TLB to shoot down");
		return;
	}
	CHECK_EQ(ut_run_helper("shootdown", "munmap", NULL), KILLED(VESSEL_SIGSEGV));
	CHECK_EQ(ut_run_helper("shootdown", "mprotect", NULL), KILLED(VESSEL_SIGSEGV));
}

/*
 * Lazy TLB mode: munmaps while another thread sleeps skip its CPU, which
 * must flush before that thread reads the unmapped page (SIGSEGV).
 */
void test_tlb_lazy(void)
{
	if (ut_ncpus() < 2) {
		ut_note("one CPU: no lazy CPU");
		return;
	}
	CHECK_EQ(ut_run_helper("tlblazy", NULL), KILLED(VESSEL_SIGSEGV));
}

void test_fpu_context(void)
{
	unsigned ncpus = ut_ncpus();
	long pids[4];
	int n = (int)ncpus + 1 < 4 ? (int)ncpus + 1 : 4;

	/* more SSE users than CPUs, so they share CPUs and get switched */
	for (int i = 0; i < n; i++) {
		char seed[8];

		snprintf(seed, sizeof(seed), "%d", i + 1);
		pids[i] = ut_spawn_helper("fpu", seed, "200", NULL);
	}
	for (int i = 0; i < n; i++)
		CHECK_EQ(ut_wait(pids[i]), EXITED(0));
}

/*
 * Preemption: one spinner per CPU never gives the CPU up; this process (and
 * a child it starts) must still run, so the timer takes CPUs away.
 */
void test_preempt(void)
{
	unsigned ncpus = ut_ncpus();
	long spin[VESSEL_STATS_CPUS];
	struct vessel_stats s0, s1;
	uint64_t t0;

	for (unsigned i = 0; i < ncpus; i++)
		spin[i] = ut_spawn_helper("spin", NULL);
	msleep(100);
	ut_stats(&s0);
	t0 = now_ns();
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(sys_nanosleep(10000000ull), 0);
		CHECK_EQ(ut_run_helper("work", "100000", NULL), EXITED(0));
	}
	ut_stats(&s1);
	for (unsigned i = 0; i < ncpus; i++) {
		CHECK_EQ(sys_kill(spin[i], 0), 0); /* the spinners are still alive */
		CHECK_OK(sys_kill(spin[i], VESSEL_SIGKILL));
		CHECK_EQ(ut_wait(spin[i]), KILLED(VESSEL_SIGKILL));
	}
	CHECK(s1.total.context_switches > s0.total.context_switches);
	CHECK(s1.total.timer_ticks > s0.total.timer_ticks);
	ut_note("5 rounds with %u spinners took %llu ms", ncpus,
		(unsigned long long)((now_ns() - t0) / 1000000));
}

/*
 * Fault isolation: each kind of crash kills only the crashing process, with
 * the right signal, while a sibling keeps computing and finishes correctly.
 */
void test_fault_isolation(void)
{
	static const struct {
		const char *kind;
		int sig;
	} crashes[] = {
		{ "null", VESSEL_SIGSEGV },	    { "kernel-read", VESSEL_SIGSEGV },
		{ "noncanonical", VESSEL_SIGSEGV }, { "write-text", VESSEL_SIGSEGV },
		{ "jump-kernel", VESSEL_SIGSEGV },  { "stack-overflow", VESSEL_SIGSEGV },
		{ "cli", VESSEL_SIGSEGV },	    { "hlt", VESSEL_SIGSEGV },
		{ "ud2", VESSEL_SIGILL },	    { "div0", VESSEL_SIGFPE },
		{ "int3", VESSEL_SIGTRAP },
	};
	long worker = ut_spawn_helper("work", "300000000", NULL);

	for (size_t i = 0; i < sizeof(crashes) / sizeof(*crashes); i++) {
		int32_t st = ut_run_helper("crash", crashes[i].kind, NULL);

		if (st != KILLED(crashes[i].sig))
			ut_fail(__FILE__, __LINE__, "crash %s: wait status 0x%x, want killed by %d",
				crashes[i].kind, (unsigned)st, crashes[i].sig);
	}
	CHECK_EQ(ut_wait(worker), EXITED(0));
	/* and we are fine too */
	CHECK_EQ(ut_run_helper("exit", "0", NULL), EXITED(0));
}

void test_no_exec(void)
{
	/* data pages are not executable (NX from the ELF segment flags) */
	CHECK_EQ(ut_run_helper("crash", "exec-data", NULL), KILLED(VESSEL_SIGSEGV));
}
