/* SPDX-License-Identifier: MIT */
/*
 * Fixed addresses and selectors of the Vessel kernel, shared by C and
 * assembly.
 *
 *   0x0000_0000_0000_0000 .. 0x0000_7fff_ffff_ffff   user space (per process)
 *   0xffff_8000_0000_0000 .. +4 GiB                   direct map of physical
 *                                                     memory below 4 GiB
 *   0xffff_ffff_8000_0000 .. +1 GiB                   kernel image (physical
 *                                                     0..1 GiB, 2 MiB pages)
 */
#ifndef ARCH_X86_64_LAYOUT_H
#define ARCH_X86_64_LAYOUT_H

#define KERNEL_VMA    0xffffffff80000000
#define PHYSMAP_BASE  0xffff800000000000
#define PHYSMAP_LIMIT 0x100000000 /* physical memory reachable by the direct map */
#define USER_TOP      0x0000800000000000

/* GDT selectors; the order is what syscall/sysret's STAR layout requires */
#define KERNEL_CS   0x08
#define KERNEL_DS   0x10
#define USER_DS	    0x1b /* 0x18 | RPL 3 */
#define USER_CS	    0x23 /* 0x20 | RPL 3 */
#define TSS_SEL	    0x28 /* 16-byte system descriptor: slots 5 and 6 */
#define USER_CS32   0x3b /* 0x38 | RPL 3: 32-bit (compatibility mode) user code */
#define GDT_ENTRIES 8

/*
 * The 64-bit user code descriptor (DPL3, L=1), accessed bit set so the CPU
 * never writes it; without the present bit while a 32-bit process runs.
 */
#define USER_CODE64_DESC 0x00affb000000ffffull
#define DESC_PRESENT	 (1ull << 47)

/* Interrupt vectors */
#define VEC_TIMER	 0x20
#define VEC_COM1	 0x21
#define VEC_SYSCALL_INT	 0x80
#define VEC_RESCHED	 0xf0
#define VEC_TLB		 0xf1
#define VEC_CALL	 0xf2
#define VEC_PRIV	 0xf3 /* enter the privileged mode / stop for it (kernel/priv.h) */
#define VEC_SPURIOUS	 0xff
/* pseudo vectors stored in trapframe.vector for the syscall instruction */
#define VEC_SYSCALL_FAST 0x100 /* LSTAR entry, no erratum */
#define VEC_SYSCALL_UD	 0x101 /* LSTAR stub -> ud2 -> #UD (erratum path) */

/* Interrupt stack table slots (TSS.IST1..7) */
#define IST_UD	   1
#define IST_DF	   2
#define IST_NMI	   3
#define IST_MC	   4
/* Size of each IST stack (arch/x86_64/gdt.c) */
#define IST_SIZE   8192
/*
 * The top of the #MC stack where the CPU pushes a frame: no handler runs
 * there (entry.S, mc_kernel). Holds the CPU's 5 words, the stub's 4.
 */
#define MC_LANDING 128

/* Boot kinds passed from the entry code to kmain */
#define BOOT_KIND_VESSEL    1
#define BOOT_KIND_MULTIBOOT 2

/* Offsets in struct cpu used by the entry code (checked in cpu.c) */
#define CPU_SELF     0
#define CPU_KSTACK   8
#define CPU_SCRATCH  16
#define CPU_SCRATCH2 24
#define CPU_KCR3     32
#define CPU_UCR3     40
#define CPU_ESTACK   48
#define CPU_PTI_KFIX 56

/*
 * One user-executable page in the kernel half (PML4 slot 510) holding the
 * syscall erratum stub (see entry.S); mapped in every address space.
 */
#define USER_STUB_VA	    0xffffff0000000000
#define USER_STUB_PROBE_OFF 16

/*
 * CSTAR (syscall from compatibility mode): a supervisor-only page below the
 * program image in every address space (kernel/compat.c). This host enters
 * at CSTAR truncated to 32 bits, so the target must lie below 4 GiB.
 */
#define COMPAT_SYSCALL_VA 0x3ff000

/*
 * The privileged mode's region (kernel/priv.h): its code and data are linked
 * here (kernel.ld) and mapped only while a CPU is in that mode. The last GiB
 * of the address space (kernel PDPT slot 511), within -mcmodel=kernel's reach.
 */
#define PRIV_VA 0xffffffffc0000000

/*
 * The per-process trampoline region (kernel/jumpswitch_proc.h): one
 * supervisor, read-only, executable page at the same address in every
 * address space, holding that process's own code. The last page below the
 * kernel image (kernel PDPT slot 509, which the kernel itself leaves
 * empty), so kernel text reaches it with a direct rel32 jump. Each process
 * has its own copy of the kernel's slot-511 PDPT for it (paging.h,
 * pt_map_private).
 */
#define JS_PROC_VA 0xffffffff7ffff000

/* AP trampoline for INIT-SIPI-SIPI (QEMU): must be below 1 MiB, page aligned */
#define AP_TRAMPOLINE_PHYS 0x8000

#define KSTACK_SIZE 16384

/* Page-table isolation (pti.h): each CPU's entry stack (TSS.RSP0 under PTI) */
#define PTI_ESTACK_SIZE 8192
/* Size of struct trapframe (trapframe.h), which the entry code copies */
#define TF_SIZE		(22 * 8)

#endif
