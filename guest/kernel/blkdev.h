/* SPDX-License-Identifier: MIT */
/*
 * Disks as files: /dev/vda, /dev/vdb, ... (the driver is dev/virtio_blk.c).
 * Semantics in docs/syscalls.md and docs/blk.md: reads and writes of whole
 * 512-byte sectors at sector-aligned positions, synchronous (the request is
 * URGENT); blk_submit/blk_reap keep many requests in flight from one
 * descriptor (a batch's last request is a BARRIER). All under the BKL.
 */
#ifndef KERNEL_BLKDEV_H
#define KERNEL_BLKDEV_H

#include <stdint.h>

struct fd;

/*
 * Opens disk `name` ("vda") into f (kind FD_BLK, size = bytes). Returns 0,
 * -ENOENT (no such disk) or -EROFS (write access to a read-only disk).
 */
int blkdev_open(struct fd *f, const char *name, uint64_t flags);
/* read/write at f->pos (advanced); bytes moved, 0 at the end (read), -errno. */
int64_t blkdev_read(struct fd *f, uint64_t ubuf, uint64_t len);
int64_t blkdev_write(struct fd *f, uint64_t ubuf, uint64_t len);
/* Makes every completed write durable (a FLUSH request). 0 or -EIO. */
int64_t blkdev_fsync(struct fd *f);
/* blk_submit() and blk_reap() of include/abi/syscalls.h. */
int64_t blkdev_submit(struct fd *f, uint64_t uios, uint64_t n);
int64_t blkdev_reap(struct fd *f, uint64_t udone, uint64_t max, uint64_t min);
/*
 * Closes f: requests still in flight are abandoned (their slots are freed
 * when they finish), finished ones are dropped.
 */
void blkdev_close(struct fd *f);

#endif
