/* SPDX-License-Identifier: MIT */
/*
 * What the kernel learned at boot, in one form for both boot paths (Vessel
 * boot info or Multiboot). Copied out of the loader's memory first thing, so
 * that memory can be reused.
 */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include <stdint.h>
#include <abi/vessel.h>

#define BOOT_MMAP_MAX 32

struct boot_params {
	int kind;	/* BOOT_KIND_VESSEL or BOOT_KIND_MULTIBOOT */
	uint64_t flags; /* VESSEL_BOOT_F_* (0 under Multiboot) */
	char cmdline[VESSEL_BOOT_CMDLINE_MAX];
	struct vessel_mem_region mmap[BOOT_MMAP_MAX];
	uint32_t mmap_count;
	uint64_t initrd_phys, initrd_size; /* 0 if none */
	uint32_t cpu_count;		   /* 0: discover */
	uint64_t tsc_khz;		   /* 0: calibrate */
	uint64_t boot_tsc;		   /* TSC at VMM start, else at kernel entry */
	uint64_t entry_tsc;		   /* TSC at kernel entry */
	/* devices from the Vessel boot info (ABI 3); none under Multiboot */
	struct vessel_boot_device dev[VESSEL_BOOT_DEV_MAX];
	uint32_t dev_count;
};

extern struct boot_params boot;

/*
 * Fills `boot` from the loader's data: info_pa/magic as passed in RDI/RSI
 * (Vessel) or EBX/EAX (Multiboot). Returns 0, or -EINVAL with a message
 * printed if the magic or layout is wrong.
 */
int boot_parse(uint64_t info_pa, uint64_t magic, int kind);

#endif
