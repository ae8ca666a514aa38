// SPDX-License-Identifier: MIT
/*
 * FREE_PAGES hyper-callback: which page frames of one chunk are free.
 *
 *   params[0]  guest-physical address of the page allocator's bitmap
 *              (guest/lib/pfa.h: one bit per frame from frame 0, 1 = in use)
 *   params[1]  frames the bitmap covers
 *
 * The allocator keeps nothing inside free frames (it is a bitmap, not a free
 * list), so a frame whose bit is clear holds nothing the kernel needs.
 */
#include "hcb_bpf.h"

SEC("hcb") long free_pages(struct vessel_hcb_ctx *ctx)
{
	unsigned long *out = (unsigned long *)ctx->out;
	unsigned long first = ctx->arg * VESSEL_HCB_CHUNK_FRAMES;
	long rc;

	if (first >= ctx->params[1])
		return -1; /* beyond the allocator's frames: not an answer */
	rc = hcb_read(out, VESSEL_HCB_OUT_SIZE, ctx->params[0] + first / 8);
	if (rc < 0)
		return rc;
#pragma clang loop unroll(disable)
	for (int i = 0; i < VESSEL_HCB_OUT_SIZE / 8; i++)
		out[i] = ~out[i]; /* in use -> free */
	return 0;
}
