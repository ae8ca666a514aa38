// SPDX-License-Identifier: MIT
/*
 * System-call stubs of the 32-bit libc, generated from VESSEL_SYSCALLS() in
 * include/abi/syscalls.h. The i386 convention (docs/syscalls.md, "32-bit
 * processes"): `int $0x80`, eax = number, ebx ecx edx esi edi ebp =
 * arguments (each one 32-bit register), eax = result; nothing else changes.
 */
#include <vessel/sys.h>

#define SC_ASM(nr, ...)                                                                            \
	({                                                                                         \
		long ret_;                                                                         \
		__asm__ volatile("int $0x80" : "=a"(ret_) : "a"(nr), ##__VA_ARGS__ : "memory");    \
		ret_;                                                                              \
	})

static inline long sc0(long nr)
{
	return SC_ASM(nr);
}

static inline long sc1(long nr, long a1)
{
	return SC_ASM(nr, "b"(a1));
}

static inline long sc2(long nr, long a1, long a2)
{
	return SC_ASM(nr, "b"(a1), "c"(a2));
}

static inline long sc3(long nr, long a1, long a2, long a3)
{
	return SC_ASM(nr, "b"(a1), "c"(a2), "d"(a3));
}

static inline long sc4(long nr, long a1, long a2, long a3, long a4)
{
	return SC_ASM(nr, "b"(a1), "c"(a2), "d"(a3), "S"(a4));
}

static inline long sc5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	return SC_ASM(nr, "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5));
}

/* ebp cannot be an asm operand: eax points at {nr, a6} and ebp is saved around the call. */
static inline long sc6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long na[2] = { nr, a6 }, ret;

	__asm__ volatile("pushl %%ebp\n\t"
			 "movl 4(%%eax), %%ebp\n\t"
			 "movl (%%eax), %%eax\n\t"
			 "int $0x80\n\t"
			 "popl %%ebp"
			 : "=a"(ret)
			 : "a"(na), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
			 : "memory");
	return ret;
}

/* The arguments as 32-bit register values (the kernel widens them by type). */
#define REGS_0(v)
#define REGS_1(t1, a1)			       , (long)(a1)
#define REGS_2(t1, a1, t2, a2)		       REGS_1(t1, a1), (long)(a2)
#define REGS_3(t1, a1, t2, a2, t3, a3)	       REGS_2(t1, a1, t2, a2), (long)(a3)
#define REGS_4(t1, a1, t2, a2, t3, a3, t4, a4) REGS_3(t1, a1, t2, a2, t3, a3), (long)(a4)
#define REGS_5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)                                             \
	REGS_4(t1, a1, t2, a2, t3, a3, t4, a4), (long)(a5)
#define REGS_6(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6)                                     \
	REGS_5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5), (long)(a6)

#define STUB(nr, name, n, ...)                                                                     \
	long sys_##name(VESSEL_SC_PARAMS(n, __VA_ARGS__))                                          \
	{                                                                                          \
		return sc##n(nr REGS_##n(__VA_ARGS__));                                            \
	}
VESSEL_SYSCALLS(STUB)
#undef STUB

long sys_call(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return sc6(nr, a1, a2, a3, a4, a5, a6);
}

/* int $0x80 is the only entry of a 32-bit process: the same as sys_call. */
long sys_call_int80(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return sc6(nr, a1, a2, a3, a4, a5, a6);
}
