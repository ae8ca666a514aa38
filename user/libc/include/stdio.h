/* SPDX-License-Identifier: MIT */
/*
 * Console I/O. printf-family calls format into a buffer on the caller's
 * stack and issue one write() per call (per 1 KiB of output), so a line
 * printed by one call is never interleaved with another process's output
 * and no lock or flush is needed. Formatting: guest/lib/fmt.h.
 */
#ifndef VESSEL_USER_STDIO_H
#define VESSEL_USER_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

typedef struct vessel_file {
	int fd;
} FILE;

extern FILE *const stdin;
extern FILE *const stdout;
extern FILE *const stderr;

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vprintf(const char *fmt, va_list ap);
int vfprintf(FILE *f, const char *fmt, va_list ap);
int vdprintf(int fd, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* Write s and a newline (puts) or s alone (fputs); return >= 0 or EOF. */
int puts(const char *s);
int fputs(const char *s, FILE *f);
int putchar(int c);
int fputc(int c, FILE *f);

/*
 * Read one line (up to and including '\n', at most size - 1 bytes) from f
 * into buf and NUL-terminate it. Returns buf, or NULL at end of file with
 * nothing read, or on an error. Reads the console one read() at a time;
 * the kernel's line discipline hands out whole lines.
 */
char *fgets(char *buf, int size, FILE *f);

/* No buffering to flush: kept so ordinary code compiles. Returns 0. */
int fflush(FILE *f);

#endif /* VESSEL_USER_STDIO_H */
