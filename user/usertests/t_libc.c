// SPDX-License-Identifier: MIT
/*
 * The libc as compiled for the guest (USER_CFLAGS: SSE allowed, -O2,
 * freestanding): the same code is unit-tested on the host, this checks the
 * guest build gives the same answers.
 */
#include <ctype.h>
#include <stdlib.h>

#include "ut.h"

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

void test_libc(void)
{
	char buf[128], *end;
	long v[64];

	CHECK_EQ(snprintf(buf, sizeof(buf), "%d|%5u|%-4x|%#o|%c|%s|%.3s|%lld|%p", -42, 7u, 0xabu,
			  8u, 'z', "str", "abcdef", -9000000000ll, (void *)0x1000),
		 47);
	CHECK(!strcmp(buf, "-42|    7|ab  |010|z|str|abc|-9000000000|0x1000"));
	CHECK_EQ(snprintf(buf, 4, "%s", "truncated"), 9);
	CHECK(!strcmp(buf, "tru"));
	CHECK_EQ(strtol("  -0x7fffffff", &end, 0), -0x7fffffff);
	CHECK_EQ(*end, '\0');
	CHECK_EQ(strtoul("777", NULL, 8), 511);
	CHECK_EQ(atoi("12abc"), 12);
	for (int i = 0; i < 64; i++)
		v[i] = (i * 7919) % 64 - 32;
	qsort(v, 64, sizeof(long), cmp_long);
	for (int i = 1; i < 64; i++)
		CHECK(v[i - 1] <= v[i]);
	strcpy(buf, "0123456789");
	memmove(buf + 2, buf, 8);
	CHECK(!strcmp(buf, "0101234567"));
	memmove(buf, buf + 2, 8);
	CHECK(!strcmp(buf, "0123456767"));
	CHECK(strstr("needle in haystack", "hay") != NULL);
	CHECK(strchr("abc", 'c') && !strchr("abc", 'd'));
	CHECK_EQ(strlen("vessel"), 6);
	CHECK(isdigit('7') && !isdigit('x') && isspace('\t') && toupper('q') == 'Q');
	srand(42);
	int a = rand();
	srand(42);
	CHECK_EQ(rand(), a);
	/* memset/memcpy over odd lengths and alignments, compared byte by byte */
	static unsigned char src[300], dst[300];
	for (int i = 0; i < 300; i++)
		src[i] = (unsigned char)(i * 31);
	for (int off = 0; off < 9; off++) {
		memset(dst, 0xaa, sizeof(dst));
		memcpy(dst + off, src + (8 - off), 250 - off);
		for (int i = 0; i < 300; i++) {
			unsigned char want = i >= off && i < 250 ? src[8 - off + i - off] : 0xaa;

			CHECK_EQ(dst[i], want);
		}
		memset(dst + off, off, 100);
		for (int i = off; i < off + 100; i++)
			CHECK_EQ(dst[i], off);
	}
	void *p = malloc(100), *q = calloc(10, 10);
	CHECK(p && q && (uintptr_t)p % 16 == 0 && (uintptr_t)q % 16 == 0);
	CHECK(((unsigned char *)q)[99] == 0);
	free(p);
	free(q);
}
