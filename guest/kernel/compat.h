/* SPDX-License-Identifier: MIT */
/*
 * 32-bit processes: static ELF32 i386 programs running in compatibility
 * mode (docs/kernel.md, "32-bit processes"). Their system call is
 * `int $0x80` with the i386 registers; every argument is one 32-bit
 * register, widened by the type of the call's parameter.
 */
#ifndef KERNEL_COMPAT_H
#define KERNEL_COMPAT_H

#include <stdint.h>
#include "arch/x86_64/layout.h"
#include "arch/x86_64/trapframe.h"
#include "kernel/percpu.h"

struct proc;

/* Top of the main stack of p: below 4 GiB for a 32-bit process. */
uint64_t proc_stack_top(const struct proc *p);
/* The mmap() area [*lo, *hi) of p. */
void proc_mmap_area(const struct proc *p, uint64_t *lo, uint64_t *hi);
/* Width of a user pointer in p's memory (argv arrays): 4 or 8. */
unsigned proc_ptr_size(const struct proc *p);

/*
 * The arguments of call nr (a valid number) from a 32-bit process's frame:
 * ebx, ecx, edx, esi, edi, ebp, each sign-extended where the parameter's
 * type is signed and zero-extended otherwise (pointers, sizes).
 */
void compat_syscall_args(const struct trapframe *tf, uint64_t nr, uint64_t args[6]);

/*
 * The rest of a system call of 32-bit process p on CPU c after syscall_trap's
 * common checks (BKL held; stamp from ubench_entry_stamp): an entry other
 * than `int $0x80` kills p with one line naming it (the frame must not
 * return in 64-bit mode); else the call eax with the widened i386 registers
 * (compat_syscall_args), its result in tf->rax. The caller leaves through
 * kernel_exit.
 */
void compat_syscall(struct cpu *c, struct proc *p, struct trapframe *tf, uint64_t stamp);

/*
 * When c switches to another process's page table (sched.c), with compat =
 * whether that process is 32-bit: c's 64-bit user code descriptor (USER_CS)
 * is not present while a 32-bit address space is loaded, so a far jump, far
 * call, far return or iret to it faults (#NP) instead of entering 64-bit
 * mode. Lazy CPUs (idle, kernel threads) keep the table and the descriptor
 * together, so a process always returns to user mode with its own state.
 * Written only when the state changes; sysret does not read it.
 */
static inline void compat_switch_mm(struct cpu *c, int compat)
{
	uint64_t want = compat ? USER_CODE64_DESC & ~DESC_PRESENT : USER_CODE64_DESC;

	if (c->gdt[USER_CS >> 3] != want) {
		c->gdt[USER_CS >> 3] = want;
		c->cnt.compat_gdt_switches++;
	}
}

/*
 * Turns p, made by proc_spawn_raw from 32-bit code and not run yet, into a
 * 32-bit process: compat, its thread starts in compatibility mode.
 */
void compat_make_32bit(struct proc *p);

/*
 * The end of the kill message of a user exception: for a 32-bit process
 * whose #NP/#GP names a code segment it may not use, what it tried
 * ("(32-bit process: far transfer to 64-bit code segment 0x23)"); else "".
 */
const char *compat_fault_note(const struct proc *p, const struct trapframe *tf);

/*
 * Maps the CSTAR page (COMPAT_SYSCALL_VA, supervisor-only, executable) into
 * a new address space. `syscall` in compatibility mode enters there at CPL0
 * and it jumps to the LSTAR entry (syscall_entry_fast), so the call reaches
 * syscall_trap on every platform. Returns 0 or -ENOMEM.
 */
int compat_syscall_page_map(uint64_t pml4);
/* Removes that mapping (before the address space frees its pages). */
void compat_syscall_page_unmap(uint64_t pml4);

#endif
