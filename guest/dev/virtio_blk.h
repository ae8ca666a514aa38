/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk driver (docs/blk.md): disks vda, vdb, ... in discovery
 * order. It knows requests, not files: the file layer (kernel/blkdev.c)
 * takes a request, fills its buffer, submits it and is called back when it
 * completed.
 *
 * Interrupts (kernel command line `blk.irq=`):
 *   every       the feature VESSEL_VIRTIO_BLK_F_CINTR is not accepted: the
 *               device interrupts per completion (standard virtio)
 *   coalesce    accepted, no request flagged: threshold + timeout only
 *   calibrated  accepted (the default): a request a thread waits for is
 *               URGENT, the last of an asynchronous batch is BARRIER
 * One word sets every disk; a comma-separated list sets each disk in order
 * (`every,calibrated`: vda every, vdb calibrated; disks past the list take
 * its last word). A bad value is reported and leaves every disk calibrated.
 * `blk.threshold=N` and `blk.timeout_us=N` set the device's coalescing.
 * On a device without the feature (QEMU's) every mode behaves as `every`.
 *
 * Context: everything here runs with the BKL held, except the interrupt
 * handler, which only moves completed requests to a list under the disk's
 * spinlock and raises deferred work; the completion callbacks run from that
 * work, with the BKL.
 */
#ifndef GUEST_DEV_VIRTIO_BLK_H
#define GUEST_DEV_VIRTIO_BLK_H

#include <stdint.h>

#define VBLK_REQ_MAX_BYTES (64u * 1024) /* one request's buffer */
#define VBLK_SECTOR	   512u

struct vblk_disk;

enum vblk_op { VBLK_READ, VBLK_WRITE, VBLK_FLUSH };

struct vblk_req {
	/* set by the submitter */
	enum vblk_op op;
	uint64_t sector;
	uint32_t len;			      /* bytes, a multiple of 512, <= VBLK_REQ_MAX_BYTES */
	void (*complete)(struct vblk_req *r); /* with the BKL, once it finished */
	void *owner;			      /* the submitter's (a file) */
	uint64_t tag, ubuf;		      /* the submitter's */
	struct vblk_req *next;		      /* the submitter's list link after completion */
	/* set by the driver */
	struct vblk_disk *disk;
	void *buf;		    /* VBLK_REQ_MAX_BYTES of kernel memory, physically contiguous */
	int result;		    /* after completion: 0 or -EIO */
	int finished;		    /* completion seen (BKL) */
	int slot;		    /* the driver's */
	struct vblk_req *done_next; /* the driver's (interrupt -> deferred work) */
};

/* Finds and starts every virtio-blk device; prints one line each. */
void vblk_init(void);

/* The disk named "vda", "vdb", ... or NULL. */
struct vblk_disk *vblk_find(const char *name);
/* Its size in 512-byte sectors, and whether it is read-only. */
uint64_t vblk_capacity(const struct vblk_disk *d);
int vblk_readonly(const struct vblk_disk *d);

/*
 * A free request of d (its buffer allocated), or NULL when none is free and
 * `wait` is 0 (with wait, sleeps until one is; NULL then only if the buffer
 * cannot be allocated or the disk failed).
 */
struct vblk_req *vblk_get(struct vblk_disk *d, int wait);
/* Gives a finished (or never submitted) request back. */
void vblk_put(struct vblk_req *r);

/*
 * Submits n requests of d in order with one notification. sync = 1: a
 * thread waits for each (URGENT in calibrated mode); sync = 0: an
 * asynchronous batch (its last request BARRIER). Each completes through
 * r->complete.
 */
void vblk_submit(struct vblk_disk *d, struct vblk_req **reqs, int n, int sync);

/* Submits r synchronously and sleeps until it finished; returns r->result. */
int vblk_run(struct vblk_req *r);

/* Counters summed over the disks, for stats(). */
struct vblk_counts {
	uint64_t requests, completions, interrupts, spurious, kicks, urgent, barrier;
	uint64_t exits; /* register accesses once running (kicks included): VM exits */
};
void vblk_counts(struct vblk_counts *c);

#endif
