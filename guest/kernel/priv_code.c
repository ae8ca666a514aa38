// SPDX-License-Identifier: MIT
/*
 * Privileged code and data (kernel/priv.h): linked into the region, so they
 * can be used only while a CPU is in the privileged mode.
 */
#include <abi/vessel.h>
#include "arch/x86_64/cpu.h"
#include "kernel/priv.h"
#include "kernel/priv_code.h"
#include "lib/string.h"

PRIV_DATA struct priv_text_log priv_text_log;

PRIV_TEXT void priv_nop_fn(void *arg)
{
	(void)arg;
}

PRIV_TEXT void priv_text_write_fn(void *arg)
{
	struct priv_text_write *w = arg;
	uint32_t r[4];

	if (w->hc_phys)
		outl(VESSEL_HC_PORT_BASE + VESSEL_HC_TEXT_PATCH, (uint32_t)w->hc_phys);
	else
		memcpy(w->dst, w->src, w->len);
	cpuid(0, 0, r); /* this CPU; the others serialise on their release NMI's iret */
	priv_text_log.writes++;
	priv_text_log.last_dst = (uint64_t)w->dst;
	priv_text_log.last_len = w->len;
}
