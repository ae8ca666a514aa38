// SPDX-License-Identifier: MIT
/* Disks as files (blkdev.h) on top of the virtio-blk driver. */
#include "kernel/blkdev.h"
#include "abi/syscalls.h"
#include "dev/virtio_blk.h"
#include "kernel/mm.h"
#include "kernel/proc.h"
#include "kernel/sched.h"
#include "kernel/vm.h"
#include "lib/errno.h"
#include "lib/string.h"

#define SUBMIT_MAX 64 /* requests one blk_submit() takes at most */

/* An open disk. Freed once closed, unused by a sleeping call and idle. */
struct blk_file {
	struct vblk_disk *disk;
	int writable;
	int closed;
	unsigned users;	   /* system calls of this file asleep right now */
	unsigned inflight; /* submitted asynchronously, not finished */
	unsigned ndone;	   /* finished, not reaped */
	struct vblk_req *done, **done_tail;
};

static void release(struct blk_file *bf)
{
	if (bf->closed && !bf->users && !bf->inflight)
		kfree(bf);
}

int blkdev_open(struct fd *f, const char *name, uint64_t flags)
{
	struct vblk_disk *d = vblk_find(name);
	struct blk_file *bf;
	int writable = (flags & VESSEL_O_ACCMODE) != VESSEL_O_RDONLY;

	if (!d)
		return -ENOENT;
	if (writable && vblk_readonly(d))
		return -EROFS;
	bf = kzalloc(sizeof(*bf));
	if (!bf)
		return -ENOMEM;
	bf->disk = d;
	bf->writable = writable;
	bf->done_tail = &bf->done;
	f->kind = FD_BLK;
	f->priv = bf;
	f->data = NULL;
	f->pos = 0;
	f->size = vblk_capacity(d) * VBLK_SECTOR;
	return 0;
}

/*
 * One synchronous request (a read or write of len bytes within one request,
 * or a flush): the thread waits for it. 0 or -errno.
 */
static int sync_one(struct blk_file *bf, enum vblk_op op, uint64_t pos, uint64_t ubuf, uint32_t len)
{
	struct vm *vm = &current_proc()->vm;
	struct vblk_req *r;
	int rc;

	bf->users++;
	r = vblk_get(bf->disk, 1);
	if (!r) {
		bf->users--;
		return -EIO;
	}
	r->op = op;
	r->sector = pos / VBLK_SECTOR;
	r->len = len;
	rc = op == VBLK_WRITE ? copy_from_user(vm, r->buf, ubuf, len) : 0;
	if (!rc)
		rc = vblk_run(r);
	if (!rc && op == VBLK_READ && copy_to_user(vm, ubuf, r->buf, len))
		rc = -EFAULT;
	vblk_put(r);
	bf->users--;
	return rc;
}

static int64_t sync_io(struct fd *f, int write, uint64_t ubuf, uint64_t len)
{
	struct blk_file *bf = f->priv;
	uint64_t pos = f->pos, done = 0;

	if (len % VBLK_SECTOR || pos % VBLK_SECTOR)
		return -EINVAL;
	if (write && !bf->writable)
		return -EBADF;
	if (len == 0)
		return 0;
	if (pos >= f->size)
		return write ? -ENOSPC : 0;
	if (len > f->size - pos)
		len = f->size - pos;
	if (vm_user_ok(&current_proc()->vm, ubuf, len, write ? VM_READ : VM_WRITE))
		return -EFAULT;
	while (done < len) {
		uint64_t n = len - done < VBLK_REQ_MAX_BYTES ? len - done : VBLK_REQ_MAX_BYTES;
		int rc = sync_one(bf, write ? VBLK_WRITE : VBLK_READ, pos + done, ubuf + done,
				  (uint32_t)n);

		if (rc) {
			if (!done)
				return rc;
			break;
		}
		done += n;
	}
	f->pos = pos + done;
	release(bf);
	return (int64_t)done;
}

int64_t blkdev_read(struct fd *f, uint64_t ubuf, uint64_t len)
{
	return sync_io(f, 0, ubuf, len);
}

int64_t blkdev_write(struct fd *f, uint64_t ubuf, uint64_t len)
{
	return sync_io(f, 1, ubuf, len);
}

int64_t blkdev_fsync(struct fd *f)
{
	struct blk_file *bf = f->priv;
	int rc = sync_one(bf, VBLK_FLUSH, 0, 0, 0);

	release(bf);
	return rc;
}

/* Completion callback of an asynchronous request (BKL held). */
static void async_done(struct vblk_req *r)
{
	struct blk_file *bf = r->owner;

	bf->inflight--;
	if (bf->closed) {
		vblk_put(r);
		release(bf);
		return;
	}
	r->next = NULL;
	*bf->done_tail = r;
	bf->done_tail = &r->next;
	bf->ndone++;
	wakeup(bf);
}

/* Checks one submitted request against the disk: 0 or -errno. */
static int check_io(const struct fd *f, const struct vessel_blk_io *io)
{
	const struct blk_file *bf = f->priv;

	if (io->flags || io->op > VESSEL_BLK_FLUSH)
		return -EINVAL;
	if (io->op == VESSEL_BLK_FLUSH)
		return 0;
	if (io->op == VESSEL_BLK_WRITE && !bf->writable)
		return -EBADF;
	if (!io->len || io->len > VBLK_REQ_MAX_BYTES || io->len % VBLK_SECTOR ||
	    io->offset % VBLK_SECTOR)
		return -EINVAL;
	if (io->offset >= f->size || io->len > f->size - io->offset)
		return -ENOSPC;
	return vm_user_ok(&current_proc()->vm, io->buf, io->len,
			  io->op == VESSEL_BLK_READ ? VM_WRITE : VM_READ);
}

int64_t blkdev_submit(struct fd *f, uint64_t uios, uint64_t n)
{
	struct blk_file *bf = f->priv;
	struct vm *vm = &current_proc()->vm;
	struct vblk_req *reqs[SUBMIT_MAX];
	int k = 0, rc = 0;

	if (n > SUBMIT_MAX)
		n = SUBMIT_MAX;
	bf->users++;
	while ((uint64_t)k < n) {
		struct vessel_blk_io io;
		struct vblk_req *r;

		rc = copy_from_user(vm, &io, uios + (uint64_t)k * sizeof(io), sizeof(io));
		if (!rc)
			rc = check_io(f, &io);
		if (rc)
			break;
		/* wait for a slot only while nothing is queued yet */
		r = vblk_get(bf->disk, k == 0);
		if (!r) {
			rc = k ? 0 : -EIO;
			break;
		}
		r->op = io.op == VESSEL_BLK_READ  ? VBLK_READ :
			io.op == VESSEL_BLK_WRITE ? VBLK_WRITE :
						    VBLK_FLUSH;
		r->sector = io.offset / VBLK_SECTOR;
		r->len = io.op == VESSEL_BLK_FLUSH ? 0 : (uint32_t)io.len;
		r->ubuf = io.buf;
		r->tag = io.tag;
		r->owner = bf;
		r->complete = async_done;
		if (io.op == VESSEL_BLK_WRITE && copy_from_user(vm, r->buf, io.buf, io.len)) {
			vblk_put(r);
			rc = -EFAULT;
			break;
		}
		reqs[k++] = r;
	}
	if (k) {
		bf->inflight += (unsigned)k;
		vblk_submit(bf->disk, reqs, k, 0);
	}
	bf->users--;
	return k ? k : rc;
}

int64_t blkdev_reap(struct fd *f, uint64_t udone, uint64_t max, uint64_t min)
{
	struct blk_file *bf = f->priv;
	struct proc *p = current_proc();
	uint64_t k = 0;

	if (min > max)
		return -EINVAL;
	if (max && vm_user_ok(&p->vm, udone, max * sizeof(struct vessel_blk_done), VM_WRITE))
		return -EFAULT;
	/* never wait for more than is outstanding */
	if (min > bf->inflight + bf->ndone)
		min = bf->inflight + bf->ndone;
	bf->users++;
	while (bf->ndone < min && !p->killed && !bf->closed)
		sleep_on(bf);
	bf->users--;
	if (bf->closed || bf->ndone < min) {
		int rc = bf->closed ? -EBADF : -EINTR;

		release(bf);
		return rc;
	}
	while (k < max && bf->done) {
		struct vblk_req *r = bf->done;
		struct vessel_blk_done d = { r->tag, r->result ? r->result : (int64_t)r->len };

		bf->done = r->next;
		if (!bf->done)
			bf->done_tail = &bf->done;
		bf->ndone--;
		if (!r->result && r->op == VBLK_READ &&
		    copy_to_user(&p->vm, r->ubuf, r->buf, r->len))
			d.result = -EFAULT;
		vblk_put(r);
		if (copy_to_user(&p->vm, udone + k * sizeof(d), &d, sizeof(d)))
			return -EFAULT; /* checked above: the process unmapped it meanwhile */
		k++;
	}
	return (int64_t)k;
}

void blkdev_close(struct fd *f)
{
	struct blk_file *bf = f->priv;

	while (bf->done) {
		struct vblk_req *r = bf->done;

		bf->done = r->next;
		vblk_put(r);
	}
	bf->ndone = 0;
	bf->closed = 1;
	f->priv = NULL;
	release(bf);
}
