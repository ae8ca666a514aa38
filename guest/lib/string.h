/* SPDX-License-Identifier: MIT */
/*
 * Freestanding string and memory helpers for the Vessel kernel. Also
 * compiled for the host (with the names renamed by the unit-test build) and
 * unit-tested there.
 */
#ifndef GUEST_LIB_STRING_H
#define GUEST_LIB_STRING_H

#include <stddef.h>
#include <stdint.h>

/* Copies n bytes; the areas must not overlap. Returns dst. */
void *memcpy(void *dst, const void *src, size_t n);
/* Copies n bytes; the areas may overlap. Returns dst. */
void *memmove(void *dst, const void *src, size_t n);
/* Fills n bytes with (unsigned char)c. Returns dst. */
void *memset(void *dst, int c, size_t n);
/* <0, 0, >0 as the first differing byte (unsigned) of a is below, equal, above b's. */
int memcmp(const void *a, const void *b, size_t n);
/* Length of the NUL-terminated string s. */
size_t strlen(const char *s);
/* Length of s, but at most max (s need not be terminated within max). */
size_t strnlen(const char *s, size_t max);
/* Compares NUL-terminated strings as unsigned bytes. */
int strcmp(const char *a, const char *b);
/* Compares at most n bytes. */
int strncmp(const char *a, const char *b, size_t n);
/* First occurrence of (char)c in s (the NUL counts), or NULL. */
char *strchr(const char *s, int c);
/*
 * Copies src into dst of size `size`, always NUL-terminating when size > 0.
 * Returns strlen(src): a result >= size means the copy was truncated.
 */
size_t strlcpy(char *dst, const char *src, size_t size);
/*
 * Parses an unsigned decimal or 0x-hex number from s. Stops at the first
 * non-digit; *end (if not NULL) gets the stop position. Returns 0 and sets
 * *out, or -EINVAL if there is no digit, -ERANGE on overflow.
 */
int parse_u64(const char *s, const char **end, uint64_t *out);

#endif
