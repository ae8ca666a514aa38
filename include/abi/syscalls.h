/* SPDX-License-Identifier: MIT */
/*
 * The system-call contract between the Vessel kernel and its user programs.
 * Both sides include this file: the kernel builds its table from
 * VESSEL_SYSCALLS(), the user libc generates its stubs from the same list.
 * docs/syscalls.md is the prose version (semantics and every error case).
 *
 * Rules for this header:
 *  - freestanding: fixed-width integer types only, no libc;
 *  - every struct has a fixed layout (explicit padding, static size checks);
 *  - add, never renumber: a new call takes the next free number.
 *
 * Calling convention (x86-64)
 * ---------------------------
 *   `syscall`:    rax = number, args in rdi, rsi, rdx, r10, r8, r9;
 *                 result in rax; rcx and r11 are clobbered (the instruction
 *                 uses them), every other register is preserved.
 *   `int $0x80`:  same registers, same result; rcx and r11 preserved too,
 *                 but user code treats them as clobbered so that one stub
 *                 shape serves both entries.
 * The result is a signed 64-bit value: a value in [-4095, -1] is -errno,
 * anything else is success. No call uses the flags or the vector registers.
 * An unknown number returns -ENOSYS.
 */
#ifndef VESSEL_ABI_SYSCALLS_H
#define VESSEL_ABI_SYSCALLS_H

#include <stdint.h>

/* ------------------------------------------------------------------------
 * The list. X(number, name, argument count, type1, arg1, type2, arg2, ...)
 * A call without arguments passes `void` as its only extra element.
 * Every call returns a 64-bit signed value (long in C on x86-64).
 *
 * Kernel:   #define X(nr, name, n, ...)
 *                   int64_t sys_##name(VESSEL_SC_PARAMS(n, __VA_ARGS__));
 *           then one uniform entry per call (VESSEL_SC_UNPACK below) and
 *           #define X(nr, name, n, ...) [nr] = entry_##name,
 *           static syscall_entry_fn *const table[] = { VESSEL_SYSCALLS(X) };
 * User:     #define X(nr, name, n, ...)
 *                   long sys_##name(VESSEL_SC_PARAMS(n, __VA_ARGS__));
 * ------------------------------------------------------------------------ */

struct vessel_timespec;
struct vessel_stats;
struct vessel_procinfo;
struct vessel_dirent;
struct vessel_blk_io;
struct vessel_blk_done;

#define VESSEL_SYSCALLS(X)                                                                         \
	X(0, exit, 1, int64_t, status)                                                             \
	X(1, write, 3, int64_t, fd, const void *, buf, uint64_t, len)                              \
	X(2, read, 3, int64_t, fd, void *, buf, uint64_t, len)                                     \
	X(3, open, 2, const char *, path, uint64_t, flags)                                         \
	X(4, close, 1, int64_t, fd)                                                                \
	X(5, getpid, 0, void)                                                                      \
	X(6, spawn, 2, const char *, path, const char *const *, argv)                              \
	X(7, wait, 3, int64_t, pid, int32_t *, wstatus, uint64_t, flags)                           \
	X(8, yield, 0, void)                                                                       \
	X(9, nanosleep, 1, uint64_t, ns)                                                           \
	X(10, clock_gettime, 2, uint64_t, clock, struct vessel_timespec *, ts)                     \
	X(11, mmap, 4, void *, addr, uint64_t, len, uint64_t, prot, uint64_t, flags)               \
	X(12, munmap, 2, void *, addr, uint64_t, len)                                              \
	X(13, mprotect, 3, void *, addr, uint64_t, len, uint64_t, prot)                            \
	X(14, brk, 1, void *, addr)                                                                \
	X(15, kill, 2, int64_t, pid, int64_t, sig)                                                 \
	X(16, thread_create, 3, void *, entry, void *, arg, void *, stack_top)                     \
	X(17, thread_exit, 1, int64_t, value)                                                      \
	X(18, thread_join, 2, int64_t, tid, int64_t *, value)                                      \
	X(19, gettid, 0, void)                                                                     \
	X(20, stats, 2, struct vessel_stats *, buf, uint64_t, size)                                \
	X(21, ps, 2, struct vessel_procinfo *, buf, uint64_t, count)                               \
	X(22, readdir, 3, const char *, path, uint64_t, index, struct vessel_dirent *, ent)        \
	X(23, poweroff, 1, int64_t, status)                                                        \
	X(24, virt_to_phys, 1, const void *, addr)                                                 \
	X(25, getcpu, 0, void)                                                                     \
	X(26, setaffinity, 2, int64_t, tid, int64_t, cpu)                                          \
	X(27, lseek, 3, int64_t, fd, int64_t, offset, uint64_t, whence)                            \
	X(28, setintr, 2, int64_t, pid, int64_t, ignore)                                           \
	X(29, fsync, 1, int64_t, fd)                                                               \
	X(30, blk_submit, 3, int64_t, fd, const struct vessel_blk_io *, ios, uint64_t, n)          \
	X(31, blk_reap, 4, int64_t, fd, struct vessel_blk_done *, done, uint64_t, max, uint64_t,   \
	  min)

/* Numbers as constants: SYS_exit, SYS_write, ... and the table size. */
#define VESSEL_SC_ENUM_(nr, name, n, ...) SYS_##name = nr,
enum vessel_syscall_nr { VESSEL_SYSCALLS(VESSEL_SC_ENUM_) };
#undef VESSEL_SC_ENUM_
#define VESSEL_SYSCALL_COUNT 32 /* highest number + 1 */
#define VESSEL_SYSCALL_SLOTS 64 /* per-syscall counter slots in vessel_stats */
_Static_assert(SYS_blk_reap + 1 == VESSEL_SYSCALL_COUNT, "update VESSEL_SYSCALL_COUNT");
_Static_assert(VESSEL_SYSCALL_COUNT <= VESSEL_SYSCALL_SLOTS, "grow VESSEL_SYSCALL_SLOTS");

/* Helpers to turn an X() entry into a parameter list or an argument list. */
#define VESSEL_SC_PARAMS(n, ...)				   VESSEL_SC_PARAMS_##n(__VA_ARGS__)
#define VESSEL_SC_PARAMS_0(v)					   void
#define VESSEL_SC_PARAMS_1(t1, a1)				   t1 a1
#define VESSEL_SC_PARAMS_2(t1, a1, t2, a2)			   t1 a1, t2 a2
#define VESSEL_SC_PARAMS_3(t1, a1, t2, a2, t3, a3)		   t1 a1, t2 a2, t3 a3
#define VESSEL_SC_PARAMS_4(t1, a1, t2, a2, t3, a3, t4, a4)	   t1 a1, t2 a2, t3 a3, t4 a4
#define VESSEL_SC_PARAMS_5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) t1 a1, t2 a2, t3 a3, t4 a4, t5 a5
#define VESSEL_SC_PARAMS_6(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6)                         \
	t1 a1, t2 a2, t3 a3, t4 a4, t5 a5, t6 a6

/* The arguments as 64-bit register values, in register order. */
#define VESSEL_SC_REGS(n, ...) VESSEL_SC_REGS_##n(__VA_ARGS__)
#define VESSEL_SC_REGS_0(v)
#define VESSEL_SC_REGS_1(t1, a1)		 , (int64_t)(a1)
#define VESSEL_SC_REGS_2(t1, a1, t2, a2)	 , (int64_t)(a1), (int64_t)(a2)
#define VESSEL_SC_REGS_3(t1, a1, t2, a2, t3, a3) , (int64_t)(a1), (int64_t)(a2), (int64_t)(a3)
#define VESSEL_SC_REGS_4(t1, a1, t2, a2, t3, a3, t4, a4)                                           \
	, (int64_t)(a1), (int64_t)(a2), (int64_t)(a3), (int64_t)(a4)
#define VESSEL_SC_REGS_5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)                                   \
	, (int64_t)(a1), (int64_t)(a2), (int64_t)(a3), (int64_t)(a4), (int64_t)(a5)
#define VESSEL_SC_REGS_6(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6)                           \
	, (int64_t)(a1), (int64_t)(a2), (int64_t)(a3), (int64_t)(a4), (int64_t)(a5), (int64_t)(a6)

/*
 * The arguments converted back from a register array `r` (r[0] = rdi,
 * r[1] = rsi, r[2] = rdx, r[3] = r10, r[4] = r8, r[5] = r9), for a kernel
 * that dispatches through one uniform entry type:
 *   #define X(nr, name, n, ...) static int64_t entry_##name(const uint64_t *r)
 *           { return sys_##name(VESSEL_SC_UNPACK(n, r, __VA_ARGS__)); }
 */
#define VESSEL_SC_UNPACK(n, r, ...) VESSEL_SC_UNPACK_##n(r, __VA_ARGS__)
#define VESSEL_SC_UNPACK_0(r, v)
#define VESSEL_SC_UNPACK_1(r, t1, a1)		      (t1)(r)[0]
#define VESSEL_SC_UNPACK_2(r, t1, a1, t2, a2)	      (t1)(r)[0], (t2)(r)[1]
#define VESSEL_SC_UNPACK_3(r, t1, a1, t2, a2, t3, a3) (t1)(r)[0], (t2)(r)[1], (t3)(r)[2]
#define VESSEL_SC_UNPACK_4(r, t1, a1, t2, a2, t3, a3, t4, a4)                                      \
	(t1)(r)[0], (t2)(r)[1], (t3)(r)[2], (t4)(r)[3]
#define VESSEL_SC_UNPACK_5(r, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)                              \
	(t1)(r)[0], (t2)(r)[1], (t3)(r)[2], (t4)(r)[3], (t5)(r)[4]
#define VESSEL_SC_UNPACK_6(r, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6)                      \
	(t1)(r)[0], (t2)(r)[1], (t3)(r)[2], (t4)(r)[3], (t5)(r)[4], (t6)(r)[5]

/* Software interrupt vector of the second entry path. */
#define VESSEL_SYSCALL_VECTOR 0x80

/* ------------------------------------------------------------------------
 * Error numbers (returned negated). Same values as Linux, so host unit tests
 * and tools agree; each guarded so a hosted <errno.h> may come first.
 * ------------------------------------------------------------------------ */
#ifndef EPERM
#define EPERM 1 /* operation not permitted (e.g. kill(1)) */
#endif
#ifndef ENOENT
#define ENOENT 2 /* no such file */
#endif
#ifndef ESRCH
#define ESRCH 3 /* no such process / thread */
#endif
#ifndef EINTR
#define EINTR 4
#endif
#ifndef EIO
#define EIO 5
#endif
#ifndef E2BIG
#define E2BIG 7 /* argument list too long */
#endif
#ifndef ENOEXEC
#define ENOEXEC 8 /* not a valid ELF64 executable */
#endif
#ifndef EBADF
#define EBADF 9 /* bad file descriptor */
#endif
#ifndef ECHILD
#define ECHILD 10 /* no child to wait for */
#endif
#ifndef EAGAIN
#define EAGAIN 11 /* resource temporarily unavailable (limits) */
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif
#ifndef EFAULT
#define EFAULT 14 /* bad user pointer */
#endif
#ifndef ENOTBLK
#define ENOTBLK 15 /* blk_submit/blk_reap on something that is not a disk */
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef ENODEV
#define ENODEV 19 /* (kernel) no such device */
#endif
#ifndef ENOTDIR
#define ENOTDIR 20
#endif
#ifndef EISDIR
#define EISDIR 21
#endif
#ifndef EINVAL
#define EINVAL 22
#endif
#ifndef EMFILE
#define EMFILE 24 /* too many open files */
#endif
#ifndef ENOSPC
#define ENOSPC 28
#endif
#ifndef ESPIPE
#define ESPIPE 29 /* seek on the console */
#endif
#ifndef EROFS
#define EROFS 30 /* the initrd is read-only */
#endif
#ifndef ERANGE
#define ERANGE 34
#endif
#ifndef EDEADLK
#define EDEADLK 35 /* thread_join on itself */
#endif
#ifndef ENAMETOOLONG
#define ENAMETOOLONG 36
#endif
#ifndef ENOSYS
#define ENOSYS 38 /* unknown system call */
#endif
#define VESSEL_ERRNO_MAX 4095

/* ------------------------------------------------------------------------
 * Constants used by the calls
 * ------------------------------------------------------------------------ */

/* Console descriptors every process starts with. */
#define VESSEL_FD_STDIN	 0
#define VESSEL_FD_STDOUT 1
#define VESSEL_FD_STDERR 2
#define VESSEL_FD_MAX	 16 /* descriptors per process, 0..15 */

/* open() flags: only reading is possible on the initrd (disks: docs/blk.md). */
#define VESSEL_O_RDONLY	 0
#define VESSEL_O_WRONLY	 1
#define VESSEL_O_RDWR	 2
#define VESSEL_O_ACCMODE 3

/* lseek() whence */
#define VESSEL_SEEK_SET 0
#define VESSEL_SEEK_CUR 1
#define VESSEL_SEEK_END 2

/* wait() flags and status encoding (Linux-compatible) */
#define VESSEL_WNOHANG	       1
#define VESSEL_W_EXITED(s)     (((s)&0x7f) == 0)
#define VESSEL_W_EXITSTATUS(s) (((s) >> 8) & 0xff)
#define VESSEL_W_SIGNALED(s)   (((s)&0x7f) != 0)
#define VESSEL_W_TERMSIG(s)    ((s)&0x7f)

/* Signals: there are no handlers; every one of these terminates. */
#define VESSEL_SIGINT  2  /* Ctrl-C on the console (see setintr()) */
#define VESSEL_SIGILL  4  /* killed by the kernel: #UD, bad instruction */
#define VESSEL_SIGTRAP 5  /* killed by the kernel: #DB/#BP */
#define VESSEL_SIGABRT 6  /* reserved for abort() (which uses exit(134)) */
#define VESSEL_SIGBUS  7  /* killed by the kernel: machine check on its page */
#define VESSEL_SIGFPE  8  /* killed by the kernel: #DE, x87/SIMD errors */
#define VESSEL_SIGKILL 9  /* kill() */
#define VESSEL_SIGSEGV 11 /* killed by the kernel: bad access, #GP */
#define VESSEL_SIGTERM 15 /* kill() */

/* setintr() settings: what Ctrl-C on the console does to a process */
#define VESSEL_INTR_KILL	0 /* killed with VESSEL_SIGINT (every new process) */
#define VESSEL_INTR_IGNORE	1 /* survives */
#define VESSEL_INTR_IGNORE_TREE 2 /* survives, and so do the children it spawns from now on */

/* clock_gettime() clocks */
#define VESSEL_CLOCK_REALTIME  0 /* same as MONOTONIC: there is no RTC */
#define VESSEL_CLOCK_MONOTONIC 1 /* since boot */

struct vessel_timespec {
	int64_t tv_sec;
	int64_t tv_nsec; /* 0..999999999 */
};

/* mmap()/mprotect() protection and mmap() flags (Linux values) */
#define VESSEL_PROT_NONE     0
#define VESSEL_PROT_READ     1
#define VESSEL_PROT_WRITE    2
#define VESSEL_PROT_EXEC     4
#define VESSEL_MAP_PRIVATE   0x02
#define VESSEL_MAP_FIXED     0x10
#define VESSEL_MAP_ANONYMOUS 0x20

/* Limits */
#define VESSEL_ARGV_MAX	   32	/* spawn(): at most this many arguments */
#define VESSEL_ARGS_BYTES  4096 /* spawn(): total size of argument strings with NULs */
#define VESSEL_PATH_MAX	   256	/* path arguments, with the NUL */
#define VESSEL_NAME_MAX	   56	/* file name in the initrd, with the NUL */
#define VESSEL_THREADS_MAX 16	/* threads per process */

/*
 * User address-space layout (what user programs may rely on):
 *
 *   0x0000_0000_0000 .. 0x0000_003f_ffff   never mapped (NULL guard)
 *   0x0000_0040_0000                       program image (user/user.ld), then
 *                                          .bss, then the brk heap growing up
 *   VESSEL_USER_MMAP_BASE ..               mmap() area (kernel picks addresses)
 *   .. VESSEL_USER_STACK_TOP               main thread stack, growing down,
 *                                          VESSEL_USER_STACK_SIZE bytes
 *   VESSEL_USER_TOP                        first address that is not user
 */
#define VESSEL_USER_IMAGE_BASE 0x400000ull
#define VESSEL_USER_MMAP_BASE  0x0000100000000000ull
#define VESSEL_USER_STACK_TOP  0x00007ffffffff000ull
#define VESSEL_USER_STACK_SIZE (1024ull * 1024)
#define VESSEL_USER_TOP	       0x0000800000000000ull
#define VESSEL_BRK_MAX	       (1ull << 30) /* the heap may grow to 1 GiB above its start */

/*
 * A 32-bit process (ELF32 i386, compatibility mode; docs/syscalls.md, "32-bit
 * processes") has the same layout squeezed below 4 GiB: image and brk heap
 * as above, mmap() from VESSEL_COMPAT_MMAP_BASE, the main stack below
 * VESSEL_COMPAT_STACK_TOP.
 */
#define VESSEL_COMPAT_MMAP_BASE 0x80000000ull
#define VESSEL_COMPAT_STACK_TOP 0xfffff000ull

/* ------------------------------------------------------------------------
 * stats(): kernel counters. The kernel copies min(size, sizeof) bytes and
 * returns that count, so old programs keep working when the struct grows
 * at its end (version says which fields exist).
 *
 *   +0    version, size, ncpus, nsyscalls        (4 x u32)
 *   +16   uptime_ns, pages_total, pages_free, nprocs
 *   +48   total: struct vessel_cpu_stats          (all CPUs summed)
 *   +112  cpu[VESSEL_STATS_CPUS]                  (per CPU, index = CPU)
 *   +1136 syscalls[VESSEL_SYSCALL_SLOTS]          (per number, all CPUs)
 *   +1648 nnamed, pad
 *   +1656 named[VESSEL_STATS_NAMED]              (mechanism counters)
 * ------------------------------------------------------------------------ */
#define VESSEL_STATS_VERSION  1
#define VESSEL_STATS_CPUS     16
#define VESSEL_STATS_NAMED    96
#define VESSEL_STATS_NAME_MAX 24

struct vessel_cpu_stats {
	uint64_t syscalls;	   /* system-call entries (both paths) */
	uint64_t interrupts;	   /* external/timer/IPI interrupt entries */
	uint64_t exceptions;	   /* exception entries, page faults included */
	uint64_t page_faults;	   /* #PF entries (also counted in exceptions) */
	uint64_t context_switches; /* thread switches (idle thread included) */
	uint64_t ipis_sent;
	uint64_t ipis_received;
	uint64_t timer_ticks; /* LAPIC timer interrupts */
};

/* A counter a mechanism adds (K1 trampoline hits, K7 pages retired, ...). */
struct vessel_named_counter {
	char name[VESSEL_STATS_NAME_MAX]; /* NUL-terminated, e.g. "tlb.shootdowns" */
	uint64_t value;
};

struct vessel_stats {
	uint32_t version;   /* VESSEL_STATS_VERSION */
	uint32_t size;	    /* sizeof(struct vessel_stats) of the kernel */
	uint32_t ncpus;	    /* CPUs online; cpu[] valid below this */
	uint32_t nsyscalls; /* VESSEL_SYSCALL_COUNT of the kernel */
	uint64_t uptime_ns;
	uint64_t pages_total; /* 4 KiB pages managed by the page allocator */
	uint64_t pages_free;  /* free now; returns to its level when processes exit */
	uint64_t nprocs;      /* live processes */
	struct vessel_cpu_stats total;
	struct vessel_cpu_stats cpu[VESSEL_STATS_CPUS];
	uint64_t syscalls[VESSEL_SYSCALL_SLOTS]; /* calls per number; unknown numbers not counted */
	uint32_t nnamed;			 /* valid entries in named[] */
	uint32_t pad;
	struct vessel_named_counter named[VESSEL_STATS_NAMED];
};

/* ------------------------------------------------------------------------
 * ps(): one entry per live process (zombies included, state says so).
 * ------------------------------------------------------------------------ */
enum vessel_proc_state {
	VESSEL_PROC_RUNNING = 1,  /* a thread is on a CPU */
	VESSEL_PROC_RUNNABLE = 2, /* ready, waiting for a CPU */
	VESSEL_PROC_SLEEPING = 3, /* every thread blocked (read, wait, sleep, join) */
	VESSEL_PROC_ZOMBIE = 4,	  /* exited, not yet waited for */
};

#define VESSEL_PROC_NAME_MAX 32

struct vessel_procinfo {
	int32_t pid;
	int32_t ppid;	   /* 0 for the first process */
	uint32_t state;	   /* enum vessel_proc_state */
	uint32_t nthreads; /* live threads */
	int32_t cpu;	   /* CPU a thread of it last ran on, -1 if never */
	uint32_t pad;
	uint64_t mem_pages;   /* user pages mapped (resident) */
	uint64_t cpu_time_ns; /* user+kernel time of all its threads, 0 if not measured */
	char name[VESSEL_PROC_NAME_MAX]; /* program name, NUL-terminated */
};

/* ------------------------------------------------------------------------
 * readdir(): the initrd namespace is flat; "/" is the only directory.
 * ------------------------------------------------------------------------ */
#define VESSEL_DT_FILE 1

struct vessel_dirent {
	uint64_t size;		    /* bytes */
	uint32_t type;		    /* VESSEL_DT_FILE */
	uint32_t mode;		    /* 0555 for programs (ELF), 0444 otherwise */
	char name[VESSEL_NAME_MAX]; /* NUL-terminated, without the leading '/' */
};

/* ------------------------------------------------------------------------
 * Disks (/dev/vda, /dev/vdb, ...; docs/blk.md). read/write/lseek work on
 * 512-byte multiples. blk_submit() queues n requests and returns how many
 * it took (at least 1; it sleeps while every request slot is busy);
 * blk_reap() waits until at least `min` of this descriptor's requests have
 * finished, copies read data to the buffers given at submission and fills
 * up to `max` entries of done[]; it returns how many.
 * ------------------------------------------------------------------------ */
#define VESSEL_BLK_READ	  0
#define VESSEL_BLK_WRITE  1
#define VESSEL_BLK_FLUSH  2
#define VESSEL_BLK_MAX_IO (64 * 1024) /* bytes one submitted request may move */

struct vessel_blk_io {
	uint32_t op;	 /* VESSEL_BLK_* */
	uint32_t flags;	 /* 0 */
	uint64_t offset; /* bytes, a multiple of 512 */
	uint64_t buf;	 /* user buffer (read into at reap, written from at submit) */
	uint64_t len;	 /* bytes, a multiple of 512, at most VESSEL_BLK_MAX_IO */
	uint64_t tag;	 /* returned in vessel_blk_done */
};

struct vessel_blk_done {
	uint64_t tag;
	int64_t result; /* bytes moved, or -errno */
};

_Static_assert(sizeof(struct vessel_timespec) == 16, "ABI");
_Static_assert(sizeof(struct vessel_blk_io) == 40, "ABI");
_Static_assert(sizeof(struct vessel_blk_done) == 16, "ABI");
_Static_assert(sizeof(struct vessel_cpu_stats) == 64, "ABI");
_Static_assert(sizeof(struct vessel_named_counter) == 32, "ABI");
_Static_assert(__builtin_offsetof(struct vessel_stats, total) == 48, "ABI");
_Static_assert(__builtin_offsetof(struct vessel_stats, cpu) == 112, "ABI");
_Static_assert(__builtin_offsetof(struct vessel_stats, syscalls) == 1136, "ABI");
_Static_assert(__builtin_offsetof(struct vessel_stats, named) == 1656, "ABI");
_Static_assert(sizeof(struct vessel_stats) == 1656 + 32 * VESSEL_STATS_NAMED, "ABI");
_Static_assert(sizeof(struct vessel_procinfo) == 72, "ABI");
_Static_assert(sizeof(struct vessel_dirent) == 72, "ABI");

#endif /* VESSEL_ABI_SYSCALLS_H */
