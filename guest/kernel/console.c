// SPDX-License-Identifier: MIT
#include <abi/vessel.h>
#include "arch/x86_64/arch.h"
#include "dev/serial.h"
#include "kernel/console.h"
#include "kernel/deferred.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"
#include "lib/linedisc.h"

static struct spinlock lock = SPINLOCK_INIT;
static struct linedisc ld;
static int chan;

/* Deferred work: wakes the readers once a line is complete. */
static void wake_readers(void)
{
	wakeup(&chan);
}

static struct deferred_work wake_work = DEFERRED_WORK_INIT(wake_readers);

/*
 * Deferred work for Ctrl-C: kills the programs that did not ask to survive
 * it (the shell's foreground job); with nothing to kill, a blank line makes
 * the reader (the shell at its prompt) prompt again.
 */
static void interrupt(void)
{
	uint64_t f;
	int blank;

	if (proc_interrupt() > 0)
		return;
	f = spin_lock_irqsave(&lock);
	blank = ld_blank_line(&ld);
	spin_unlock_irqrestore(&lock, f);
	if (blank)
		wakeup(&chan);
}

static struct deferred_work intr_work = DEFERRED_WORK_INIT(interrupt);

/*
 * One received byte: line editing, echo, and deferred work for a complete
 * line (wake the readers) or Ctrl-C (interrupt).
 */
static void input(char c)
{
	char echo[3];
	int events, n;

	if (c == 0x1c) { /* Ctrl-\: debugging dump */
		sched_debug_dump();
		return;
	}
	n = ld_input(&ld, c, echo, &events);
	if (n)
		serial_write(echo, (unsigned long)n);
	if (events & LD_COMMITTED)
		deferred_raise(&wake_work);
	if (events & LD_INTERRUPT)
		deferred_raise(&intr_work);
}

/* Takes every byte the UART holds (interrupt or not: console_init drains too). */
static void console_drain(void)
{
	uint64_t f = spin_lock_irqsave(&lock);
	int c;

	while ((c = serial_getc()) >= 0)
		input((char)c);
	spin_unlock_irqrestore(&lock, f);
}

/* COM1 receive interrupt (IOAPIC pin 4, to CPU 0). */
static void console_irq(struct trapframe *tf)
{
	(void)tf;
	console_drain();
}

void console_init(void)
{
	deferred_register(&wake_work);
	deferred_register(&intr_work);
	if (irq_register(VEC_COM1, console_irq))
		panic("console: COM1 vector %#x taken", VEC_COM1);
	ioapic_route(VESSEL_COM1_IRQ, VEC_COM1, cpus[0].apic_id);
	serial_enable_rx_irq();
	console_drain(); /* input that arrived before the interrupt was enabled */
}

int64_t console_read(char *buf, uint64_t len)
{
	int64_t n;
	uint64_t f;

	if (len == 0)
		return 0;
	for (;;) {
		struct thread *t = current_thread();

		f = spin_lock_irqsave(&lock);
		n = ld_read(&ld, buf, len);
		spin_unlock_irqrestore(&lock, f);
		if (n != -EAGAIN)
			return n;
		if (t->proc && t->proc->killed)
			return -EINTR;
		sleep_on(&chan);
	}
}
