// SPDX-License-Identifier: MIT
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/initrd.h"
#include "kernel/printk.h"

static struct initrd rd;
static int have_rd;

void initrd_init(void)
{
	const char *why = NULL;
	int r;

	if (!boot.initrd_size) {
		printk("initrd: none\n");
		return;
	}
	r = initrd_open(&rd, phys_to_virt(boot.initrd_phys), boot.initrd_size, &why);
	if (r) {
		printk("initrd: rejected (%d): %s\n", r, why ? why : "?");
		return;
	}
	have_rd = 1;
	printk("initrd: %u files, %lu KiB at %#lx\n", initrd_count(&rd), boot.initrd_size >> 10,
	       boot.initrd_phys);
}

const struct initrd *initrd_get(void)
{
	return have_rd ? &rd : NULL;
}
