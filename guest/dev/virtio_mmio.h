/* SPDX-License-Identifier: MIT */
/*
 * The driver side of the virtio-mmio transport (include/abi/virtio.h):
 * finding the devices, feature negotiation, queue setup, notifications and
 * the interrupt acknowledgement. A device driver (virtio_blk.c) owns the
 * queue memory and the ring logic.
 *
 * Where devices come from: the Vessel boot info lists them (base, size,
 * IOAPIC pin); under QEMU (Multiboot) the kernel command line does, in
 * Linux's form `virtio_mmio.device=SIZE@BASE:IRQ`, once per device.
 */
#ifndef GUEST_DEV_VIRTIO_MMIO_H
#define GUEST_DEV_VIRTIO_MMIO_H

#include <stdint.h>

#define VMMIO_MAX 8

struct vmmio {
	uint64_t base; /* physical */
	uint64_t size;
	uint32_t irq;	    /* IOAPIC pin */
	uint32_t device_id; /* VIRTIO_ID_*, 0: empty slot */
	volatile uint8_t *regs;
	/*
	 * If set, counts every register access (each one is a VM exit: a
	 * queue notification into KVM's ioeventfd, the rest into the VMM)
	 */
	uint64_t *exits;
};

/*
 * Fills devs[] with every virtio-mmio device that answers (magic, version
 * 2, a non-zero device id); returns how many. Prints one line per refusal.
 */
int vmmio_discover(struct vmmio *devs, int max);

/* One 32-bit register access at off (counted in *v->exits if set). */
uint32_t vmmio_read(const struct vmmio *v, uint32_t off);
void vmmio_write(const struct vmmio *v, uint32_t off, uint32_t val);

/*
 * Resets the device and negotiates features: offers `wanted` (VERSION_1 is
 * required and added) and keeps what the device has. Returns 0 with the
 * accepted set in *got, or -EIO if the device refuses FEATURES_OK or lacks
 * VERSION_1 (the status is then FAILED).
 */
int vmmio_negotiate(const struct vmmio *v, uint64_t wanted, uint64_t *got);

/*
 * Sets up queue idx with num entries at the given physical addresses and
 * enables it. Returns 0, -ENODEV (no such queue) or -EINVAL (num above the
 * device's maximum).
 */
int vmmio_queue_setup(const struct vmmio *v, uint32_t idx, uint32_t num, uint64_t desc,
		      uint64_t avail, uint64_t used);
/* The device's largest queue size for idx (0: no such queue). */
uint32_t vmmio_queue_max(const struct vmmio *v, uint32_t idx);

/* Sets DRIVER_OK: the device may use the queues. */
void vmmio_driver_ok(const struct vmmio *v);
/* Marks the device FAILED (the driver gives up on it). */
void vmmio_fail(const struct vmmio *v);
/* Tells the device queue idx has new buffers. */
void vmmio_notify(const struct vmmio *v, uint32_t idx);
/* Reads INTERRUPT_STATUS and acknowledges those bits; returns them. */
uint32_t vmmio_irq_ack(const struct vmmio *v);

/* Configuration space accessors (offset within it). */
uint32_t vmmio_config_read32(const struct vmmio *v, uint32_t off);
uint64_t vmmio_config_read64(const struct vmmio *v, uint32_t off);
void vmmio_config_write32(const struct vmmio *v, uint32_t off, uint32_t val);

#endif
