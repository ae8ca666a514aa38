// SPDX-License-Identifier: MIT
/* Introspection calls (stats, ps) and a sweep of bad pointers over every call taking one. */
#include <vessel/thread.h>

#include "ut.h"

void test_stats(void)
{
	struct vessel_stats a, b;
	uint64_t sum;

	CHECK_EQ(sys_stats(&a, sizeof(a)), sizeof(a));
	CHECK_EQ(a.version, VESSEL_STATS_VERSION);
	CHECK_EQ(a.size, sizeof(a));
	CHECK(a.ncpus >= 1 && a.ncpus <= VESSEL_STATS_CPUS);
	CHECK_EQ(a.nsyscalls, VESSEL_SYSCALL_COUNT);
	CHECK(a.pages_total > 0 && a.pages_free > 0 && a.pages_free <= a.pages_total);
	CHECK(a.nprocs >= 2); /* us and the runner (which may be init itself) */
	CHECK(a.uptime_ns > 0);
	CHECK(a.total.syscalls > 0 && a.total.timer_ticks > 0);
	CHECK(a.total.page_faults <= a.total.exceptions);
	sum = 0;
	for (unsigned i = 0; i < a.ncpus; i++)
		sum += a.cpu[i].syscalls;
	CHECK_EQ(sum, a.total.syscalls);
	for (int i = 0; i < 100; i++)
		sys_getpid();
	msleep(30);
	CHECK_EQ(sys_stats(&b, sizeof(b)), sizeof(b));
	CHECK(b.syscalls[SYS_getpid] >= a.syscalls[SYS_getpid] + 100);
	CHECK(b.syscalls[SYS_stats] >= a.syscalls[SYS_stats] + 1);
	CHECK(b.total.syscalls >= a.total.syscalls + 102);
	CHECK(b.total.context_switches > a.total.context_switches); /* we slept */
	CHECK(b.total.timer_ticks > a.total.timer_ticks);
	CHECK(b.uptime_ns > a.uptime_ns);
	/* room left: no mechanism's counter was dropped (they outgrew 32 once) */
	CHECK(b.nnamed < VESSEL_STATS_NAMED);
	for (uint32_t i = 0; i < b.nnamed && i < VESSEL_STATS_NAMED; i++)
		CHECK(memchr(b.named[i].name, 0, VESSEL_STATS_NAME_MAX) != NULL);
	/* short buffers get a prefix */
	memset(&b, 0xff, sizeof(b));
	CHECK_EQ(sys_stats(&b, 8), 8);
	CHECK_EQ(b.version, VESSEL_STATS_VERSION);
	CHECK_EQ(b.ncpus, 0xffffffffu); /* not written */
	CHECK_EQ(sys_stats(&b, sizeof(b) + 100), sizeof(b));
	CHECK_ERR(sys_stats(&b, 0), EINVAL);
	CHECK_ERR(sys_stats(BAD_NULL, sizeof(b)), EFAULT);
	CHECK_ERR(sys_stats(BAD_KERNEL, sizeof(b)), EFAULT);
	CHECK_ERR(sys_stats((void *)(uintptr_t) "read-only", 8), EFAULT);
}

void test_ps(void)
{
	struct vessel_procinfo p[64];
	long n, me = sys_getpid(), child;
	int seen_self = 0, seen_init = 0, seen_child = 0;

	child = ut_spawn_helper("sleep", "300", NULL);
	n = CHECK_OK(sys_ps(p, 64));
	CHECK_EQ(sys_ps(NULL, 0), n);
	CHECK(n >= 3 && n <= 64); /* pid 1, the runner or sh, us, the child */
	for (long i = 0; i < n; i++) {
		CHECK(memchr(p[i].name, 0, sizeof(p[i].name)) != NULL);
		if (i > 0)
			CHECK(p[i].pid > p[i - 1].pid);
		if (p[i].pid == 1) {
			seen_init = 1;
			CHECK_EQ(p[i].ppid, 0); /* init, or usertests run as init= */
		}
		if (p[i].pid == me) {
			seen_self = 1;
			CHECK(!strcmp(p[i].name, "usertests"));
			CHECK_EQ(p[i].state, VESSEL_PROC_RUNNING);
			CHECK_EQ(p[i].nthreads, 1);
			CHECK(p[i].mem_pages > 0);
			CHECK(p[i].cpu >= 0);
		}
		if (p[i].pid == child) {
			seen_child = 1;
			CHECK_EQ(p[i].ppid, me);
		}
	}
	CHECK(seen_self && seen_init && seen_child);
	/* a smaller buffer: filled up to count, total returned */
	memset(p, 0xee, sizeof(p));
	CHECK_EQ(sys_ps(p, 1), n);
	CHECK_EQ(p[0].pid, 1);
	CHECK_EQ(p[1].pid, (int32_t)0xeeeeeeee);
	CHECK_ERR(sys_ps(BAD_NULL, 4), EFAULT);
	CHECK_ERR(sys_ps(BAD_KERNEL, 4), EFAULT);
	CHECK_EQ(ut_wait(child), EXITED(0));
	n = CHECK_OK(sys_ps(p, 64));
	for (long i = 0; i < n; i++)
		CHECK(p[i].pid != child); /* gone once reaped */
}

/* Every call with a pointer argument, against each kind of bad address. */
void test_bad_pointers(void)
{
	void *bad[] = { BAD_NULL, BAD_LOW, BAD_KERNEL, BAD_NONCANON, ut_unmapped_addr() };
	struct vessel_dirent d;
	struct vessel_timespec ts;
	char buf[16];
	long fd = CHECK_OK(sys_open("hello.txt", VESSEL_O_RDONLY));
	long before;
	struct vessel_stats s0, s1;

	ut_stats(&s0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		void *b = bad[i];

		CHECK_ERR(sys_write(1, b, 8), EFAULT);
		CHECK_ERR(sys_read((int)fd, b, 8), EFAULT);
		CHECK_ERR(sys_open(b, 0), EFAULT);
		CHECK_ERR(sys_spawn(b, NULL), EFAULT);
		if (b) /* argv NULL means { path } */
			CHECK_ERR(sys_spawn("echo", b), EFAULT);
		long r = sys_wait(-1, b, VESSEL_WNOHANG); /* no child to report: either error */
		CHECK(r == -ECHILD || r == -EFAULT);
		CHECK_ERR(sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, b), EFAULT);
		CHECK_ERR(sys_stats(b, 64), EFAULT);
		CHECK_ERR(sys_ps(b, 2), EFAULT);
		CHECK_ERR(sys_readdir(b, 0, &d), EFAULT);
		CHECK_ERR(sys_readdir("/", 0, b), EFAULT);
		CHECK_ERR(sys_virt_to_phys(b), EFAULT);
		r = sys_thread_join(sys_gettid(), b);
		CHECK(r == -EDEADLK || r == -EFAULT);
	}
	/* the process is unharmed and the calls did not half-happen */
	before = sys_lseek((int)fd, 0, VESSEL_SEEK_CUR);
	CHECK_EQ(before, 0);
	CHECK_EQ(sys_read((int)fd, buf, 5), 5);
	CHECK(!memcmp(buf, "Hello", 5));
	CHECK_EQ(sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, &ts), 0);
	ut_stats(&s1);
	CHECK(s1.nprocs <= s0.nprocs); /* no spawn happened */
}
