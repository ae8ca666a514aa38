// SPDX-License-Identifier: MIT
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noreturn)) void __assert_fail(const char *expr, const char *file, int line,
					     const char *func)
{
	fprintf(stderr, "assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
	abort();
}
