// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <vessel/sys.h>

__attribute__((noreturn)) void exit(int status)
{
	sys_exit(status);
	for (;;)
		__builtin_trap(); /* the kernel does not return from exit */
}

__attribute__((noreturn)) void abort(void)
{
	exit(128 + VESSEL_SIGABRT);
}
