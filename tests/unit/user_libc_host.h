/* SPDX-License-Identifier: MIT */
/* Prototypes of the user libc functions as renamed for host tests (u_*). */
#ifndef USER_LIBC_HOST_H
#define USER_LIBC_HOST_H

#include <stddef.h>

void *u_memcpy(void *dst, const void *src, size_t n);
void *u_memmove(void *dst, const void *src, size_t n);
void *u_memset(void *dst, int c, size_t n);
int u_memcmp(const void *a, const void *b, size_t n);
void *u_memchr(const void *p, int c, size_t n);
size_t u_strlen(const char *s);
size_t u_strnlen(const char *s, size_t max);
int u_strcmp(const char *a, const char *b);
int u_strncmp(const char *a, const char *b, size_t n);
char *u_strcpy(char *dst, const char *src);
char *u_strncpy(char *dst, const char *src, size_t n);
size_t u_strlcpy(char *dst, const char *src, size_t size);
char *u_strcat(char *dst, const char *src);
char *u_strchr(const char *s, int c);
char *u_strrchr(const char *s, int c);
char *u_strstr(const char *hay, const char *needle);
size_t u_strspn(const char *s, const char *accept);
size_t u_strcspn(const char *s, const char *reject);
char *u_strdup(const char *s);
char *u_strsep_ws(char **sp, const char *sep);
const char *u_strerror(int e);
void *u_malloc(size_t n);
void *u_calloc(size_t n, size_t size);
void *u_realloc(void *p, size_t n);
void u_free(void *p);
size_t u_malloc_in_use(void);
int u_atoi(const char *s);
long u_strtol(const char *s, char **end, int base);
unsigned long u_strtoul(const char *s, char **end, int base);
long long u_strtoll(const char *s, char **end, int base);
unsigned long long u_strtoull(const char *s, char **end, int base);
void u_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
int u_rand(void);
void u_srand(unsigned seed);

#endif
