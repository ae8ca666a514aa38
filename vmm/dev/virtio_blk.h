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
#include <stdint.h>
#include <sys/types.h>

struct vm;

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

/*
 * A disk whose device model runs in another process: the sandboxed monitor
 * (docs/monitor.md). The core hands each disk over before the VM runs: it
 * keeps the instance (its slot, boot-info entry, KVM registration and its
 * place among the devices for migration) but no longer runs it; the monitor
 * builds the same device from the handover (vblk_adopt) and runs it, and
 * the instance's save, restore and counters go there through `ops`.
 */
#define VBLK_ARG_MAX 4200

struct vblk_handover {
	char arg[VBLK_ARG_MAX]; /* the --disk value */
	uint64_t bytes;		/* the image's size */
	uint32_t slot;		/* its virtio-mmio slot */
	/* the image, opened as arg says (read-only: O_RDONLY), and the
	 * transport's eventfds, registered with KVM by the core */
	int fd, kick_fd, irq_fd, resample_fd;
};

struct vblk_remote_ops {
	ssize_t (*save)(void *opaque, unsigned disk, void *buf, size_t cap);
	int (*restore)(void *opaque, unsigned disk, const void *buf, size_t len);
	/* the disk's counter values in the order its stats() lists them: how
	 * many, or -errno */
	int (*stats)(void *opaque, unsigned disk, uint64_t *val, unsigned max);
};

/*
 * vblk_hand_over - stop running disk number `disk` (0 = vda) of vm here,
 * before the VM runs: its thread and backend go, its requests will be
 * served elsewhere; save, restore and stats go to ops/opaque from now on.
 * Fills *h (descriptors stay owned by the instance). 0, or -ENOENT when
 * there is no such disk.
 */
int vblk_hand_over(struct vm *vm, unsigned disk, const struct vblk_remote_ops *ops, void *opaque,
		   struct vblk_handover *h);

/*
 * vblk_wire - register a handed-over disk's eventfds with KVM (once vm has
 * its KVM VM). Returns whether they are.
 */
bool vblk_wire(struct vm *vm, unsigned disk);

/*
 * vblk_adopt - in the process that runs the device: create the disk
 * described by *h in vm (no KVM there; the eventfds are taken as wired) and
 * add it to vm->devices, with the backend its option names. The instance
 * owns h's descriptors. 0 or -errno with vm->err set.
 */
int vblk_adopt(struct vm *vm, const struct vblk_handover *h);

#endif
