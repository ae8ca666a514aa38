/* SPDX-License-Identifier: MIT */
/*
 * assert(e): when e is false, print "assertion failed: e (file:line, func)"
 * on stderr and exit with status 134 (as abort()). NDEBUG turns it off.
 */
#ifndef VESSEL_USER_ASSERT_H
#define VESSEL_USER_ASSERT_H

__attribute__((noreturn)) void __assert_fail(const char *expr, const char *file, int line,
					     const char *func);

#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : __assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#endif /* VESSEL_USER_ASSERT_H */
