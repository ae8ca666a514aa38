// SPDX-License-Identifier: MIT
#include "monitor/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define MON_AS_LIMIT (1ull << 30) /* 1 GiB of address space: stacks, the output buffer */
#define MON_NOFILE   8		  /* stdin (null), stdout, stderr, the shared memory */

/*
 * What the monitor needs once the filter is on: the futexes of the rings,
 * write (console output, its own messages), poll (the output thread waits
 * for a full stdout), memory for malloc, the output thread's kick (a signal
 * to itself: getpid, tgkill) and the way out. Its one thread was created
 * before, so no clone; but that thread may still be starting when the
 * filter arrives (TSYNC), so the calls of a thread's start (rseq,
 * set_robust_list) stay. No open, no socket, no ioctl, no exec.
 */
static const char *const allowed[] = {
	"futex",
	"write",
	"poll",
	"ppoll",
	"clock_gettime",
	"mmap",
	"munmap",
	"mprotect",
	"madvise",
	"brk",
	"rt_sigprocmask",
	"rt_sigreturn",
	"restart_syscall",
	"getpid",
	"tgkill",
	"exit",
	"exit_group",
	"rseq",
	"set_robust_list",
	/*
	 * With disks (virtio-blk, docs/blk.md), whose threads and rings were
	 * made before the filter: the device thread reads its eventfds (kick,
	 * resample, completions, wake-up), sets its coalescing timer and
	 * submits to its io_uring ring, which was restricted to read, write
	 * and fsync before it was enabled (dev/blk_backend.h), so it opens
	 * nothing the filter forbids; the worker pool (io=threads) reads and
	 * writes the images and flushes them (a test knob sleeps).
	 */
	"read",
	"io_uring_enter",
	"pread64",
	"pwrite64",
	"fdatasync",
	"timerfd_settime",
	"clock_nanosleep",
	"nanosleep",
};

#define NR_BASE 19 /* up to set_robust_list */

const char *const *mon_sandbox_syscalls(bool disks, unsigned *nr)
{
	*nr = disks ? sizeof(allowed) / sizeof(allowed[0]) : NR_BASE;
	return allowed;
}

int mon_sandbox_prepare(uint32_t *ns, unsigned extra_fds, uint64_t extra_as, uint64_t memlock)
{
	static const int tries[] = {
		CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
			CLONE_NEWCGROUP,
		CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP,
		CLONE_NEWNET | CLONE_NEWIPC,
	};
	const struct {
		int res;
		rlim_t val;
	} limits[] = {
		{ RLIMIT_CORE, 0 },
		{ RLIMIT_NOFILE, MON_NOFILE + extra_fds },
		{ RLIMIT_AS, MON_AS_LIMIT + extra_as },
		{ RLIMIT_MEMLOCK, memlock },
	};

	*ns = 0;
	for (unsigned i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (!unshare(tries[i])) {
			*ns = (uint32_t)tries[i];
			break;
		}
	for (unsigned i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct rlimit rl = { limits[i].val, limits[i].val };

		if (setrlimit(limits[i].res, &rl) < 0)
			return -errno;
	}
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		return -errno;
	return 0;
}

int mon_sandbox_seccomp(bool disks)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	unsigned count;

	mon_sandbox_syscalls(disks, &count);
	for (unsigned i = 0; !rc && i < count; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (!__builtin_strcmp(allowed[i], "tgkill"))
			/* signals to this process only (the output thread's kick) */
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
		else
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}
