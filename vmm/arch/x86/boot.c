// SPDX-License-Identifier: MIT
/*
 * The boot state of include/abi/vessel.h: identity page tables, boot GDT,
 * boot info, command line, and the 64-bit entry register state.
 */
#include "arch/x86/arch.h"
#include "arch/x86/internal.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "dev/device.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <x86intrin.h>

#include "abi/vessel.h"

#define PTE_P  (1ull << 0)
#define PTE_W  (1ull << 1)
#define PTE_PS (1ull << 7)

#define CR0_PE	 (1ull << 0)
#define CR0_MP	 (1ull << 1)
#define CR0_ET	 (1ull << 4)
#define CR0_NE	 (1ull << 5)
#define CR0_WP	 (1ull << 16)
#define CR0_AM	 (1ull << 18)
#define CR0_PG	 (1ull << 31)
#define CR4_PAE	 (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static void mmap_add(struct vessel_boot_info *bi, uint64_t base, uint64_t size, uint32_t type)
{
	if (bi->mmap_count < VESSEL_BOOT_MMAP_MAX && size)
		bi->mmap[bi->mmap_count++] = (struct vessel_mem_region){ base, size, type, 0 };
}

void arch_boot_info_fill(const struct vm *vm, struct vessel_boot_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->magic = VESSEL_BOOT_MAGIC;
	bi->abi_version = VESSEL_ABI_VERSION;
	bi->size = sizeof(*bi);
	bi->cpu_count = vm->cfg.cpus;
	bi->flags = VESSEL_BOOT_F_HYPERCALLS | vm->boot_flags;
	bi->cmdline_gpa = VESSEL_BOOT_CMDLINE_GPA;
	bi->cmdline_len = strnlen(vm->cmdline, VESSEL_BOOT_CMDLINE_MAX - 1);
	bi->initrd_gpa = vm->initrd_gpa;
	bi->initrd_size = vm->initrd_size;
	bi->tsc_khz = vm->tsc_khz;
	bi->boot_tsc = vm->boot_tsc_host; /* converted to guest TSC by arch_boot_write() */

	/* the VMM's boot area below 1 MiB, then RAM; kernel and initrd are inside RAM */
	mmap_add(bi, 0, ARCH_KERNEL_MIN, VESSEL_MEM_RESERVED);
	for (unsigned i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *r = &vm->mem.regions[i];
		uint64_t base = r->gpa < ARCH_KERNEL_MIN ? ARCH_KERNEL_MIN : r->gpa;

		mmap_add(bi, base, r->gpa + r->size - base, VESSEL_MEM_RAM);
	}
	mmap_add(bi, ARCH_IOAPIC_BASE, 0x1000, VESSEL_MEM_RESERVED);
	mmap_add(bi, ARCH_LAPIC_BASE, 0x1000, VESSEL_MEM_RESERVED);

	/* devices the kernel cannot probe, in creation order */
	for (const struct device *d = vm->devices; d; d = d->next) {
		struct vessel_boot_device *bd = &bi->dev[bi->dev_count];

		if (bi->dev_count == VESSEL_BOOT_DEV_MAX || !d->ops->boot_device ||
		    d->ops->boot_device(d->priv, bd) != 1)
			continue;
		mmap_add(bi, bd->base, bd->size, VESSEL_MEM_RESERVED);
		bi->dev_count++;
	}
}

/* The guest's TSC at the moment the host TSC read `host_tsc`. */
static uint64_t guest_tsc_of(struct vm *vm, uint64_t host_tsc)
{
	uint64_t guest_now, host_now;

	if (!vm->nr_vcpus || arch_msr_read(vm->vcpus[0], MSR_IA32_TSC, &guest_now))
		return 0;
	host_now = __rdtsc();
	/* unsigned arithmetic: the result may "wrap" if the guest TSC started near 0 */
	return guest_now - (host_now - host_tsc);
}

int arch_boot_write(struct vm *vm)
{
	struct gmem *m = &vm->mem;
	uint64_t *pml4 = gmem_ptr(m, ARCH_BOOT_PML4, 0x6000);
	uint64_t *gdt = gmem_ptr(m, ARCH_BOOT_GDT, 3 * 8);
	struct vessel_boot_info *bi = gmem_ptr(m, VESSEL_BOOT_INFO_GPA, sizeof(*bi));
	char *cmdline = gmem_ptr(m, VESSEL_BOOT_CMDLINE_GPA, VESSEL_BOOT_CMDLINE_MAX);
	uint64_t *pdpt, *pd;

	if (!pml4 || !gdt || !bi || !cmdline)
		return vm_set_err(vm, -ERANGE, "guest RAM too small for the boot area");

	/* PML4 @0x1000 -> PDPT @0x2000 -> 4 PDs @0x3000..0x6fff, 2 MiB pages */
	memset(pml4, 0, 0x6000);
	pdpt = pml4 + 512;
	pd = pml4 + 1024;
	pml4[0] = (ARCH_BOOT_PML4 + 0x1000) | PTE_P | PTE_W;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (ARCH_BOOT_PML4 + 0x2000 + i * 0x1000ull) | PTE_P | PTE_W;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull; /* 0x08: code, 64-bit, DPL0 */
	gdt[2] = 0x00cf92000000ffffull; /* 0x10: data, DPL0 */

	memset(cmdline, 0, VESSEL_BOOT_CMDLINE_MAX);
	memcpy(cmdline, vm->cmdline, strnlen(vm->cmdline, VESSEL_BOOT_CMDLINE_MAX - 1));

	arch_boot_info_fill(vm, bi);
	bi->boot_tsc = guest_tsc_of(vm, vm->boot_tsc_host);
	return 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

int arch_vcpu_boot_state(struct vcpu *v, uint64_t rip, uint64_t rsp, uint64_t cr3, uint64_t rdi)
{
	struct kvm_sregs s;
	struct kvm_regs r = { 0 };
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return vm_set_err(v->vm, -errno, "KVM_GET_SREGS (vCPU %u): %s", v->id,
				  strerror(errno));
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s.cr3 = cr3;
	s.cr4 = CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	s.gdt.base = ARCH_BOOT_GDT;
	s.gdt.limit = 3 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	seg(&s.cs, ARCH_BOOT_CS, 0xb, 1);
	seg(&s.ds, ARCH_BOOT_DS, 0x3, 0);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	s.ldt = (struct kvm_segment){ .type = 0x2, .unusable = 1 };
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return vm_set_err(v->vm, -errno, "KVM_SET_SREGS (vCPU %u): %s", v->id,
				  strerror(errno));

	r.rip = rip;
	r.rsp = rsp;
	r.rdi = rdi;
	r.rsi = VESSEL_BOOT_MAGIC;
	r.rflags = 0x2;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return vm_set_err(v->vm, -errno, "KVM_SET_REGS (vCPU %u): %s", v->id,
				  strerror(errno));
	/* APs are created waiting for INIT/SIPI; the hypercall replaces that */
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return vm_set_err(v->vm, -errno, "KVM_SET_MP_STATE (vCPU %u): %s", v->id,
				  strerror(errno));
	return 0;
}
