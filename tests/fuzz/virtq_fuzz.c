// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the virtio-blk request path a guest controls: the
 * split-virtqueue parser (vmm/dev/virtqueue.c) and the block request checks
 * (vmm/dev/blk_req.c), on real guest memory. Every chain must be either
 * refused with a reason or described entirely inside RAM within the caps;
 * copies in and out must stay inside it.
 *
 * Input: [0] log2 of the queue size, [1] bit 0: read-only disk,
 * [2..3] the device's starting available index, [4..7] capacity in sectors,
 * then guest memory from 0x1000: descriptor table at 0x1000, available ring
 * at 0x2000, used ring at 0x3000, anything after (headers, data).
 */
#include "core/guest_mem.h"
#include "dev/blk_req.h"
#include "dev/virtqueue.h"

#include "abi/virtio.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RAM   (4ull << 20)
#define IMAGE 0x1000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmem mem;
	static int ready;
	static struct vq_chain c;
	static uint8_t buf[VQ_BYTES_MAX];
	struct virtq q;
	uint32_t capacity;
	uint16_t start;
	char why[200];

	if (!ready) {
		if (gmem_create(&mem, RAM))
			abort();
		ready = 1;
	}
	if (size < 8)
		return 0;
	memcpy(&start, data + 2, 2);
	memcpy(&capacity, data + 4, 4);
	memset(mem.base, 0, 0x10000 + IMAGE);
	memcpy(mem.base + IMAGE, data + 8, size - 8 < 0x10000 ? size - 8 : 0x10000);
	q = (struct virtq){ .num = (uint16_t)(1u << (data[0] % 9)),
			    .ready = true,
			    .desc = 0x1000,
			    .avail = 0x2000,
			    .used = 0x3000,
			    .last_avail = start,
			    .used_idx = start,
			    .event_idx = data[1] & 2 };
	if (vq_check(&q, &mem, why, sizeof(why)))
		abort(); /* the fixed layout is always valid */
	for (int n = 0; n < 64; n++) {
		struct blk_req_info r;
		uint8_t status = VIRTIO_BLK_S_OK;
		int rc;

		why[0] = 0;
		rc = vq_pop(&q, &mem, &c, why, sizeof(why));
		if (rc < 0 && !why[0])
			abort(); /* every refusal has a reason */
		if (rc <= 0)
			break;
		if (c.nsegs == 0 || c.nsegs > VQ_SEGS_MAX || c.rbytes + c.wbytes > VQ_BYTES_MAX ||
		    c.head >= q.num)
			abort();
		for (unsigned i = 0; i < c.nsegs; i++) {
			if (c.seg[i].len && !gmem_ptr(&mem, c.seg[i].gpa, c.seg[i].len))
				abort(); /* a segment outside RAM got through */
			if ((i < c.nread) == c.seg[i].write)
				abort(); /* readable ones first */
		}
		why[0] = 0;
		rc = blk_req_parse(&c, &mem, capacity, data[1] & 1, &r, why, sizeof(why));
		if (rc) {
			if (!why[0])
				abort();
			break; /* the device would need a reset */
		}
		if (r.kind == BLK_REQ_IO && r.op != BLK_OP_FLUSH) {
			if (r.len > BLK_REQ_MAX_BYTES || r.len % VIRTIO_BLK_SECTOR_SIZE ||
			    r.off / VIRTIO_BLK_SECTOR_SIZE + r.len / VIRTIO_BLK_SECTOR_SIZE >
				    capacity)
				abort();
			if (r.op == BLK_OP_WRITE && vq_chain_read(&c, &mem, 16, buf, r.len))
				abort(); /* the data was described: it must be readable */
			if (r.op == BLK_OP_READ && vq_chain_write(&c, &mem, 0, buf, r.len))
				abort();
		}
		if (r.status_off + 1 != c.wbytes ||
		    vq_chain_write(&c, &mem, r.status_off, &status, 1))
			abort();
		if (vq_push(&q, &mem, c.head, 1))
			abort();
		(void)vq_need_interrupt(&q, &mem);
		(void)vq_enable_kick(&q, &mem);
	}
	return 0;
}
