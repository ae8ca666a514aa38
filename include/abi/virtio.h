/* SPDX-License-Identifier: MIT */
/*
 * Virtio 1.x as the Vessel VMM implements it and the Vessel kernel drives
 * it: the virtio-mmio transport (version 2 register layout), split
 * virtqueues and the block device, plus one extension of our own,
 * calibrated interrupts (VESSEL_VIRTIO_BLK_F_CINTR). Values are the
 * standard's (OASIS virtio 1.2, sections 2.7, 4.2 and 5.2) except where a
 * name starts with VESSEL_. Both sides include this file; docs/blk.md is
 * the prose version. All fields are little-endian (x86 only here).
 *
 * Freestanding: fixed-width integer types only.
 */
#ifndef VESSEL_ABI_VIRTIO_H
#define VESSEL_ABI_VIRTIO_H

#include <stdint.h>

/* ------------------------------------------------------------------------
 * virtio-mmio registers (offsets from the device's MMIO base; 32-bit
 * accesses, config space any width)
 * ------------------------------------------------------------------------ */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000 /* R: 0x74726976 ("virt") */
#define VIRTIO_MMIO_VERSION		0x004 /* R: 2 (virtio 1.x) */
#define VIRTIO_MMIO_DEVICE_ID		0x008 /* R: VIRTIO_ID_* */
#define VIRTIO_MMIO_VENDOR_ID		0x00c /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010 /* R: 32 feature bits of the selected word */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014 /* W: word 0 = bits 0..31, 1 = bits 32..63 */
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020 /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024 /* W */
#define VIRTIO_MMIO_QUEUE_SEL		0x030 /* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034 /* R: 0 = no such queue */
#define VIRTIO_MMIO_QUEUE_NUM		0x038 /* W: a power of 2 <= NUM_MAX */
#define VIRTIO_MMIO_QUEUE_READY		0x044 /* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050 /* W: queue index ("kick") */
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060 /* R: VIRTIO_MMIO_INT_* */
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064 /* W: clears those bits */
#define VIRTIO_MMIO_STATUS		0x070 /* RW: VIRTIO_STATUS_*; 0 resets */
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080 /* W: guest-physical addresses of the */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084 /*    three parts of the selected queue */
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090 /*    (driver area = available ring, */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094 /*     device area = used ring) */
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc /* R */
#define VIRTIO_MMIO_CONFIG		0x100 /* device configuration space */

#define VIRTIO_MMIO_MAGIC    0x74726976u
#define VIRTIO_MMIO_VERSION2 2u
#define VESSEL_VIRTIO_VENDOR 0x4c535356u /* "VSSL" */

#define VIRTIO_MMIO_INT_VRING  (1u << 0) /* a used buffer was added */
#define VIRTIO_MMIO_INT_CONFIG (1u << 1) /* the configuration changed */

/* Device status (section 2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE	 1u
#define VIRTIO_STATUS_DRIVER		 2u
#define VIRTIO_STATUS_DRIVER_OK		 4u
#define VIRTIO_STATUS_FEATURES_OK	 8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED		 128u

/* Device types */
#define VIRTIO_ID_BLOCK 2u

/* Transport and ring feature bits (section 6) */
#define VIRTIO_F_INDIRECT_DESC 28 /* not offered by the Vessel VMM */
#define VIRTIO_F_EVENT_IDX     29 /* used_event / avail_event after the rings */
#define VIRTIO_F_VERSION_1     32 /* required: a virtio 1.x device */

/* ------------------------------------------------------------------------
 * Split virtqueue (section 2.7). One queue of `num` entries (a power of 2)
 * is three guest-physical areas:
 *
 *   descriptor table  num x struct virtq_desc                 16-byte aligned
 *   available ring    flags, idx, ring[num] (u16 heads)         2-byte aligned
 *   used ring         flags, idx, ring[num] (struct virtq_used_elem) 4-byte aligned
 *
 * The driver puts the head of a descriptor chain in avail.ring[idx % num]
 * and then increments avail.idx; the device returns the head with the
 * bytes it wrote in used.ring[idx % num] and increments used.idx. Indices
 * run freely modulo 2^16.
 * ------------------------------------------------------------------------ */
#define VIRTQ_DESC_F_NEXT     1u /* the chain continues at `next` */
#define VIRTQ_DESC_F_WRITE    2u /* device-writable (else device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4u /* a table of descriptors (not negotiated here) */

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u /* driver: no interrupt needed (a hint) */
#define VIRTQ_USED_F_NO_NOTIFY	   1u /* device: no kick needed (a hint) */

struct virtq_desc {
	uint64_t addr; /* guest-physical */
	uint32_t len;
	uint16_t flags; /* VIRTQ_DESC_F_* */
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags; /* VIRTQ_AVAIL_F_* */
	uint16_t idx;
	uint16_t ring[]; /* num entries (then used_event with EVENT_IDX) */
};

struct virtq_used_elem {
	uint32_t id;  /* head of the chain */
	uint32_t len; /* bytes the device wrote into the chain */
};

struct virtq_used {
	uint16_t flags; /* VIRTQ_USED_F_* */
	uint16_t idx;
	struct virtq_used_elem ring[]; /* num entries */
};

#define VIRTQ_AVAIL_SIZE(num) (4u + 2u * (num) + 2u)
#define VIRTQ_USED_SIZE(num)  (4u + 8u * (num) + 2u)

/* ------------------------------------------------------------------------
 * Block device (section 5.2). One request queue (queue 0). A request is one
 * descriptor chain:
 *
 *   +--------------------------+  device-readable
 *   | struct virtio_blk_req    |  16 bytes: type, flags, sector
 *   +--------------------------+
 *   | data (OUT: readable,     |  a multiple of 512 bytes, any number of
 *   |       IN: writable)      |  descriptors (none for FLUSH)
 *   +--------------------------+  device-writable
 *   | uint8_t status           |  VIRTIO_BLK_S_*
 *   +--------------------------+
 *
 * The device does not assume the framing: the header and data may share or
 * span descriptors (VIRTIO_F_ANY_LAYOUT is implied by VERSION_1).
 * ------------------------------------------------------------------------ */
#define VIRTIO_BLK_F_SIZE_MAX 1 /* size_max: largest segment */
#define VIRTIO_BLK_F_SEG_MAX  2 /* seg_max: most data segments per request */
#define VIRTIO_BLK_F_RO	      5 /* the disk is read-only */
#define VIRTIO_BLK_F_BLK_SIZE 6 /* blk_size */
#define VIRTIO_BLK_F_FLUSH    9 /* VIRTIO_BLK_T_FLUSH is supported */

#define VIRTIO_BLK_T_IN	    0u /* read */
#define VIRTIO_BLK_T_OUT    1u /* write */
#define VIRTIO_BLK_T_FLUSH  4u /* make completed writes durable */
#define VIRTIO_BLK_T_GET_ID 8u /* 20-byte device id string */

#define VIRTIO_BLK_S_OK	    0u
#define VIRTIO_BLK_S_IOERR  1u
#define VIRTIO_BLK_S_UNSUPP 2u

#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_ID_BYTES    20u

struct virtio_blk_req {
	uint32_t type;	 /* VIRTIO_BLK_T_* */
	uint32_t flags;	 /* "reserved" in the standard: VESSEL_BLK_REQ_* under CINTR, else 0 */
	uint64_t sector; /* in 512-byte units, whatever blk_size says */
};

/* Configuration space (at VIRTIO_MMIO_CONFIG); fields we use. */
struct virtio_blk_config {
	uint64_t capacity; /* 512-byte sectors */
	uint32_t size_max; /* with SIZE_MAX */
	uint32_t seg_max;  /* with SEG_MAX */
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size; /* with BLK_SIZE */
	uint8_t topology[8];
	uint8_t writeback;
	uint8_t pad[7]; /* unused0, num_queues, ... (not offered) */
};

/* ------------------------------------------------------------------------
 * Calibrated interrupts (ours, docs/blk.md). Offered as feature bit
 * VESSEL_VIRTIO_BLK_F_CINTR (63, at the top of the device-specific range
 * 50..127, far from the standard's allocations). When the driver accepts
 * it, the device stops interrupting on every used buffer. It counts
 * completions not yet signalled and raises the interrupt when
 *
 *   - a request flagged VESSEL_BLK_REQ_URGENT completes, or
 *   - a request flagged VESSEL_BLK_REQ_BARRIER and every request made
 *     available before it have completed, or
 *   - the count reaches `threshold`, or
 *   - `timeout_us` microseconds passed since the oldest unsignalled
 *     completion with the count still above 0.
 *
 * One interrupt covers every completion before it. Driver policy (the
 * Vessel kernel): a request a thread waits for is URGENT, the last request
 * of an asynchronous batch is BARRIER, the rest carry no flag; with both
 * flags never set (blk.irq=coalesce) this is plain threshold + timeout
 * coalescing, like NVMe interrupt aggregation.
 *
 * The configuration lives at VESSEL_BLK_CINTR_CONFIG in the device
 * configuration space; the driver may write threshold and timeout_us at
 * any time (values outside the ranges are clamped).
 * ------------------------------------------------------------------------ */
#define VESSEL_VIRTIO_BLK_F_CINTR 63

#define VESSEL_BLK_REQ_URGENT  (1u << 0)
#define VESSEL_BLK_REQ_BARRIER (1u << 1)

#define VESSEL_BLK_CINTR_CONFIG	       0x100 /* offset in the configuration space */
#define VESSEL_BLK_CINTR_THRESHOLD_MAX 1024u
#define VESSEL_BLK_CINTR_TIMEOUT_MAX   1000000u /* 1 s */
#define VESSEL_BLK_CINTR_DEF_THRESHOLD 32u
#define VESSEL_BLK_CINTR_DEF_TIMEOUT   1000u /* us */

struct vessel_blk_cintr_config {
	uint32_t threshold;  /* RW: 1..THRESHOLD_MAX completions */
	uint32_t timeout_us; /* RW: 1..TIMEOUT_MAX microseconds */
	uint32_t flags;	     /* R: VESSEL_BLK_REQ_* the device honours */
	uint32_t reserved;
};

_Static_assert(sizeof(struct virtq_desc) == 16, "ABI");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "ABI");
_Static_assert(sizeof(struct virtio_blk_req) == 16, "ABI");
_Static_assert(sizeof(struct virtio_blk_config) == 40, "ABI");
_Static_assert(sizeof(struct vessel_blk_cintr_config) == 16, "ABI");

#endif /* VESSEL_ABI_VIRTIO_H */
