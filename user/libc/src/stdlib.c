// SPDX-License-Identifier: MIT
/* Number parsing, qsort, rand: pure code, also unit-tested on the host. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Parse magnitude and sign; *neg set for '-'. base 0 = auto (0x, 0). */
static unsigned long long parse(const char *s, char **end, int base, int *neg, int *overflow)
{
	const char *p = s, *digits_start;
	unsigned long long v = 0;

	*neg = 0;
	*overflow = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit((unsigned char)p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	digits_start = p;
	for (;; p++) {
		int d;

		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (isalpha((unsigned char)*p))
			d = tolower((unsigned char)*p) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		if (v > (~0ull - (unsigned)d) / (unsigned)base)
			*overflow = 1;
		v = v * (unsigned)base + (unsigned)d;
	}
	if (end)
		*end = (char *)(p == digits_start ? s : p);
	return v;
}

unsigned long long strtoull(const char *s, char **end, int base)
{
	int neg, of;
	unsigned long long v = parse(s, end, base, &neg, &of);

	if (of)
		return ~0ull;
	return neg ? -v : v;
}

long long strtoll(const char *s, char **end, int base)
{
	int neg, of;
	unsigned long long v = parse(s, end, base, &neg, &of);

	if (neg)
		return of || v > (unsigned long long)INT64_MAX + 1 ? INT64_MIN : (long long)(0 - v);
	return of || v > INT64_MAX ? INT64_MAX : (long long)v;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	return strtoull(s, end, base);
}

long strtol(const char *s, char **end, int base)
{
	return strtoll(s, end, base);
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

int abs(int v)
{
	return v < 0 ? -v : v;
}

long labs(long v)
{
	return v < 0 ? -v : v;
}

static void swap(char *a, char *b, size_t size)
{
	while (size--) {
		char t = *a;

		*a++ = *b;
		*b++ = t;
	}
}

/* Shell sort: small, no recursion, no allocation; not stable. */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	size_t gap = 1;

	while (gap < n / 3)
		gap = gap * 3 + 1;
	for (; gap > 0; gap /= 3)
		for (size_t i = gap; i < n; i++)
			for (size_t j = i; j >= gap && cmp(b + (j - gap) * size, b + j * size) > 0;
			     j -= gap)
				swap(b + (j - gap) * size, b + j * size, size);
}

static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

void srand(unsigned seed)
{
	rand_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

int rand(void)
{
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return (int)((rand_state * 0x2545f4914f6cdd1dull) >> 33);
}
