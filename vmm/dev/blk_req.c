// SPDX-License-Identifier: MIT
#include "dev/blk_req.h"
#include "dev/virtqueue.h"

#include "abi/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void done(struct blk_req_info *r, uint8_t status, const char *why)
{
	r->kind = BLK_REQ_DONE;
	r->status = status;
	r->why = why;
}

int blk_req_parse(const struct vq_chain *c, const struct gmem *m, uint64_t capacity, bool readonly,
		  struct blk_req_info *r, char *why, size_t whylen)
{
	struct virtio_blk_req hdr;
	uint64_t data;
	int rc;

	memset(r, 0, sizeof(*r));
	if (c->rbytes < sizeof(hdr)) {
		snprintf(why, whylen,
			 "request %u: %llu readable bytes, no room for the 16-byte header", c->head,
			 (unsigned long long)c->rbytes);
		return -EINVAL;
	}
	if (c->wbytes < 1) {
		snprintf(why, whylen, "request %u: no writable byte for the status", c->head);
		return -EINVAL;
	}
	rc = vq_chain_read(c, m, 0, &hdr, sizeof(hdr));
	if (rc) {
		snprintf(why, whylen, "request %u: the header is on a poisoned page", c->head);
		return rc == -EHWPOISON ? rc : -EINVAL;
	}
	r->type = hdr.type;
	r->flags = hdr.flags;
	r->sector = hdr.sector;
	r->status_off = c->wbytes - 1;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		data = c->wbytes - 1;
		r->op = BLK_OP_READ;
		break;
	case VIRTIO_BLK_T_OUT:
		data = c->rbytes - sizeof(hdr);
		r->op = BLK_OP_WRITE;
		break;
	case VIRTIO_BLK_T_FLUSH:
		r->kind = BLK_REQ_IO;
		r->op = BLK_OP_FLUSH;
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		r->kind = BLK_REQ_ID;
		r->len = c->wbytes - 1 < VIRTIO_BLK_ID_BYTES ? c->wbytes - 1 : VIRTIO_BLK_ID_BYTES;
		return 0;
	default:
		done(r, VIRTIO_BLK_S_UNSUPP, "unsupported request type");
		return 0;
	}
	r->len = data;
	if (data % VIRTIO_BLK_SECTOR_SIZE) {
		done(r, VIRTIO_BLK_S_IOERR, "length is not a multiple of 512");
		return 0;
	}
	if (data > BLK_REQ_MAX_BYTES) {
		done(r, VIRTIO_BLK_S_IOERR, "request larger than 1 MiB");
		return 0;
	}
	if (hdr.sector > capacity || data / VIRTIO_BLK_SECTOR_SIZE > capacity - hdr.sector) {
		done(r, VIRTIO_BLK_S_IOERR, "beyond the end of the disk");
		return 0;
	}
	if (r->op == BLK_OP_WRITE && readonly) {
		done(r, VIRTIO_BLK_S_IOERR, "write to a read-only disk");
		return 0;
	}
	if (!data) {
		done(r, VIRTIO_BLK_S_OK, NULL); /* nothing to move */
		return 0;
	}
	r->kind = BLK_REQ_IO;
	r->off = hdr.sector * VIRTIO_BLK_SECTOR_SIZE;
	return 0;
}
