/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk over virtio-mmio (include/abi/virtio.h, docs/blk.md): `vessel
 * run --disk PATH[,readonly][,io=uring|threads][,cintr=off]`, repeatable;
 * the disks are vda, vdb, ... in command-line order. Registered with DEVICE_REGISTER as
 * "virtio-blk".
 *
 * Each disk has one device thread. It takes requests off the queue when the
 * guest kicks (ioeventfd), runs them on the backend (dev/blk_backend.h:
 * io_uring or a worker pool), copies data between guest memory and bounce
 * buffers only through gmem_read()/gmem_write() (pages written are dirty
 * for migration), returns them on the used ring and interrupts as
 * dev/cintr.h decides (irqfd). A broken descriptor chain puts the device in
 * DEVICE_NEEDS_RESET with one log line; the VM goes on.
 *
 * Migration: the VM's pause drains the disks (no request in flight when
 * vm_pause() returns, so stop-and-copy sees every byte the device wrote);
 * save/restore carry the transport, the queue indices, the interrupt
 * state and the counters. The image file itself is not copied: both ends
 * open the same file (shared storage; on one host, the same path).
 */
#ifndef VMM_DEV_VIRTIO_BLK_H
#define VMM_DEV_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>

/* The option, parsed. */
struct vblk_opts {
	char path[4096];
	bool readonly;
	const char *io; /* backend name */
	bool cintr;	/* offer calibrated interrupts (default; ,cintr=off: no) */
};

/*
 * vblk_parse_opts - split "PATH[,readonly][,io=uring|threads][,cintr=on|off]".
 * Returns 0 or -EINVAL with the reason in err.
 */
int vblk_parse_opts(const char *arg, struct vblk_opts *o, char *err, size_t errlen);

#endif
