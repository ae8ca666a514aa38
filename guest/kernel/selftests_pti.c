// SPDX-License-Identifier: MIT
/*
 * Self-tests of page-table isolation (arch/x86_64/pti.h): what a user
 * table maps of the kernel, which entries switch tables, and what a user
 * read of a kernel address finds in the table it runs on.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/pti.h"
#include "kernel/counters.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/ubench.h"
#include "kernel/vm.h"

extern char pti_probe_code[], pti_probe_code_end[];
extern char syscall_entry_fast[];
void trap_dispatch(struct trapframe *tf);

/* The leaf entry mapping va in the table at pml4 (large pages too), or 0. */
static uint64_t leaf(uint64_t pml4, uint64_t va)
{
	uint64_t *t = phys_to_virt(pml4);

	for (int level = 4; level > 0; level--) {
		uint64_t e = t[(va >> (3 + 9 * level)) & 511];

		if (!(e & PTE_P))
			return 0;
		if (level == 1 || (level < 4 && (e & PTE_PS)))
			return e;
		t = phys_to_virt(e & PTE_ADDR);
	}
	return 0;
}

/* Counts the kernel-half leaves of table t (of level) outside the entry set. */
static int outside_entry_set(uint64_t *t, int level, uint64_t base, int *leaves)
{
	int bad = 0;

	for (int i = 0; i < 512; i++) {
		uint64_t va = base + ((uint64_t)i << (3 + 9 * level));

		if (level == 4 && i < 256)
			continue; /* the user half */
		if (level == 4 && i >= 256)
			va |= 0xffff000000000000ull;
		if (!(t[i] & PTE_P))
			continue;
		if (level == 1 || (t[i] & PTE_PS)) {
			(*leaves)++;
			bad += (t[i] & PTE_PS) || !pti_entry_set_contains(va);
		} else {
			bad += outside_entry_set(phys_to_virt(t[i] & PTE_ADDR), level - 1, va,
						 leaves);
		}
	}
	return bad;
}

/*
 * A user table maps of the kernel only the entry set, with the kernel
 * table's frames; the rest of the kernel (image, data, direct map) is absent.
 */
SELFTEST(pti_user_table_entry_set)
{
	static uint64_t secret = 0x5ec7e7;
	struct vm vm;
	uint64_t upml4, *heap = kmalloc(64);
	int leaves = 0;

	if (!pti_enabled) {
		kfree(heap);
		return selftest_skip("pti=off: address spaces have no user table");
	}
	ST_ASSERT(heap && vm_init(&vm) == 0);
	upml4 = vm.pml4 + PAGE_SIZE;
	ST_ASSERT(outside_entry_set(phys_to_virt(upml4), 4, 0, &leaves) == 0);
	ST_ASSERT(leaves > 0);
	/* the entry set: mapped, supervisor-only, the same frames */
	ST_ASSERT(leaf(upml4, (uint64_t)syscall_entry_fast) &&
		  !(leaf(upml4, (uint64_t)syscall_entry_fast) & (PTE_U | PTE_NX)));
	ST_ASSERT((leaf(upml4, (uint64_t)&cpus[1].tss) & PTE_ADDR) ==
		  (((uint64_t)&cpus[1].tss & PAGE_MASK) - KERNEL_VMA));
	ST_ASSERT(leaf(upml4, USER_STUB_VA) & PTE_U);
	/* the rest of the kernel: mapped in the kernel table, absent here */
	ST_ASSERT(leaf(vm.pml4, (uint64_t)&secret) && !leaf(upml4, (uint64_t)&secret));
	ST_ASSERT(leaf(vm.pml4, (uint64_t)trap_dispatch) && !leaf(upml4, (uint64_t)trap_dispatch));
	ST_ASSERT(leaf(vm.pml4, (uint64_t)heap) && !leaf(upml4, (uint64_t)heap));
	ST_ASSERT(leaf(vm.pml4, PHYSMAP_BASE + vm.pml4) && !leaf(upml4, PHYSMAP_BASE + vm.pml4));
	/* the user half is shared, including PML4 slots made later */
	ST_ASSERT(vm_map(&vm, 0x7f0000000000ull, PAGE_SIZE, VM_READ) == 0);
	ST_ASSERT(pt_map(vm.pml4, 0x7f0000000000ull, page_alloc_zeroed(), PTE_U) == 0);
	ST_ASSERT(leaf(upml4, 0x7f0000000000ull) == leaf(vm.pml4, 0x7f0000000000ull));
	vm_destroy(&vm);
	kfree(heap);
	return 0;
}

static struct proc probe_parent;

/*
 * A user-mode read of kernel address va, on one CPU: the process is killed
 * by the page fault; returns its error code, or -1.
 */
static int64_t user_read_fault(uint64_t va)
{
	int pid, st = 0, cpu = this_cpu()->id;

	current_thread()->pinned = cpu;
	proc_last_fatal_pf.pid = 0;
	pid = proc_spawn_raw(&probe_parent, "ptiprobe", pti_probe_code,
			     (uint64_t)(pti_probe_code_end - pti_probe_code), va, 0, cpu);
	if (pid > 0)
		pid = proc_wait(&probe_parent, pid, &st, 0, 1);
	current_thread()->pinned = -1;
	if (pid <= 0 || proc_last_fatal_pf.pid != pid || proc_last_fatal_pf.addr != va)
		return -1;
	return (int64_t)proc_last_fatal_pf.error;
}

/*
 * What a 64-bit user read of kernel addresses finds: with PTI, kernel data
 * and the direct map are not present in the table user mode runs on (error
 * code bit 0 clear), only the entry set is (a protection fault); without
 * PTI kernel data is present (a protection fault). The direct map without
 * PTI is not checked: this host's KVM (PVM) reports a user access there as
 * not present although the guest's entry is present (docs/platform.md).
 */
SELFTEST(pti_user_probe_of_kernel_addresses)
{
	static uint64_t secret = 0x5ec7e7;
	int64_t data = user_read_fault((uint64_t)&secret);
	int64_t physmap = user_read_fault(PHYSMAP_BASE + 0x100000);
	int64_t entry = user_read_fault((uint64_t)&cpus[0]);

	ST_ASSERT(data >= 0 && physmap >= 0 && entry >= 0);
	ST_ASSERT((data & 1) == !pti_enabled);
	ST_ASSERT(!pti_enabled || !(physmap & 1));
	ST_ASSERT(entry & 1); /* the entry set is mapped either way */
	return 0;
}

/*
 * Entries from user mode switch tables exactly for 64-bit processes under
 * PTI: the null-call loop of a 64-bit process (both entry paths) and of a
 * 32-bit one, counted by pti_count_entry.
 */
SELFTEST(pti_entries_switch_per_process)
{
	static const enum ubench_path paths[] = { UBENCH_SYSCALL, UBENCH_INT80, UBENCH_INT80_32 };
	uint64_t n = 50;

	for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct counters c0, c1;
		int switched = pti_enabled && paths[i] != UBENCH_INT80_32;
		uint64_t sw, unsw;

		counters_sum(&c0);
		ST_ASSERT(ubench_run(paths[i], n, NULL) >= 0);
		counters_sum(&c1);
		sw = c1.pti_entries_switched - c0.pti_entries_switched;
		unsw = c1.pti_entries_unswitched - c0.pti_entries_unswitched;
		/* n calls plus the start marker and exit; interrupts may add more */
		ST_ASSERT(switched ? (sw >= n + 2 && unsw == 0) : (unsw >= n + 2 && sw == 0));
	}
	return 0;
}
