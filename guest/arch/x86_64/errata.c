// SPDX-License-Identifier: MIT
/*
 * Boot-time self-tests for the host errata (docs/platform.md). Each runs a tiny
 * user-mode program in a scratch address space and watches how the CPU comes
 * back into the kernel:
 *
 *  syscall-priv  LSTAR -> a privileged instruction. A fault there means the
 *                host has the erratum: use the ud2 stub as LSTAR (and check
 *                that the stub path works).
 *  int80-rip     `int $0x80` from CPL3: the saved RIP must point after the
 *                instruction; if it points at it, int $0x80 syscalls get
 *                their RIP corrected by 2. On this host (PVM) the event
 *                even arrives as #UD at the int instruction: then a user
 *                #UD on the bytes CD 80 is taken as the syscall.
 *
 * Under QEMU TCG (exact x86) both come out absent.
 */
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/text_patch.h"
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/proc.h"

extern char probe_syscall_stub[], probe_syscall_stub_end[];
extern char probe_user_code[], probe_user_int80[], probe_user_after_int80[], probe_user_code_end[];
long probe_run_user(uint64_t rip, uint64_t rsp);
void probe_return(long value) __attribute__((noreturn));

struct errata errata;

enum { PROBE_NONE, PROBE_SYSCALL_PRIV, PROBE_INT80, PROBE_UD2_STUB };
static volatile int probe_kind;
static uint64_t probe_vector, probe_cs;

#define PROBE_CODE_VA  0x400000ul
#define PROBE_STACK_VA 0x401000ul

static uint64_t code_va(const char *sym)
{
	return PROBE_CODE_VA + (uint64_t)(sym - probe_user_code);
}

void errata_probe_trap(struct trapframe *tf)
{
	if (probe_kind == PROBE_NONE)
		return;
	switch (probe_kind) {
	case PROBE_SYSCALL_PRIV:
		if (tf->rip >= USER_STUB_VA + USER_STUB_PROBE_OFF &&
		    tf->rip < USER_STUB_VA + USER_STUB_PROBE_OFF +
				      (uint64_t)(probe_syscall_stub_end - probe_syscall_stub)) {
			probe_vector = tf->vector;
			probe_cs = tf->cs;
			probe_return(0); /* faulted: erratum present */
		}
		break;
	case PROBE_INT80:
		if (tf->vector == VEC_SYSCALL_INT) {
			if (tf->rip == code_va(probe_user_after_int80))
				probe_return(1);
			if (tf->rip == code_va(probe_user_int80))
				probe_return(2);
		}
		if (tf->vector == 6 && tf->rip == code_va(probe_user_int80))
			probe_return(3); /* delivered as #UD at the int */
		break;
	case PROBE_UD2_STUB:
		if (tf->vector == VEC_SYSCALL_UD && tf->rip == code_va(probe_user_code) + 2)
			probe_return(1);
		break;
	}
	printk("errata: unexpected trap during probe %d:\n", probe_kind);
	trap_dump(tf);
	probe_return(-1);
}

static long run_probe(int kind, uint64_t rip)
{
	long r;

	probe_kind = kind;
	r = probe_run_user(rip, PROBE_STACK_VA + PAGE_SIZE);
	probe_kind = PROBE_NONE;
	return r;
}

/* 1 if the user bytes at tf->rip are `int $0x80` (CD 80). */
static int at_int80(struct trapframe *tf)
{
	struct proc *p = current_proc();
	uint8_t b[2];

	return p && !copy_from_user(&p->vm, b, tf->rip, 2) && b[0] == 0xcd && b[1] == 0x80;
}

int errata_int80_fixup(struct trapframe *tf)
{
	if (tf->vector == 6) {
		/* errata.int80_ud: int $0x80 arrives as #UD at the instruction */
		if (!at_int80(tf))
			return 0;
		tf->rip += 2;
		tf->vector = VEC_SYSCALL_INT;
	} else if (tf->vector == VEC_SYSCALL_INT && errata.int80_rip) {
		tf->rip += 2;
	}
	return 1;
}

void errata_probe(int force_off)
{
	struct cpu *c = this_cpu();
	uint64_t pml4 = pt_create(), code = page_alloc_zeroed(), stack = page_alloc_zeroed();
	uint64_t kstack = pages_alloc(KSTACK_SIZE / PAGE_SIZE);
	uint64_t old_cr3 = read_cr3(), old_rsp0 = c->tss.rsp0;
	long r;

	if (!pml4 || !code || !stack || !kstack)
		panic("errata: out of memory for the probes");
	if (text_poke(phys_to_virt(code), probe_user_code,
		      (size_t)(probe_user_code_end - probe_user_code)) ||
	    pt_map(pml4, PROBE_CODE_VA, code, PTE_U) ||
	    pt_map(pml4, PROBE_STACK_VA, stack, PTE_U | PTE_W | PTE_NX))
		panic("errata: cannot write or map the probe pages");

	write_cr3(pml4);
	/* both GS bases point at this CPU: swapgs or not, GS stays valid */
	wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)c);
	tss_set_rsp0(c, (uint64_t)phys_to_virt(kstack) + KSTACK_SIZE);

	r = run_probe(PROBE_INT80, code_va(probe_user_int80));
	errata.int80_rip = r == 2;
	errata.int80_ud = r == 3;
	if (r < 0)
		printk("errata: int $0x80 probe failed (%ld)\n", r);
	wrmsr(MSR_LSTAR, USER_STUB_VA + USER_STUB_PROBE_OFF);
	r = run_probe(PROBE_SYSCALL_PRIV, code_va(probe_user_code));
	errata.syscall_priv = r == 0;
	if (r < 0)
		printk("errata: syscall probe failed (%ld)\n", r);
	if (errata.syscall_priv) {
		wrmsr(MSR_LSTAR, USER_STUB_VA);
		errata.syscall_ud2_ok = run_probe(PROBE_UD2_STUB, code_va(probe_user_code)) == 1;
	}

	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	tss_set_rsp0(c, old_rsp0);
	write_cr3(old_cr3);
	pt_destroy(pml4);
	page_free(code);
	page_free(stack);
	pages_free(kstack, KSTACK_SIZE / PAGE_SIZE);

	if (errata.syscall_priv)
		printk("errata: syscall probe: %s (vector %lu) at the LSTAR target, CS %#lx\n",
		       trap_name(probe_vector), probe_vector, probe_cs);
	printk("errata: syscall-entry privileged-instruction fault: %s%s\n",
	       errata.syscall_priv ? "detected" : "absent",
	       errata.syscall_priv ?
		       (errata.syscall_ud2_ok ? " (ud2 stub verified)" : " (ud2 stub FAILED)") :
		       "");
	printk("errata: int $0x80 from user: %s\n",
	       errata.int80_rip ? "detected (vector 0x80, saved RIP at the int)" :
	       errata.int80_ud	? "detected (arrives as #UD, saved RIP at the int)" :
				  "absent (architectural)");
	if (force_off) {
		errata.forced_off = 1;
		errata.syscall_priv = 0;
		errata.int80_rip = 0;
		errata.int80_ud = 0;
	}
	arch_set_syscall_entry(errata.syscall_priv);
	printk("errata: workarounds: syscall ud2 stub %s, int $0x80 RIP fix %s%s\n",
	       errata.syscall_priv ? "ON" : "off",
	       errata.int80_rip || errata.int80_ud ? "ON" : "off",
	       force_off ? " (forced off by noerrata)" : "");
}
