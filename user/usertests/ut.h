/* SPDX-License-Identifier: MIT */
/*
 * usertests: xv6-style system-call tests. Each test is a function in the
 * table of main.c, run in its own child process (`usertests -c NAME`); a
 * failed check prints a TAP comment naming the file, line and values, and
 * exits 1. Helpers the tests spawn are modes of this program
 * (`usertests -h HELPER ARGS`), so the initrd needs no extra programs.
 */
#ifndef VESSEL_USERTESTS_UT_H
#define VESSEL_USERTESTS_UT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Addresses no process may pass to the kernel. */
#define BAD_NULL     ((void *)0)
#define BAD_LOW	     ((void *)0x1000ul)		    /* below the image, never mapped */
#define BAD_KERNEL   ((void *)0xffffffff80000000ul) /* kernel half */
#define BAD_NONCANON ((void *)0x0000800000000000ul) /* VESSEL_USER_TOP, not canonical */
#define BAD_HIGH     ((void *)0x00007fffffffff00ul) /* [this, +len) crosses USER_TOP */

__attribute__((noreturn, format(printf, 3, 4))) void ut_fail(const char *file, int line,
							     const char *fmt, ...);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ut_fail(__FILE__, __LINE__, "check failed: %s", #cond);                    \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_)                                                                      \
			ut_fail(__FILE__, __LINE__, "%s == %s: got %lld (%s), want %lld", #a, #b,  \
				a_, a_ < 0 ? strerror((int)a_) : "", b_);                          \
	} while (0)

/* A call that must fail with -err. */
#define CHECK_ERR(call, err)                                                                       \
	do {                                                                                       \
		long long r_ = (long long)(call);                                                  \
		if (r_ != -(long long)(err))                                                       \
			ut_fail(__FILE__, __LINE__, "%s: got %lld (%s), want -%s", #call, r_,      \
				r_ < 0 ? strerror((int)r_) : "success", #err);                     \
	} while (0)

/* A call that must succeed (>= 0); yields its value. */
#define CHECK_OK(call)                                                                             \
	({                                                                                         \
		long long r_ = (long long)(call);                                                  \
		if (r_ < 0)                                                                        \
			ut_fail(__FILE__, __LINE__, "%s failed: %s", #call, strerror((int)r_));    \
		r_;                                                                                \
	})

/* Spawn `usertests -h HELPER ARGS...` (NULL-terminated list); returns the pid. */
long ut_spawn_helper(const char *helper, ...);
/* Wait for pid; returns its wait status. */
int32_t ut_wait(long pid);
/* Run a helper to completion; returns its wait status. */
int32_t ut_run_helper(const char *helper, ...);
/* The kernel counters now (fails the test if the call fails). */
void ut_stats(struct vessel_stats *s);
/* A named kernel counter from s, or -1 if the kernel has none by that name. */
long long ut_named(const struct vessel_stats *s, const char *name);
/* Online CPU count from the counters. */
unsigned ut_ncpus(void);
/* An address that was mapped and is not any more. */
void *ut_unmapped_addr(void);
/* Print a TAP comment (for information, not a failure). */
__attribute__((format(printf, 1, 2))) void ut_note(const char *fmt, ...);

/* Expected wait statuses */
#define EXITED(code) ((int32_t)((code) << 8))
#define KILLED(sig)  ((int32_t)(sig))

/* Tests: one function per name in main.c's table. */
#define UT_TESTS(X)                                                                                \
	X(write_console)                                                                           \
	X(read_args)                                                                               \
	X(open_read_close)                                                                         \
	X(open_errors)                                                                             \
	X(fd_limit)                                                                                \
	X(lseek)                                                                                   \
	X(readdir)                                                                                 \
	X(initial_state)                                                                           \
	X(getpid_gettid)                                                                           \
	X(int80)                                                                                   \
	X(regs_preserved)                                                                          \
	X(rflags_nt)                                                                               \
	X(unknown_syscall)                                                                         \
	X(spawn_wait)                                                                              \
	X(spawn_argv)                                                                              \
	X(spawn_errors)                                                                            \
	X(wait_errors)                                                                             \
	X(wait_nohang)                                                                             \
	X(exit_status)                                                                             \
	X(spawn_many)                                                                              \
	X(kill)                                                                                    \
	X(kill_errors)                                                                             \
	X(setintr)                                                                                 \
	X(yield)                                                                                   \
	X(nanosleep)                                                                               \
	X(clock_gettime)                                                                           \
	X(mmap_anon)                                                                               \
	X(mmap_fixed)                                                                              \
	X(mmap_errors)                                                                             \
	X(munmap)                                                                                  \
	X(mprotect)                                                                                \
	X(brk)                                                                                     \
	X(malloc)                                                                                  \
	X(libc)                                                                                    \
	X(virt_to_phys)                                                                            \
	X(threads)                                                                                 \
	X(thread_errors)                                                                           \
	X(thread_unjoined)                                                                         \
	X(thread_exit_last)                                                                        \
	X(threads_smp)                                                                             \
	X(affinity)                                                                                \
	X(kill_threads)                                                                            \
	X(exit_threads)                                                                            \
	X(exit_vs_wait)                                                                            \
	X(tlb_shootdown)                                                                           \
	X(tlb_lazy)                                                                                \
	X(fpu_context)                                                                             \
	X(preempt)                                                                                 \
	X(fault_isolation)                                                                         \
	X(no_exec)                                                                                 \
	X(stats)                                                                                   \
	X(ps)                                                                                      \
	X(bad_pointers)                                                                            \
	X(reclaim)                                                                                 \
	X(reclaim_mixed)                                                                           \
	X(jumpswitch_stress)                                                                       \
	X(jumpswitch_proc)                                                                         \
	X(compat_mode)

#define UT_DECL(name) void test_##name(void);
UT_TESTS(UT_DECL)
#undef UT_DECL

/* Helpers: modes of `usertests -h NAME ARGS`; each returns the exit status. */
int helper_main(int argc, char **argv);
/* Helper jsproc reader|writer (t_jsproc.c): a process's own trampoline from a clean start. */
int h_jsproc(const char *mode);
/* Helper compat-syscall (t_compat.c): `syscall` in compatibility mode; 42 if it returned. */
int h_compat_syscall(void);

#endif /* VESSEL_USERTESTS_UT_H */
