// SPDX-License-Identifier: MIT
#include "monitor/devhost.h"
#include "core/exit.h"
#include "core/guest_mem.h"
#include "core/hooks.h"
#include "core/iobus.h"
#include "core/safecopy.h"
#include "core/vm.h"
#include "dev/device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The device code's log lines: on stderr, with write() (stdio may stat the descriptor). */
static void log_line(void *opaque, const char *line)
{
	char buf[1100];
	int n = snprintf(buf, sizeof(buf), "vessel: %s\n", line);

	(void)opaque;
	if (n > 0 &&
	    write(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0) {
		/* nowhere else to say it */
	}
}

int mon_devhost_new(struct mon_shm *shm, struct vm **out, char *err, size_t errlen)
{
	const struct mon_devices *dv = &shm->devs;
	struct vm *vm = calloc(1, sizeof(*vm));
	int rc;

	*out = NULL;
	if (!vm) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vm->kvm_fd = vm->vm_fd = vm->stats_fd = vm->notify_fd = -1;
	vm->cfg.log = log_line;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	rc = safe_copy_init(); /* a guest page with a memory error: -EHWPOISON, not SIGBUS */
	if (!rc)
		rc = gmem_attach(&vm->mem, MON_FD_MEM, dv->mem_size);
	if (rc) {
		snprintf(err, errlen, "guest memory: %s", strerror(-rc));
		return rc;
	}
	vm->mem.hide_lo = dv->hide_lo;
	vm->mem.hide_hi = dv->hide_hi;
	if (dv->dirty_words != gmem_dirty_words(&vm->mem) ||
	    dv->dirty_off + dv->dirty_words * sizeof(uint64_t) > dv->shm_size ||
	    dv->poison_off + dv->dirty_words * sizeof(uint64_t) > dv->shm_size ||
	    dv->dirty_off % 4096 || dv->poison_off % 8) {
		snprintf(err, errlen, "the dirty bitmap does not fit the guest memory");
		return -EINVAL;
	}
	gmem_dirty_share(&vm->mem, (uint64_t *)((uint8_t *)shm + dv->dirty_off));
	gmem_poison_also(&vm->mem, (const uint64_t *)((uint8_t *)shm + dv->poison_off));
	for (unsigned i = 0; i < dv->ndisks && i < MON_MAX_DISKS; i++) {
		struct vblk_handover h = dv->disk[i];

		h.arg[sizeof(h.arg) - 1] = '\0';
		h.fd = MON_FD_DISK(i);
		h.kick_fd = MON_FD_DISK(i) + 1;
		h.irq_fd = MON_FD_DISK(i) + 2;
		h.resample_fd = MON_FD_DISK(i) + 3;
		rc = vblk_adopt(vm, &h);
		if (rc) {
			snprintf(err, errlen, "%s", vm->err);
			return rc;
		}
	}
	*out = vm;
	return 0;
}

void mon_devhost_mmio(struct vm *vm, const struct mon_msg *in, struct mon_msg *out)
{
	uint32_t size = (uint32_t)in->b;
	const struct io_range *r =
		vm && size >= 1 && size <= 8 ? iobus_find(&vm->mmio, in->a, size) : NULL;
	struct exit_result res = { .action = EXIT_CONTINUE };
	struct io_access acc = {
		.addr = in->a,
		.size = size,
		.write = in->c != 0,
		.data = out->data,
	};

	if (!r) {
		out->status = -ENODEV;
		return;
	}
	memcpy(out->data, in->data, size);
	acc.offset = in->a - r->base;
	r->fn(r->opaque, &acc, &res);
	out->len = acc.write ? 0 : size;
}

static struct device *disk(struct vm *vm, uint64_t n)
{
	return n < MON_MAX_DISKS ? device_find_nth(vm, "virtio-blk", (unsigned)n) : NULL;
}

void mon_devhost_control(struct vm *vm, struct mon_shm *shm, const struct mon_msg *in,
			 struct mon_msg *out)
{
	struct device *d = vm ? disk(vm, in->a) : NULL;

	switch (in->type) {
	case MON_MSG_PAUSE: /* every disk drains: nothing in flight when we answer */
		if (vm)
			vm_hooks_pause(vm);
		return;
	case MON_MSG_RESUME:
		if (vm)
			vm_hooks_resume(vm);
		return;
	}
	if (!d) {
		out->status = -ENOENT;
		return;
	}
	switch (in->type) {
	case MON_MSG_DISK_SAVE: {
		ssize_t n = d->ops->save(d->priv, shm->xfer, sizeof(shm->xfer));

		out->status = n < 0 ? (int)n : 0;
		out->a = n < 0 ? 0 : (uint64_t)n; /* bytes in xfer */
		break;
	}
	case MON_MSG_DISK_RESTORE: {
		/* the peer's bytes: copied out of the shared page, then decoded */
		static uint8_t blob[MON_XFER_SIZE];

		if (in->a >= MON_MAX_DISKS || in->b > sizeof(blob)) {
			out->status = -EINVAL;
			break;
		}
		memcpy(blob, shm->xfer, in->b);
		out->status = d->ops->restore(d->priv, blob, in->b);
		break;
	}
	case MON_MSG_DISK_STATS: {
		struct device_stat st[DEVICE_STATS_MAX];
		char label[32];
		unsigned n = d->ops->stats(d->priv, label, sizeof(label), st, DEVICE_STATS_MAX);
		uint64_t *val = (uint64_t *)shm->xfer;

		for (unsigned i = 0; i < n; i++)
			val[i] = st[i].value;
		out->a = n * sizeof(uint64_t);
		break;
	}
	default:
		out->status = -EINVAL;
	}
}
