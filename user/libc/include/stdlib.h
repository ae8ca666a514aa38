/* SPDX-License-Identifier: MIT */
#ifndef VESSEL_USER_STDLIB_H
#define VESSEL_USER_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/* End the process with `status` (all threads). */
__attribute__((noreturn)) void exit(int status);
/* End the process with status 134 (128 + SIGABRT), like a crash report. */
__attribute__((noreturn)) void abort(void);

/*
 * Heap (user/libc/src/malloc.c): 16-byte aligned blocks from the brk heap,
 * large blocks (>= 128 KiB) straight from mmap. Thread-safe (one lock).
 * malloc returns NULL when memory runs out; free(NULL) does nothing.
 */
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void free(void *p);

/* Heap statistics for tests: bytes handed out and not yet freed. */
size_t malloc_in_use(void);

int atoi(const char *s);
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
int abs(int v);
long labs(long v);

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* Deterministic pseudo-random numbers (xorshift64*), per process. */
#define RAND_MAX 0x7fffffff
int rand(void);
void srand(unsigned seed);

#endif /* VESSEL_USER_STDLIB_H */
