/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU state. GS.base points at this CPU's struct cpu while in the kernel;
 * the first fields are read by the entry code at fixed offsets (layout.h).
 */
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#include <stdint.h>
#include "arch/x86_64/layout.h"
#include "kernel/counters.h"

#define MAX_CPUS 16

struct thread;

struct tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct runqueue {
	struct thread *head, *tail;
	uint32_t len;
};

struct cpu {
	struct cpu *self;    /* CPU_SELF */
	uint64_t kstack_top; /* CPU_KSTACK: current thread's kernel stack top */
	uint64_t scratch;    /* CPU_SCRATCH */
	uint64_t scratch2;   /* CPU_SCRATCH2 */
	/*
	 * Page-table isolation (arch/x86_64/pti.h), read by the entry code:
	 * the kernel table to switch to on entry, the user table to switch to
	 * on exit (0: the current process runs without PTI, no switch), the
	 * top of this CPU's entry stack.
	 */
	uint64_t pti_kcr3;   /* CPU_KCR3 */
	uint64_t pti_ucr3;   /* CPU_UCR3 */
	uint64_t pti_estack; /* CPU_ESTACK */
	uint64_t pti_kfix;   /* CPU_PTI_KFIX: kernel-mode exceptions taken on the user table */
	int id;
	uint32_t apic_id;
	volatile int online;
	volatile int need_resched;
	struct thread *current;
	struct thread *idle;
	struct thread *dead; /* exited thread whose stack is freed after the switch */
	struct runqueue rq;
	uint64_t cr3;	      /* page table root loaded now */
	uint64_t fs_base;     /* FS base loaded now (user TLS) */
	uint64_t switch_tsc;  /* TSC when the current thread was switched in */
	uint64_t boot_kstack; /* APs: base of the stack they started on */
	volatile uint64_t ticks;
	uint64_t tick_tsc; /* TSC at the last timer tick (lookahead: is the next one due?) */
	struct counters cnt;
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
};

extern struct cpu cpus[MAX_CPUS];

/* This CPU's struct cpu (valid once arch_cpu_init ran on it). */
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

#endif
