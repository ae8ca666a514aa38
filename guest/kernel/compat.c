// SPDX-License-Identifier: MIT
/* 32-bit processes: layout, i386 system-call arguments, entry checks (compat.h). */
#include "kernel/compat.h"
#include "abi/syscalls.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/ubench.h"
#include "lib/errno.h"
#include "kernel/sched.h"
#include "lib/string.h"

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

void compat_syscall(struct cpu *c, struct proc *p, struct trapframe *tf, uint64_t stamp)
{
	uint64_t nr = (uint32_t)tf->rax, args[6];
	syscall_fn *fn;

	if (tf->vector != VEC_SYSCALL_INT) {
		printk("vessel: killed pid %d (%s): syscall instruction in a 32-bit process "
		       "(int $0x80 is its system call) at rip %#lx\n",
		       p->pid, p->name, tf->rip);
		proc_kill(p, VESSEL_SIGILL);
		return;
	}
	c->cnt.syscalls_compat++;
	if (stamp)
		ubench_entry_trace(p, stamp, nr);
	fn = syscall_lookup(nr);
	if (!fn) {
		tf->rax = (uint64_t)-ENOSYS;
		return;
	}
	compat_syscall_args(tf, nr, args);
	c->cnt.per_syscall[nr]++;
	tf->rax = (uint64_t)fn(args);
}

void compat_make_32bit(struct proc *p)
{
	p->compat = 1;
	p->threads->tf->cs = USER_CS32;
}

const char *compat_fault_note(const struct proc *p, const struct trapframe *tf)
{
	if (!p->compat || (tf->vector != 11 && tf->vector != 13))
		return "";
	switch (tf->error & ~3ull) { /* the selector without the EXT and IDT bits */
	case USER_CS & ~3:
		return " (32-bit process: far transfer to the 64-bit code segment 0x23)";
	case KERNEL_CS:
		return " (32-bit process: far transfer to the kernel code segment)";
	case TSS_SEL:
		return " (32-bit process: far transfer to the TSS)";
	default:
		return tf->error ? " (32-bit process: bad selector)" : "";
	}
}

/* The CSTAR page's frame, made at the first address space. */
static uint64_t syscall_page;

int compat_syscall_page_map(uint64_t pml4)
{
	uint64_t *pte;

	if (!syscall_page) {
		/* jmp *0(%rip); .quad syscall_entry_fast */
		uint8_t code[14] = { 0xff, 0x25, 0, 0, 0, 0 };
		uint64_t target = (uint64_t)syscall_entry_fast, frame = page_alloc_zeroed();

		if (!frame)
			return -ENOMEM;
		memcpy(code + 6, &target, 8);
		if (text_poke(phys_to_virt(frame), code, sizeof(code))) {
			page_free(frame);
			return -ENOMEM;
		}
		syscall_page = frame;
	}
	if (pt_map(pml4, COMPAT_SYSCALL_VA, syscall_page, 0))
		return -ENOMEM;
	pte = pt_lookup(pml4, COMPAT_SYSCALL_VA);
	*pte &= ~PTE_OWNED; /* shared by every address space */
	return 0;
}

void compat_syscall_page_unmap(uint64_t pml4)
{
	uint64_t *pte = pt_lookup(pml4, COMPAT_SYSCALL_VA);

	if (pte)
		*pte = 0;
}
