// SPDX-License-Identifier: MIT
#include "dev/serial.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/power.h"
#include "kernel/smp.h"
#include "lib/fmt.h"

static struct spinlock console_lock = SPINLOCK_INIT; /* owner-recording */

void console_write(const char *s, unsigned long n)
{
	uint32_t me = (uint32_t)smp_cpu_id();
	uint64_t f;

	/* A machine check (or an NMI) that interrupted this very CPU inside
	 * console_write must not wait for the lock it holds itself: it writes
	 * without it (its text may land inside the interrupted line). */
	if (spin_held_by(&console_lock, me)) {
		serial_write(s, n);
		return;
	}
	f = spin_lock_owner_irqsave(&console_lock, me);
	serial_write(s, n);
	spin_unlock_irqrestore(&console_lock, f);
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	console_write(buf, (unsigned long)n);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	static volatile int in_panic;
	va_list ap;

	irq_disable();
	if (__atomic_exchange_n(&in_panic, 1, __ATOMIC_SEQ_CST)) {
		for (;;)
			__asm__ volatile("hlt");
	}
	smp_stop_others();
	/* the lock may be held by a CPU we just stopped */
	console_lock.locked = 0;
	printk("\nkernel panic on cpu %d: ", smp_cpu_id());
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	power_off(125);
}
