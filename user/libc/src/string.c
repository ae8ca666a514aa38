// SPDX-License-Identifier: MIT
/*
 * The byte and string functions the kernel does not need. memcpy, memmove,
 * memset, memcmp, strlen, strnlen, strcmp, strncmp, strchr and strlcpy are
 * the kernel's own (guest/lib/string.c, linked into libc.a like
 * guest/lib/fmt.c): one implementation, unit-tested on the host both as the
 * kernel's (guest-unit) and as the libc's (user-unit). Built with
 * -fno-builtin and -fno-tree-loop-distribute-patterns so the compiler never
 * turns these loops back into calls to themselves.
 */
#include <stdlib.h>
#include <string.h>

void *memchr(const void *p, int c, size_t n)
{
	const unsigned char *s = p;

	for (; n; n--, s++)
		if (*s == (unsigned char)c)
			return (void *)s;
	return NULL;
}

char *strcpy(char *restrict dst, const char *restrict src)
{
	char *d = dst;

	while ((*d++ = *src++))
		;
	return dst;
}

char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t i = 0;

	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

char *strcat(char *restrict dst, const char *restrict src)
{
	strcpy(dst + strlen(dst), src);
	return dst;
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncmp(hay, needle, n))
			return (char *)hay;
	return n ? NULL : (char *)hay;
}

size_t strspn(const char *s, const char *accept)
{
	size_t n = 0;

	while (s[n] && strchr(accept, s[n]))
		n++;
	return n;
}

size_t strcspn(const char *s, const char *reject)
{
	size_t n = 0;

	while (s[n] && !strchr(reject, s[n]))
		n++;
	return n;
}

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	return d ? memcpy(d, s, n) : NULL;
}

char *strsep_ws(char **sp, const char *sep)
{
	char *s = *sp, *tok;

	if (!s)
		return NULL;
	s += strspn(s, sep);
	if (!*s) {
		*sp = s;
		return NULL;
	}
	tok = s;
	s += strcspn(s, sep);
	if (*s)
		*s++ = '\0';
	*sp = s;
	return tok;
}
