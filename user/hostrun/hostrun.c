// SPDX-License-Identifier: MIT
/*
 * user-hostrun: run Vessel user programs on the Linux host, for testing the
 * user side (crt0, libc, sh, programs) without a VM.
 *
 *   user-hostrun INITRD PROGRAM [ARGS...]
 *
 * PROGRAM is looked up in INITRD and executed natively (it is a static
 * x86-64 ELF that Linux can load: same initial stack layout) under ptrace.
 * Every `syscall` it makes is stopped at entry and either translated to the
 * Linux call with the same meaning (write, read on the console, mmap,
 * munmap, mprotect, brk, kill, yield, exit) or emulated here (the initrd
 * file calls, spawn/wait via another user-hostrun, clock, sleep, stats,
 * virt_to_phys through /proc/PID/pagemap, poweroff). Threads, affinity and
 * ps are not emulated (-ENOSYS). This is a development aid: the kernel's
 * semantics are what docs/syscalls.md says and what usertests checks in
 * the VM; here only what Linux provides alike is trusted.
 *
 * Exit status: the program's (128 + signal if it was killed); `poweroff N`
 * anywhere in the process tree ends the whole tree with N.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi/syscalls.h"
#include "lib/initrd.h"

static struct initrd rd;
static int poweroff_fd = -1; /* write end: the status of a poweroff */
static pid_t top_tracer;     /* the root of the tracer tree */
static pid_t tracee;

/* Descriptors of the traced program: 0..2 console, others initrd files. */
static struct {
	int open;
	int console;
	uint32_t index;
	uint64_t pos;
} fds[VESSEL_FD_MAX];

/* Children made by spawn (user-hostrun processes). */
static pid_t kids[256];
static int nkids;

static int mem_read(void *dst, uint64_t addr, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)addr, len };

	if (len == 0)
		return 0;
	return process_vm_readv(tracee, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

static int mem_write(uint64_t addr, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)addr, len };

	if (len == 0)
		return 0;
	return process_vm_writev(tracee, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* A NUL-terminated string of at most max bytes (with the NUL). */
static int str_read(char *dst, uint64_t addr, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		if (mem_read(dst + i, addr + i, 1))
			return -EFAULT;
		if (!dst[i])
			return 0;
	}
	return -ENAMETOOLONG;
}

static int lookup(const char *path, struct initrd_file *f)
{
	if (!strcmp(path, "/"))
		return -EISDIR;
	return initrd_find(&rd, path, VESSEL_PATH_MAX, f);
}

static __attribute__((noreturn)) void run_program(const struct initrd_file *f, char **argv);

static long emu_spawn(uint64_t path_addr, uint64_t argv_addr)
{
	char path[VESSEL_PATH_MAX], *argv[VESSEL_ARGV_MAX + 1];
	static char strings[VESSEL_ARGS_BYTES];
	struct initrd_file f;
	size_t used = 0;
	int argc = 0, r;
	pid_t pid;

	if ((r = str_read(path, path_addr, sizeof(path))))
		return r;
	if ((r = lookup(path, &f)))
		return r;
	if (!(f.flags & VESSEL_INITRD_F_EXEC) || f.size < 4 || memcmp(f.data, "\177ELF", 4))
		return -ENOEXEC;
	if (argv_addr != 0) {
		for (;; argc++) {
			uint64_t p;

			if (mem_read(&p, argv_addr + 8 * (uint64_t)argc, 8))
				return -EFAULT;
			if (!p)
				break;
			if (argc == VESSEL_ARGV_MAX)
				return -E2BIG;
			r = str_read(strings + used, p, sizeof(strings) - used);
			if (r == -ENAMETOOLONG)
				return -E2BIG;
			if (r)
				return r;
			argv[argc] = strings + used;
			used += strlen(strings + used) + 1;
		}
	}
	if (argc == 0) /* NULL or empty argv: { path } */
		argv[argc++] = path;
	argv[argc] = NULL;
	if (nkids == (int)(sizeof(kids) / sizeof(kids[0])))
		return -EAGAIN;
	pid = fork();
	if (pid < 0)
		return -EAGAIN;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		nkids = 0;
		run_program(&f, argv);
	}
	kids[nkids++] = pid;
	return pid;
}

static void forget_kid(pid_t pid)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i] == pid)
			kids[i] = kids[--nkids];
}

static long emu_wait(int64_t pid, uint64_t status_addr, uint64_t flags)
{
	if (pid == 0 || pid < -1 || (flags & ~(uint64_t)VESSEL_WNOHANG))
		return -EINVAL;
	for (;;) {
		int found = 0;

		for (int i = 0; i < nkids; i++) {
			siginfo_t si;
			int st;

			if (pid != -1 && kids[i] != pid)
				continue;
			found = 1;

			/* look first (WNOWAIT), reap only once the status is stored */
			si.si_pid = 0;
			if (waitid(P_PID, (id_t)kids[i], &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == kids[i]) {
				int32_t ws = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 :
									si.si_status & 0x7f;
				pid_t r = kids[i];

				if (status_addr && mem_write(status_addr, &ws, 4))
					return -EFAULT;
				waitpid(r, &st, 0);
				forget_kid(r);
				return r;
			}
		}
		if (!found)
			return -ECHILD;
		if (flags & VESSEL_WNOHANG)
			return 0;
		usleep(1000);
	}
}

static long emu_open(uint64_t path_addr, uint64_t flags)
{
	char path[VESSEL_PATH_MAX];
	struct initrd_file f;
	int r;

	if ((r = str_read(path, path_addr, sizeof(path))))
		return r;
	if ((r = lookup(path, &f)))
		return r;
	if (flags & ~(uint64_t)VESSEL_O_ACCMODE)
		return -EINVAL;
	if (flags & VESSEL_O_ACCMODE)
		return -EROFS;
	for (int fd = 0; fd < VESSEL_FD_MAX; fd++) {
		if (!fds[fd].open) {
			fds[fd].open = 1;
			fds[fd].console = 0;
			fds[fd].index = f.index;
			fds[fd].pos = 0;
			return fd;
		}
	}
	return -EMFILE;
}

static int valid_fd(int64_t fd)
{
	return fd >= 0 && fd < VESSEL_FD_MAX && fds[fd].open;
}

static long emu_file_read(int64_t fd, uint64_t buf, uint64_t len)
{
	struct initrd_file f;
	uint64_t n;

	initrd_entry(&rd, fds[fd].index, &f);
	if (fds[fd].pos >= f.size || len == 0)
		return 0;
	n = f.size - fds[fd].pos < len ? f.size - fds[fd].pos : len;
	if (mem_write(buf, f.data + fds[fd].pos, n))
		return -EFAULT;
	fds[fd].pos += n;
	return (long)n;
}

static long emu_lseek(int64_t fd, int64_t off, uint64_t whence)
{
	struct initrd_file f;
	int64_t base;

	if (!valid_fd(fd))
		return -EBADF;
	if (fds[fd].console)
		return -ESPIPE;
	initrd_entry(&rd, fds[fd].index, &f);
	if (whence == VESSEL_SEEK_SET)
		base = 0;
	else if (whence == VESSEL_SEEK_CUR)
		base = (int64_t)fds[fd].pos;
	else if (whence == VESSEL_SEEK_END)
		base = (int64_t)f.size;
	else
		return -EINVAL;
	if (base + off < 0)
		return -EINVAL;
	fds[fd].pos = (uint64_t)(base + off);
	return (long)fds[fd].pos;
}

static long emu_readdir(uint64_t path_addr, uint64_t index, uint64_t ent_addr)
{
	char path[VESSEL_PATH_MAX];
	struct vessel_dirent d;
	struct initrd_file f;
	int r;

	if ((r = str_read(path, path_addr, sizeof(path))))
		return r;
	if (strcmp(path, "/") && strcmp(path, ""))
		return initrd_find(&rd, path, sizeof(path), &f) == 0 ? -ENOTDIR : -ENOENT;
	if (index >= initrd_count(&rd))
		return 0;
	initrd_entry(&rd, (uint32_t)index, &f);
	memset(&d, 0, sizeof(d));
	d.size = f.size;
	d.type = VESSEL_DT_FILE;
	d.mode = f.flags & VESSEL_INITRD_F_EXEC ? 0555 : 0444;
	strncpy(d.name, f.name, sizeof(d.name) - 1);
	return mem_write(ent_addr, &d, sizeof(d)) ? -EFAULT : 1;
}

static long emu_clock(uint64_t clock, uint64_t ts_addr)
{
	struct timespec ts;
	struct vessel_timespec v;

	if (clock != VESSEL_CLOCK_REALTIME && clock != VESSEL_CLOCK_MONOTONIC)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v.tv_sec = ts.tv_sec;
	v.tv_nsec = ts.tv_nsec;
	return mem_write(ts_addr, &v, sizeof(v)) ? -EFAULT : 0;
}

static long emu_stats(uint64_t buf, uint64_t size)
{
	struct vessel_stats s;
	long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);
	struct timespec ts;

	if (size == 0)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s.version = VESSEL_STATS_VERSION;
	s.size = sizeof(s);
	s.ncpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	if (s.ncpus > VESSEL_STATS_CPUS)
		s.ncpus = VESSEL_STATS_CPUS;
	s.nsyscalls = VESSEL_SYSCALL_COUNT;
	s.uptime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	s.pages_total = (uint64_t)pages;
	s.pages_free = (uint64_t)avail;
	s.nprocs = 1;
	if (size > sizeof(s))
		size = sizeof(s);
	return mem_write(buf, &s, size) ? -EFAULT : (long)size;
}

static long emu_virt_to_phys(uint64_t addr)
{
	char path[64];
	uint64_t entry;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", tracee);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -EFAULT;
	if (pread(fd, &entry, 8, (off_t)(addr / 4096 * 8)) != 8 || !(entry >> 63) ||
	    !(entry & ((1ull << 55) - 1))) {
		close(fd);
		return -EFAULT;
	}
	close(fd);
	return (long)((entry & ((1ull << 55) - 1)) * 4096 + addr % 4096);
}

static __attribute__((noreturn)) void do_poweroff(int64_t status)
{
	unsigned char s = (unsigned char)status;

	if (write(poweroff_fd, &s, 1) != 1)
		_exit(125);
	/* every tracer dies with its parent (PR_SET_PDEATHSIG) and every
	 * program with its tracer (PTRACE_O_EXITKILL): the whole tree goes */
	kill(top_tracer, SIGKILL);
	_exit(s);
}

/*
 * Handle a syscall-entry stop. Returns 1 if emulated (*result is the value
 * to put in rax at the exit stop), 0 if translated in place (regs changed).
 */
static int on_entry(struct user_regs_struct *r, long *result, int *fix_brk)
{
	uint64_t a1 = r->rdi, a2 = r->rsi, a3 = r->rdx;
	long nr = (long)r->orig_rax;

	*fix_brk = 0;
	switch (nr) {
	case SYS_exit:
		r->orig_rax = 231; /* exit_group */
		return 0;
	case SYS_write:
		if (!valid_fd((int64_t)a1) || !fds[a1].console) {
			*result = -EBADF;
			return 1;
		}
		if (a3 == 0) {
			*result = 0;
			return 1;
		}
		r->orig_rax = 1;
		r->rdi = a1 == 0 ? 1 : a1; /* fd 0 is the console too */
		return 0;
	case SYS_read:
		if (!valid_fd((int64_t)a1)) {
			*result = -EBADF;
			return 1;
		}
		if (!fds[a1].console) {
			*result = emu_file_read((int64_t)a1, a2, a3);
			return 1;
		}
		if (a3 == 0) {
			*result = 0;
			return 1;
		}
		r->orig_rax = 0;
		r->rdi = 0;
		return 0;
	case SYS_open:
		*result = emu_open(a1, a2);
		return 1;
	case SYS_close:
		if (!valid_fd((int64_t)a1)) {
			*result = -EBADF;
			return 1;
		}
		fds[a1].open = 0;
		*result = 0;
		return 1;
	case SYS_lseek:
		*result = emu_lseek((int64_t)a1, (int64_t)a2, a3);
		return 1;
	case SYS_getpid:
	case SYS_gettid:
		*result = getpid(); /* this process: what spawn returned to the parent */
		return 1;
	case SYS_spawn:
		*result = emu_spawn(a1, a2);
		return 1;
	case SYS_wait:
		*result = emu_wait((int64_t)a1, a2, a3);
		return 1;
	case SYS_yield:
		r->orig_rax = 24;
		return 0;
	case SYS_nanosleep: {
		struct timespec ts = { (time_t)(a1 / 1000000000ull), (long)(a1 % 1000000000ull) };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		*result = 0;
		return 1;
	}
	case SYS_clock_gettime:
		*result = emu_clock(a1, a2);
		return 1;
	case SYS_mmap:
		if ((r->r10 & (VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS)) !=
			    (VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS) ||
		    (r->r10 &
		     ~(uint64_t)(VESSEL_MAP_PRIVATE | VESSEL_MAP_ANONYMOUS | VESSEL_MAP_FIXED)) ||
		    (a3 & ~7ull) || a2 == 0) {
			*result = -EINVAL;
			return 1;
		}
		r->orig_rax = 9;
		r->r8 = (uint64_t)-1;
		r->r9 = 0;
		return 0;
	case SYS_munmap:
		r->orig_rax = 11;
		return 0;
	case SYS_mprotect:
		r->orig_rax = 10;
		return 0;
	case SYS_brk:
		r->orig_rax = 12;
		*fix_brk = a1 != 0;
		return 0;
	case SYS_kill:
		if (a1 == 1) {
			*result = -EPERM;
			return 1;
		}
		if (a2 != 0 && a2 != VESSEL_SIGKILL && a2 != VESSEL_SIGTERM) {
			*result = -EINVAL;
			return 1;
		}
		r->orig_rax = 62;
		return 0;
	case SYS_stats:
		*result = emu_stats(a1, a2);
		return 1;
	case SYS_readdir:
		*result = emu_readdir(a1, a2, a3);
		return 1;
	case SYS_poweroff:
		do_poweroff((int64_t)a1);
	case SYS_virt_to_phys:
		*result = emu_virt_to_phys(a1);
		return 1;
	case SYS_getcpu:
		*result = 0;
		return 1;
	default:
		*result = -ENOSYS;
		return 1;
	}
}

/* Trace the program until it ends; exit like it did. */
static __attribute__((noreturn)) void trace(void)
{
	int st, in_call = 0, emulated = 0, fix_brk = 0, sig = 0, exec_done = 0;
	long result = 0;
	uint64_t brk_req = 0;

	if (waitpid(tracee, &st, 0) != tracee || !WIFSTOPPED(st))
		_exit(125);
	ptrace(PTRACE_SETOPTIONS, tracee, 0,
	       PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC);
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, tracee, 0, sig))
			_exit(125);
		sig = 0;
		if (waitpid(tracee, &st, 0) != tracee)
			_exit(125);
		if (WIFEXITED(st))
			_exit(WEXITSTATUS(st));
		if (WIFSIGNALED(st)) {
			/* die the same way, so the parent's wait sees the signal */
			signal(WTERMSIG(st), SIG_DFL);
			kill(getpid(), WTERMSIG(st));
			_exit(128 + WTERMSIG(st));
		}
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			struct user_regs_struct r;
			struct __ptrace_syscall_info info;

			/* entry or exit: asked, not counted (exec's stops would skew a count) */
			if (ptrace(PTRACE_GET_SYSCALL_INFO, tracee, sizeof(info), &info) <= 0)
				_exit(125);
			if (!exec_done) {
				if (info.op == PTRACE_SYSCALL_INFO_EXIT && info.exit.rval == 0)
					exec_done =
						1; /* execve returned: from here on it is ours */
				continue;
			}
			in_call = info.op == PTRACE_SYSCALL_INFO_EXIT;
			ptrace(PTRACE_GETREGS, tracee, 0, &r);
			if (!in_call) {
				brk_req = r.rdi;
				emulated = on_entry(&r, &result, &fix_brk);
				if (emulated)
					r.orig_rax = (uint64_t)-1; /* Linux skips it */
				ptrace(PTRACE_SETREGS, tracee, 0, &r);
			} else {
				if (emulated)
					r.rax = (uint64_t)result;
				else if (fix_brk && r.rax != brk_req)
					r.rax = (uint64_t)-ENOMEM;
				ptrace(PTRACE_SETREGS, tracee, 0, &r);
			}
			continue;
		}
		/* a fault (SIGSEGV...) is delivered: the program dies as in the VM */
		sig = WSTOPSIG(st);
		if (sig == SIGSTOP || (st >> 16) != 0) /* ptrace event stops (exec) */
			sig = 0;
	}
}

static __attribute__((noreturn)) void run_program(const struct initrd_file *f, char **argv)
{
	int mfd = memfd_create(f->name, MFD_CLOEXEC);

	if (mfd < 0 || write(mfd, f->data, f->size) != (ssize_t)f->size) {
		perror("user-hostrun: memfd");
		_exit(125);
	}
	for (int i = 0; i < VESSEL_FD_MAX; i++)
		fds[i].open = fds[i].console = i < 3;
	tracee = fork();
	if (tracee == 0) {
		char *envp[] = { NULL };

		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		fexecve(mfd, argv, envp);
		_exit(127);
	}
	close(mfd);
	trace();
}

int main(int argc, char **argv)
{
	struct initrd_file f;
	const char *why;
	struct stat sb;
	void *img;
	int fd, pfd[2], st;
	pid_t top;

	if (argc < 3) {
		fprintf(stderr, "usage: user-hostrun INITRD PROGRAM [ARGS...]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &sb)) {
		fprintf(stderr, "user-hostrun: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	img = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED || initrd_open(&rd, img, (uint64_t)sb.st_size, &why)) {
		fprintf(stderr, "user-hostrun: %s: not a valid initrd\n", argv[1]);
		return 2;
	}
	if (initrd_find(&rd, argv[2], VESSEL_PATH_MAX, &f)) {
		fprintf(stderr, "user-hostrun: %s: no such program in %s\n", argv[2], argv[1]);
		return 2;
	}
	if (pipe(pfd))
		return 125;
	top = fork();
	if (top == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		poweroff_fd = pfd[1];
		top_tracer = getpid();
		run_program(&f, argv + 2);
	}
	close(pfd[1]);
	waitpid(top, &st, 0);
	{
		unsigned char s;

		if (read(pfd[0], &s, 1) == 1)
			return s; /* poweroff N */
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
