// SPDX-License-Identifier: MIT
/*
 * The trusted computing base of code integrity (include/abi/vessel.h, "The
 * secure domain"; docs/integrity.md). Everything here is linked into the
 * `.tcb` section, measured by the VMM at boot and run only in the secure
 * domain, never by the kernel: the kernel's own memory (the root domain)
 * does not even contain these pages. Self-contained on purpose: it calls
 * nothing outside the section (no memcpy, no indirect calls), so the
 * measurement covers all the code that runs.
 */
#include <stdint.h>
#include <abi/vessel.h>
#include "lib/errno.h"
#include "tcb/tcb.h"
#include "tcb/tcb_check.h"

_Static_assert(TCB_RETURN_PORT == VESSEL_HC_PORT_BASE + VESSEL_HC_DOMAIN_RETURN, "ABI");

#define TCB_TEXT __attribute__((section(".tcb.text"), noinline, used))

/* the patch sites: kernel rodata, read-only in the root domain */
extern const struct vessel_patch_site __patch_sites_start[], __patch_sites_end[];
/* the entries (tcb_entry.S) and the layout (kernel.ld) */
extern char tcb_entry_text_write[], tcb_entry_echo[], tcb_entry_handshake[];
extern char _tcb_pt_off[], _tcb_stack_off[];
/* kernel text, where patched code may jump (kernel.ld) */
extern char _text_start[], _rodata_start[];

#define TCB_CPUS       4
#define TCB_STACK_SIZE 8192

const struct vessel_tcb_header tcb_header __attribute__((section(".tcb.header"), used)) = {
	.magic = VESSEL_TCB_MAGIC,
	.nentries = 3,
	.ncpus = TCB_CPUS,
	.entry = { [VESSEL_TCB_TEXT_WRITE] = (uint64_t)tcb_entry_text_write,
		   [VESSEL_TCB_ECHO] = (uint64_t)tcb_entry_echo,
		   [VESSEL_TCB_HANDSHAKE] = (uint64_t)tcb_entry_handshake },
	.entry_flags = { [VESSEL_TCB_ECHO] = VESSEL_TCB_F_ROOT,
			 [VESSEL_TCB_HANDSHAKE] = VESSEL_TCB_F_ROOT },
	.pt_off = (uint64_t)_tcb_pt_off,
	.stack_off = (uint64_t)_tcb_stack_off,
	.stack_size = TCB_STACK_SIZE,
};

/*
 * Writes len bytes from src to kernel text at dst if they lie in one patch
 * site and are whole instructions of the allowed forms (tcb_check.h).
 */
TCB_TEXT int64_t tcb_text_write(uint64_t dst, const uint8_t *src, uint64_t len)
{
	const struct vessel_patch_site *s;
	volatile uint8_t *d = (volatile uint8_t *)dst;

	if (!len || len > VESSEL_PATCH_MAX)
		return -EINVAL;
	for (s = __patch_sites_start; s < __patch_sites_end; s++)
		if (dst >= s->addr && dst - s->addr < s->len && len <= s->len - (dst - s->addr))
			break;
	if (s == __patch_sites_end)
		return -EPERM;
	if (!tcb_code_allowed(src, len, dst, (uint64_t)_text_start, (uint64_t)_rodata_start))
		return -EPERM;
	for (uint64_t i = 0; i < len; i++)
		d[i] = src[i];
	return 0;
}

TCB_TEXT int64_t tcb_echo(uint64_t x)
{
	return (int64_t)(x + 1);
}

TCB_TEXT int64_t tcb_handshake(volatile uint64_t *flag, uint64_t max)
{
	*flag = 1;
	for (uint64_t i = 0; i < max; i++)
		if (*flag == 2)
			return 1;
	return 0;
}
