/* SPDX-License-Identifier: MIT */
/*
 * Cross-CPU calls and TLB shootdowns: the shared-memory part, the same code
 * in the kernel (kernel/xcall.c, kernel/tlb.c) and in the native replica
 * benchmark (bench/tlb_replica.c), which replaces the IPI by a doorbell.
 *
 * - Every CPU has a lock-free call-function queue (a LIFO list pushed with
 *   compare-and-swap, taken whole with an exchange and run in FIFO order).
 * - A call-function data entry (struct sd_csd) belongs to the CPU that
 *   sends it: it is busy (SD_CSD_BUSY) from the send until the target has
 *   run its function; clearing the flag is the acknowledgement, after which
 *   the target never touches the entry again.
 * - An address space (struct sd_mm) has a generation, bumped by every
 *   shootdown after its page-table change, and the mask of CPUs that may
 *   hold it. Every CPU records the generation it has flushed to, so a CPU
 *   that is already up to date flushes nothing, and one that is one
 *   generation behind flushes only the changed range. A target works from
 *   the request's flush information alone: it never reads the address
 *   space, whose line stays with the CPU changing it.
 * - Lazy TLB mode: a CPU running only kernel threads or idle keeps the last
 *   address space loaded and is marked lazy; a shootdown skips it, and it
 *   catches up (one full flush, if its generation is behind) when it next
 *   runs a thread of that address space. Freeing an address space
 *   (sd_release) still goes to lazy CPUs.
 *
 * Two layouts of the same state (issue K4, "Don't shoot down TLB
 * shootdowns!", EuroSys'20):
 *   SD_CONSOLIDATED: a CPU's lazy indicator sits in the cache line of its
 *     queue head (which an initiator writes anyway), and the flush
 *     information is copied into each call-function data entry's line.
 *   SD_SPLIT: the lazy indicator sits with the rest of the CPU's TLB state
 *     (loaded address space, generation) and one flush-information record
 *     per initiator is pointed to by the entries, as in Linux before the
 *     consolidation.
 * Compile-time assertions in shootdown.c hold both layouts.
 *
 * Every access to shared state goes through an accessor that, when a trace
 * is attached (sd_sys.trace), records the cache line it touches for the CPU
 * making it: that is how the lines touched per shootdown are counted.
 * Read-only configuration (layout, ops) and what no other CPU ever reads or
 * writes (a CPU's run list and statistics) are not shared state and are not
 * traced.
 *
 * Not a lock: callers serialise sd_switch_mm/sd_release per CPU themselves
 * (the kernel runs them with interrupts off); sd_shootdown and the call
 * functions may run on any number of CPUs at once.
 */
#ifndef GUEST_LIB_SHOOTDOWN_H
#define GUEST_LIB_SHOOTDOWN_H

#include <stdint.h>

#define SD_LINE	     64
#define SD_MAX_CPUS  16
#define SD_FLUSH_ALL UINT64_MAX /* sd_shootdown end: the whole address space */
#define SD_RANGE_MAX 32		/* pages a range flush may take; more: full */

enum sd_layout {
	SD_CONSOLIDATED = 0,
	SD_SPLIT = 1,
};

struct sd_sys;
struct sd_csd;

/* A cross-CPU call function: runs on CPU `self` (the target) with the entry. */
typedef void sd_call_fn(struct sd_sys *s, int self, struct sd_csd *c);

/* What a shootdown asks of a CPU. 32 bytes. */
struct sd_flush_info {
	struct sd_mm *mm;
	uint64_t start, end; /* [start, end) page aligned; end SD_FLUSH_ALL: all */
	uint64_t gen;	     /* the address space's generation after this change */
};

#define SD_CSD_BUSY 1u

/* A call-function data entry: one cache line, owned by the sender. */
struct sd_csd {
	struct sd_csd *next; /* queue link */
	sd_call_fn *fn;
	void *arg;		 /* the call's argument (a flush: its sd_flush_info) */
	uint32_t flags;		 /* SD_CSD_BUSY until the target has run fn */
	uint32_t src;		 /* sending CPU */
	struct sd_flush_info fi; /* SD_CONSOLIDATED: the flush information */
} __attribute__((aligned(SD_LINE)));

/* A CPU's call-function queue head (written by every sender). */
struct sd_queue {
	struct sd_csd *head;
	uint32_t lazy; /* SD_CONSOLIDATED: this CPU's lazy indicator */
	uint32_t pad;
} __attribute__((aligned(SD_LINE)));

/* A CPU's TLB state (written by that CPU when it switches). */
struct sd_tlbstate {
	struct sd_mm *loaded_mm; /* address space loaded (NULL: the kernel's) */
	uint64_t loaded_gen;	 /* loaded_mm's generation this CPU has flushed to */
	uint32_t lazy;		 /* SD_SPLIT: this CPU's lazy indicator */
	uint32_t pad;
} __attribute__((aligned(SD_LINE)));

/* Per address space (embedded in the owner's structure; 16 bytes). */
struct sd_mm {
	uint64_t gen;	  /* bumped by every shootdown */
	uint64_t cpumask; /* CPUs that have it loaded, lazily or not */
} __attribute__((aligned(16)));

/* What one CPU sends: an entry per target and (SD_SPLIT) the flush record. */
struct sd_cfd {
	struct sd_csd csd[SD_MAX_CPUS];
	struct sd_flush_info fi __attribute__((aligned(SD_LINE))); /* SD_SPLIT */
} __attribute__((aligned(SD_LINE)));

/* Per-CPU event counts (private to the CPU; not traced). */
struct sd_stats {
	uint64_t shootdowns;	  /* sd_shootdown calls that sent a call to another CPU */
	uint64_t shootdown_calls; /* ... the calls they sent */
	uint64_t shootdown_kicks; /* ... and the IPIs (doorbells) those took */
	uint64_t calls_sent;	  /* entries queued on other CPUs (all kinds) */
	uint64_t kicks;		  /* IPIs (doorbells) sent: only when a queue was empty */
	uint64_t calls_run;	  /* entries this CPU ran */
	uint64_t lazy_skipped;	  /* CPUs a shootdown skipped because they were lazy */
	uint64_t lazy_catchups;	  /* full flushes when leaving lazy mode behind */
	uint64_t flush_full;	  /* full flushes for a shootdown */
	uint64_t flush_range;	  /* range flushes (one generation behind) */
	uint64_t flush_uptodate;  /* flush requests found already done */
	uint64_t flush_notloaded; /* flush requests for an address space switched away */
} __attribute__((aligned(SD_LINE)));

/* A CPU's run list: entries taken from its queue and not started yet (private). */
struct sd_runlist {
	struct sd_csd *head, *tail;
} __attribute__((aligned(SD_LINE)));

/* Cache lines one CPU touched while a trace was attached. */
#define SD_TRACE_LINES 48
struct sd_trace_cpu {
	uint32_t n;
	uint32_t overflow;
	uintptr_t line[SD_TRACE_LINES];
};
struct sd_trace {
	struct sd_trace_cpu cpu[SD_MAX_CPUS];
};

/* The platform: how to interrupt a CPU and what a flush or a switch is. */
struct sd_ops {
	/* Makes CPU `cpu` run its queue soon (an IPI); `first` was queued first. */
	void (*kick)(struct sd_sys *s, int self, int cpu, const struct sd_csd *first);
	/* Flushes this CPU's TLB for [start, end) of the loaded space (SD_FLUSH_ALL: all). */
	void (*flush)(struct sd_sys *s, int self, uint64_t start, uint64_t end);
	/* Loads mm's page table on this CPU (NULL: the kernel's). */
	void (*load)(struct sd_sys *s, int self, struct sd_mm *mm);
	/* One step of a wait loop (pause; serve this CPU's own queue and other requests). */
	void (*relax)(struct sd_sys *s, int self);
};

struct sd_sys {
	/* read-only after sd_init (not traced) */
	int layout; /* enum sd_layout; changed only by sd_set_layout */
	const struct sd_ops *ops;
	void *ctx;		/* the platform's */
	struct sd_trace *trace; /* NULL: no tracing */
	/* shared state */
	struct sd_queue q[SD_MAX_CPUS];
	struct sd_tlbstate ts[SD_MAX_CPUS];
	struct sd_cfd cfd[SD_MAX_CPUS];
	/* private per CPU */
	struct sd_runlist run[SD_MAX_CPUS];
	struct sd_stats st[SD_MAX_CPUS];
} __attribute__((aligned(SD_LINE)));

/* Clears s and sets its layout and platform operations. */
void sd_init(struct sd_sys *s, enum sd_layout layout, const struct sd_ops *ops, void *ctx);
/*
 * Moves the lazy indicators to `layout`'s place. Only while no CPU is in
 * any sd_* function (the kernel: BKL held and no shootdown in flight).
 */
void sd_set_layout(struct sd_sys *s, enum sd_layout layout);
/* Name of a layout: "consolidated" or "split". */
const char *sd_layout_name(int layout);

/*
 * Queues the caller-owned entry c (not busy) on CPU cpu's queue to run
 * fn(s, cpu, c) there, kicking cpu if its queue was empty. Does not wait:
 * c stays busy until the target has run fn (sd_csd_wait). Entries that
 * one CPU queues on another run there in the order they were queued.
 * Returns 1 if it kicked, 0 if not.
 */
int sd_call_async(struct sd_sys *s, int self, int cpu, struct sd_csd *c, sd_call_fn *fn, void *arg);
/* Waits (ops->relax) until c is no longer busy. */
void sd_csd_wait(struct sd_sys *s, int self, struct sd_csd *c);
/* Runs fn on CPU cpu with the sender's own entry for cpu and waits for it. */
void sd_call(struct sd_sys *s, int self, int cpu, sd_call_fn *fn, void *arg);
/*
 * Runs every entry queued for CPU self, oldest first, acknowledging each
 * after its function returned. Returns the number run. Call it from the
 * kick handler and from wait loops. A function that waits (and so runs the
 * queue again from inside) does not let later entries start before the
 * ones taken with it: they go on one run list.
 */
int sd_run_queue(struct sd_sys *s, int self);
/* 1 if CPU self's queue is not empty (a hint). */
int sd_queue_pending(struct sd_sys *s, int self);
/* 1 if c carries a TLB flush (a shootdown's), 0 for any other call. */
int sd_csd_is_flush(const struct sd_csd *c);

/*
 * The page tables of mm changed in [start, end): bumps mm's generation,
 * flushes this CPU if it runs mm, asks every other CPU running mm (not the
 * lazy ones) to flush, and returns once all have. Returns the number of
 * CPUs asked.
 */
int sd_shootdown(struct sd_sys *s, int self, struct sd_mm *mm, uint64_t start, uint64_t end);
/*
 * mm is about to be freed: every CPU that holds it, lazily or not, this
 * one included, loads the kernel's page table. Returns once all have.
 */
void sd_release(struct sd_sys *s, int self, struct sd_mm *mm);
/*
 * CPU self switches to a thread of mm (NULL: a kernel thread or idle, which
 * keeps the loaded space lazily). Loads mm or, coming back from lazy mode
 * to the same mm, flushes once if a shootdown skipped this CPU.
 */
void sd_switch_mm(struct sd_sys *s, int self, struct sd_mm *mm);
/* The address space CPU cpu has loaded (NULL: the kernel's). */
struct sd_mm *sd_loaded_mm(struct sd_sys *s, int cpu);
/* 1 if CPU cpu is in lazy TLB mode. */
int sd_is_lazy(struct sd_sys *s, int cpu);

/*
 * Names the cache line `line` (an address >> 6) in s, e.g. "queue[1]",
 * "csd[0->1]", "flush[0]", "tlbstate[1]", or "other" (an sd_mm, say).
 * Returns buf.
 */
char *sd_line_name(const struct sd_sys *s, uintptr_t line, char *buf, unsigned size);

#endif
