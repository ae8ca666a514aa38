// SPDX-License-Identifier: MIT
/*
 * The arch side of a system call, shared by the three entry paths (syscall
 * through LSTAR, syscall through the ud2 erratum stub, int $0x80): the BKL,
 * the erratum fix-ups (errata.c), the entry counters, the checks of the
 * frame a return will restore, the argument registers; then the call from
 * the table (kernel/syscall.c), through the search trampoline when
 * jumpswitch is on (kernel/jumpswitch.c), and the calls system-call
 * lookahead finds after it (kernel/lookahead.c), served in the same
 * entry. A 32-bit process's call goes on in compat_syscall
 * (kernel/compat.c).
 */
#include "abi/syscalls.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/bkl.h"
#include "kernel/jumpswitch.h"
#include "kernel/compat.h"
#include "kernel/lookahead.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/syscall.h"
#include "kernel/ubench.h"
#include "lib/errno.h"

/*
 * Flags user code may set (what POPF at CPL3 can change); IF always on,
 * IOPL 0, no VM. NT and RF are harmless in the frame iretq restores.
 */
#define USER_RFLAGS_MASK 0x254dd5ul /* CF PF AF ZF SF TF DF OF NT RF AC ID */

/* Counts the call by entry path (docs/syscalls.md, "Counters"). */
static void count_entry(struct cpu *c, uint64_t vector)
{
	c->cnt.syscalls++;
	if (vector == VEC_SYSCALL_UD)
		c->cnt.syscalls_ud++;
	else if (vector == VEC_SYSCALL_INT)
		c->cnt.syscalls_int80++;
}

/* Runs call tf->rax with the argument registers; the result goes to tf->rax. */
static void dispatch(struct trapframe *tf)
{
	uint64_t nr = tf->rax;
	syscall_fn *fn = syscall_lookup(nr);

	if (fn) {
		/* the argument registers, in ABI order */
		const uint64_t args[6] = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 };

		this_cpu()->cnt.per_syscall[nr]++;
		tf->rax = (uint64_t)jumpswitch_syscall(this_cpu()->id, fn, args, nr);
	} else {
		tf->rax = (uint64_t)-ENOSYS;
	}
}

void syscall_trap(struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	struct proc *tp = c->current->proc;
	uint64_t stamp = ubench_entry_stamp(tp);

	kernel_enter();
	if (!errata_syscall_fixup(tf)) { /* a #UD that is not int $0x80 */
		c->cnt.exceptions++;
		proc_user_exception(tf, 0);
		kernel_exit(tf);
		return;
	}
	count_entry(c, tf->vector);
	/* the ud2 stub can be reached by a plain jump: never trust RCX/R11 */
	tf->rflags = (tf->rflags & USER_RFLAGS_MASK) | RFLAGS_IF | 0x2;
	if (tf->rip >= VESSEL_USER_TOP) {
		struct proc *p = current_proc();

		printk("vessel: killed pid %d (%s): syscall return address %#lx not in user "
		       "space\n",
		       p->pid, p->name, tf->rip);
		proc_kill(p, VESSEL_SIGSEGV);
		kernel_exit(tf);
		return;
	}
	if (__builtin_expect(tp->compat, 0)) { /* 32-bit process: kernel/compat.c */
		compat_syscall(c, tp, tf, stamp);
		kernel_exit(tf);
		return;
	}
	if (stamp)
		ubench_entry_trace(tp, stamp, tf->rax);
	dispatch(tf);
	/* the next calls, if the code after this one reaches them (may block between) */
	for (unsigned served = 0; lookahead_next(tf, served); served++)
		dispatch(tf);
	kernel_exit(tf);
}
