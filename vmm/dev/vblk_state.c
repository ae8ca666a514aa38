// SPDX-License-Identifier: MIT
#include "dev/vblk_state.h"

#include "abi/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int vblk_blob_decode(const void *buf, size_t len, uint64_t offered, const struct gmem *mem,
		     struct vblk_blob *b, struct virtq vq[VIRTIO_MMIO_QUEUES_MAX], char *why,
		     size_t whylen)
{
	if (len != sizeof(*b)) {
		snprintf(why, whylen, "%zu bytes, a virtio-blk state has %zu", len, sizeof(*b));
		return -EINVAL;
	}
	memcpy(b, buf, sizeof(*b));
	if (b->magic != VBLK_MAGIC || b->version != VBLK_VERSION) {
		snprintf(why, whylen, "not a virtio-blk state of version %u", VBLK_VERSION);
		return -EINVAL;
	}
	if (b->readonly > 1 || b->active > 1) {
		snprintf(why, whylen, "read-only or active flag is neither 0 nor 1");
		return -EINVAL;
	}
	if (b->active && (!(b->tr.status & VIRTIO_STATUS_DRIVER_OK) || !b->tr.vq[0].ready)) {
		snprintf(why, whylen, "active without DRIVER_OK and a ready queue");
		return -EINVAL;
	}
	if ((b->tr.drv_features & ~offered) >> VESSEL_VIRTIO_BLK_F_CINTR & 1) {
		snprintf(why, whylen,
			 "the state uses calibrated interrupts; this disk has cintr=off");
		return -EINVAL;
	}
	if (virtio_mmio_state_check(&b->tr, offered, VBLK_QUEUES, mem, vq, why, whylen))
		return -EINVAL;
	return cintr_saved_check(&b->ci, why, whylen);
}
