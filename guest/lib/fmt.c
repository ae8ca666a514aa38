// SPDX-License-Identifier: MIT
/*
 * printf-style formatter. One pass over the format; each conversion is
 * parsed into a spec, the digits are produced right-to-left into a small
 * buffer, then sign/prefix/zero padding/field padding are emitted around
 * them in the order C99 7.19.6.1 describes.
 */
#include <stdint.h>

#include "lib/fmt.h"

enum {
	F_LEFT = 1,  /* - */
	F_ZERO = 2,  /* 0 */
	F_PLUS = 4,  /* + */
	F_SPACE = 8, /* ' ' */
	F_ALT = 16,  /* # */
};

struct spec {
	unsigned flags;
	int width;
	int prec; /* -1: none */
};

struct sink {
	fmt_out_fn out;
	void *ctx;
	int count;
};

static void emit(struct sink *s, const char *p, size_t n)
{
	if (n) {
		s->out(s->ctx, p, n);
		s->count += (int)n;
	}
}

static void pad(struct sink *s, char c, int n)
{
	char buf[16];

	for (int i = 0; i < (int)sizeof(buf); i++)
		buf[i] = c;
	while (n > 0) {
		int k = n < (int)sizeof(buf) ? n : (int)sizeof(buf);

		emit(s, buf, (size_t)k);
		n -= k;
	}
}

static size_t slen(const char *p, int max)
{
	size_t n = 0;

	while ((max < 0 || n < (size_t)max) && p[n])
		n++;
	return n;
}

/* Emit `body` (len bytes) with prefix and padding as the spec says. */
static void field(struct sink *s, const struct spec *sp, const char *prefix, const char *body,
		  int len, int zeros)
{
	int plen = (int)slen(prefix, -1);
	int total = plen + zeros + len;

	if (!(sp->flags & F_LEFT))
		pad(s, ' ', sp->width - total);
	emit(s, prefix, (size_t)plen);
	pad(s, '0', zeros);
	emit(s, body, (size_t)len);
	if (sp->flags & F_LEFT)
		pad(s, ' ', sp->width - total);
}

static void number(struct sink *s, const struct spec *sp, uint64_t v, int neg, unsigned base,
		   int upper, char conv)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[66];
	char prefix[4] = "";
	int len = 0, zeros = 0, p = 0;

	if (!(sp->prec == 0 && v == 0)) {
		do {
			buf[sizeof(buf) - 1 - len++] = digits[v % base];
			v /= base;
		} while (v);
	}
	if (neg)
		prefix[p++] = '-';
	else if (sp->flags & F_PLUS)
		prefix[p++] = '+';
	else if (sp->flags & F_SPACE)
		prefix[p++] = ' ';
	if ((sp->flags & F_ALT) && len) {
		if (base == 16 && !(len == 1 && buf[sizeof(buf) - 1] == '0')) {
			prefix[p++] = '0';
			prefix[p++] = upper ? 'X' : 'x';
		} else if (base == 2 && !(len == 1 && buf[sizeof(buf) - 1] == '0')) {
			prefix[p++] = '0';
			prefix[p++] = 'b';
		} else if (base == 8 && buf[sizeof(buf) - len] != '0') {
			zeros = 1; /* the precision grows so the first digit is 0 */
		}
	}
	if (conv == 'o' && (sp->flags & F_ALT) && len == 0)
		zeros = 1; /* "%#.0o" of 0 prints "0" */
	prefix[p] = '\0';
	if (sp->prec >= 0) {
		if (sp->prec - len > zeros)
			zeros = sp->prec - len;
	} else if ((sp->flags & (F_ZERO | F_LEFT)) == F_ZERO) {
		int room = sp->width - p - len;

		if (room > zeros)
			zeros = room;
	}
	field(s, sp, prefix, buf + sizeof(buf) - len, len, zeros);
}

int fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap)
{
	struct sink s = { out, ctx, 0 };
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		const char *start = fmt, *conv_start;
		struct spec sp = { 0, 0, -1 };
		int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long/size_t/... */
		uint64_t u;
		int64_t d;
		char c;

		while (*fmt && *fmt != '%')
			fmt++;
		emit(&s, start, (size_t)(fmt - start));
		if (!*fmt)
			break;
		conv_start = fmt++;

		for (;; fmt++) {
			if (*fmt == '-')
				sp.flags |= F_LEFT;
			else if (*fmt == '0')
				sp.flags |= F_ZERO;
			else if (*fmt == '+')
				sp.flags |= F_PLUS;
			else if (*fmt == ' ')
				sp.flags |= F_SPACE;
			else if (*fmt == '#')
				sp.flags |= F_ALT;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(args, int);
			if (sp.width < 0) {
				sp.flags |= F_LEFT;
				sp.width = sp.width == INT32_MIN ? 0 : -sp.width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9' && sp.width < 100000)
				sp.width = sp.width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			sp.prec = 0;
			if (*fmt == '*') {
				sp.prec = va_arg(args, int);
				if (sp.prec < 0)
					sp.prec = -1;
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9' && sp.prec < 100000)
					sp.prec = sp.prec * 10 + (*fmt++ - '0');
			}
		}
		if (*fmt == 'h') {
			lng = -1;
			if (*++fmt == 'h') {
				lng = -2;
				fmt++;
			}
		} else if (*fmt == 'l') {
			lng = 1;
			if (*++fmt == 'l') {
				lng = 2;
				fmt++;
			}
		} else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') {
			lng = 2;
			fmt++;
		}

		c = *fmt ? *fmt++ : '\0';
		switch (c) {
		case 'd':
		case 'i':
			if (lng >= 1)
				d = lng == 1 ? va_arg(args, long) : va_arg(args, long long);
			else
				d = va_arg(args, int);
			if (lng == -1)
				d = (short)d;
			else if (lng == -2)
				d = (signed char)d;
			u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
			number(&s, &sp, u, d < 0, 10, 0, c);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
		case 'b':
			if (lng >= 1)
				u = lng == 1 ? va_arg(args, unsigned long) :
					       va_arg(args, unsigned long long);
			else
				u = va_arg(args, unsigned int);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng == -2)
				u = (unsigned char)u;
			sp.flags &= ~(unsigned)(F_PLUS | F_SPACE);
			number(&s, &sp, u, 0,
			       c == 'u' ? 10 :
			       c == 'o' ? 8 :
			       c == 'b' ? 2 :
					  16,
			       c == 'X', c);
			break;
		case 'p': {
			void *p = va_arg(args, void *);

			if (!p) {
				sp.prec = -1;
				field(&s, &sp, "", "(nil)", 5, 0);
			} else {
				sp.flags |= F_ALT;
				number(&s, &sp, (uint64_t)(uintptr_t)p, 0, 16, 0, c);
			}
			break;
		}
		case 'c': {
			char ch = (char)va_arg(args, int);

			field(&s, &sp, "", &ch, 1, 0);
			break;
		}
		case 's': {
			const char *str = va_arg(args, const char *);

			if (!str)
				str = sp.prec < 0 || sp.prec >= 6 ? "(null)" : "";
			field(&s, &sp, "", str, (int)slen(str, sp.prec), 0);
			break;
		}
		case '%':
			emit(&s, "%", 1);
			break;
		default:
			/* unknown or truncated conversion: print it verbatim */
			emit(&s, conv_start, (size_t)(fmt - conv_start));
			break;
		}
	}
	va_end(args);
	return s.count;
}

struct strbuf {
	char *buf;
	size_t size; /* capacity including the NUL */
	size_t len;  /* bytes stored (without NUL) */
};

static void str_out(void *ctx, const char *p, size_t n)
{
	struct strbuf *b = ctx;

	while (n-- && b->size) {
		if (b->len + 1 < b->size)
			b->buf[b->len++] = *p;
		p++;
	}
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct strbuf b = { buf, size, 0 };
	int n = fmt_vformat(str_out, &b, fmt, ap);

	if (size)
		buf[b.len] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
