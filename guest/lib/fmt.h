/* SPDX-License-Identifier: MIT */
/*
 * Freestanding printf-style formatting, shared by the user libc (printf) and
 * usable by the kernel (printk): no allocation, no floating point, no libc.
 * Host-unit-tested against the host's snprintf (tests/unit/user_fmt_test.c).
 *
 * Conversions: %d %i %u %x %X %o %b (binary) %c %s %p %%, flags - 0 + space #,
 * field width and precision (numbers or *), length modifiers hh h l ll z t j.
 * %s of NULL prints "(null)"; %p prints 0x followed by hex digits (like
 * glibc, "(nil)" for NULL). An unknown conversion is printed as is
 * ("%y" prints "%y") and consumes no argument.
 */
#ifndef VESSEL_LIB_FMT_H
#define VESSEL_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Output callback: emit n bytes starting at s. */
typedef void (*fmt_out_fn)(void *ctx, const char *s, size_t n);

/*
 * Format `fmt` with `ap`, sending the output to `out` in pieces.
 * Returns the number of bytes produced.
 */
int fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap);

/*
 * snprintf semantics: writes at most size - 1 bytes plus a NUL into buf
 * (nothing if size is 0) and returns the length the whole output would
 * have had.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* VESSEL_LIB_FMT_H */
