// SPDX-License-Identifier: MIT
#include <abi/vessel.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/serial.h"
#include "kernel/console.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "lib/errno.h"

#define RING_SIZE 4096
#define LINE_MAX  256
#define EOF_MARK  0x04 /* ends a line without delivering a byte */

static struct spinlock lock = SPINLOCK_INIT;
static char ring[RING_SIZE]; /* committed lines, each ended by '\n' or EOF_MARK */
static uint32_t head, tail;  /* read at head, write at tail */
static char line[LINE_MAX];  /* the line being typed */
static uint32_t line_len;
static volatile int wake_pending;
static int chan;

static void commit(char end)
{
	for (uint32_t i = 0; i < line_len; i++) {
		if (tail - head < RING_SIZE)
			ring[tail++ % RING_SIZE] = line[i];
	}
	if (tail - head < RING_SIZE)
		ring[tail++ % RING_SIZE] = end;
	line_len = 0;
	wake_pending = 1;
}

static void echo(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		serial_putc(s[i]);
}

static void input(char c)
{
	if (c == '\r')
		c = '\n';
	if (c == 0x08 || c == 0x7f) {
		if (line_len) {
			line_len--;
			echo("\b \b", 3);
		}
		return;
	}
	if (c == 0x1c) { /* Ctrl-\: debugging dump */
		sched_debug_dump();
		return;
	}
	if (c == EOF_MARK) {
		commit(EOF_MARK);
		return;
	}
	if (c == '\n') {
		echo("\n", 1);
		commit('\n');
		return;
	}
	if ((unsigned char)c < 0x20 && c != '\t')
		return;
	echo(&c, 1);
	line[line_len++] = c;
	if (line_len == LINE_MAX)
		commit(EOF_MARK); /* overlong line: deliver what we have, no newline */
}

void console_irq(void)
{
	uint64_t f = spin_lock_irqsave(&lock);
	int c;

	while ((c = serial_getc()) >= 0)
		input((char)c);
	spin_unlock_irqrestore(&lock, f);
}

void console_init(void)
{
	ioapic_route(VESSEL_COM1_IRQ, VEC_COM1, cpus[0].apic_id);
	serial_enable_rx_irq();
}

int console_wakeup_pending(void)
{
	return wake_pending;
}

void console_deliver_wakeups(void)
{
	if (wake_pending) {
		wake_pending = 0;
		wakeup(&chan);
	}
}

int64_t console_read(char *buf, uint64_t len)
{
	uint64_t n = 0, f;
	int ended = 0;

	if (len == 0)
		return 0;
	for (;;) {
		struct thread *t = current_thread();

		f = spin_lock_irqsave(&lock);
		if (head != tail)
			break;
		spin_unlock_irqrestore(&lock, f);
		if (t->proc && t->proc->killed)
			return -EINTR;
		sleep_on(&chan);
	}
	while (head != tail && n < len) {
		char c = ring[head % RING_SIZE];

		head++;
		if (c == EOF_MARK) {
			ended = 1;
			break;
		}
		buf[n++] = c;
		if (c == '\n') {
			ended = 1;
			break;
		}
	}
	/* buffer full right where a Ctrl-D ended the line: the marker goes too */
	if (!ended && head != tail && ring[head % RING_SIZE] == EOF_MARK)
		head++;
	spin_unlock_irqrestore(&lock, f);
	return (int64_t)n;
}
