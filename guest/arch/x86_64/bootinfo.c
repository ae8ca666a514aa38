// SPDX-License-Identifier: MIT
/* Reads the Vessel boot info or the Multiboot v1 info into `boot`. */
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/printk.h"
#include "lib/errno.h"
#include "lib/string.h"

#define MB_BOOT_MAGIC 0x2BADB002u
#define MBI_MEM	      (1u << 0)
#define MBI_CMDLINE   (1u << 2)
#define MBI_MODS      (1u << 3)
#define MBI_MMAP      (1u << 6)

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct mb_mmap {
	uint32_t size;
	uint64_t base, len;
	uint32_t type;
} __attribute__((packed));

struct boot_params boot;

static void add_region(uint64_t base, uint64_t size, uint32_t type)
{
	if (boot.mmap_count < BOOT_MMAP_MAX) {
		boot.mmap[boot.mmap_count].base = base;
		boot.mmap[boot.mmap_count].size = size;
		boot.mmap[boot.mmap_count].type = type;
		boot.mmap_count++;
	}
}

static int parse_vessel(uint64_t info_pa)
{
	const struct vessel_boot_info *bi = phys_to_virt(info_pa);

	/* an ABI 1 VMM's info ends before the device list */
	if (bi->magic != VESSEL_BOOT_MAGIC ||
	    bi->size < __builtin_offsetof(struct vessel_boot_info, dev_count) ||
	    bi->mmap_count > VESSEL_BOOT_MMAP_MAX) {
		printk("boot: bad Vessel boot info at %#lx (magic %#lx, size %u, mmap %u)\n",
		       info_pa, bi->magic, bi->size, bi->mmap_count);
		return -EINVAL;
	}
	boot.flags = bi->flags;
	if (bi->cmdline_gpa && bi->cmdline_len < VESSEL_BOOT_CMDLINE_MAX) {
		memcpy(boot.cmdline, phys_to_virt(bi->cmdline_gpa), bi->cmdline_len);
		boot.cmdline[bi->cmdline_len] = 0;
	}
	for (uint32_t i = 0; i < bi->mmap_count; i++)
		add_region(bi->mmap[i].base, bi->mmap[i].size, bi->mmap[i].type);
	if (bi->size >= sizeof(*bi) && bi->dev_count <= VESSEL_BOOT_DEV_MAX) {
		memcpy(boot.dev, bi->dev, bi->dev_count * sizeof(bi->dev[0]));
		boot.dev_count = bi->dev_count;
	}
	boot.initrd_phys = bi->initrd_gpa;
	boot.initrd_size = bi->initrd_gpa ? bi->initrd_size : 0;
	boot.cpu_count = bi->cpu_count;
	boot.tsc_khz = bi->tsc_khz;
	boot.boot_tsc = bi->boot_tsc ? bi->boot_tsc : boot.entry_tsc;
	return 0;
}

static int parse_multiboot(uint64_t info_pa)
{
	const struct mb_info *mi = phys_to_virt(info_pa);

	if (mi->flags & MBI_CMDLINE)
		strlcpy(boot.cmdline, phys_to_virt(mi->cmdline), sizeof(boot.cmdline));
	if (mi->flags & MBI_MMAP) {
		uint64_t p = mi->mmap_addr, end = p + mi->mmap_length;

		while (p + sizeof(struct mb_mmap) <= end) {
			const struct mb_mmap *e = phys_to_virt(p);

			add_region(e->base, e->len,
				   e->type == 1 ? VESSEL_MEM_RAM : VESSEL_MEM_RESERVED);
			p += e->size + 4;
		}
	} else if (mi->flags & MBI_MEM) {
		add_region(0x100000, (uint64_t)mi->mem_upper * 1024, VESSEL_MEM_RAM);
	}
	if ((mi->flags & MBI_MODS) && mi->mods_count > 0) {
		const struct mb_module *m = phys_to_virt(mi->mods_addr);

		boot.initrd_phys = m->start;
		boot.initrd_size = m->end - m->start;
	}
	boot.boot_tsc = boot.entry_tsc;
	return 0;
}

int boot_parse(uint64_t info_pa, uint64_t magic, int kind)
{
	boot.kind = kind;
	boot.entry_tsc = rdtsc();
	if (kind == BOOT_KIND_VESSEL) {
		if (magic != VESSEL_BOOT_MAGIC) {
			printk("boot: bad Vessel boot magic %#lx\n", magic);
			return -EINVAL;
		}
		return parse_vessel(info_pa);
	}
	if (magic != MB_BOOT_MAGIC) {
		printk("boot: bad Multiboot magic %#lx\n", magic);
		return -EINVAL;
	}
	return parse_multiboot(info_pa);
}
