// SPDX-License-Identifier: MIT
/* Registering the hyper-callbacks with the VMM (see hcb.h, docs/hcb.md). */
#include "kernel/hcb.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/mm.h"
#include "kernel/page_owner.h"
#include "kernel/printk.h"
#include "lib/cmdline.h"
#include "lib/string.h"

#include <abi/vessel.h>

extern const char hcb_free_pages_start[], hcb_free_pages_end[];
extern const char hcb_page_owner_start[], hcb_page_owner_end[];

/* the hypercall's argument: physical memory the VMM reads and writes */
static struct vessel_hc_hcb_register reg;

static void register_one(uint32_t event, const char *name, const char *start, const char *end,
			 const uint64_t *params, unsigned nparams,
			 const struct vessel_hcb_range *ranges, unsigned nranges)
{
	memset(&reg, 0, sizeof(reg));
	reg.event = event;
	reg.format = VESSEL_HCB_FMT_ELF;
	reg.prog_gpa = virt_to_phys(start);
	reg.prog_len = (uint64_t)(end - start);
	reg.nr_ranges = nranges;
	memcpy(reg.params, params, nparams * sizeof(*params));
	memcpy(reg.ranges, ranges, nranges * sizeof(*ranges));
	reg.ret = -1;
	hc_call(VESSEL_HC_HCB_REGISTER, &reg);
	reg.msg[sizeof(reg.msg) - 1] = '\0';
	if (reg.ret == 0)
		printk("hcb: %s callback accepted by the VMM (%lu bytes)\n", name,
		       (unsigned long)reg.prog_len);
	else if (reg.err_insn >= 0)
		printk("hcb: %s callback rejected (error %ld) at instruction %ld: %s\n", name,
		       (long)reg.ret, (long)reg.err_insn, reg.msg);
	else
		printk("hcb: %s callback refused (error %ld): %s\n", name, (long)reg.ret, reg.msg);
}

void hcb_init(void)
{
	uint64_t bitmap_pa, bitmap_bytes, nframes, owner_pa, owner_bytes, names_pa, names_bytes;
	char val[8];

	if (cmdline_get(boot.cmdline, "hcb=", val, sizeof(val)) >= 0 && !strcmp(val, "off")) {
		printk("hcb: off (kernel command line)\n");
		return;
	}
	if (!hc_available())
		return; /* not on the Vessel VMM (QEMU) */
	page_alloc_bitmap(&bitmap_pa, &bitmap_bytes, &nframes);
	page_owner_tables(&owner_pa, &owner_bytes, &names_pa, &names_bytes);
	{
		const uint64_t params[] = { bitmap_pa, nframes };
		const struct vessel_hcb_range ranges[] = { { bitmap_pa, bitmap_bytes } };

		register_one(VESSEL_HCB_FREE_PAGES, "free-pages", hcb_free_pages_start,
			     hcb_free_pages_end, params, 2, ranges, 1);
	}
	if (owner_pa) {
		const uint64_t params[] = { bitmap_pa, nframes, owner_pa, names_pa };
		const struct vessel_hcb_range ranges[] = { { bitmap_pa, bitmap_bytes },
							   { owner_pa, owner_bytes },
							   { names_pa, names_bytes } };

		register_one(VESSEL_HCB_PAGE_OWNER, "page-owner", hcb_page_owner_start,
			     hcb_page_owner_end, params, 4, ranges, 3);
	}
}
