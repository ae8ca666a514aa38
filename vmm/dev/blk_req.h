/* SPDX-License-Identifier: MIT */
/*
 * A virtio-blk request, checked (include/abi/virtio.h, "Block device"): what
 * a descriptor chain asks for. A chain whose structure is broken (no room
 * for the 16-byte header or the status byte) is the driver's bug: the
 * device needs a reset. A well-formed request that cannot be served (an
 * unknown type, a length that is not whole sectors, beyond the end of the
 * disk, a write to a read-only disk, too large) completes at once with
 * VIRTIO_BLK_S_IOERR or _UNSUPP. Pure: no I/O, fuzzed with virtqueue.c.
 */
#ifndef VMM_DEV_BLK_REQ_H
#define VMM_DEV_BLK_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/blk_backend.h"

struct gmem;
struct vq_chain;

#define BLK_REQ_MAX_BYTES (1u << 20) /* data bytes in one request */

enum blk_req_kind {
	BLK_REQ_IO,   /* run op over [off, off + len) of the image */
	BLK_REQ_ID,   /* write the device id (len bytes of it) */
	BLK_REQ_DONE, /* complete at once with `status` */
};

struct blk_req_info {
	uint32_t type;	/* VIRTIO_BLK_T_* from the header */
	uint32_t flags; /* VESSEL_BLK_REQ_* from the header */
	uint64_t sector;
	enum blk_req_kind kind;
	enum blk_op op;	     /* BLK_REQ_IO */
	uint64_t off;	     /* image offset, bytes */
	uint64_t len;	     /* data bytes (IO, ID) */
	uint8_t status;	     /* BLK_REQ_DONE */
	uint64_t status_off; /* where the status byte goes in the writable part */
	const char *why;     /* BLK_REQ_DONE with an error: a short reason */
};

/*
 * blk_req_parse - read the header of chain c and decide. capacity is in
 * sectors. Returns 0 with *r filled, -EINVAL with the reason in why (the
 * chain is broken), or -EHWPOISON (the header is on a poisoned page).
 */
int blk_req_parse(const struct vq_chain *c, const struct gmem *m, uint64_t capacity, bool readonly,
		  struct blk_req_info *r, char *why, size_t whylen);

#endif
