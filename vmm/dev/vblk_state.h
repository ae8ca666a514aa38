/* SPDX-License-Identifier: MIT */
/*
 * The saved state of a virtio-blk disk: its part of the migration stream
 * (vmm/dev/virtio_blk.c saves and restores it), and the decoding of one
 * that arrived from a peer, which checks everything that does not depend
 * on the destination disk. A blob comes from the network: the decoder and
 * the checks it runs are fuzzed (tests/fuzz/vblk_state_fuzz.c).
 */
#ifndef VMM_DEV_VBLK_STATE_H
#define VMM_DEV_VBLK_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "dev/cintr.h"
#include "dev/virtio_mmio.h"

#define VBLK_MAGIC   0x4b4c4256u /* "VBLK" */
#define VBLK_VERSION 3u
#define VBLK_QUEUES  1 /* one request queue */

struct vblk_counters {
	uint64_t requests, reads, writes, flushes, others;
	uint64_t bytes_read, bytes_written;
	uint64_t errors;	 /* completed with IOERR or UNSUPP */
	uint64_t kicks;		 /* notifications the device saw */
	uint64_t irq_suppressed; /* interrupts due but not needed (EVENT_IDX) */
	uint64_t resets_needed;
	uint64_t drained; /* requests a VM pause waited for (migration) */
};

struct vblk_blob {
	uint32_t magic, version;
	uint64_t capacity; /* sectors */
	uint32_t readonly, active;
	struct virtio_mmio_state tr;
	struct cintr_saved ci;
	struct vblk_counters cnt;
	uint64_t irqs_raised;
};

/*
 * vblk_blob_decode - copy the `len` bytes at buf into *b and check them
 * for a disk whose transport offers `offered` features over `mem`: size,
 * magic and version, flags, an active disk only with DRIVER_OK and its
 * queue ready, the transport (virtio_mmio_state_check, the queues to
 * install into vq[]) and the calibrated-interrupt state
 * (cintr_saved_check: the checks of cintr_restore). Returns 0, or -EINVAL
 * with the reason in why. Pure.
 */
int vblk_blob_decode(const void *buf, size_t len, uint64_t offered, const struct gmem *mem,
		     struct vblk_blob *b, struct virtq vq[VIRTIO_MMIO_QUEUES_MAX], char *why,
		     size_t whylen);

#endif
