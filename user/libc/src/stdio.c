// SPDX-License-Identifier: MIT
/*
 * printf family over fmt_vformat (guest/lib/fmt.c): output is collected in
 * a 1 KiB buffer on the caller's stack and written with one write() per
 * call, so lines from different processes do not interleave and no lock is
 * needed. stdin has a small read-ahead buffer for fgets (the only reader).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/fmt.h"

static FILE files[3] = { { 0 }, { 1 }, { 2 } };
FILE *const stdin = &files[0];
FILE *const stdout = &files[1];
FILE *const stderr = &files[2];

struct outbuf {
	int fd;
	int err;
	size_t len;
	char buf[1024];
};

static void flush(struct outbuf *o)
{
	if (o->len && !o->err && write_all(o->fd, o->buf, o->len) < 0)
		o->err = 1;
	o->len = 0;
}

static void out(void *ctx, const char *s, size_t n)
{
	struct outbuf *o = ctx;

	while (n) {
		size_t k = sizeof(o->buf) - o->len;

		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
		if (o->len == sizeof(o->buf))
			flush(o);
	}
}

int vdprintf(int fd, const char *fmt, va_list ap)
{
	struct outbuf o;
	int n;

	o.fd = fd;
	o.err = 0;
	o.len = 0;
	n = fmt_vformat(out, &o, fmt, ap);
	flush(&o);
	return o.err ? -1 : n;
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	return vdprintf(f->fd, fmt, ap);
}

int vprintf(const char *fmt, va_list ap)
{
	return vdprintf(1, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(1, fmt, ap);
	va_end(ap);
	return n;
}

int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(f->fd, fmt, ap);
	va_end(ap);
	return n;
}

int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return fmt_vsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int fputs(const char *s, FILE *f)
{
	return write_all(f->fd, s, strlen(s)) < 0 ? EOF : 0;
}

int puts(const char *s)
{
	return printf("%s\n", s) < 0 ? EOF : 0;
}

int fputc(int c, FILE *f)
{
	char ch = (char)c;

	return write_all(f->fd, &ch, 1) < 0 ? EOF : (unsigned char)ch;
}

int putchar(int c)
{
	return fputc(c, stdout);
}

int fflush(FILE *f)
{
	(void)f;
	return 0;
}

/* Read-ahead for stdin: lines are handed out of here. */
static struct {
	char buf[512];
	size_t pos, len;
	int eof;
} in;

char *fgets(char *buf, int size, FILE *f)
{
	int n = 0;

	if (size <= 0)
		return NULL;
	while (n < size - 1) {
		char c;

		if (f->fd == 0) {
			if (in.pos == in.len) {
				long r;

				if (in.eof)
					break;
				r = read(0, in.buf, sizeof(in.buf));
				if (r <= 0) {
					in.eof = r == 0;
					break;
				}
				in.pos = 0;
				in.len = (size_t)r;
			}
			c = in.buf[in.pos++];
		} else if (read(f->fd, &c, 1) != 1) {
			break;
		}
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	if (n == 0) {
		in.eof = 0; /* a later read may see more input (EOF is per line) */
		return NULL;
	}
	return buf;
}
