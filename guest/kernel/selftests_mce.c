// SPDX-License-Identifier: MIT
/*
 * Self-test of machine-check nesting (kernel/mce.h, arch/x86_64/entry.S):
 * a machine check that arrives while the handler of the previous one is
 * finishing, which a VMM delivering reports back to back does.
 */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/mce.h"
#include "kernel/selftest.h"

#define MCG_STATUS_RIPV (1ull << 0)
#define MCI_STATUS_VAL	(1ull << 63)
#define MCI_STATUS_EN	(1ull << 60)

/*
 * Two reports (corrected errors: logged and counted, nothing retired), the
 * second raised by the first's handler right after it cleared MCIP. Both
 * handlers run and the interrupted code goes on with its registers intact.
 * Before #MC handlers moved off the top of their IST stack, the second
 * frame landed on the first's: its handler returned into its own tail
 * (detected: panic) or into garbage, and a burst of memory errors stopped
 * the guest with both vCPUs spinning.
 */
SELFTEST(mce_nested_in_handler_tail)
{
	struct mce_counts a, b;
	uint64_t flags = read_rflags(), r12 = 0x5eed, out;

	if (hc_available())
		return selftest_skip(
			"on the Vessel VMM, whose KVM here (PVM) cannot emulate int $18 "
			"at CPL0; the memerr suite's t_nested covers it with real reports");
	mce_counts(&a);
	irq_disable();
	mce_selftest_arm(MCG_STATUS_RIPV, MCI_STATUS_VAL | MCI_STATUS_EN, 0x1000, 1);
	/* r12: a callee-saved register the handlers must give back */
	__asm__ volatile("mov %1, %%r12\n\t"
			 "int $18\n\t"
			 "mov %%r12, %0"
			 : "=r"(out)
			 : "r"(r12)
			 : "r12", "memory");
	if (flags & RFLAGS_IF)
		irq_enable();
	mce_counts(&b);
	ST_ASSERT(out == r12);
	ST_ASSERT(b.events == a.events + 2);
	ST_ASSERT(b.corrected == a.corrected + 2);
	ST_ASSERT(b.nested == a.nested + 1);
	return 0;
}
