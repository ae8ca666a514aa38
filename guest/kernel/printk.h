/* SPDX-License-Identifier: MIT */
/* Kernel console output. */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <stdarg.h>

/* Formats (see lib/fmt.h) and writes to the console, one line atomically. */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* va_list form of printk. */
void vprintk(const char *fmt, va_list ap);
/* Writes raw bytes to the console (no formatting). */
void console_write(const char *s, unsigned long n);
/*
 * Stops the kernel on all CPUs after printing the message and a backtrace
 * hint; powers off with VESSEL_EXIT_GUEST_FAULT-like status 125.
 */
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (cond)                                                                          \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__);                   \
	} while (0)

#endif
