// SPDX-License-Identifier: MIT
/* 32-bit processes: layout, i386 system-call arguments, entry checks (compat.h). */
#include "kernel/compat.h"
#include "abi/syscalls.h"
#include "arch/x86_64/arch.h"
#include "kernel/printk.h"
#include "kernel/proc.h"

uint64_t proc_stack_top(const struct proc *p)
{
	return p->compat ? VESSEL_COMPAT_STACK_TOP : VESSEL_USER_STACK_TOP;
}

void proc_mmap_area(const struct proc *p, uint64_t *lo, uint64_t *hi)
{
	*lo = p->compat ? VESSEL_COMPAT_MMAP_BASE : VESSEL_USER_MMAP_BASE;
	*hi = proc_stack_top(p) - VESSEL_USER_STACK_SIZE;
}

unsigned proc_ptr_size(const struct proc *p)
{
	return p->compat ? 4 : 8;
}

/* 1 for a signed integer parameter type, 0 for unsigned and pointers. */
#define SIGNED_(t)			       _Generic((t)0, int64_t : 1, int32_t : 1, default : 0)
#define MASK_0(v)			       0
#define MASK_1(t1, a1)			       SIGNED_(t1)
#define MASK_2(t1, a1, t2, a2)		       (MASK_1(t1, a1) | SIGNED_(t2) << 1)
#define MASK_3(t1, a1, t2, a2, t3, a3)	       (MASK_2(t1, a1, t2, a2) | SIGNED_(t3) << 2)
#define MASK_4(t1, a1, t2, a2, t3, a3, t4, a4) (MASK_3(t1, a1, t2, a2, t3, a3) | SIGNED_(t4) << 3)
#define MASK_5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)                                             \
	(MASK_4(t1, a1, t2, a2, t3, a3, t4, a4) | SIGNED_(t5) << 4)
#define MASK_6(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6)                                     \
	(MASK_5(t1, a1, t2, a2, t3, a3, t4, a4, t5, a5) | SIGNED_(t6) << 5)
#define X(nr, name, n, ...) [nr] = MASK_##n(__VA_ARGS__),
/* [SYS_x] = bit i set when parameter i of x is signed */
static const uint8_t signed_params[VESSEL_SYSCALL_COUNT] = { VESSEL_SYSCALLS(X) };
#undef X

void compat_syscall_args(const struct trapframe *tf, uint64_t nr, uint64_t args[6])
{
	const uint64_t regs[6] = { tf->rbx, tf->rcx, tf->rdx, tf->rsi, tf->rdi, tf->rbp };

	for (int i = 0; i < 6; i++)
		args[i] = (signed_params[nr] >> i) & 1 ? (uint64_t)(int64_t)(int32_t)regs[i] :
							 (uint64_t)(uint32_t)regs[i];
}

int compat_check_entry(struct proc *p, const struct trapframe *tf)
{
	if (!p || !p->compat || tf->vector == VEC_SYSCALL_INT)
		return 0;
	printk("vessel: killed pid %d (%s): syscall instruction in a 32-bit process "
	       "(int $0x80 is its system call) at rip %#lx\n",
	       p->pid, p->name, tf->rip);
	proc_kill(p, VESSEL_SIGILL);
	return -1;
}
