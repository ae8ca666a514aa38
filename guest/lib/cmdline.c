// SPDX-License-Identifier: MIT
#include "lib/cmdline.h"
#include "lib/errno.h"
#include "lib/string.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Returns a pointer to the start of the word beginning with prefix, or NULL. */
static const char *find_word(const char *s, const char *prefix, int whole)
{
	size_t plen = strlen(prefix);

	while (*s) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		if (!strncmp(s, prefix, plen) && (!whole || !s[plen] || is_space(s[plen])))
			return s;
		while (*s && !is_space(*s))
			s++;
	}
	return NULL;
}

int cmdline_has(const char *cmdline, const char *word)
{
	return *word && find_word(cmdline, word, 1) != NULL;
}

static int copy_value(const char *v, size_t len, char *out, size_t n)
{
	if (len + 1 > n)
		return -ENAMETOOLONG;
	memcpy(out, v, len);
	out[len] = 0;
	return (int)len;
}

int cmdline_get(const char *cmdline, const char *key, char *out, size_t n)
{
	const char *w = find_word(cmdline, key, 0);
	size_t len = 0;

	if (!w)
		return -ENOENT;
	w += strlen(key);
	while (w[len] && !is_space(w[len]))
		len++;
	return copy_value(w, len, out, n);
}

int cmdline_get_nth(const char *cmdline, const char *key, int n, char *out, size_t len)
{
	const char *w = cmdline;
	size_t vlen = 0;

	for (;;) {
		w = find_word(w, key, 0);
		if (!w)
			return -ENOENT;
		if (n-- == 0)
			break;
		while (*w && !is_space(*w))
			w++;
	}
	w += strlen(key);
	while (w[vlen] && !is_space(w[vlen]))
		vlen++;
	return copy_value(w, vlen, out, len);
}

/* A decimal or 0x-hex number at *s (advanced past it). 0 or -EINVAL. */
static int parse_num(const char **s, uint64_t *v)
{
	const char *p = *s;
	unsigned base = 10;
	uint64_t x = 0;
	int digits = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (;; p++, digits++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (x > (UINT64_MAX - d) / base)
			return -EINVAL;
		x = x * base + d;
	}
	if (!digits)
		return -EINVAL;
	*s = p;
	*v = x;
	return 0;
}

int cmdline_parse_virtio_mmio(const char *s, uint64_t *size, uint64_t *base, uint32_t *irq)
{
	uint64_t sz, b, i;

	if (parse_num(&s, &sz))
		return -EINVAL;
	if (*s == 'K' || *s == 'k' || *s == 'M' || *s == 'm') {
		unsigned shift = (*s == 'K' || *s == 'k') ? 10 : 20;

		if (sz > (UINT64_MAX >> shift))
			return -EINVAL;
		sz <<= shift;
		s++;
	}
	if (*s++ != '@' || parse_num(&s, &b) || *s++ != ':' || parse_num(&s, &i) || *s)
		return -EINVAL;
	if (!sz || b + sz < b || i > 0xffffffffu)
		return -EINVAL;
	*size = sz;
	*base = b;
	*irq = (uint32_t)i;
	return 0;
}

int cmdline_get_rest(const char *cmdline, const char *key, char *out, size_t n)
{
	const char *w = find_word(cmdline, key, 0);
	size_t len;

	if (!w)
		return -ENOENT;
	w += strlen(key);
	len = strlen(w);
	while (len && is_space(w[len - 1]))
		len--;
	return copy_value(w, len, out, n);
}

int cmdline_split(char *s, char **argv, int max)
{
	int n = 0;

	while (*s) {
		while (is_space(*s))
			*s++ = 0;
		if (!*s)
			break;
		if (n < max)
			argv[n++] = s;
		while (*s && !is_space(*s))
			s++;
	}
	return n;
}
