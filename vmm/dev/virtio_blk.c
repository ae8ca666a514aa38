// SPDX-License-Identifier: MIT
#include "dev/virtio_blk.h"
#include "core/vm.h"
#include "dev/blk_backend.h"
#include "dev/blk_req.h"
#include "dev/cintr.h"
#include "dev/device.h"
#include "dev/vblk_state.h"
#include "dev/virtio_mmio.h"
#include "dev/virtqueue.h"

#include "abi/vessel.h"
#include "abi/virtio.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef BLKGETSIZE64
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#endif

/* One request between the available and the used ring. */
struct vblk_req {
	struct blk_io io;
	uint64_t gen;	   /* the device generation it belongs to (resets drop it) */
	uint64_t avail_ns; /* when the device took it off the ring */
	struct blk_req_info info;
	struct vq_chain chain;
};

struct vblk {
	struct vm *vm;
	struct virtio_mmio *t;
	char name[8]; /* vda, vdb, ... */
	char path[PATH_MAX];
	char id[VIRTIO_BLK_ID_BYTES];
	bool readonly;
	bool cintr; /* offer VESSEL_VIRTIO_BLK_F_CINTR (off: ,cintr=off) */
	int fd;
	uint64_t capacity; /* sectors */
	const struct blk_backend_ops *be_ops;
	struct blk_backend *be;

	/* under t->lock */
	struct cintr ci;
	struct vblk_counters cnt;
	uint64_t gen;
	bool active;   /* DRIVER_OK and queue 0 ready */
	bool paused;   /* the VM is paused: take nothing new */
	unsigned hold; /* save() in progress: take nothing new */
	unsigned inflight;
	uint64_t timer_armed; /* deadline the timerfd holds, 0: disarmed */
	pthread_cond_t idle;  /* inflight reached 0 */
	bool stop;

	pthread_t thread;
	bool thread_alive;
	int wake_fd;  /* eventfd: look again (state changed) */
	int timer_fd; /* the coalescing timeout */

	char arg[VBLK_ARG_MAX]; /* the --disk value */
	uint64_t bytes;		/* the image's size */
	/* handed over (vblk_hand_over): the device runs in another process */
	const struct vblk_remote_ops *remote;
	void *remote_opaque;
	uint64_t remote_val[DEVICE_STATS_MAX]; /* its counters as last fetched */
	int remote_n;
	unsigned index; /* 0 = vda */
};

static void wake(struct vblk *d)
{
	uint64_t one = 1;

	if (write(d->wake_fd, &one, sizeof(one)) < 0) {
		/* saturated: the thread will wake anyway */
	}
}

/* ---------------------------------------------------------------- options */

int vblk_parse_opts(const char *arg, struct vblk_opts *o, char *err, size_t errlen)
{
	const char *comma = strchr(arg, ',');
	size_t plen = comma ? (size_t)(comma - arg) : strlen(arg);

	memset(o, 0, sizeof(*o));
	o->io = "uring";
	o->cintr = true;
	if (plen == 0) {
		snprintf(err, errlen, "no image path");
		return -EINVAL;
	}
	if (plen >= sizeof(o->path)) {
		snprintf(err, errlen, "the image path is too long");
		return -EINVAL;
	}
	memcpy(o->path, arg, plen);
	while (comma) {
		const char *opt = comma + 1;
		size_t n;

		comma = strchr(opt, ',');
		n = comma ? (size_t)(comma - opt) : strlen(opt);
		if (n == 8 && !strncmp(opt, "readonly", 8)) {
			o->readonly = true;
		} else if (n == 8 && !strncmp(opt, "io=uring", 8)) {
			o->io = "uring";
		} else if (n == 10 && !strncmp(opt, "io=threads", 10)) {
			o->io = "threads";
		} else if (n == 8 && !strncmp(opt, "cintr=on", 8)) {
			o->cintr = true;
		} else if (n == 9 && !strncmp(opt, "cintr=off", 9)) {
			o->cintr = false;
		} else {
			snprintf(err, errlen,
				 "unknown option '%.*s' (known: readonly, io=uring, io=threads, "
				 "cintr=on, cintr=off)",
				 (int)n, opt);
			return -EINVAL;
		}
	}
	return 0;
}

/* Opens the image as the options say; the size in bytes. 0 or -errno with err set. */
static int open_image(const struct vblk_opts *o, int *fdp, uint64_t *bytes, char *err,
		      size_t errlen)
{
	struct stat st;
	int fd = open(o->path, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		rc = -errno;
		if (!o->readonly && (errno == EACCES || errno == EROFS) &&
		    access(o->path, R_OK) == 0)
			snprintf(err, errlen,
				 "cannot open the image for writing: %s (add ,readonly)",
				 strerror(-rc));
		else
			snprintf(err, errlen, "cannot open the image: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(-rc));
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, bytes) < 0) {
			rc = -errno;
			snprintf(err, errlen, "BLKGETSIZE64: %s", strerror(-rc));
			goto fail;
		}
	} else {
		rc = -EINVAL;
		snprintf(err, errlen, "not a regular file or block device");
		goto fail;
	}
	if (*bytes < VIRTIO_BLK_SECTOR_SIZE) {
		rc = -EINVAL;
		snprintf(err, errlen, "the image is smaller than one 512-byte sector");
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

static int vblk_check(const char *arg, char *err, size_t errlen)
{
	struct vblk_opts o;
	uint64_t bytes;
	int fd, rc = vblk_parse_opts(arg, &o, err, errlen);

	if (rc)
		return rc;
	rc = open_image(&o, &fd, &bytes, err, errlen);
	if (rc)
		return -EINVAL;
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- completion */

static void maybe_interrupt(struct vblk *d, enum cintr_reason why)
{
	struct virtq *q = &d->t->vq[0];

	if (why == CINTR_NONE)
		return;
	/* the driver may need none: it consumed these already (EVENT_IDX) or
	 * asked for none (NO_INTERRUPT) */
	if (!vq_need_interrupt(q, &d->vm->mem)) {
		cintr_fired(&d->ci, CINTR_NONE, clock_now_ns());
		d->cnt.irq_suppressed++;
		return;
	}
	q->signalled_used = q->used_idx;
	virtio_mmio_signal(d->t, VIRTIO_MMIO_INT_VRING);
	cintr_fired(&d->ci, why, clock_now_ns());
}

/* Status byte, used ring, interrupt decision. `written` excludes the status byte. */
static void finish(struct vblk *d, struct vblk_req *r, uint8_t status, uint64_t written)
{
	struct virtq *q = &d->t->vq[0];
	int rc;

	if (status != VIRTIO_BLK_S_OK)
		d->cnt.errors++;
	rc = vq_chain_write(&r->chain, &d->vm->mem, r->info.status_off, &status, 1);
	if (!rc)
		rc = vq_push(q, &d->vm->mem, r->chain.head, (uint32_t)(written + 1));
	if (rc) {
		d->cnt.resets_needed++;
		virtio_mmio_fail(d->t, d->name,
				 rc == -EHWPOISON ?
					 "the used ring or a status byte is on a poisoned page" :
					 "the used ring is not writable");
		return;
	}
	maybe_interrupt(d, cintr_complete(&d->ci, r->chain.head, r->info.flags, r->avail_ns,
					  clock_now_ns()));
}

static void complete(struct vblk *d, struct vblk_req *r)
{
	uint8_t status = VIRTIO_BLK_S_OK;
	uint64_t written = 0;

	d->inflight--;
	if (r->gen == d->gen && virtio_mmio_live(d->t)) {
		if (r->io.res < 0) {
			status = VIRTIO_BLK_S_IOERR;
			vm_log(d->vm, "%s: %s of %zu bytes at %llu: %s", d->name,
			       r->io.op == BLK_OP_READ	? "read" :
			       r->io.op == BLK_OP_WRITE ? "write" :
							  "flush",
			       r->io.len, (unsigned long long)r->io.off, strerror((int)-r->io.res));
		} else if (r->io.op == BLK_OP_READ) {
			if (vq_chain_write(&r->chain, &d->vm->mem, 0, r->io.buf, r->io.len))
				status = VIRTIO_BLK_S_IOERR; /* a poisoned guest buffer */
			else
				written = r->io.len;
		}
		finish(d, r, status, written);
	}
	free(r->io.buf);
	free(r);
}

static void reap(struct vblk *d)
{
	struct blk_io *done[64];
	unsigned n;

	do {
		n = d->be_ops->reap(d->be, done, 64);
		for (unsigned i = 0; i < n; i++)
			complete(d, done[i]->tag);
	} while (n == 64);
}

/* ---------------------------------------------------------------- submission */

static void count(struct vblk *d, const struct blk_req_info *in)
{
	d->cnt.requests++;
	if (in->type == VIRTIO_BLK_T_IN) {
		d->cnt.reads++;
		d->cnt.bytes_read += in->kind == BLK_REQ_IO ? in->len : 0;
	} else if (in->type == VIRTIO_BLK_T_OUT) {
		d->cnt.writes++;
		d->cnt.bytes_written += in->kind == BLK_REQ_IO ? in->len : 0;
	} else if (in->type == VIRTIO_BLK_T_FLUSH) {
		d->cnt.flushes++;
	} else {
		d->cnt.others++;
	}
}

/* Takes one request off the ring: false when there is none or the device stopped. */
static bool take_one(struct vblk *d)
{
	struct vblk_req *r = malloc(sizeof(*r));
	char why[200];
	int rc;

	if (!r)
		return false; /* retried at the next wake-up */
	rc = vq_pop(&d->t->vq[0], &d->vm->mem, &r->chain, why, sizeof(why));
	if (rc <= 0)
		goto out;
	r->gen = d->gen;
	r->avail_ns = clock_now_ns();
	rc = blk_req_parse(&r->chain, &d->vm->mem, d->capacity, d->readonly, &r->info, why,
			   sizeof(why));
	if (!rc && cintr_start(&d->ci, r->chain.head)) {
		snprintf(why, sizeof(why), "descriptor %u was made available again while in flight",
			 r->chain.head);
		rc = -EINVAL;
	}
	if (rc < 0)
		goto out;
	count(d, &r->info);
	if (!virtio_mmio_has(d->t, VESSEL_VIRTIO_BLK_F_CINTR))
		r->info.flags = 0; /* "reserved" in the standard: not ours to read */
	if (r->info.kind == BLK_REQ_DONE) {
		finish(d, r, r->info.status, 0);
		free(r);
		return virtio_mmio_live(d->t);
	}
	if (r->info.kind == BLK_REQ_ID) {
		uint8_t st = vq_chain_write(&r->chain, &d->vm->mem, 0, d->id, r->info.len) ?
				     VIRTIO_BLK_S_IOERR :
				     VIRTIO_BLK_S_OK;

		finish(d, r, st, st == VIRTIO_BLK_S_OK ? r->info.len : 0);
		free(r);
		return virtio_mmio_live(d->t);
	}
	r->io = (struct blk_io){
		.op = r->info.op, .off = r->info.off, .len = r->info.len, .tag = r
	};
	if (r->info.len && posix_memalign(&r->io.buf, 4096, r->info.len)) {
		finish(d, r, VIRTIO_BLK_S_IOERR, 0);
		free(r);
		return virtio_mmio_live(d->t);
	}
	if (r->info.op == BLK_OP_WRITE &&
	    vq_chain_read(&r->chain, &d->vm->mem, sizeof(struct virtio_blk_req), r->io.buf,
			  r->info.len)) {
		finish(d, r, VIRTIO_BLK_S_IOERR, 0); /* a poisoned guest buffer */
		free(r->io.buf);
		free(r);
		return virtio_mmio_live(d->t);
	}
	if (d->be_ops->submit(d->be, &r->io)) {
		/* cannot happen: the backend has room for a whole queue */
		finish(d, r, VIRTIO_BLK_S_IOERR, 0);
		free(r->io.buf);
		free(r);
		return virtio_mmio_live(d->t);
	}
	d->inflight++;
	return true;
out:
	free(r);
	if (rc < 0) {
		d->cnt.resets_needed++;
		virtio_mmio_fail(d->t, d->name, why);
	}
	return false;
}

static bool serving(const struct vblk *d)
{
	return d->active && !d->paused && !d->hold && virtio_mmio_live(d->t);
}

static void take_all(struct vblk *d)
{
	do {
		while (serving(d) && d->inflight < VQ_NUM_MAX && take_one(d))
			;
		/* with EVENT_IDX, ask for the next kick and look once more */
	} while (serving(d) && d->inflight < VQ_NUM_MAX &&
		 vq_enable_kick(&d->t->vq[0], &d->vm->mem));
	d->be_ops->commit(d->be);
}

static void arm_timer(struct vblk *d)
{
	uint64_t dl = cintr_deadline(&d->ci);
	struct itimerspec its = { 0 };

	if (dl == d->timer_armed)
		return;
	d->timer_armed = dl;
	if (dl) {
		its.it_value.tv_sec = (time_t)(dl / 1000000000ull);
		its.it_value.tv_nsec = (long)(dl % 1000000000ull);
	}
	timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void drain_fd(int fd, uint64_t *sum)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n) && sum)
		*sum += n;
}

static void *io_thread(void *arg)
{
	struct vblk *d = arg;
	struct pollfd p[5] = {
		{ .fd = d->wake_fd, .events = POLLIN },
		{ .fd = d->t->kick_fd, .events = POLLIN },
		{ .fd = d->t->resample_fd, .events = POLLIN },
		{ .fd = d->be_ops->event_fd(d->be), .events = POLLIN },
		{ .fd = d->timer_fd, .events = POLLIN },
	};

	for (;;) {
		uint64_t kicks = 0;

		if (poll(p, 5, -1) < 0 && errno != EINTR)
			break;
		drain_fd(d->wake_fd, NULL);
		drain_fd(d->t->kick_fd, &kicks);
		if (p[4].revents)
			drain_fd(d->timer_fd, NULL);
		pthread_mutex_lock(&d->t->lock);
		if (d->stop) {
			pthread_mutex_unlock(&d->t->lock);
			break;
		}
		d->cnt.kicks += kicks;
		if (p[2].revents)
			virtio_mmio_resample(d->t);
		reap(d);
		if (virtio_mmio_live(d->t))
			maybe_interrupt(d, cintr_poll(&d->ci, clock_now_ns()));
		take_all(d);
		arm_timer(d);
		if (!d->inflight)
			pthread_cond_broadcast(&d->idle);
		pthread_mutex_unlock(&d->t->lock);
	}
	return NULL;
}

/* ---------------------------------------------------------------- transport callbacks */

static uint64_t vblk_features(void *dev)
{
	struct vblk *d = dev;

	return (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
	       (1ull << VIRTIO_BLK_F_FLUSH) | (d->readonly ? 1ull << VIRTIO_BLK_F_RO : 0) |
	       (d->cintr ? 1ull << VESSEL_VIRTIO_BLK_F_CINTR : 0);
}

#define CONFIG_BYTES (VESSEL_BLK_CINTR_CONFIG + sizeof(struct vessel_blk_cintr_config))

static void config_image(const struct vblk *d, uint8_t *img)
{
	struct virtio_blk_config c = {
		.capacity = d->capacity,
		.seg_max = VQ_SEGS_MAX - 2, /* header and status take two */
		.blk_size = VIRTIO_BLK_SECTOR_SIZE,
	};
	struct vessel_blk_cintr_config ci = {
		.threshold = d->ci.threshold,
		.timeout_us = d->ci.timeout_us,
		.flags = VESSEL_BLK_REQ_URGENT | VESSEL_BLK_REQ_BARRIER,
	};

	memset(img, 0, CONFIG_BYTES);
	memcpy(img, &c, sizeof(c));
	memcpy(img + VESSEL_BLK_CINTR_CONFIG, &ci, sizeof(ci));
}

static void vblk_config_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	uint8_t img[CONFIG_BYTES];

	config_image(dev, img);
	for (uint32_t i = 0; i < size; i++)
		data[i] = off + i < CONFIG_BYTES ? img[off + i] : 0;
}

static void vblk_config_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct vblk *d = dev;
	uint8_t img[CONFIG_BYTES];
	struct vessel_blk_cintr_config ci;
	bool touched = false;

	config_image(d, img);
	/* only threshold and timeout_us are writable */
	for (uint32_t i = 0; i < size; i++) {
		uint64_t o = off + i;

		if (o >= VESSEL_BLK_CINTR_CONFIG && o < VESSEL_BLK_CINTR_CONFIG + 8) {
			img[o] = data[i];
			touched = true;
		}
	}
	if (!touched)
		return;
	memcpy(&ci, img + VESSEL_BLK_CINTR_CONFIG, sizeof(ci));
	cintr_config(&d->ci, ci.threshold, ci.timeout_us);
}

static int vblk_activate(void *dev)
{
	struct vblk *d = dev;

	if (!d->t->vq[0].ready)
		return -EINVAL;
	cintr_reset(&d->ci, virtio_mmio_has(d->t, VESSEL_VIRTIO_BLK_F_CINTR));
	d->active = true;
	wake(d);
	return 0;
}

static void vblk_reset(void *dev)
{
	struct vblk *d = dev;

	d->active = false;
	d->gen++; /* requests still in the backend are dropped when they finish */
	cintr_reset(&d->ci, false);
}

static void vblk_pause(void *dev)
{
	struct vblk *d = dev;

	pthread_mutex_lock(&d->t->lock);
	d->paused = true;
	d->cnt.drained += d->inflight; /* requests the pause waits for */
	wake(d);
	while (d->inflight && d->thread_alive)
		pthread_cond_wait(&d->idle, &d->t->lock);
	pthread_mutex_unlock(&d->t->lock);
}

static void vblk_resume(void *dev)
{
	struct vblk *d = dev;

	pthread_mutex_lock(&d->t->lock);
	d->paused = false;
	wake(d);
	pthread_mutex_unlock(&d->t->lock);
}

static const struct virtio_dev_ops vblk_transport_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = VBLK_QUEUES,
	.features = vblk_features,
	.config_read = vblk_config_read,
	.config_write = vblk_config_write,
	.activate = vblk_activate,
	.reset = vblk_reset,
	.pause = vblk_pause,
	.resume = vblk_resume,
};

/* ---------------------------------------------------------------- device */

static const struct device_ops vblk_ops;

/* Stops the device thread (requests in the backend stay there). */
static void stop_thread(struct vblk *d)
{
	if (!d->thread_alive)
		return;
	pthread_mutex_lock(&d->t->lock);
	d->stop = true;
	pthread_mutex_unlock(&d->t->lock);
	wake(d);
	pthread_join(d->thread, NULL);
	d->thread_alive = false;
}

static void vblk_destroy(void *priv)
{
	struct vblk *d = priv;

	if (!d)
		return;
	stop_thread(d);
	/* waits for what is still in flight; those requests are dropped */
	if (d->be)
		d->be_ops->close(d->be);
	virtio_mmio_destroy(d->t);
	if (d->fd >= 0)
		close(d->fd);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	pthread_cond_destroy(&d->idle);
	free(d);
}

/* Creates a disk: from a --disk value (h NULL), or from a handover (vblk_adopt). */
static int vblk_build(struct vm *vm, const char *arg, const struct vblk_handover *h, void **priv)
{
	struct vblk *d = calloc(1, sizeof(*d));
	struct vblk_opts o;
	char err[sizeof(vm->err)];
	unsigned index = 0;
	uint64_t bytes = h ? h->bytes : 0;
	sigset_t all, old;
	int rc;

	if (!d)
		return vm_set_err(vm, -ENOMEM, "out of memory");
	d->vm = vm;
	d->fd = d->wake_fd = d->timer_fd = -1;
	pthread_cond_init(&d->idle, NULL);
	cintr_init(&d->ci);
	for (struct device *e = vm->devices; e; e = e->next)
		index += e->ops == &vblk_ops;
	d->index = index;
	snprintf(d->name, sizeof(d->name), "vd%c", 'a' + (int)(index % 26));

	rc = vblk_parse_opts(arg ? arg : "", &o, err, sizeof(err));
	if (!rc && h)
		d->fd = h->fd;
	else if (!rc)
		rc = open_image(&o, &d->fd, &bytes, err, sizeof(err));
	if (rc) {
		vm_set_err(vm, rc, "--disk %s: %s", arg ? arg : "", err);
		goto fail;
	}
	snprintf(d->arg, sizeof(d->arg), "%s", arg);
	d->bytes = bytes;
	snprintf(d->path, sizeof(d->path), "%s", o.path);
	d->readonly = o.readonly;
	d->cintr = o.cintr;
	d->capacity = bytes / VIRTIO_BLK_SECTOR_SIZE;
	if (bytes % VIRTIO_BLK_SECTOR_SIZE && !h)
		vm_log(vm, "%s: %s: the last %llu bytes are not a whole sector and are not used",
		       d->name, o.path, (unsigned long long)(bytes % VIRTIO_BLK_SECTOR_SIZE));
	{
		const char *base = strrchr(o.path, '/');
		size_t n;

		base = base ? base + 1 : o.path;
		n = strlen(base);
		/* zero-padded, not NUL-terminated when 20 long (the standard's form) */
		memcpy(d->id, base, n < sizeof(d->id) ? n : sizeof(d->id));
	}
	/* also handed over: an io_uring ring does only reads, writes and
	 * fsyncs (blk_backend.h), nothing the monitor's filter forbids */
	d->be_ops = blk_backend_find(o.io);
	rc = d->be_ops->open(d->fd, VQ_NUM_MAX, &d->be, err, sizeof(err));
	if (rc && d->be_ops == &blk_uring_ops) {
		vm_log(vm, "%s: %s; using the worker-thread backend", d->name, err);
		d->be_ops = &blk_threads_ops;
		rc = d->be_ops->open(d->fd, VQ_NUM_MAX, &d->be, err, sizeof(err));
	}
	if (rc) {
		vm_set_err(vm, rc, "--disk %s: %s", o.path, err);
		goto fail;
	}
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->wake_fd < 0 || d->timer_fd < 0) {
		rc = vm_set_err(vm, -errno, "%s: %s", d->name, strerror(errno));
		goto fail;
	}
	rc = virtio_mmio_create(vm, &vblk_transport_ops, d, &d->t);
	if (rc)
		goto fail;
	if (h) {
		if (d->t->slot != h->slot) {
			rc = vm_set_err(vm, -EINVAL, "%s: in virtio-mmio slot %u, not %u", d->name,
					d->t->slot, h->slot);
			goto fail;
		}
		virtio_mmio_adopt(d->t, h->kick_fd, h->irq_fd, h->resample_fd);
	}
	/* the device thread takes no signals: they belong to the main and vCPU threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&d->thread, NULL, io_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		vm_set_err(vm, rc, "%s: cannot start the device thread: %s", d->name,
			   strerror(-rc));
		goto fail;
	}
	d->thread_alive = true;
	*priv = d;
	return 0;
fail:
	vblk_destroy(d);
	return rc;
}

static int vblk_create(struct vm *vm, const char *arg, void **priv)
{
	return vblk_build(vm, arg, NULL, priv);
}

int vblk_adopt(struct vm *vm, const struct vblk_handover *h)
{
	struct device *dev = calloc(1, sizeof(*dev)), **tail = &vm->devices;
	int rc;

	if (!dev)
		return vm_set_err(vm, -ENOMEM, "out of memory");
	dev->ops = &vblk_ops;
	rc = vblk_build(vm, h->arg, h, &dev->priv);
	if (rc) {
		free(dev);
		return rc;
	}
	while (*tail)
		tail = &(*tail)->next;
	*tail = dev;
	return 0;
}

static struct vblk *nth_disk(struct vm *vm, unsigned disk)
{
	for (struct device *e = vm->devices; e; e = e->next)
		if (e->ops == &vblk_ops && disk-- == 0)
			return e->priv;
	return NULL;
}

int vblk_hand_over(struct vm *vm, unsigned disk, const struct vblk_remote_ops *ops, void *opaque,
		   struct vblk_handover *h)
{
	struct vblk *d = nth_disk(vm, disk);

	if (!d)
		return -ENOENT;
	stop_thread(d);
	if (d->be) /* nothing is in flight: the VM has not run */
		d->be_ops->close(d->be);
	d->be = NULL;
	d->remote = ops;
	d->remote_opaque = opaque;
	*h = (struct vblk_handover){
		.bytes = d->bytes,
		.slot = d->t->slot,
		.fd = d->fd,
		.kick_fd = d->t->kick_fd,
		.irq_fd = d->t->irq_fd,
		.resample_fd = d->t->resample_fd,
	};
	snprintf(h->arg, sizeof(h->arg), "%s", d->arg);
	return 0;
}

bool vblk_wire(struct vm *vm, unsigned disk)
{
	struct vblk *d = nth_disk(vm, disk);

	return d && virtio_mmio_wire(d->t);
}

static int vblk_boot_device(void *priv, struct vessel_boot_device *out)
{
	struct vblk *d = priv;

	virtio_mmio_boot_device(d->t, out);
	return 1;
}

static unsigned vblk_stats(void *priv, char *label, size_t lablen, struct device_stat *out,
			   unsigned max)
{
	struct vblk *d = priv;
	unsigned n = 0;

	snprintf(label, lablen, "%s", d->name);
	pthread_mutex_lock(&d->t->lock);
#define STAT(nm, v)                                                                                \
	do {                                                                                       \
		if (n < max)                                                                       \
			out[n++] = (struct device_stat){ nm, (v) };                                \
	} while (0)
	STAT("requests", d->cnt.requests);
	STAT("reads", d->cnt.reads);
	STAT("writes", d->cnt.writes);
	STAT("flushes", d->cnt.flushes);
	STAT("other_requests", d->cnt.others);
	STAT("bytes_read", d->cnt.bytes_read);
	STAT("bytes_written", d->cnt.bytes_written);
	STAT("errors", d->cnt.errors);
	STAT("in_flight", d->inflight);
	STAT("kicks", d->cnt.kicks);
	STAT("interrupts", d->t->irqs_raised);
	STAT("eois", d->t->resamples);
	STAT("reasserts", d->t->reasserts);
	STAT("early_eois", d->t->early_eois);
	STAT("irq_every", d->ci.fired[CINTR_EVERY]);
	STAT("irq_urgent", d->ci.fired[CINTR_URGENT]);
	STAT("irq_barrier", d->ci.fired[CINTR_BARRIER]);
	STAT("irq_threshold", d->ci.fired[CINTR_THRESHOLD]);
	STAT("irq_timeout", d->ci.fired[CINTR_TIMEOUT]);
	STAT("irq_suppressed", d->cnt.irq_suppressed);
	STAT("latency_count", d->ci.lat_count);
	STAT("latency_sum_ns", d->ci.lat_sum_ns);
	STAT("latency_max_ns", d->ci.lat_max_ns);
	STAT("latency_p50_recent_ns", cintr_percentile(&d->ci, 50));
	STAT("latency_p90_recent_ns", cintr_percentile(&d->ci, 90));
	STAT("cintr_offered", d->cintr);
	STAT("calibrated", d->ci.calibrated);
	STAT("threshold", d->ci.threshold);
	STAT("timeout_us", d->ci.timeout_us);
	STAT("resets_needed", d->cnt.resets_needed);
	STAT("drained_at_pause", d->cnt.drained);
	STAT("kvm_fast_paths", d->t->kvm_wired);
#undef STAT
	pthread_mutex_unlock(&d->t->lock);
	if (d->remote) {
		/* the same list, counted where the device runs (once it is
		 * gone, as it was last seen: --stats at the end) */
		uint64_t val[DEVICE_STATS_MAX];
		int got = d->remote->stats(d->remote_opaque, d->index, val, DEVICE_STATS_MAX);

		if (got == (int)n) {
			memcpy(d->remote_val, val, n * sizeof(val[0]));
			d->remote_n = got;
		}
		for (unsigned i = 0; i < n; i++)
			out[i].value = d->remote_n == (int)n ? d->remote_val[i] : 0;
	}
	return n;
}

/* ---------------------------------------------------------------- save / restore */

static ssize_t vblk_save(void *priv, void *buf, size_t cap)
{
	struct vblk *d = priv;
	struct vblk_blob b = { .magic = VBLK_MAGIC, .version = VBLK_VERSION };

	if (d->remote)
		return d->remote->save(d->remote_opaque, d->index, buf, cap);
	if (cap < sizeof(b))
		return -ENOSPC;
	pthread_mutex_lock(&d->t->lock);
	/* nothing may be in flight in a saved state (vm_pause() drained it) */
	d->hold++;
	wake(d);
	while (d->inflight && d->thread_alive)
		pthread_cond_wait(&d->idle, &d->t->lock);
	b.capacity = d->capacity;
	b.readonly = d->readonly;
	b.active = d->active;
	virtio_mmio_save(d->t, &b.tr);
	cintr_save(&d->ci, clock_now_ns(), &b.ci);
	b.cnt = d->cnt;
	b.irqs_raised = d->t->irqs_raised;
	d->hold--;
	wake(d);
	pthread_mutex_unlock(&d->t->lock);
	memcpy(buf, &b, sizeof(b));
	return (ssize_t)sizeof(b);
}

static int vblk_restore(void *priv, const void *buf, size_t len)
{
	struct vblk *d = priv;
	struct vblk_blob b;
	struct virtq vq[VIRTIO_MMIO_QUEUES_MAX];
	char why[200];
	int rc;

	if (d->remote) /* decoded and checked there, by the same code */
		return d->remote->restore(d->remote_opaque, d->index, buf, len);
	if (vblk_blob_decode(buf, len, virtio_mmio_offered(d->t), &d->vm->mem, &b, vq, why,
			     sizeof(why))) {
		vm_log(d->vm, "%s: saved state refused: %s", d->name, why);
		return -EINVAL;
	}
	if (b.capacity != d->capacity || b.readonly != d->readonly) {
		vm_log(d->vm,
		       "%s: saved state is of a %s disk of %llu sectors, this one is %s with %llu",
		       d->name, b.readonly ? "read-only" : "writable",
		       (unsigned long long)b.capacity, d->readonly ? "read-only" : "writable",
		       (unsigned long long)d->capacity);
		return -EINVAL;
	}
	pthread_mutex_lock(&d->t->lock);
	rc = virtio_mmio_restore(d->t, &b.tr);
	if (!rc)
		rc = cintr_restore(&d->ci, &b.ci, clock_now_ns(), why, sizeof(why));
	if (rc) {
		pthread_mutex_unlock(&d->t->lock);
		return rc;
	}
	d->gen++;
	d->cnt = b.cnt;
	d->t->irqs_raised = b.irqs_raised;
	d->active = b.active;
	/* the guest may have made requests available that the source never
	 * took: the thread looks at the ring (and re-arms the timeout) now */
	wake(d);
	pthread_mutex_unlock(&d->t->lock);
	return 0;
}

static const struct device_ops vblk_ops = {
	.name = "virtio-blk",
	.option = "--disk",
	.option_arg = "PATH[,readonly][,io=uring|threads][,cintr=off]",
	.option_help = "a virtio-blk disk backed by a raw image (repeatable: vda, vdb, ...)",
	.check = vblk_check,
	.create = vblk_create,
	.destroy = vblk_destroy,
	.save = vblk_save,
	.restore = vblk_restore,
	.boot_device = vblk_boot_device,
	.stats = vblk_stats,
};
DEVICE_REGISTER(vblk_ops);
