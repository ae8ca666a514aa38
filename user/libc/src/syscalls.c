// SPDX-License-Identifier: MIT
/*
 * System-call stubs, generated from VESSEL_SYSCALLS() in
 * include/abi/syscalls.h. Registers per docs/syscalls.md: rax = number,
 * rdi rsi rdx r10 r8 r9 = arguments, rax = result; the `syscall`
 * instruction clobbers rcx and r11.
 */
#include <vessel/sys.h>

#define SC_ASM(insn, nr, ...)                                                                      \
	({                                                                                         \
		long ret_;                                                                         \
		__asm__ volatile(insn                                                              \
				 : "=a"(ret_)                                                      \
				 : "a"(nr), ##__VA_ARGS__                                          \
				 : "rcx", "r11", "memory");                                        \
		ret_;                                                                              \
	})

static inline long sc0(long nr)
{
	return SC_ASM("syscall", nr);
}

static inline long sc1(long nr, long a1)
{
	return SC_ASM("syscall", nr, "D"(a1));
}

static inline long sc2(long nr, long a1, long a2)
{
	return SC_ASM("syscall", nr, "D"(a1), "S"(a2));
}

static inline long sc3(long nr, long a1, long a2, long a3)
{
	return SC_ASM("syscall", nr, "D"(a1), "S"(a2), "d"(a3));
}

static inline long sc4(long nr, long a1, long a2, long a3, long a4)
{
	register long r10 __asm__("r10") = a4;

	return SC_ASM("syscall", nr, "D"(a1), "S"(a2), "d"(a3), "r"(r10));
}

static inline long sc5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;

	return SC_ASM("syscall", nr, "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8));
}

static inline long sc6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;

	return SC_ASM("syscall", nr, "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9));
}

#define STUB(nr, name, n, ...)                                                                     \
	long sys_##name(VESSEL_SC_PARAMS(n, __VA_ARGS__))                                          \
	{                                                                                          \
		return sc##n(nr VESSEL_SC_REGS(n, __VA_ARGS__));                                   \
	}
VESSEL_SYSCALLS(STUB)
#undef STUB

long sys_call(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return sc6(nr, a1, a2, a3, a4, a5, a6);
}

long sys_call_int80(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;

	return SC_ASM("int $0x80", nr, "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9));
}
