/* SPDX-License-Identifier: MIT */
/*
 * The two ways into the Vessel kernel, and the boot page tables.
 *
 *  vessel_entry64  ELF e_entry: the Vessel VMM enters here in 64-bit mode
 *                  (RDI = boot info, RSI = VESSEL_BOOT_MAGIC), see
 *                  include/abi/vessel.h.
 *  mb_entry32      Multiboot v1 entry (QEMU -kernel): 32-bit protected mode,
 *                  paging off, EAX = 0x2BADB002, EBX = multiboot info.
 *
 * Both load boot_pml4 (identity map of the low 4 GiB, direct map at
 * PHYSMAP_BASE, kernel image at KERNEL_VMA), switch to the boot stack and
 * call kmain(info, magic, kind) in the higher half.
 */
#include "arch/x86_64/layout.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00010003 /* page-align modules, memory info, a.out kludge */
#define EFER_MSR 0xC0000080
#define EFER_BITS 0x901 /* SCE | LME | NXE */

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header		/* header_addr */
	.long _image_phys_start /* load_addr */
	.long _load_end_phys	/* load_end_addr */
	.long _kernel_end_phys	/* bss_end_addr */
	.long mb_entry32	/* entry_addr */

	.section .boot.text, "ax"
	.code32
	.globl mb_entry32
mb_entry32:
	cli
	mov %eax, %edi
	mov %ebx, %esi
	mov %cr4, %eax
	or $0x20, %eax /* PAE */
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $EFER_MSR, %ecx
	rdmsr
	or $EFER_BITS, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax /* PG | WP | PE */
	mov %eax, %cr0
	lgdt boot_gdtr
	ljmp $KERNEL_CS, $1f
	.code64
1:	mov %edi, %edi /* zero-extend: upper halves are undefined after the switch */
	mov %esi, %esi
	xchg %rdi, %rsi /* kmain(info, magic, kind) */
	mov $BOOT_KIND_MULTIBOOT, %r8d
	jmp boot_common64

	.globl vessel_entry64
vessel_entry64:
	cli
	mov $BOOT_KIND_VESSEL, %r8d
	mov $boot_pml4, %eax
	mov %rax, %cr3
boot_common64:
	mov $EFER_MSR, %ecx
	rdmsr
	or $EFER_BITS, %eax
	wrmsr
	lgdt boot_gdtr
	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	movabs $boot_stack_top, %rsp
	mov %r8d, %edx
	pushq $KERNEL_CS
	movabs $kmain_entry, %rax
	pushq %rax
	lretq

	.section .boot.data, "aw"
	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08 code64 */
	.quad 0x00cf92000000ffff /* 0x10 data */
boot_gdt_end:
	.align 4
	.word 0
boot_gdtr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

/*
 * Boot page tables (static, so the 32-bit path needs no code to build them).
 * PML4[0] and PML4[256] share one PDPT mapping 0..4 GiB with 2 MiB pages;
 * PML4[511] -> PDPT[510] maps 0..1 GiB at KERNEL_VMA. The top 32 MiB below
 * 4 GiB (IOAPIC, LAPIC) are uncached. The kernel later drops PML4[0].
 */
	.align 4096
	.globl boot_pml4
boot_pml4:
	.quad boot_pdpt_low + 0x3
	.fill 255, 8, 0
	.quad boot_pdpt_low + 0x3
	.fill 254, 8, 0
	.quad boot_pdpt_high + 0x3
boot_pdpt_low:
	.quad boot_pd + 0x3
	.quad boot_pd + 0x1003
	.quad boot_pd + 0x2003
	.quad boot_pd + 0x3003
	.fill 508, 8, 0
boot_pdpt_high:
	.fill 510, 8, 0
	.quad boot_pd + 0x3
	.quad 0
	.globl boot_pd
boot_pd:
	.set i, 0
	.rept 2048
	.if i >= 2032
	.quad (i << 21) | 0x9b /* P | RW | PWT | PCD | PS */
	.else
	.quad (i << 21) | 0x83 /* P | RW | PS */
	.endif
	.set i, i + 1
	.endr

	.text
	.code64
kmain_entry:
	xor %ebp, %ebp
	call kmain
1:	cli
	hlt
	jmp 1b

/* AP entry from the Vessel VMM (VESSEL_HC_CPU_START): RDI = cpu, RSP set */
	.globl ap_entry_vessel
ap_entry_vessel:
	xor %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b

/* AP entry from the real-mode trampoline (QEMU): stack and cpu in globals */
	.globl ap_entry_qemu
ap_entry_qemu:
	mov ap_boot_stack(%rip), %rsp
	mov ap_boot_cpu(%rip), %edi
	xor %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
	.globl boot_stack_top
boot_stack:
	.skip KSTACK_SIZE
boot_stack_top:

/*
 * INIT-SIPI-SIPI trampoline, copied to AP_TRAMPOLINE_PHYS before the SIPI:
 * real mode -> protected mode -> long mode with boot_pml4, then jump to
 * ap_entry_qemu in the higher half.
 */
#define T(x) (AP_TRAMPOLINE_PHYS + (x) - ap_tramp_start)
	.section .rodata
	.align 16
	.globl ap_tramp_start, ap_tramp_end
	.code16
ap_tramp_start:
	cli
	cld
	xor %ax, %ax
	mov %ax, %ds
	lgdtl T(tramp_gdtr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x18, $T(tramp32)
	.code32
tramp32:
	mov $KERNEL_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $EFER_MSR, %ecx
	rdmsr
	or $EFER_BITS, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax
	mov %eax, %cr0
	ljmpl $KERNEL_CS, $T(tramp64)
	.code64
tramp64:
	movabs $ap_entry_qemu, %rax
	jmp *%rax
	.align 8
tramp_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08 code64 */
	.quad 0x00cf92000000ffff /* 0x10 data */
	.quad 0x00cf9a000000ffff /* 0x18 code32 */
tramp_gdtr:
	.word 31
	.long T(tramp_gdt)
ap_tramp_end:

	.section .note.GNU-stack, "", @progbits
