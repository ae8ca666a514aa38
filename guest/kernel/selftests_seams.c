// SPDX-License-Identifier: MIT
/*
 * Self-tests of the kernel's registration seams: interrupt handlers
 * (kernel/irq.h), deferred work (kernel/deferred.h) and kernel text
 * patching (arch/x86_64/text_patch.h).
 */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/bkl.h"
#include "kernel/deferred.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/time.h"
#include "lib/errno.h"
#include "lib/string.h"

static volatile int test_irq_hits;
static volatile uint64_t test_irq_vector;

static void test_irq(struct trapframe *tf)
{
	test_irq_vector = tf->vector;
	test_irq_hits++;
}

/* Vectors that belong to the arch code or to another subsystem are refused. */
SELFTEST(irq_register_refuses_taken_vectors)
{
	ST_ASSERT(irq_register(14, test_irq) == -EINVAL); /* an exception */
	ST_ASSERT(irq_register(VEC_SYSCALL_INT, test_irq) == -EINVAL);
	ST_ASSERT(irq_register(VEC_SPURIOUS, test_irq) == -EINVAL);
	ST_ASSERT(irq_register(256, test_irq) == -EINVAL);
	ST_ASSERT(irq_register(IRQ_DYN_FIRST, NULL) == -EINVAL);
	ST_ASSERT(irq_register(VEC_TIMER, test_irq) == -EBUSY); /* time.c has it */
	ST_ASSERT(irq_register(VEC_TLB, test_irq) == -EBUSY);
	ST_ASSERT(irq_unregister(IRQ_DYN_LAST) == -EINVAL); /* nothing there */
	return 0;
}

/*
 * A handler on an allocated vector runs when that vector arrives (a
 * self-IPI) and the interrupt is counted; once unregistered the vector is
 * free again. Fails if trap.c does not dispatch through the table.
 */
SELFTEST(irq_alloc_handler_runs)
{
	struct cpu *c = this_cpu();
	uint64_t before = c->cnt.interrupts, deadline;
	int v = irq_alloc(test_irq);

	ST_ASSERT(v >= IRQ_DYN_FIRST && v <= IRQ_DYN_LAST && v != VEC_SYSCALL_INT);
	ST_ASSERT(irq_register((unsigned int)v, test_irq) == -EBUSY);
	test_irq_hits = 0;
	lapic_send_ipi(c->apic_id, (uint8_t)v);
	/* a bound against a hang only: the loop ends as soon as the handler ran */
	deadline = time_ns() + 2000000000ull;
	irq_enable();
	while (!test_irq_hits && time_ns() < deadline)
		cpu_relax();
	irq_disable();
	ST_ASSERT(test_irq_hits == 1);
	ST_ASSERT(test_irq_vector == (uint64_t)v);
	ST_ASSERT(c->cnt.interrupts > before);
	ST_ASSERT(irq_unregister((unsigned int)v) == 0);
	ST_ASSERT(irq_alloc(test_irq) == v); /* the lowest free vector again */
	ST_ASSERT(irq_unregister((unsigned int)v) == 0);
	return 0;
}

static volatile int test_work_runs, test_work_locked;

static void test_work(void)
{
	test_work_runs++;
	test_work_locked = kernel_locked();
}

static struct deferred_work test_work_item = DEFERRED_WORK_INIT(test_work);

/*
 * A raised work runs once, with the BKL, at the next safe point: here the
 * idle loop taking the BKL while this thread sleeps. Fails if nothing runs
 * raised work or if it runs once per raise.
 */
SELFTEST(deferred_work_runs_once_with_the_bkl)
{
	static int chan;
	uint64_t deadline;

	deferred_register(&test_work_item);
	test_work_runs = 0;
	deferred_raise(&test_work_item);
	deferred_raise(&test_work_item);
	ST_ASSERT(deferred_pending());
	ST_ASSERT(test_work_runs == 0); /* not before a safe point */
	/* a bound against a hang only: the loop ends as soon as it ran */
	deadline = time_ns() + 2000000000ull;
	while (!test_work_runs && time_ns() < deadline)
		sleep_on_until(&chan, time_ns() + 10000000ull);
	ST_ASSERT(test_work_runs == 1);
	ST_ASSERT(test_work_locked);
	ST_ASSERT(!test_work_item.pending);
	return 0;
}

/* Returns 1; text_poke rewrites it to return 2 and back. */
static __attribute__((noinline, noipa)) int poke_target(void)
{
	return 1;
}
TEXT_PATCH_SITE(poke_target, poke_target, 6); /* mov $1,%eax; ret */

/*
 * text_poke changes code in the kernel image (through the direct-map alias)
 * and the CPU runs the new bytes at once; ranges outside kernel text and
 * the direct map are refused.
 */
SELFTEST(text_poke_patches_kernel_text)
{
	static const uint8_t ret2[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3 }; /* mov $2,%eax; ret */
	extern char _rodata_start[];
	int (*volatile fn)(void) = poke_target;
	uint8_t saved[sizeof(ret2)];

	ST_ASSERT(fn() == 1);
	memcpy(saved, (const void *)poke_target, sizeof(saved));
	ST_ASSERT(text_poke((void *)poke_target, ret2, sizeof(ret2)) == 0);
	ST_ASSERT(fn() == 2);
	ST_ASSERT(text_poke((void *)poke_target, saved, sizeof(saved)) == 0);
	ST_ASSERT(fn() == 1);
	ST_ASSERT(text_poke((void *)0x400000ul, ret2, sizeof(ret2)) == -EINVAL); /* user */
	ST_ASSERT(text_poke((void *)((uint64_t)_rodata_start - 2), ret2, sizeof(ret2)) ==
		  -EINVAL); /* past .text */
	ST_ASSERT(text_poke((void *)poke_target, ret2, 0) == -EINVAL);
	ST_ASSERT(memcmp((const void *)poke_target, saved, sizeof(saved)) == 0);
	return 0;
}
