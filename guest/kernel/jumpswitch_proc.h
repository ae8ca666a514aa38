/* SPDX-License-Identifier: MIT */
/*
 * Per-process trampolines (K2, docs/jumpswitch.md): a call whose target
 * depends on the process goes through a first trampoline at a fixed address
 * (js_proc_entry, kernel text) that jumps directly to JS_PROC_VA, a page
 * mapped at that address in every address space with the process's own
 * code: compare-and-direct-jump entries for the targets this process calls
 * most, and the retpolined call on a miss.
 *
 * The call: read() and write() dispatch to the file operation of the
 * descriptor's kind (fd_ops[], kernel/sys_file.c). Which operation a call
 * site reaches depends on what the process's descriptor table holds: a
 * process reading an initrd file calls the file read, a shell the console
 * read and write, a disk tool the block read and write. One global
 * trampoline would have to hold all of them in one global order; each
 * process's own holds the one or two it uses.
 *
 * Learned per process from its own counts, every `period` calls of the
 * process; written only while the process has a single thread (the one
 * learning), so no CPU can be running the region while it changes.
 */
#ifndef KERNEL_JUMPSWITCH_PROC_H
#define KERNEL_JUMPSWITCH_PROC_H

#include <stdint.h>
#include "kernel/counters.h"
#include "lib/jswitch.h"

struct fd;
struct proc;

/* A file operation: len bytes between descriptor f and user address buf. */
typedef int64_t fd_op_fn(struct fd *f, uint64_t buf, uint64_t len);

/*
 * The keys of the per-process table: (descriptor kind - FD_CONSOLE) * 2,
 * plus 1 for write. fd_ops[key] is the target (kernel/sys_file.c).
 */
#define JSP_NKEYS 6
extern fd_op_fn *const fd_ops[JSP_NKEYS];

/* One process's trampoline state (in struct proc; zeroed at creation). */
struct js_proc {
	uint64_t page; /* the region's frame; 0: none (jumpswitch=off): retpolined calls */
	uint64_t count[JSP_NKEYS], seen[JSP_NKEYS]; /* calls per key; at the last learning */
	uint32_t live[JSW_MAX_ENTRIES];		    /* keys in the region, hottest first */
	int nlive;
	uint32_t countdown; /* calls until the next learning step */
	uint64_t misses;    /* calls that took the retpolined call */
	uint64_t rewrites;  /* re-learnings that rewrote the region */
	uint64_t skipped;   /* learning steps skipped: more than one thread */
};

/*
 * Reads `jumpswitch.fd=off` (no regions: retpolined calls, the system-call
 * and interrupt tables unchanged), `jumpswitch.fd.entries=N` (default:
 * jumpswitch.entries) and
 * `jumpswitch.fd.period=N` (calls of one process between learning steps,
 * default 64). After jumpswitch_init, before the first process.
 */
void jsp_init(void);

/*
 * Gives new process p (not running yet, address space set up) its region:
 * a page holding only the jump to the miss path, mapped at JS_PROC_VA in
 * p's address space. Nothing with jumpswitch=off or jumpswitch.fd=off. 0 or
 * -ENOMEM.
 */
int jsp_create(struct proc *p);

/*
 * Frees p's region (its counts go to the totals). p's address space must
 * not be loaded on any CPU (after tlb_release); before vm_destroy.
 */
void jsp_free(struct proc *p);

/*
 * Calls fd_ops[key](f, buf, len) for the calling process p through its
 * region (retpolined when it has none), counts it, and takes a learning
 * step every `period` calls. Thread context, p's address space loaded.
 */
int64_t jsp_call(struct proc *p, uint32_t key, struct fd *f, uint64_t buf, uint64_t len);

/*
 * Adds jumpswitch.fd.{hits,misses,rewrites,regions} (every process, the
 * dead ones included; regions: live ones) and the calling process's own
 * jsproc.{hits,misses,relearn,skipped,entries,keys} (keys: bit k set when
 * key k is in its region).
 */
void jsp_report(named_counter_fn *add, struct vessel_stats *s);

#endif
