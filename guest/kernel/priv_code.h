/* SPDX-License-Identifier: MIT */
/* The privileged functions of kernel clients (kernel/priv_code.c, in the region). */
#ifndef KERNEL_PRIV_CODE_H
#define KERNEL_PRIV_CODE_H

#include <stddef.h>
#include <stdint.h>

struct priv_text_write {
	void *dst;
	const void *src;
	size_t len;
	/* nonzero: instead of the memcpy, the code-integrity patch hypercall
	 * with its argument at this physical address (the VMM writes) */
	uint64_t hc_phys;
};

/* What text writes the mode made (region data: readable only in the mode). */
struct priv_text_log {
	uint64_t writes, last_dst, last_len;
};
extern struct priv_text_log priv_text_log;

/* Does nothing (the mode's own cost: privbench). */
void priv_nop_fn(void *arg);
/* Writes w->len bytes from w->src to w->dst and serialises (arg: struct priv_text_write). */
void priv_text_write_fn(void *arg);

#endif
