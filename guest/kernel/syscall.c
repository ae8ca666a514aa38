// SPDX-License-Identifier: MIT
/*
 * System-call entry and the table [SYS_x] = sys_x, generated from the
 * X-macro list in include/abi/syscalls.h (the user stubs come from the same
 * list). Each sys_x lives in a sys_*.c file by topic.
 */
#include "abi/syscalls.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/syscall.h"
#include "lib/errno.h"

/* One uniform entry per call: unpacks the six argument registers. */
typedef int64_t syscall_fn(const uint64_t *r);
#define X(nr, name, n, ...)                                                                        \
	static int64_t entry_##name(const uint64_t *r)                                             \
	{                                                                                          \
		(void)r;                                                                           \
		return sys_##name(VESSEL_SC_UNPACK(n, r, __VA_ARGS__));                            \
	}
VESSEL_SYSCALLS(X)
#undef X

#define X(nr, name, n, ...) [nr] = entry_##name,
static syscall_fn *const syscall_table[VESSEL_SYSCALL_COUNT] = { VESSEL_SYSCALLS(X) };
#undef X

/*
 * Flags user code may set (what POPF at CPL3 can change); IF always on,
 * IOPL 0, no VM. NT and RF are harmless in the frame iretq restores.
 */
#define USER_RFLAGS_MASK 0x254dd5ul /* CF PF AF ZF SF TF DF OF NT RF AC ID */

/* 1 if the user bytes at tf->rip are `int $0x80` (CD 80). */
static int at_int80(struct trapframe *tf)
{
	struct proc *p = current_proc();
	uint8_t b[2];

	return p && !copy_from_user(&p->vm, b, tf->rip, 2) && b[0] == 0xcd && b[1] == 0x80;
}

void syscall_entry(struct trapframe *tf)
{
	struct cpu *c = this_cpu();
	struct proc *tp = c->current->proc;
	uint64_t nr, args[6], stamp = tp && tp->tsc_trace ? rdtsc() : 0;

	kernel_enter();
	if (tf->vector == 6) {
		/* errata.int80_ud: int $0x80 arrives as #UD at the instruction */
		if (!at_int80(tf)) {
			c->cnt.exceptions++;
			proc_user_exception(tf, 0);
			kernel_exit(tf);
			return;
		}
		tf->rip += 2;
		tf->vector = VEC_SYSCALL_INT;
	} else if (tf->vector == VEC_SYSCALL_INT && errata.int80_rip) {
		tf->rip += 2;
	}
	c->cnt.syscalls++;
	if (tf->vector == VEC_SYSCALL_UD)
		c->cnt.syscalls_ud++;
	else if (tf->vector == VEC_SYSCALL_INT)
		c->cnt.syscalls_int80++;
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
	nr = tf->rax;
	if (stamp) {
		if (nr == SYS_getpid && !tp->tsc_trace[0])
			tp->tsc_trace[0] = stamp;
		else if (nr == SYS_exit)
			tp->tsc_trace[1] = stamp;
	}
	args[0] = tf->rdi;
	args[1] = tf->rsi;
	args[2] = tf->rdx;
	args[3] = tf->r10;
	args[4] = tf->r8;
	args[5] = tf->r9;
	if (nr < VESSEL_SYSCALL_COUNT && syscall_table[nr]) {
		c->cnt.per_syscall[nr]++;
		tf->rax = (uint64_t)syscall_table[nr](args);
	} else {
		tf->rax = (uint64_t)-ENOSYS;
	}
	kernel_exit(tf);
}
