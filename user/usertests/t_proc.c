// SPDX-License-Identifier: MIT
/*
 * Process calls: getpid/gettid, both entry paths, spawn, wait, exit, kill,
 * yield, nanosleep, clock_gettime, unknown numbers.
 */
#include <stdlib.h>
#include <vessel/start.h>

#include "ut.h"

void test_getpid_gettid(void)
{
	long pid = sys_getpid();

	CHECK(pid > 1); /* init is 1, we are a child of the runner */
	CHECK_EQ(sys_getpid(), pid);
	CHECK_EQ(sys_gettid(), pid); /* the first thread has tid == pid */
}

void test_int80(void)
{
	static const char msg[] = "# int80: written through int $0x80\n";
	long pid = sys_getpid();

	CHECK_EQ(sys_call_int80(SYS_getpid, 0, 0, 0, 0, 0, 0), pid);
	CHECK_EQ(sys_call_int80(SYS_gettid, 0, 0, 0, 0, 0, 0), pid);
	CHECK_EQ(sys_call_int80(SYS_write, 1, (long)msg, sizeof(msg) - 1, 0, 0, 0),
		 sizeof(msg) - 1);
	CHECK_ERR(sys_call_int80(SYS_write, 1, (long)BAD_KERNEL, 5, 0, 0, 0), EFAULT);
	CHECK_ERR(sys_call_int80(SYS_close, 99, 0, 0, 0, 0, 0), EBADF);
	CHECK_ERR(sys_call_int80(VESSEL_SYSCALL_COUNT, 0, 0, 0, 0, 0, 0), ENOSYS);
	/* many in a row: the return address must be right every time (erratum 2) */
	for (int i = 0; i < 50; i++)
		CHECK_EQ(sys_call_int80(SYS_getpid, 0, 0, 0, 0, 0, 0), pid);
}

/*
 * Load known values into every register the ABI says survives, enter the
 * kernel (getpid), store them again. `insn` is "syscall" or "int $0x80".
 */
#define REGS_ROUNDTRIP(insn, in, out)                                                              \
	__asm__ volatile("push %%rcx\n\t"                                                          \
			 "mov 0(%%rax), %%rdi\n\t"                                                 \
			 "mov 8(%%rax), %%rsi\n\t"                                                 \
			 "mov 16(%%rax), %%rdx\n\t"                                                \
			 "mov 24(%%rax), %%r10\n\t"                                                \
			 "mov 32(%%rax), %%r8\n\t"                                                 \
			 "mov 40(%%rax), %%r9\n\t"                                                 \
			 "mov 48(%%rax), %%rbx\n\t"                                                \
			 "mov 56(%%rax), %%r12\n\t"                                                \
			 "mov 64(%%rax), %%r13\n\t"                                                \
			 "mov 72(%%rax), %%r14\n\t"                                                \
			 "mov 80(%%rax), %%r15\n\t"                                                \
			 "mov $" VESSEL_STR(SYS_GETPID_NR) ", %%eax\n\t" insn "\n\t"               \
							   "pop %%rcx\n\t"                         \
							   "mov %%rdi, 0(%%rcx)\n\t"               \
							   "mov %%rsi, 8(%%rcx)\n\t"               \
							   "mov %%rdx, 16(%%rcx)\n\t"              \
							   "mov %%r10, 24(%%rcx)\n\t"              \
							   "mov %%r8, 32(%%rcx)\n\t"               \
							   "mov %%r9, 40(%%rcx)\n\t"               \
							   "mov %%rbx, 48(%%rcx)\n\t"              \
							   "mov %%r12, 56(%%rcx)\n\t"              \
							   "mov %%r13, 64(%%rcx)\n\t"              \
							   "mov %%r14, 72(%%rcx)\n\t"              \
							   "mov %%r15, 80(%%rcx)\n\t"              \
							   "mov %%rax, 88(%%rcx)\n\t"              \
			 : "+a"(in_ptr), "+c"(out_ptr)                                             \
			 :                                                                         \
			 : "rdi", "rsi", "rdx", "r8", "r9", "r10", "r11", "rbx", "r12", "r13",     \
			   "r14", "r15", "memory")
#define VESSEL_STR_(x) #x
#define VESSEL_STR(x)  VESSEL_STR_(x)
#define SYS_GETPID_NR  5
_Static_assert(SYS_GETPID_NR == SYS_getpid, "keep the asm number in sync");

void test_regs_preserved(void)
{
	static const char *const names[] = { "rdi", "rsi", "rdx", "r10", "r8", "r9",
					     "rbx", "r12", "r13", "r14", "r15" };
	uint64_t in[11], out[12];
	long pid = sys_getpid();

	for (int i = 0; i < 11; i++)
		in[i] = 0x1111111111111111ull * (uint64_t)(i + 1) ^ 0x0123456789abcdefull;
	for (int path = 0; path < 2; path++) {
		uint64_t *in_ptr = in, *out_ptr = out;

		memset(out, 0, sizeof(out));
		if (path == 0)
			REGS_ROUNDTRIP("syscall", in, out);
		else
			REGS_ROUNDTRIP("int $0x80", in, out);
		for (int i = 0; i < 11; i++)
			if (out[i] != in[i])
				ut_fail(__FILE__, __LINE__, "%s: %s changed: 0x%llx -> 0x%llx",
					path ? "int $0x80" : "syscall", names[i],
					(unsigned long long)in[i], (unsigned long long)out[i]);
		CHECK_EQ(out[11], pid);
	}
}

/*
 * NT set in user RFLAGS (POPF may set it at CPL3) must not reach the
 * kernel's own RFLAGS: an iretq with NT set is a #GP in long mode.
 */
void test_rflags_nt(void)
{
	long pid = sys_getpid(), r;
	uint64_t flags;

	for (int path = 0; path < 2; path++) {
		if (path == 0)
			__asm__ volatile("pushfq\n\t"
					 "orq $0x4000, (%%rsp)\n\t"
					 "popfq\n\t"
					 "syscall\n\t"
					 "pushfq\n\t"
					 "pop %%rdx\n\t"
					 "pushfq\n\t"
					 "andq $~0x4000, (%%rsp)\n\t"
					 "popfq"
					 : "=a"(r), "=d"(flags)
					 : "a"((long)SYS_getpid)
					 : "rcx", "r11", "memory", "cc");
		else
			__asm__ volatile("pushfq\n\t"
					 "orq $0x4000, (%%rsp)\n\t"
					 "popfq\n\t"
					 "int $0x80\n\t"
					 "pushfq\n\t"
					 "pop %%rdx\n\t"
					 "pushfq\n\t"
					 "andq $~0x4000, (%%rsp)\n\t"
					 "popfq"
					 : "=a"(r), "=d"(flags)
					 : "a"((long)SYS_getpid)
					 : "rcx", "r11", "memory", "cc");
		CHECK_EQ(r, pid);
		(void)flags;
	}
	/* and the kernel still switches and returns normally afterwards */
	CHECK_EQ(sys_yield(), 0);
	CHECK_EQ(sys_getpid(), pid);
}

void test_unknown_syscall(void)
{
	static const long nrs[] = {
		VESSEL_SYSCALL_COUNT, VESSEL_SYSCALL_SLOTS - 1, 1000, 0x7fffffff, -1, -4096
	};

	for (size_t i = 0; i < sizeof(nrs) / sizeof(*nrs); i++) {
		CHECK_ERR(sys_call(nrs[i], 1, 2, 3, 4, 5, 6), ENOSYS);
		CHECK_ERR(sys_call_int80(nrs[i], 1, 2, 3, 4, 5, 6), ENOSYS);
	}
}

void test_spawn_wait(void)
{
	long pid = ut_spawn_helper("exit", "7", NULL);
	int32_t status = -1;

	CHECK(pid > sys_getpid());
	CHECK_EQ(sys_wait(pid, &status, 0), pid);
	CHECK(VESSEL_W_EXITED(status));
	CHECK_EQ(VESSEL_W_EXITSTATUS(status), 7);
	CHECK_ERR(sys_wait(pid, &status, 0), ECHILD); /* reaped once */
	/* wait(-1) takes any child; NULL status is fine */
	long a = ut_spawn_helper("exit", "1", NULL);
	long b = ut_spawn_helper("exit", "2", NULL);
	long w1 = CHECK_OK(sys_wait(-1, NULL, 0));
	long w2 = CHECK_OK(sys_wait(-1, &status, 0));
	CHECK((w1 == a && w2 == b) || (w1 == b && w2 == a));
	CHECK_EQ(VESSEL_W_EXITSTATUS(status), w2 == a ? 1 : 2);
	CHECK_ERR(sys_wait(-1, &status, 0), ECHILD);
}

void test_spawn_argv(void)
{
	const char *argv[VESSEL_ARGV_MAX + 1];
	char bufs[VESSEL_ARGV_MAX][8];
	int n = VESSEL_ARGV_MAX - 4, argc = 0;

	/* the most arguments a process may get: usertests -h argcheck N arg0.. */
	argv[argc++] = "usertests";
	argv[argc++] = "-h";
	argv[argc++] = "argcheck";
	snprintf(bufs[0], sizeof(bufs[0]), "%d", n - 1);
	argv[argc++] = bufs[0];
	for (int i = 0; i < n - 1; i++) {
		snprintf(bufs[i + 1], sizeof(bufs[i + 1]), "arg%d", i);
		argv[argc++] = bufs[i + 1];
	}
	argv[argc] = NULL;
	CHECK(argc <= VESSEL_ARGV_MAX);
	CHECK_EQ(ut_wait(CHECK_OK(sys_spawn("usertests", argv))), EXITED(0));
	/* argv NULL: the program gets { path } */
	CHECK_EQ(ut_wait(CHECK_OK(sys_spawn("echo", NULL))), EXITED(0));
	/* "/" prefix and helper argument passing */
	CHECK_EQ(ut_run_helper("argcheck", "2", "arg0", "arg1", NULL), EXITED(0));
	CHECK(ut_run_helper("argcheck", "2", "arg0", "argX", NULL) != EXITED(0)); /* can fail */
}

void test_spawn_errors(void)
{
	const char *many[VESSEL_ARGV_MAX + 2];
	static char big[VESSEL_ARGS_BYTES];
	const char *bigargv[] = { "echo", big, NULL };
	const char *badargv[] = { "echo", BAD_KERNEL, NULL };
	long before = sys_ps(NULL, 0);

	CHECK_ERR(sys_spawn("no-such-program", NULL), ENOENT);
	CHECK_ERR(sys_spawn("", NULL), ENOENT);
	CHECK_ERR(sys_spawn("/", NULL), EISDIR);
	CHECK_ERR(sys_spawn("hello.txt", NULL), ENOEXEC);
	CHECK_ERR(sys_spawn(BAD_NULL, NULL), EFAULT);
	CHECK_ERR(sys_spawn(BAD_KERNEL, NULL), EFAULT);
	CHECK_ERR(sys_spawn("echo", (const char *const *)BAD_KERNEL), EFAULT);
	CHECK_ERR(sys_spawn("echo", (const char *const *)ut_unmapped_addr()), EFAULT);
	CHECK_ERR(sys_spawn("echo", badargv), EFAULT);
	for (int i = 0; i <= VESSEL_ARGV_MAX; i++)
		many[i] = "x";
	many[VESSEL_ARGV_MAX + 1] = NULL;
	CHECK_ERR(sys_spawn("echo", many), E2BIG);
	memset(big, 'y', sizeof(big) - 1); /* with "echo\0" the strings exceed 4096 bytes */
	CHECK_ERR(sys_spawn("echo", bigargv), E2BIG);
	/* nothing was created by the failed calls */
	CHECK_EQ(sys_ps(NULL, 0), before);
	CHECK_ERR(sys_wait(-1, NULL, VESSEL_WNOHANG), ECHILD);
}

void test_wait_errors(void)
{
	int32_t status;
	long pid;

	CHECK_ERR(sys_wait(-1, &status, 0), ECHILD); /* no children at all */
	CHECK_ERR(sys_wait(1, &status, 0), ECHILD);  /* init is not our child */
	CHECK_ERR(sys_wait(sys_getpid(), &status, 0), ECHILD);
	CHECK_ERR(sys_wait(0, &status, 0), EINVAL);
	CHECK_ERR(sys_wait(-2, &status, 0), EINVAL);
	pid = ut_spawn_helper("exit", "3", NULL);
	/* a pid beyond 32 bits is no pid at all, not the child it truncates to */
	CHECK_ERR(sys_wait(pid + (1l << 32), &status, VESSEL_WNOHANG), ECHILD);
	CHECK_ERR(sys_wait(pid - (1l << 32), &status, VESSEL_WNOHANG), EINVAL);
	CHECK_ERR(sys_wait(pid, &status, 0x100), EINVAL);
	CHECK_ERR(sys_wait(pid, BAD_KERNEL, 0), EFAULT);
	CHECK_ERR(sys_wait(pid, (int32_t *)(uintptr_t) "ro", 0), EFAULT);
	/* the failed waits did not reap it */
	CHECK_EQ(sys_wait(pid, &status, 0), pid);
	CHECK_EQ(status, EXITED(3));
}

void test_wait_nohang(void)
{
	int32_t status = -1;
	long pid = ut_spawn_helper("sleep", "300", NULL);

	CHECK_EQ(sys_wait(pid, &status, VESSEL_WNOHANG), 0);
	CHECK_EQ(sys_wait(-1, &status, VESSEL_WNOHANG), 0);
	CHECK_EQ(sys_wait(pid, &status, 0), pid);
	CHECK_EQ(status, EXITED(0));
	CHECK_ERR(sys_wait(-1, &status, VESSEL_WNOHANG), ECHILD);
}

void test_exit_status(void)
{
	CHECK_EQ(ut_run_helper("exit", "0", NULL), EXITED(0));
	CHECK_EQ(ut_run_helper("exit", "255", NULL), EXITED(255));
	CHECK_EQ(ut_run_helper("exit", "259", NULL), EXITED(3)); /* status & 0xff */
	CHECK_EQ(ut_run_helper("exit", "-1", NULL), EXITED(255));
	CHECK_EQ(ut_run_helper("assert", NULL), EXITED(134)); /* assert() -> abort() */
}

void test_spawn_many(void)
{
	struct vessel_stats s;
	long pids[8];

	/* sequential */
	for (int i = 0; i < 20; i++)
		CHECK_EQ(ut_run_helper("exit", "0", NULL), EXITED(0));
	/* several alive at once (they sleep until killed) */
	for (int i = 0; i < 8; i++)
		pids[i] = ut_spawn_helper("sleep", "1000000", NULL);
	ut_stats(&s);
	CHECK(s.nprocs >= 9);
	for (int i = 0; i < 8; i++) {
		CHECK_OK(sys_kill(pids[i], VESSEL_SIGKILL));
		CHECK_EQ(ut_wait(pids[i]), KILLED(VESSEL_SIGKILL));
	}
}

static void wait_until_zombie(long pid)
{
	struct vessel_procinfo p[64];

	for (int tries = 0; tries < 2000; tries++) {
		long n = CHECK_OK(sys_ps(p, 64));

		for (long i = 0; i < n && i < 64; i++)
			if (p[i].pid == pid && p[i].state == VESSEL_PROC_ZOMBIE)
				return;
		msleep(5);
	}
	ut_fail(__FILE__, __LINE__, "pid %ld never became a zombie", pid);
}

void test_kill(void)
{
	long pid = ut_spawn_helper("spin", NULL);

	CHECK_EQ(sys_kill(pid, 0), 0); /* exists */
	CHECK_EQ(sys_kill(pid, VESSEL_SIGKILL), 0);
	CHECK_EQ(ut_wait(pid), KILLED(VESSEL_SIGKILL));
	pid = ut_spawn_helper("sleep", "100000", NULL); /* blocked in the kernel */
	CHECK_EQ(sys_kill(pid, VESSEL_SIGTERM), 0);
	CHECK_EQ(ut_wait(pid), KILLED(VESSEL_SIGTERM));
	/* a zombie is not alive */
	pid = ut_spawn_helper("exit", "0", NULL);
	wait_until_zombie(pid);
	CHECK_ERR(sys_kill(pid, VESSEL_SIGKILL), ESRCH);
	CHECK_EQ(ut_wait(pid), EXITED(0));
	CHECK_ERR(sys_kill(pid, VESSEL_SIGKILL), ESRCH); /* reaped */
}

void test_kill_errors(void)
{
	long pid;

	CHECK_ERR(sys_kill(1, VESSEL_SIGKILL), EPERM);
	CHECK_ERR(sys_kill(0x7fffffff, VESSEL_SIGKILL), ESRCH);
	CHECK_ERR(sys_kill(-5, VESSEL_SIGKILL), ESRCH);
	pid = ut_spawn_helper("sleep", "50", NULL);
	CHECK_ERR(sys_kill(pid, 1), EINVAL);
	CHECK_ERR(sys_kill(pid, 64), EINVAL);
	CHECK_ERR(sys_kill(pid, -9), EINVAL);
	CHECK_EQ(ut_wait(pid), EXITED(0)); /* untouched by the bad calls */
}

/* setintr: who survives Ctrl-C; the caller or its own live children only. */
void test_setintr(void)
{
	long pid;

	CHECK_EQ(sys_setintr(0, VESSEL_INTR_IGNORE), VESSEL_INTR_KILL);		   /* the default */
	CHECK_EQ(sys_setintr(sys_getpid(), VESSEL_INTR_KILL), VESSEL_INTR_IGNORE); /* own pid */
	CHECK_ERR(sys_setintr(0, 3), EINVAL);
	CHECK_ERR(sys_setintr(0, -1), EINVAL);
	CHECK_ERR(sys_setintr(-1, VESSEL_INTR_IGNORE), EINVAL);
	CHECK_ERR(sys_setintr(0x7fffffff, VESSEL_INTR_IGNORE), ESRCH);
	CHECK_ERR(sys_setintr(1, VESSEL_INTR_IGNORE), ESRCH); /* init: not a child */
	pid = ut_spawn_helper("sleep", "50", NULL);
	CHECK_EQ(sys_setintr(pid, VESSEL_INTR_IGNORE), VESSEL_INTR_KILL);
	CHECK_EQ(sys_setintr(pid, VESSEL_INTR_IGNORE), VESSEL_INTR_IGNORE);
	CHECK_EQ(ut_wait(pid), EXITED(0));
	CHECK_ERR(sys_setintr(pid, VESSEL_INTR_KILL), ESRCH); /* reaped */
	/* IGNORE is not inherited; IGNORE_TREE is */
	CHECK_EQ(sys_setintr(0, VESSEL_INTR_IGNORE), VESSEL_INTR_KILL);
	CHECK_EQ(ut_run_helper("intr", "0", NULL), EXITED(0));
	CHECK_EQ(sys_setintr(0, VESSEL_INTR_IGNORE_TREE), VESSEL_INTR_IGNORE);
	CHECK_EQ(ut_run_helper("intr", "2", NULL), EXITED(0));
}

void test_yield(void)
{
	for (int i = 0; i < 20; i++)
		CHECK_EQ(sys_yield(), 0);
}

void test_nanosleep(void)
{
	uint64_t t0 = now_ns(), t1;

	CHECK(t0 > 0);
	CHECK_EQ(sys_nanosleep(30000000ull), 0);
	t1 = now_ns();
	if (t1 - t0 < 30000000ull)
		ut_fail(__FILE__, __LINE__, "slept %llu ns, asked for 30 ms",
			(unsigned long long)(t1 - t0));
	CHECK_EQ(sys_nanosleep(0), 0);
}

void test_clock_gettime(void)
{
	struct vessel_timespec a, b;
	uint64_t prev = 0;

	for (int i = 0; i < 200; i++) {
		uint64_t ns;

		CHECK_EQ(sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, &a), 0);
		CHECK(a.tv_sec >= 0 && a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
		ns = (uint64_t)a.tv_sec * 1000000000ull + (uint64_t)a.tv_nsec;
		CHECK(ns >= prev);
		prev = ns;
		if (i % 50 == 0)
			sys_yield(); /* maybe another CPU: still monotonic */
	}
	CHECK_EQ(sys_clock_gettime(VESSEL_CLOCK_REALTIME, &b), 0);
	CHECK(b.tv_nsec >= 0 && b.tv_nsec < 1000000000);
	CHECK_ERR(sys_clock_gettime(2, &a), EINVAL);
	CHECK_ERR(sys_clock_gettime(~0ull, &a), EINVAL);
	CHECK_ERR(sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, BAD_NULL), EFAULT);
	CHECK_ERR(sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, BAD_KERNEL), EFAULT);
	CHECK_ERR(sys_clock_gettime(VESSEL_CLOCK_MONOTONIC, (void *)((char *)BAD_HIGH + 0xf8)),
		  EFAULT);
}

/* The state a new process starts in (docs/syscalls.md, "Initial user state"). */
void test_initial_state(void)
{
	const struct vessel_start_regs *r = &__start_regs;
	const uint64_t *sp = (const uint64_t *)r->rsp;
	const char *const *argv = (const char *const *)(sp + 1);
	static const char *const want[] = { "usertests", "-c", "initial_state" };
	const uint64_t zero[] = { r->rdx, r->rcx, r->rbx, r->rbp, r->r8,  r->r9, r->r10,
				  r->r11, r->r12, r->r13, r->r14, r->r15, r->rax };
	static const char *const zname[] = { "rdx", "rcx", "rbx", "rbp", "r8",	"r9", "r10",
					     "r11", "r12", "r13", "r14", "r15", "rax" };

	CHECK_EQ(r->rsp % 16, 0);
	CHECK(r->rsp < VESSEL_USER_STACK_TOP);
	CHECK(r->rsp > VESSEL_USER_STACK_TOP - VESSEL_USER_STACK_SIZE);
	CHECK_EQ(sp[0], 3); /* argc: usertests -c initial_state */
	CHECK_EQ(r->rdi, 3);
	CHECK_EQ(r->rsi, (uint64_t)argv);
	for (int i = 0; i < 3; i++) {
		CHECK((uint64_t)argv[i] > r->rsp && (uint64_t)argv[i] < VESSEL_USER_STACK_TOP);
		CHECK(!strcmp(argv[i], want[i]));
	}
	CHECK_EQ(sp[4], 0); /* argv[argc] */
	CHECK_EQ(sp[5], 0); /* empty environment */
	CHECK_EQ(sp[6], 0); /* auxv: AT_NULL */
	CHECK_EQ(sp[7], 0);
	for (size_t i = 0; i < sizeof(zero) / sizeof(*zero); i++)
		if (zero[i])
			ut_fail(__FILE__, __LINE__, "%s = 0x%llx at entry, want 0", zname[i],
				(unsigned long long)zero[i]);
	CHECK_EQ(r->rflags, 0x202); /* IF, and the always-one bit; DF clear */
	CHECK_EQ(r->mxcsr, 0x1f80);
	CHECK_EQ(r->fcw, 0x37f);
}
