// SPDX-License-Identifier: MIT
/*
 * Self-tests of 32-bit processes (kernel/compat.c): argument widening, the
 * CSTAR page, a 32-bit program from the initrd, the raw 32-bit null-call
 * loop. The escape attempts are user-space tests (ut32).
 */
#include "abi/syscalls.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/compat.h"
#include "kernel/counters.h"
#include "kernel/initrd.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/ubench.h"
#include "lib/errno.h"
#include "lib/string.h"

SELFTEST(compat_syscall_args)
{
	struct trapframe tf;
	uint64_t a[6];

	memset(&tf, 0, sizeof(tf));
	/* upper halves are garbage a 32-bit process cannot clear: ignored */
	tf.rbx = 0xdead0000ffffffffull; /* fd = -1 */
	tf.rcx = 0xdead0000fffffffaull; /* offset = -6 */
	tf.rdx = 0xdead0000ffffffffull; /* whence: unsigned */
	tf.rsi = 0x1234000000000005ull;
	tf.rdi = 0x1ull << 32;
	tf.rbp = 0x80000000ull;
	compat_syscall_args(&tf, SYS_lseek, a);
	ST_ASSERT(a[0] == (uint64_t)-1 && a[1] == (uint64_t)-6 && a[2] == 0xffffffffull);
	ST_ASSERT(a[3] == 5 && a[4] == 0 && a[5] == 0x80000000ull);
	tf.rcx = 0xfffff000ull; /* buf: a pointer is zero-extended */
	compat_syscall_args(&tf, SYS_write, a);
	ST_ASSERT(a[0] == (uint64_t)-1 && a[1] == 0xfffff000ull && a[2] == 0xffffffffull);
	return 0;
}

SELFTEST(compat_cstar_page)
{
	struct vm vm;
	uint64_t *pte;

	ST_ASSERT(rdmsr(MSR_CSTAR) == COMPAT_SYSCALL_VA);
	ST_ASSERT(vm_init(&vm) == 0);
	pte = pt_lookup(vm.pml4, COMPAT_SYSCALL_VA);
	/* present, executable, supervisor-only, not the process's frame */
	ST_ASSERT(pte && (*pte & PTE_P) && !(*pte & (PTE_U | PTE_W | PTE_OWNED | PTE_NX)));
	/* jmp *0(%rip) to the LSTAR entry */
	ST_ASSERT(!memcmp(phys_to_virt(*pte & PTE_ADDR), "\xff\x25\0\0\0\0", 6));
	ST_ASSERT(*(uint64_t *)((char *)phys_to_virt(*pte & PTE_ADDR) + 6) ==
		  (uint64_t)syscall_entry_fast);
	vm_destroy(&vm); /* must not free the shared page */
	ST_ASSERT(vm_init(&vm) == 0);
	pte = pt_lookup(vm.pml4, COMPAT_SYSCALL_VA);
	ST_ASSERT(pte && !memcmp(phys_to_virt(*pte & PTE_ADDR), "\xff\x25", 2));
	vm_destroy(&vm);
	return 0;
}

static struct proc compat_parent;

static int compat_descriptor_off_somewhere(void)
{
	for (int i = 0; i < smp_cpu_count(); i++)
		if (cpus[i].gdt[USER_CS >> 3] == (USER_CODE64_DESC & ~DESC_PRESENT))
			return 1;
	return 0;
}

SELFTEST(compat_program)
{
	char *argv[] = { "echo32", "selftest:", "hello", "from", "32-bit", "user", "space" };
	int pid, st = -1;
	struct proc *p;
	struct counters c0, c1;

	if (!initrd_get())
		return selftest_skip("no initrd");
	counters_sum(&c0);
	pid = proc_spawn(&compat_parent, argv[0], 7, argv);
	if (pid == -ENOENT)
		return selftest_skip("no echo32 in the initrd");
	ST_ASSERT(pid > 0);
	p = proc_find(pid, 0);
	ST_ASSERT(p && p->compat && p->threads->tf->cs == USER_CS32);
	ST_ASSERT(p->threads->tf->rsp < VESSEL_COMPAT_STACK_TOP);
	ST_ASSERT(proc_wait(&compat_parent, pid, &st, 0, 1) == pid);
	counters_sum(&c1);
	ST_ASSERT(VESSEL_W_EXITED(st) && VESSEL_W_EXITSTATUS(st) == 0);
	ST_ASSERT(c1.per_syscall[SYS_write] > c0.per_syscall[SYS_write]);
	ST_ASSERT(c1.syscalls_int80 > c0.syscalls_int80);	 /* its only entry */
	ST_ASSERT(c1.syscalls_compat - c0.syscalls_compat >= 2); /* write, exit */
	/*
	 * The CPU that ran it loaded a 32-bit address space and has run no
	 * 64-bit process since: its 64-bit user code descriptor is not present.
	 */
	ST_ASSERT(compat_descriptor_off_somewhere());
	return 0;
}

SELFTEST(compat_null_calls)
{
	uint64_t ud = 0;

	ST_ASSERT(ubench_run(UBENCH_INT80_32, 50, &ud) > 0);
	ST_ASSERT(ud == 0); /* marker, 50 calls and exit: all int $0x80 */
	return 0;
}
