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
