/* SPDX-License-Identifier: MIT */
/* Byte and string functions (user/libc/src/string.c, guest/lib/string.c), C semantics. */
#ifndef VESSEL_USER_STRING_H
#define VESSEL_USER_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *p, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *restrict dst, const char *restrict src);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
/* Copy at most size - 1 bytes and always NUL-terminate (size > 0); returns strlen(src). */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);
char *strcat(char *restrict dst, const char *restrict src);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *hay, const char *needle);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strdup(const char *s);
/* Split: skip leading separators, return the next token, advance *sp. NULL at the end. */
char *strsep_ws(char **sp, const char *sep);

/* Name of an errno value ("EFAULT"), "E?" if unknown; e may be negative. */
const char *strerror(int e);

#endif /* VESSEL_USER_STRING_H */
