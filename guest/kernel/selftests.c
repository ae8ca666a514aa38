// SPDX-License-Identifier: MIT
/*
 * Kernel self-tests (command line `selftest`): the page allocator, the heap,
 * page tables and address spaces, user-pointer checks, the timer on every
 * CPU, IPIs, the errata decisions, and user programs from the initrd run
 * through both syscall entries. Each test states what would make it fail.
 */
#include "abi/syscalls.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/boot.h"
#include "kernel/counters.h"
#include "kernel/initrd.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/ubench.h"
#include "lib/cmdline.h"
#include "lib/elf64.h"
#include "lib/errno.h"
#include "lib/fmt.h"
#include "lib/string.h"

static int sleep_chan;

static void sleep_ms(uint64_t ms)
{
	uint64_t deadline = time_ns() + ms * 1000000ull;

	while (time_ns() < deadline)
		sleep_on_until(&sleep_chan, deadline);
}

SELFTEST(page_alloc_roundtrip)
{
	uint64_t before = page_free_count(), pages[64];

	for (int i = 0; i < 64; i++) {
		pages[i] = page_alloc();
		ST_ASSERT(pages[i] && !(pages[i] & (PAGE_SIZE - 1)));
		for (int k = 0; k < i; k++)
			ST_ASSERT(pages[k] != pages[i]);
	}
	ST_ASSERT(page_free_count() == before - 64);
	for (int i = 0; i < 64; i++)
		page_free(pages[i]);
	ST_ASSERT(page_free_count() == before);
	return 0;
}

SELFTEST(page_alloc_zeroed_contig)
{
	uint64_t pa = page_alloc(), run;
	uint64_t *p = phys_to_virt(pa);

	ST_ASSERT(pa);
	memset(p, 0xa5, PAGE_SIZE);
	page_free(pa);
	pa = page_alloc_zeroed(); /* the hint makes it likely the same page */
	p = phys_to_virt(pa);
	for (int i = 0; i < 512; i++)
		ST_ASSERT(p[i] == 0);
	page_free(pa);
	run = pages_alloc(8);
	ST_ASSERT(run);
	memset(phys_to_virt(run), 1, 8 * PAGE_SIZE); /* would corrupt a neighbour if short */
	pages_free(run, 8);
	return 0;
}

SELFTEST(kmalloc_sizes)
{
	static const size_t sizes[] = { 1, 15, 16, 17, 100, 1000, 2000, 2033, 5000, 20000 };
	void *p[10];
	uint64_t before = page_free_count();

	for (int i = 0; i < 10; i++) {
		p[i] = kmalloc(sizes[i]);
		ST_ASSERT(p[i]);
		ST_ASSERT(((uint64_t)p[i] & 15) == 0);
		memset(p[i], i, sizes[i]);
	}
	for (int i = 0; i < 10; i++) {
		const uint8_t *b = p[i];

		for (size_t k = 0; k < sizes[i]; k++)
			ST_ASSERT(b[k] == (uint8_t)i); /* no two blocks overlap */
	}
	for (int i = 0; i < 10; i++)
		kfree(p[i]);
	/* big blocks go back at once; small ones stay cached in their class */
	ST_ASSERT(page_free_count() + 8 >= before);
	return 0;
}

SELFTEST(page_tables_map_lookup_destroy)
{
	uint64_t before = page_free_count();
	uint64_t pml4 = pt_create(), frame = page_alloc();
	uint64_t *pte;

	ST_ASSERT(pml4 && frame);
	/* the kernel half is shared: same entries as the kernel's PML4 */
	ST_ASSERT(!memcmp((uint64_t *)phys_to_virt(pml4) + 256,
			  (uint64_t *)phys_to_virt(kernel_pml4_pa) + 256, 256 * 8));
	ST_ASSERT(pt_lookup(pml4, 0x7000000000) == NULL);
	ST_ASSERT(pt_map(pml4, 0x7000000000, frame, PTE_U | PTE_W) == 0);
	pte = pt_lookup(pml4, 0x7000000000);
	ST_ASSERT(pte && (*pte & PTE_ADDR) == frame && (*pte & PTE_U) && (*pte & PTE_P));
	ST_ASSERT(pt_lookup(pml4, 0x7000001000) && !(*pt_lookup(pml4, 0x7000001000) & PTE_P));
	pt_destroy(pml4);
	page_free(frame);
	ST_ASSERT(page_free_count() == before); /* every table page came back */
	return 0;
}

SELFTEST(vm_demand_zero_and_uaccess)
{
	struct vm vm;
	uint64_t before = page_free_count(), base = VESSEL_USER_MMAP_BASE;
	char buf[32];

	ST_ASSERT(vm_init(&vm) == 0);
	ST_ASSERT(vm_map(&vm, base, 4 * PAGE_SIZE, VM_READ | VM_WRITE) == 0);
	ST_ASSERT(vm.pages == 0); /* nothing is allocated before the first touch */
	ST_ASSERT(vm_translate(&vm, base) == -EFAULT);
	ST_ASSERT(copy_to_user(&vm, base + PAGE_SIZE - 3, "vessel", 7) == 0); /* spans 2 pages */
	ST_ASSERT(vm.pages == 2);
	ST_ASSERT(copy_from_user(&vm, buf, base + PAGE_SIZE - 3, 7) == 0);
	ST_ASSERT(!strcmp(buf, "vessel"));
	ST_ASSERT(strncpy_from_user(&vm, buf, base + PAGE_SIZE - 3, sizeof(buf)) == 6);
	ST_ASSERT(strncpy_from_user(&vm, buf, base + PAGE_SIZE - 3, 4) == -ENAMETOOLONG);
	/* bad pointers: unmapped, kernel half, wrapping, straddling the end */
	ST_ASSERT(copy_from_user(&vm, buf, base + 4 * PAGE_SIZE, 1) == -EFAULT);
	ST_ASSERT(copy_from_user(&vm, buf, KERNEL_VMA, 1) == -EFAULT);
	ST_ASSERT(copy_from_user(&vm, buf, ~0ull - 2, 8) == -EFAULT);
	ST_ASSERT(copy_to_user(&vm, base + 4 * PAGE_SIZE - 2, buf, 4) == -EFAULT);
	ST_ASSERT(vm.pages == 3); /* the valid first half faulted its page in */
	/* read-only: reads fine, writes refused */
	ST_ASSERT(vm_protect(&vm, base, PAGE_SIZE, VM_READ) == 0);
	ST_ASSERT(copy_from_user(&vm, buf, base, 4) == 0);
	ST_ASSERT(copy_to_user(&vm, base, buf, 4) == -EFAULT);
	ST_ASSERT(vm_protect(&vm, base + 8 * PAGE_SIZE, PAGE_SIZE, VM_READ) == -ENOMEM);
	vm_unmap(&vm, base, PAGE_SIZE);
	ST_ASSERT(vm.pages == 2);
	ST_ASSERT(copy_from_user(&vm, buf, base, 1) == -EFAULT);
	vm_destroy(&vm);
	ST_ASSERT(page_free_count() + 4 >= before); /* kmalloc may keep a VMA page */
	return 0;
}

SELFTEST(vm_find_free_gaps)
{
	struct vm vm;
	uint64_t lo = VESSEL_USER_MMAP_BASE;

	ST_ASSERT(vm_init(&vm) == 0);
	ST_ASSERT(vm_find_free(&vm, PAGE_SIZE, lo, lo + 16 * PAGE_SIZE) == lo);
	ST_ASSERT(vm_map(&vm, lo, 2 * PAGE_SIZE, VM_READ) == 0);
	ST_ASSERT(vm_map(&vm, lo + 3 * PAGE_SIZE, PAGE_SIZE, VM_READ) == 0);
	ST_ASSERT(vm_find_free(&vm, PAGE_SIZE, lo, lo + 16 * PAGE_SIZE) == lo + 2 * PAGE_SIZE);
	ST_ASSERT(vm_find_free(&vm, 2 * PAGE_SIZE, lo, lo + 16 * PAGE_SIZE) == lo + 4 * PAGE_SIZE);
	ST_ASSERT(vm_find_free(&vm, 16 * PAGE_SIZE, lo, lo + 16 * PAGE_SIZE) == 0);
	ST_ASSERT(vm_overlaps(&vm, lo + PAGE_SIZE, lo + 2 * PAGE_SIZE));
	ST_ASSERT(!vm_overlaps(&vm, lo + 2 * PAGE_SIZE, lo + 3 * PAGE_SIZE));
	vm_destroy(&vm);
	return 0;
}

SELFTEST(timer_ticks_on_every_cpu)
{
	uint64_t t0[MAX_CPUS], ns = time_ns();

	for (int i = 0; i < smp_cpu_count(); i++)
		t0[i] = cpus[i].ticks;
	sleep_ms(100);
	ST_ASSERT(time_ns() - ns >= 100000000ull);
	for (int i = 0; i < smp_cpu_count(); i++)
		ST_ASSERT(cpus[i].ticks > t0[i]); /* every CPU's LAPIC timer fires */
	return 0;
}

SELFTEST(all_cpus_online)
{
	if (boot.kind == BOOT_KIND_VESSEL)
		ST_ASSERT((uint32_t)smp_cpu_count() == boot.cpu_count);
	for (int i = 0; i < smp_cpu_count(); i++)
		ST_ASSERT(cpus[i].online || i == 0);
	return 0;
}

SELFTEST(ipi_reaches_every_cpu)
{
	uint64_t before[MAX_CPUS];

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	for (int i = 1; i < smp_cpu_count(); i++) {
		before[i] = cpus[i].cnt.ipis_received;
		smp_send_ipi(i, VEC_RESCHED);
	}
	sleep_ms(30);
	for (int i = 1; i < smp_cpu_count(); i++)
		ST_ASSERT(cpus[i].cnt.ipis_received > before[i]);
	return 0;
}

SELFTEST(clock_monotonic_udelay)
{
	uint64_t a = time_ns(), b;

	udelay(2000);
	b = time_ns();
	ST_ASSERT(b >= a + 2000000ull);
	ST_ASSERT(time_tsc_khz() > 0);
	return 0;
}

SELFTEST(errata_decisions)
{
	uint32_t r[4];
	char sig[13];

	/* QEMU TCG is architectural x86: no workaround may be on there */
	cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	if (!strcmp(sig, "TCGTCGTCGTCG"))
		ST_ASSERT(!errata.syscall_priv && !errata.int80_rip && !errata.int80_ud);
	/* where the syscall erratum was found, the ud2 stub must have worked */
	if (errata.syscall_priv)
		ST_ASSERT(errata.syscall_ud2_ok);
	ST_ASSERT(rdmsr(MSR_LSTAR) ==
		  (errata.syscall_priv ? USER_STUB_VA : (uint64_t)syscall_entry_fast));
	return 0;
}

SELFTEST(elf_rejects_garbage)
{
	static uint8_t junk[128];
	struct elf64_image img;
	const struct initrd *rd = initrd_get();
	struct initrd_file f;

	ST_ASSERT(elf64_parse(junk, sizeof(junk), 0x400000, 1ull << 44, &img, NULL) == -ENOEXEC);
	if (!rd || initrd_find(rd, "init", 64, &f))
		return 0;
	ST_ASSERT(elf64_parse(f.data, f.size, VESSEL_USER_IMAGE_BASE, VESSEL_USER_MMAP_BASE, &img,
			      NULL) == 0);
	ST_ASSERT(img.nsegs >= 1);
	/* truncated: headers or data outside the file */
	ST_ASSERT(elf64_parse(f.data, 100, VESSEL_USER_IMAGE_BASE, VESSEL_USER_MMAP_BASE, &img,
			      NULL) == -ENOEXEC);
	return 0;
}

/* Runs an initrd program to completion as a child of the kernel. */
static struct proc selftest_parent;

static int run_program(int argc, char **argv, int *wstatus, int quiet)
{
	int pid = proc_spawn(&selftest_parent, argv[0], argc, argv);
	struct proc *p = pid > 0 ? proc_find(pid, 0) : NULL;

	if (pid < 0)
		return pid;
	/* its own TAP lines would be counted as the kernel's: stdout closed */
	if (quiet && p)
		p->fds[1].kind = FD_NONE;
	return proc_wait(&selftest_parent, pid, wstatus, 0, 1);
}

SELFTEST(user_program_exit_status)
{
	char *argv[] = { "echo", "selftest:", "hello", "from", "user", "space" };
	struct counters c0, c1;
	int st = -1;

	if (!initrd_get() || run_program(0, argv, &st, 0) == -ENOENT)
		return selftest_skip("no initrd with echo");
	counters_sum(&c0);
	ST_ASSERT(run_program(6, argv, &st, 0) > 0);
	counters_sum(&c1);
	ST_ASSERT(VESSEL_W_EXITED(st) && VESSEL_W_EXITSTATUS(st) == 0);
	ST_ASSERT(c1.syscalls > c0.syscalls);
	ST_ASSERT(c1.per_syscall[SYS_write] > c0.per_syscall[SYS_write]);
	/* the entry the errata probe chose is the one that served them */
	if (errata.syscall_priv)
		ST_ASSERT(c1.syscalls_ud > c0.syscalls_ud);
	return 0;
}

static int usertest(const char *name)
{
	char *argv[] = { "usertests", (char *)name };
	int st = -1, r;
	struct initrd_file f;

	if (!initrd_get() || initrd_find(initrd_get(), "usertests", 64, &f))
		return selftest_skip("no usertests in the initrd");
	r = run_program(2, argv, &st, 1);
	ST_ASSERT(r > 0);
	ST_ASSERT(st == 0);
	return 0;
}

SELFTEST(user_int80_entry)
{
	return usertest("int80"); /* int $0x80, with the erratum fix where needed */
}

SELFTEST(user_regs_preserved)
{
	return usertest("regs_preserved");
}

SELFTEST(user_bad_pointers_efault)
{
	return usertest("bad_pointers");
}

SELFTEST(user_fault_isolation)
{
	return usertest("fault_isolation");
}

/* 1 if every CPU's loaded page table is the kernel's or a live process's. */
static int cr3_all_live(void)
{
	for (int i = 0; i < smp_cpu_count(); i++) {
		int ok = cpus[i].cr3 == kernel_pml4_pa;

		for (struct proc *p = proc_list(); p && !ok; p = p->next)
			ok = !p->zombie && p->pml4 == cpus[i].cr3;
		if (!ok)
			return 0;
	}
	return 1;
}

SELFTEST(user_threads_smp)
{
	int r = usertest("threads_smp");

	if (r)
		return r;
	/* idle CPUs keep page tables lazily: none may keep a freed one */
	ST_ASSERT(cr3_all_live());
	return 0;
}

SELFTEST(user_memory_reclaimed)
{
	uint64_t before = page_free_count();
	int r = usertest("mmap_anon");

	if (r)
		return r;
	ST_ASSERT(page_free_count() + 16 >= before); /* all of a process's pages come back */
	return 0;
}

SELFTEST(syscall_entry_paths)
{
	uint64_t ud = 0;

	/* all three entries work on this CPU, whatever the errata probe chose */
	ST_ASSERT(ubench_run(UBENCH_SYSCALL, 50, &ud) > 0);
	ST_ASSERT(ud == (errata.syscall_priv ? 52 : 0)); /* 50 + marker + exit */
	ST_ASSERT(ubench_run(UBENCH_SYSCALL_UD2, 50, &ud) > 0);
	ST_ASSERT(ud == 52); /* the stub path really served them */
	ST_ASSERT(ubench_run(UBENCH_INT80, 50, &ud) > 0);
	ST_ASSERT(ud == (errata.syscall_priv ? 2 : 0)); /* marker and exit use syscall */
	ST_ASSERT(rdmsr(MSR_LSTAR) ==
		  (errata.syscall_priv ? USER_STUB_VA : (uint64_t)syscall_entry_fast));
	return 0;
}

/*
 * A thread pinned to another CPU keeps writing to a page; the kernel unmaps
 * the page. Without the shootdown the other CPU's TLB would keep the stale
 * translation and the thread would write on (into a freed frame) forever;
 * with it, its next write faults and the process dies with SIGSEGV.
 */
/*
 * Reads the counter a user process keeps at addr until it is past v0 (the
 * process runs on another CPU), at most SELFTEST_WAIT_NS; 1 if it advanced.
 */
static int user_counter_advances(struct proc *p, uint64_t addr, uint64_t v0, uint64_t *v1)
{
	uint64_t end = time_ns() + SELFTEST_WAIT_NS;

	do {
		sleep_ms(20);
		if (copy_from_user(&p->vm, v1, addr, 8))
			return 0;
	} while (*v1 <= v0 && time_ns() < end);
	return *v1 > v0;
}

SELFTEST(tlb_shootdown_stops_remote_writer)
{
	extern char tlb_spin_code[], tlb_spin_code_end[];
	uint64_t addr = VESSEL_USER_MMAP_BASE, v0 = 0, v1 = 0, t0;
	struct counters c0, c1;
	int cpu = this_cpu()->id, other = (cpu + 1) % smp_cpu_count(), pid, st = 0, r = 0;
	struct proc *p;

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	pid = proc_spawn_raw(&selftest_parent, "tlbspin", tlb_spin_code,
			     (uint64_t)(tlb_spin_code_end - tlb_spin_code), addr, 0, other);
	ST_ASSERT(pid > 0);
	p = proc_find(pid, 0);
	ST_ASSERT(p && vm_map(&p->vm, addr, PAGE_SIZE, VM_READ | VM_WRITE) == 0);
	sleep_ms(50); /* it runs on the other CPU and the page is in that TLB */
	ST_ASSERT(copy_from_user(&p->vm, &v0, addr, 8) == 0);
	ST_ASSERT(user_counter_advances(p, addr, v0, &v1)); /* really running, writing */
	counters_sum(&c0);
	vm_unmap(&p->vm, addr, PAGE_SIZE);
	counters_sum(&c1);
	ST_ASSERT(c1.tlb_shootdowns == c0.tlb_shootdowns + 1);
	/* the next write faults at once; without a flush the stale entry lives on */
	t0 = time_ns();
	while ((r = proc_wait(&selftest_parent, pid, &st, 1, 1)) == 0 &&
	       time_ns() - t0 < 500000000ull)
		sleep_ms(5);
	printk("# remote writer gone %lu us after munmap\n", (time_ns() - t0) / 1000);
	if (r == 0) {
		proc_kill(p, VESSEL_SIGKILL);
		proc_wait(&selftest_parent, pid, &st, 0, 1);
		ST_ASSERT(!"the remote writer kept running after munmap");
	}
	ST_ASSERT(r == pid && st == VESSEL_SIGSEGV);
	return 0;
}

static int count_regions(struct vm *vm)
{
	int n = 0;

	for (struct vma *v = vm->vmas; v; v = v->next)
		n++;
	return n;
}

SELFTEST(vm_split_unmap_protect)
{
	struct vm vm;
	uint64_t b = VESSEL_USER_MMAP_BASE, before = page_free_count();
	char x = 7;

	ST_ASSERT(vm_init(&vm) == 0);
	ST_ASSERT(vm_map(&vm, b, 8 * PAGE_SIZE, VM_READ | VM_WRITE) == 0);
	for (int i = 0; i < 8; i++)
		ST_ASSERT(copy_to_user(&vm, b + i * PAGE_SIZE, &x, 1) == 0);
	ST_ASSERT(vm.pages == 8);
	vm_unmap(&vm, b + 3 * PAGE_SIZE, 2 * PAGE_SIZE); /* a hole in the middle */
	ST_ASSERT(vm.pages == 6 && count_regions(&vm) == 2);
	ST_ASSERT(copy_from_user(&vm, &x, b + 3 * PAGE_SIZE, 1) == -EFAULT);
	ST_ASSERT(copy_from_user(&vm, &x, b + 5 * PAGE_SIZE, 1) == 0 && x == 7);
	/* mprotect across the hole fails and changes nothing */
	ST_ASSERT(vm_protect(&vm, b + 2 * PAGE_SIZE, 4 * PAGE_SIZE, VM_READ) == -ENOMEM);
	ST_ASSERT(copy_to_user(&vm, b + 2 * PAGE_SIZE, &x, 1) == 0);
	/* inside one region: split in three, contents kept */
	ST_ASSERT(vm_protect(&vm, b + PAGE_SIZE, PAGE_SIZE, VM_READ) == 0);
	ST_ASSERT(count_regions(&vm) == 4);
	ST_ASSERT(copy_to_user(&vm, b + PAGE_SIZE, &x, 1) == -EFAULT);
	ST_ASSERT(copy_to_user(&vm, b, &x, 1) == 0 &&
		  copy_to_user(&vm, b + 2 * PAGE_SIZE, &x, 1) == 0);
	/* PROT_NONE keeps the frame; back to RW gives the same contents */
	ST_ASSERT(vm_protect(&vm, b + 5 * PAGE_SIZE, PAGE_SIZE, 0) == 0);
	ST_ASSERT(copy_from_user(&vm, &x, b + 5 * PAGE_SIZE, 1) == -EFAULT);
	ST_ASSERT(vm.pages == 6);
	ST_ASSERT(vm_protect(&vm, b + 5 * PAGE_SIZE, PAGE_SIZE, VM_READ | VM_WRITE) == 0);
	x = 0;
	ST_ASSERT(copy_from_user(&vm, &x, b + 5 * PAGE_SIZE, 1) == 0 && x == 7);
	/* a fixed mapping over everything replaces it (fresh zero pages) */
	ST_ASSERT(vm_map(&vm, b, 8 * PAGE_SIZE, VM_READ | VM_WRITE) == 0);
	ST_ASSERT(vm.pages == 0 && count_regions(&vm) == 1);
	ST_ASSERT(copy_from_user(&vm, &x, b + 5 * PAGE_SIZE, 1) == 0 && x == 0);
	vm_destroy(&vm);
	ST_ASSERT(page_free_count() + 4 >= before);
	return 0;
}

/*
 * An NMI taken in user mode (IST stack) is nobody's fault: the process runs
 * on. Its frame is moved to the thread's stack, so a second NMI on the same
 * CPU cannot overwrite a frame still in use.
 */
SELFTEST(nmi_in_user_mode_is_harmless)
{
	extern char tlb_spin_code[], tlb_spin_code_end[];
	uint64_t addr = VESSEL_USER_MMAP_BASE, v0 = 0, v1 = 0, n0, n1;
	int other = (this_cpu()->id + 1) % smp_cpu_count(), pid, st = 0;
	struct counters c;
	struct proc *p;

	if (smp_cpu_count() < 2)
		return selftest_skip("one CPU");
	pid = proc_spawn_raw(&selftest_parent, "nmispin", tlb_spin_code,
			     (uint64_t)(tlb_spin_code_end - tlb_spin_code), addr, 0, other);
	ST_ASSERT(pid > 0);
	p = proc_find(pid, 0);
	ST_ASSERT(p && vm_map(&p->vm, addr, PAGE_SIZE, VM_READ | VM_WRITE) == 0);
	sleep_ms(30);
	counters_sum(&c);
	n0 = c.nmis;
	for (int i = 0; i < 3; i++) {
		/* one at a time: a second NMI sent while one is pending merges */
		uint64_t sent = c.nmis, end = time_ns() + SELFTEST_WAIT_NS;

		lapic_send_nmi(cpus[other].apic_id);
		do {
			sleep_ms(10);
			counters_sum(&c);
		} while (c.nmis == sent && time_ns() < end);
	}
	ST_ASSERT(copy_from_user(&p->vm, &v0, addr, 8) == 0);
	user_counter_advances(p, addr, v0, &v1); /* checked below */
	counters_sum(&c);
	n1 = c.nmis;
	proc_kill(p, VESSEL_SIGKILL);
	ST_ASSERT(proc_wait(&selftest_parent, pid, &st, 0, 1) == pid);
	ST_ASSERT(n1 >= n0 + 3); /* delivered */
	ST_ASSERT(v1 > v0);	 /* and it still runs */
	ST_ASSERT(st == VESSEL_SIGKILL);
	return 0;
}
