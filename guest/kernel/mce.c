// SPDX-License-Identifier: MIT
/* Machine-check containment (see mce.h). */
#include "kernel/mce.h"
#include "kernel/deferred.h"

#include "abi/syscalls.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/mcsafe.h"
#include "arch/x86_64/paging.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"

#define MSR_MCG_CAP	 0x179u
#define MSR_MCG_STATUS	 0x17au
#define MSR_MCG_CTL	 0x17bu
#define MSR_MC_CTL(i)	 (0x400u + 4u * (i))
#define MSR_MC_STATUS(i) (0x401u + 4u * (i))
#define MSR_MC_ADDR(i)	 (0x402u + 4u * (i))

#define MCG_CTL_P	(1ull << 8)
#define MCG_STATUS_RIPV (1ull << 0)
#define MCG_STATUS_EIPV (1ull << 1)

#define MCI_STATUS_VAL	 (1ull << 63)
#define MCI_STATUS_UC	 (1ull << 61)
#define MCI_STATUS_ADDRV (1ull << 58)
#define MCI_STATUS_PCC	 (1ull << 57)
#define MCI_STATUS_AR	 (1ull << 55)

#define CR4_MCE	       (1ull << 6)
#define CPUID1_EDX_MCE (1u << 7)
#define CPUID1_EDX_MCA (1u << 14)

static struct mce_counts counts; /* updated with atomics: no lock in #MC */
static int have_mca;

static void count(uint64_t *field)
{
	__atomic_fetch_add(field, 1, __ATOMIC_RELAXED);
}

/*
 * Pages reported while this CPU held the allocator's lock: retired by
 * deferred work once the handler has returned (a lock-free ring; the
 * handler never waits for a lock the interrupted code may hold).
 */
#define RETIRE_RING 64
static uint64_t retire_ring[RETIRE_RING];
static unsigned retire_head, retire_tail; /* tail: machine-check side */

static void retire_pending(void)
{
	while (__atomic_load_n(&retire_head, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&retire_tail, __ATOMIC_ACQUIRE)) {
		uint64_t pa = retire_ring[retire_head % RETIRE_RING];

		__atomic_add_fetch(&retire_head, 1, __ATOMIC_RELEASE);
		if (page_retire(pa) > 0) {
			count(&counts.retired_free);
			printk("vessel: memory error at physical %#lx: free page retired\n", pa);
		} else {
			count(&counts.deferred);
			printk("vessel: memory error at physical %#lx: page in use, retired when "
			       "freed\n",
			       pa);
		}
	}
}

static struct deferred_work retire_work = DEFERRED_WORK_INIT(retire_pending);

static void retire_later(uint64_t pa)
{
	if (retire_tail - __atomic_load_n(&retire_head, __ATOMIC_ACQUIRE) >= RETIRE_RING) {
		count(&counts.deferred); /* full: left to late kill */
		return;
	}
	retire_ring[retire_tail % RETIRE_RING] = pa;
	__atomic_add_fetch(&retire_tail, 1, __ATOMIC_RELEASE);
	deferred_raise(&retire_work);
}

void mce_cpu_init(void)
{
	static int registered; /* the BSP comes first, alone */
	uint32_t r[4];
	uint64_t banks;

	if (!registered) {
		registered = 1;
		deferred_register(&retire_work);
	}

	cpuid(1, 0, r);
	if (!(r[3] & CPUID1_EDX_MCE))
		return;
	if (r[3] & CPUID1_EDX_MCA) {
		have_mca = 1;
		banks = rdmsr(MSR_MCG_CAP) & 0xff;
		if (rdmsr(MSR_MCG_CAP) & MCG_CTL_P)
			wrmsr(MSR_MCG_CTL, ~0ull);
		for (uint32_t i = 0; i < banks; i++) {
			wrmsr(MSR_MC_CTL(i), ~0ull);
			wrmsr(MSR_MC_STATUS(i), 0);
		}
	}
	/* without CR4.MCE a machine check shuts the machine down */
	write_cr4(read_cr4() | CR4_MCE);
}

void mce_counts(struct mce_counts *out)
{
	out->events = __atomic_load_n(&counts.events, __ATOMIC_RELAXED);
	out->killed = __atomic_load_n(&counts.killed, __ATOMIC_RELAXED);
	out->retired_user = __atomic_load_n(&counts.retired_user, __ATOMIC_RELAXED);
	out->retired_free = __atomic_load_n(&counts.retired_free, __ATOMIC_RELAXED);
	out->deferred = __atomic_load_n(&counts.deferred, __ATOMIC_RELAXED);
	out->corrected = __atomic_load_n(&counts.corrected, __ATOMIC_RELAXED);
}


struct owner_scan {
	uint64_t pa;
	int unmap; /* clear the entries that map pa (retire) */
	int found;
};

static void scan_pte(uint64_t *pte, uint64_t va, void *arg)
{
	struct owner_scan *s = arg;

	if (!(*pte & PTE_P) || (*pte & PTE_ADDR) != s->pa)
		return;
	s->found++;
	if (s->unmap) {
		/* not PTE_OWNED any more: vm_destroy() will not free the frame,
		 * so it is never handed out again */
		pt_set(pte, 0, 1);
		invlpg(va);
	}
}

/* How many mappings of pa process p has; with unmap, remove them. */
static int proc_maps(struct proc *p, uint64_t pa, int unmap)
{
	struct owner_scan s = { .pa = pa, .unmap = unmap };

	if (p->zombie)
		return 0;
	for (struct vma *v = p->vm.vmas; v; v = v->next)
		pt_walk_range(p->vm.pml4, v->start, v->end, scan_pte, &s);
	if (unmap && s.found && p->vm.pages >= (uint64_t)s.found)
		p->vm.pages -= (uint64_t)s.found;
	return s.found;
}

/*
 * Kill every process mapping pa and remove those mappings, so the frame is
 * never freed and handed out again (retired). Returns how many were killed.
 */
static int kill_owners(uint64_t pa)
{
	int killed = 0;

	for (struct proc *p = proc_list(); p; p = p->next) {
		if (!proc_maps(p, pa, 1))
			continue;
		printk("vessel: memory error at physical %#lx: killed pid %d (%s), page retired\n",
		       pa, p->pid, p->name);
		proc_kill(p, VESSEL_SIGBUS);
		count(&counts.killed);
		killed++;
	}
	if (killed)
		count(&counts.retired_user);
	return killed;
}

/* Action required in user mode: kill every process mapping pa, retire pa. */
static void contain_user(struct trapframe *tf, uint64_t pa)
{
	if (kill_owners(pa))
		return;
	/* the interrupted process consumed it but no mapping was found: the
	 * page table itself? Kill the process; the kernel cannot vouch for it */
	if (current_proc()) {
		struct proc *p = current_proc();

		printk("vessel: memory error at physical %#lx (not mapped by any process) while "
		       "pid %d (%s) ran: killed\n",
		       pa, p->pid, p->name);
		proc_kill(p, VESSEL_SIGBUS);
		count(&counts.killed);
		return;
	}
	trap_dump(tf);
	panic("machine check: uncorrectable memory error at physical %#lx in user mode "
	      "without a process",
	      pa);
}

extern char mc_safe_begin[], mc_safe_end[], mc_safe_fixup[];

int mc_safe_recover(struct trapframe *tf)
{
	if (tf->rip < (uint64_t)mc_safe_begin || tf->rip >= (uint64_t)mc_safe_end)
		return 0;
	tf->rip = (uint64_t)mc_safe_fixup;
	return 1;
}

/* Returns 1 if it recovered a kernel context that was not restartable. */
static int handle_bank(struct trapframe *tf, uint64_t mcg, uint64_t st, uint64_t addr)
{
	uint64_t pa = addr & PAGE_MASK;
	int rc;

	if (!(st & MCI_STATUS_UC)) {
		count(&counts.corrected);
		printk("mce: corrected error, status %#lx address %#lx\n", st, addr);
		return 0;
	}
	if (!(st & MCI_STATUS_ADDRV) || (st & MCI_STATUS_PCC)) {
		trap_dump(tf);
		panic("machine check: uncorrectable error without a usable address (status "
		      "%#lx)",
		      st);
	}
	if (st & MCI_STATUS_AR) {
		/* a load consumed the error */
		if (tf_from_user(tf)) {
			contain_user(tf, pa);
			return 0;
		}
		/* a machine-check-safe access for a program: it retries itself */
		if (mc_safe_recover(tf))
			return 1;
		trap_dump(tf);
		panic("machine check: uncorrectable memory error in kernel memory at physical "
		      "%#lx (rip %#lx)",
		      pa, tf->rip);
	}
	/* action optional: found by a scrubber or reported by the hypervisor */
	rc = page_retire(pa);
	if (rc > 0) {
		count(&counts.retired_free);
		printk("vessel: memory error at physical %#lx: free page retired\n", pa);
	} else if (rc < 0) {
		/* this CPU was inside the allocator: retire it after the handler */
		retire_later(pa);
	} else {
		count(&counts.deferred);
		printk("vessel: memory error at physical %#lx: page in use, its owner is killed if "
		       "it touches it\n",
		       pa);
	}
	(void)mcg;
	return 0;
}

void mce_handle(struct trapframe *tf)
{
	uint64_t mcg, banks, st, addr;
	int valid = 0, recovered = 0;

	count(&counts.events);
	if (!have_mca) {
		trap_dump(tf);
		panic("machine check on a CPU without machine-check architecture");
	}
	mcg = rdmsr(MSR_MCG_STATUS);
	banks = rdmsr(MSR_MCG_CAP) & 0xff;
	for (uint32_t i = 0; i < banks; i++) {
		st = rdmsr(MSR_MC_STATUS(i));
		if (!(st & MCI_STATUS_VAL))
			continue;
		addr = (st & MCI_STATUS_ADDRV) ? rdmsr(MSR_MC_ADDR(i)) : 0;
		wrmsr(MSR_MC_STATUS(i), 0);
		valid++;
		recovered |= handle_bank(tf, mcg, st, addr);
	}
	if (!valid) {
		trap_dump(tf);
		panic("machine check with no valid bank (MCG_STATUS %#lx)", mcg);
	}
	if (!(mcg & MCG_STATUS_RIPV) && !tf_from_user(tf) && !recovered) {
		trap_dump(tf);
		panic("machine check: kernel context not restartable (MCG_STATUS %#lx)", mcg);
	}
	/* user context with RIPV clear: the process was killed above and the
	 * kernel-exit path never returns to it */
	wrmsr(MSR_MCG_STATUS, 0);
}
