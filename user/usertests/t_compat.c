// SPDX-License-Identifier: MIT
/*
 * A 64-bit process may enter compatibility mode (USER_CS32 is in the GDT
 * for the 32-bit processes): nothing it does there may hurt the kernel.
 * int $0x80 from compatibility mode is its usual call and returns there;
 * `syscall` enters at CSTAR (AMD, this host, QEMU) and returns in 64-bit
 * mode, or is a #UD (Intel) that kills it. The 32-bit processes' own tests
 * and escape attempts are the ut32 program.
 */
#include "ut.h"


/*
 * Far return to USER_CS32, then eax = SYS_getpid in compatibility mode and
 * `tail` (which must end in 64-bit mode). A kernel entry from compatibility
 * mode saves only ESP (QEMU zero-extends it): RSP is kept in r12 (saved by
 * the kernel as a 64-bit register). Result: rax.
 */
#define GETPID_IN_COMPAT_MODE(pid, tail)                                                           \
	__asm__ volatile("movq %%rsp, %%r12\n\t"                                                   \
			 "pushq $0x3b\n\t"                                                         \
			 "leaq 1f(%%rip), %%rax\n\t"                                               \
			 "pushq %%rax\n\t"                                                         \
			 "lretq\n\t"                                                               \
			 ".code32\n"                                                               \
			 "1:\n\t"                                                                  \
			 "movl %1, %%eax\n\t" tail "movq %%r12, %%rsp"                             \
			 : "=a"(pid)                                                               \
			 : "i"(SYS_getpid)                                                         \
			 : "rcx", "r11", "r12", "memory")

/* getpid through int $0x80 executed in compatibility mode; back to 64-bit. */
static long getpid_in_compat_mode(void)
{
	long pid;

	GETPID_IN_COMPAT_MODE(pid, "int $0x80\n\t"
				   "ljmp $0x23, $2f\n\t"
				   ".code64\n"
				   "2:\n\t");
	return pid;
}

void test_compat_mode(void)
{
	int32_t st;

	for (int i = 0; i < 3; i++)
		CHECK_EQ(getpid_in_compat_mode(), sys_getpid());
	st = ut_run_helper("compat-syscall", NULL);
	if (st != EXITED(42) && st != KILLED(VESSEL_SIGILL))
		ut_fail(__FILE__, __LINE__, "syscall in compatibility mode: wait status %#x",
			(unsigned)st);
	ut_note("syscall in compatibility mode: %s",
		st == EXITED(42) ? "returned in 64-bit mode" : "#UD, killed");
	/* and the kernel is fine */
	CHECK_EQ(ut_run_helper("exit", "0", NULL), EXITED(0));
}

int h_compat_syscall(void)
{
	long pid;

	/* the code after `syscall` runs in 64-bit mode: sysret/iret go to USER_CS */
	GETPID_IN_COMPAT_MODE(pid, "syscall\n\t"
				   ".code64\n\t");
	return pid == sys_getpid() ? 42 : 1;
}
