/* SPDX-License-Identifier: MIT */
/*
 * Processes: an address space (vm.h), a descriptor table, 1..16 threads.
 * Semantics: docs/syscalls.md. All of it runs under the BKL (sched.h).
 */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include <stdint.h>
#include "abi/syscalls.h"
#include "arch/x86_64/trapframe.h"
#include "kernel/jumpswitch_proc.h"
#include "kernel/vm.h"

struct thread;

enum fd_kind { FD_NONE, FD_CONSOLE, FD_FILE, FD_BLK };

struct fd {
	enum fd_kind kind;
	const uint8_t *data; /* FD_FILE: initrd contents */
	uint64_t size, pos;
	void *priv; /* FD_BLK: kernel/blkdev.c's open disk */
};

struct proc {
	int pid;
	struct proc *parent;
	char name[VESSEL_PROC_NAME_MAX];
	struct vm vm;
	uint64_t pml4;		/* == vm.pml4, read by the scheduler */
	struct thread *threads; /* linked by thread->proc_next */
	int nthreads;		/* live (not dead) threads */
	int compat;		/* 32-bit process (ELF32, compatibility mode): kernel/compat.h */
	int killed;		/* being torn down: threads die at kernel exit */
	int intr_ignore;	/* VESSEL_INTR_*: survives Ctrl-C on the console (setintr) */
	int zombie;		/* all threads gone, waiting for the parent */
	int wstatus;		/* wait() status once exiting */
	int last_cpu;
	uint64_t dead_run_tsc; /* CPU time of its threads already freed */
	struct fd fds[VESSEL_FD_MAX];
	struct js_proc jsp;  /* its per-process trampolines (kernel/jumpswitch_proc.h) */
	uint64_t *tsc_trace; /* ubench: TSC at the first getpid and at exit entries */
	struct proc *next;   /* all processes, ascending pid */
};

/* The process of the running thread (NULL in kernel threads). */
struct proc *current_proc(void);
/*
 * Creates a process running initrd program `path` with argv (kernel
 * strings), child of parent (NULL for init). Returns the pid or -errno
 * (-ENOENT, -EISDIR, -ENOEXEC, -ENOMEM, -E2BIG, -EAGAIN).
 */
int proc_spawn(struct proc *parent, const char *path, int argc, char *const argv[]);
/*
 * Waits for a child of p (pid > 0 or -1 for any); see wait() in
 * docs/syscalls.md. *wstatus gets the status. Returns pid, 0 (WNOHANG) or
 * -ECHILD. With reap = 0 the child is left a zombie (status not delivered).
 */
int proc_wait(struct proc *p, int pid, int *wstatus, int nohang, int reap);
/* Reaps zombie child pid of p after a successful proc_wait(reap = 0). */
void proc_reap(struct proc *p, int pid);
/*
 * Creates a process from raw position-independent code (kernel/ubench.c):
 * one RX page range at VESSEL_USER_IMAGE_BASE, the usual stack, its thread
 * started with RDI/RSI as given and pinned to pin_cpu (-1: any).
 * Returns the pid or -errno.
 */
int proc_spawn_raw(struct proc *parent, const char *name, const void *code, uint64_t len,
		   uint64_t rdi, uint64_t rsi, int pin_cpu);
/*
 * Adds a thread to p starting at entry with rdi = arg, rsp = stack_top.
 * Returns the tid, -EAGAIN (VESSEL_THREADS_MAX threads that are live or
 * exited and not yet joined) or -ENOMEM.
 */
int proc_thread_add(struct proc *p, uint64_t entry, uint64_t arg, uint64_t stack_top);
/* Terminates p with wait status `wstatus` (exit or signal). */
void proc_kill(struct proc *p, int wstatus);
/*
 * Ctrl-C on the console: kills with VESSEL_SIGINT every live process that
 * has not asked to survive it (setintr), never init. Returns how many.
 */
int proc_interrupt(void);
/* The calling thread leaves: its process exits with wstatus. Never returns. */
void proc_exit(int wstatus) __attribute__((noreturn));
/* Ends the calling thread only (thread_exit). Never returns. */
void proc_thread_exit(int64_t value) __attribute__((noreturn));
/* Kernel exit path: the process was killed; the thread goes away. */
void proc_exit_thread_killed(void) __attribute__((noreturn));
/* An exception in user mode: page fault resolution or kill with a message. */
void proc_user_exception(struct trapframe *tf, uint64_t cr2);

/*
 * The last page fault that killed a process (a test hook, BKL held): its
 * pid, the address and the CPU's error code (bit 0: the page was present in
 * the page table the CPU used, a protection fault; 0: not present).
 */
struct proc_fatal_pf {
	int pid;
	uint64_t addr, error;
};
extern struct proc_fatal_pf proc_last_fatal_pf;
/* The live process with this pid (zombies included if `zombies`), or NULL. */
struct proc *proc_find(int pid, int zombies);
/* First process in pid order (iterate with ->next). */
struct proc *proc_list(void);
/* Number of processes (zombies included). */
int proc_count(void);
/* Closes every descriptor of p (kernel/sys_file.c; the process is finishing). */
void files_close_all(struct proc *p);

#endif
