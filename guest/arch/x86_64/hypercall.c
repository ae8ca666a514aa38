// SPDX-License-Identifier: MIT
/* Vessel hypercalls: one 32-bit port write of the argument's physical address. */
#include <abi/vessel.h>
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"

int hc_available(void)
{
	return (boot.flags & VESSEL_BOOT_F_HYPERCALLS) != 0;
}

void hc_call(uint32_t nr, void *arg)
{
	outl((uint16_t)(VESSEL_HC_PORT_BASE + nr), (uint32_t)virt_to_phys(arg));
}
