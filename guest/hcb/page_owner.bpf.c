// SPDX-License-Identifier: MIT
/*
 * PAGE_OWNER hyper-callback: who owns the frame at ctx->arg (a gpa).
 *
 *   params[0]  gpa of the page allocator's bitmap (1 = in use)
 *   params[1]  frames it covers
 *   params[2]  gpa of the page-owner table: one int32 pid per frame, 0 = the
 *              kernel (guest/kernel/page_owner.c)
 *   params[3]  gpa of the process-name table: VESSEL_HCB_PROCS entries of
 *              struct { int32 pid; char name[16]; }
 */
#include "hcb_bpf.h"

#define NAMES 64 /* entries of the name table (guest/kernel/page_owner.h) */

struct procname {
	int pid;
	char name[16];
};

SEC("hcb") long page_owner(struct vessel_hcb_ctx *ctx)
{
	struct vessel_hcb_owner *o = (struct vessel_hcb_owner *)ctx->out;
	unsigned long pfn = ctx->arg / 4096, word;
	struct procname e;
	int pid;

	if (pfn >= ctx->params[1])
		return -1;
	if (hcb_read(&word, 8, ctx->params[0] + pfn / 64 * 8) < 0)
		return -1;
	if (!((word >> (pfn % 64)) & 1)) {
		o->kind = VESSEL_HCB_OWNER_FREE;
		return 0;
	}
	if (hcb_read(&pid, 4, ctx->params[2] + pfn * 4) < 0)
		return -1;
	if (pid <= 0) {
		o->kind = VESSEL_HCB_OWNER_KERNEL;
		return 0;
	}
	o->kind = VESSEL_HCB_OWNER_PROCESS;
	o->pid = pid;
#pragma clang loop unroll(disable)
	for (int i = 0; i < NAMES; i++) {
		if (hcb_read(&e, sizeof(e), ctx->params[3] + i * sizeof(e)) < 0)
			return 0;
		if (e.pid == pid) {
			__builtin_memcpy(o->name, e.name, sizeof(o->name));
			break;
		}
	}
	return 0;
}
