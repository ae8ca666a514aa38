// SPDX-License-Identifier: MIT
#include "dev/virtio_mmio.h"
#include "core/exit.h"
#include "core/hooks.h"
#include "core/iobus.h"
#include "core/vm.h"

#include "abi/vessel.h"
#include "abi/virtio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the VM's virtio devices */

/* One per VM, attached as a hook: pause and resume reach every device. */
struct virtio_vm {
	struct virtio_mmio *t[VESSEL_VIRTIO_MMIO_MAX];
};

static void vv_pause(void *opaque)
{
	struct virtio_vm *vv = opaque;

	for (unsigned i = 0; i < VESSEL_VIRTIO_MMIO_MAX; i++)
		if (vv->t[i] && vv->t[i]->ops->pause)
			vv->t[i]->ops->pause(vv->t[i]->dev);
}

static void vv_resume(void *opaque)
{
	struct virtio_vm *vv = opaque;

	for (unsigned i = 0; i < VESSEL_VIRTIO_MMIO_MAX; i++)
		if (vv->t[i] && vv->t[i]->ops->resume)
			vv->t[i]->ops->resume(vv->t[i]->dev);
}

static void vv_detach(void *opaque)
{
	free(opaque);
}

static const struct vm_hook_ops virtio_vm_hooks = {
	.name = "virtio devices",
	.pause = vv_pause,
	.resume = vv_resume,
	.detach = vv_detach,
};

static int vv_join(struct virtio_mmio *t)
{
	struct virtio_vm *vv = vm_hook_find(t->vm, &virtio_vm_hooks);
	int err;

	if (!vv) {
		vv = calloc(1, sizeof(*vv));
		if (!vv)
			return -ENOMEM;
		err = vm_hook_attach(t->vm, &virtio_vm_hooks, vv);
		if (err) {
			free(vv);
			return err;
		}
	}
	vv->t[t->slot] = t;
	return 0;
}

static void vv_leave(struct virtio_mmio *t)
{
	/* NULL once vm_destroy() detached the hooks (the list is gone then) */
	struct virtio_vm *vv = vm_hook_find(t->vm, &virtio_vm_hooks);

	if (vv && vv->t[t->slot] == t)
		vv->t[t->slot] = NULL;
}

/* ---------------------------------------------------------------- interrupt line */

static void line_set(struct virtio_mmio *t, bool high)
{
	if (t->kvm_wired) {
		uint64_t one = 1;

		if (!high)
			return; /* KVM lowers the line at the EOI */
		if (write(t->irq_fd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow in practice; nothing to undo */
		}
		t->irqs_raised++;
		/* a rise from low delivers an interrupt whose handler will read
		 * INTERRUPT_STATUS; into a high line it merges */
		if (!t->line_up)
			t->delivery_pending = true;
		t->line_up = true;
		return;
	}
	if (high == t->line_high)
		return;
	t->line_high = high;
	if (high)
		t->irqs_raised++;
	vm_irq_line(t->vm, t->irq, high);
}

void virtio_mmio_signal(struct virtio_mmio *t, uint32_t bits)
{
	t->isr |= bits;
	t->unseen = true;
	line_set(t, true);
}

/* Whether some ready queue has used entries the driver has not consumed. */
static bool behind(const struct virtio_mmio *t)
{
	for (unsigned i = 0; i < t->ops->nqueues; i++)
		if (t->vq[i].ready && (!t->vq[i].event_idx || !vq_consumed(&t->vq[i], &t->vm->mem)))
			return true;
	return false;
}

void virtio_mmio_resample(struct virtio_mmio *t)
{
	uint64_t n;

	if (read(t->resample_fd, &n, sizeof(n)) < 0)
		return; /* EAGAIN: nothing */
	t->resamples++;
	t->line_up = false; /* KVM lowered it */
	/* an interrupt was delivered whose handler has not read the status
	 * yet: it will, and see every bit; raising the line again would only
	 * run the handler twice. On this host that is the common case: KVM
	 * takes each guest EOI write twice (docs/platform.md), and the second
	 * one ends an interrupt delivered meanwhile before its handler ran. */
	if (t->delivery_pending) {
		t->early_eois++;
		return;
	}
	/* bits set after the driver last read the status, merged into a line
	 * that was already up: nobody will see them unless the line rises */
	if (!t->unseen || !t->isr)
		return;
	/* ...unless the driver caught up with the used ring anyway (EVENT_IDX) */
	if (!(t->isr & VIRTIO_MMIO_INT_CONFIG) && !behind(t))
		return;
	t->reasserts++;
	line_set(t, true);
}

/* The fast paths: ioeventfd on QUEUE_NOTIFY, irqfd with resample on the line. */
static void wire_kvm(struct virtio_mmio *t)
{
	struct kvm_ioeventfd io = {
		.addr = t->base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = t->kick_fd,
	};
	struct kvm_irqfd irq = {
		.fd = (uint32_t)t->irq_fd,
		.gsi = t->irq,
		.flags = KVM_IRQFD_FLAG_RESAMPLE,
		.resamplefd = (uint32_t)t->resample_fd,
	};

	if (t->kvm_wired || t->vm->vm_fd < 0)
		return;
	if (ioctl(t->vm->vm_fd, KVM_IRQFD, &irq) < 0) {
		vm_log(t->vm,
		       "virtio-mmio slot %u: KVM_IRQFD: %s (interrupts through KVM_IRQ_LINE)",
		       t->slot, strerror(errno));
		return;
	}
	if (ioctl(t->vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		vm_log(t->vm,
		       "virtio-mmio slot %u: KVM_IOEVENTFD: %s (notifications exit to the VMM)",
		       t->slot, strerror(errno));
		irq.flags = KVM_IRQFD_FLAG_DEASSIGN;
		ioctl(t->vm->vm_fd, KVM_IRQFD, &irq);
		return;
	}
	/* the fallback line may be high: hand it over to the irqfd */
	if (t->line_high) {
		vm_irq_line(t->vm, t->irq, 0);
		t->line_high = false;
	}
	t->kvm_wired = true;
	if (t->isr)
		line_set(t, true);
}

static void unwire_kvm(struct virtio_mmio *t)
{
	struct kvm_ioeventfd io = {
		.addr = t->base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = t->kick_fd,
		.flags = KVM_IOEVENTFD_FLAG_DEASSIGN,
	};
	struct kvm_irqfd irq = {
		.fd = (uint32_t)t->irq_fd,
		.gsi = t->irq,
		.flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (!t->kvm_wired || t->vm->vm_fd < 0)
		return;
	ioctl(t->vm->vm_fd, KVM_IOEVENTFD, &io);
	ioctl(t->vm->vm_fd, KVM_IRQFD, &irq);
	t->kvm_wired = false;
}

bool virtio_mmio_wire(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	wire_kvm(t);
	pthread_mutex_unlock(&t->lock);
	return t->kvm_wired;
}

void virtio_mmio_adopt(struct virtio_mmio *t, int kick_fd, int irq_fd, int resample_fd)
{
	close(t->kick_fd);
	close(t->irq_fd);
	close(t->resample_fd);
	t->kick_fd = kick_fd;
	t->irq_fd = irq_fd;
	t->resample_fd = resample_fd;
	t->kvm_wired = true; /* by the process that holds the VM (no vm_fd here) */
}

/* ---------------------------------------------------------------- registers */

bool virtio_mmio_has(const struct virtio_mmio *t, unsigned bit)
{
	return bit < 64 && (t->drv_features >> bit) & 1;
}

bool virtio_mmio_live(const struct virtio_mmio *t)
{
	return (t->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(t->status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

void virtio_mmio_fail(struct virtio_mmio *t, const char *name, const char *why)
{
	if (t->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	t->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	vm_log(t->vm, "%s: device needs reset: %s", name, why);
	virtio_mmio_signal(t, VIRTIO_MMIO_INT_CONFIG);
}

uint64_t virtio_mmio_offered(const struct virtio_mmio *t)
{
	return t->ops->features(t->dev) | (1ull << VIRTIO_F_VERSION_1) |
	       (1ull << VIRTIO_F_EVENT_IDX);
}

static void reset(struct virtio_mmio *t)
{
	t->ops->reset(t->dev);
	t->status = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->drv_features = 0;
	t->isr = 0;
	t->unseen = false;
	memset(t->vq, 0, sizeof(t->vq));
	line_set(t, false);
}

static struct virtq *selected(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->nqueues ? &t->vq[t->queue_sel] : NULL;
}

static void set_status(struct virtio_mmio *t, uint32_t v)
{
	uint32_t was = t->status;

	if (v == 0) {
		reset(t);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(was & VIRTIO_STATUS_FEATURES_OK)) {
		/* refused unless a subset of the offer that includes VERSION_1 */
		if ((t->drv_features & ~virtio_mmio_offered(t)) ||
		    !virtio_mmio_has(t, VIRTIO_F_VERSION_1))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	/* the device's own bit is not the driver's to set or clear */
	v = (v & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) | (was & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	t->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(was & VIRTIO_STATUS_DRIVER_OK)) {
		char why[160];
		int err;

		if (!(v & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_mmio_fail(t, "virtio-mmio", "DRIVER_OK without FEATURES_OK");
			return;
		}
		for (unsigned i = 0; i < t->ops->nqueues; i++) {
			if (t->vq[i].ready && vq_check(&t->vq[i], &t->vm->mem, why, sizeof(why))) {
				virtio_mmio_fail(t, "virtio-mmio", why);
				return;
			}
			t->vq[i].event_idx = virtio_mmio_has(t, VIRTIO_F_EVENT_IDX);
		}
		wire_kvm(t);
		err = t->ops->activate(t->dev);
		if (err)
			virtio_mmio_fail(t, "virtio-mmio", "the device refused to start");
	}
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtq *q = selected(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VESSEL_VIRTIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return t->dev_feat_sel < 2 ?
			       (uint32_t)(virtio_mmio_offered(t) >> (32 * t->dev_feat_sel)) :
			       0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? VQ_NUM_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		/* the driver sees every bit set so far */
		t->unseen = false;
		t->delivery_pending = false;
		return t->isr;
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_generation;
	}
	return 0; /* write-only or reserved */
}

static void set_addr(uint64_t *a, bool high, uint32_t v)
{
	*a = high ? (*a & 0xffffffffull) | (uint64_t)v << 32 : (*a & ~0xffffffffull) | v;
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct virtq *q = selected(t);
	/* queue layout may change only before the queue is enabled */
	struct virtq *cfg = q && !q->ready && !(t->status & VIRTIO_STATUS_DRIVER_OK) ? q : NULL;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (t->drv_feat_sel < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK))
			set_addr(&t->drv_features, t->drv_feat_sel == 1, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_feat_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (cfg)
			cfg->num = v <= VQ_NUM_MAX ? (uint16_t)v : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q && v == 0) {
			q->ready = false;
		} else if (q && !q->ready) {
			char why[160];

			q->ready = true;
			q->last_avail = q->used_idx = q->signalled_used = 0;
			if (vq_check(q, &t->vm->mem, why, sizeof(why)))
				virtio_mmio_fail(t, "virtio-mmio", why);
		}
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY: {
		uint64_t one = 1;

		/* reached only without the ioeventfd */
		if (write(t->kick_fd, &one, sizeof(one)) < 0) {
			/* the counter is saturated: the device will look anyway */
		}
		break;
	}
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->isr &= ~v;
		if (!t->isr && !t->kvm_wired)
			line_set(t, false);
		break;
	case VIRTIO_MMIO_STATUS:
		set_status(t, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (cfg)
			set_addr(&cfg->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (cfg)
			set_addr(&cfg->avail, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (cfg)
			set_addr(&cfg->used, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
		break;
	}
}

static void mmio_access(void *opaque, struct io_access *acc, struct exit_result *res)
{
	struct virtio_mmio *t = opaque;

	pthread_mutex_lock(&t->lock);
	if (acc->offset >= VIRTIO_MMIO_CONFIG) {
		if (acc->write)
			t->ops->config_write(t->dev, acc->offset - VIRTIO_MMIO_CONFIG, acc->data,
					     acc->size);
		else
			t->ops->config_read(t->dev, acc->offset - VIRTIO_MMIO_CONFIG, acc->data,
					    acc->size);
	} else if (acc->size == 4 && acc->offset % 4 == 0) {
		if (acc->write) {
			uint32_t v;

			memcpy(&v, acc->data, 4);
			reg_write(t, acc->offset, v);
		} else {
			uint32_t v = reg_read(t, acc->offset);

			memcpy(acc->data, &v, 4);
		}
	} else if (!acc->write) {
		/* registers are 32-bit: other widths read as 0 and write nothing */
		memset(acc->data, 0, acc->size);
	}
	pthread_mutex_unlock(&t->lock);
}

/* ---------------------------------------------------------------- life cycle */

int virtio_mmio_create(struct vm *vm, const struct virtio_dev_ops *ops, void *dev,
		       struct virtio_mmio **out)
{
	struct virtio_mmio *t = calloc(1, sizeof(*t));
	int err = -ENOSPC;

	if (!t)
		return vm_set_err(vm, -ENOMEM, "out of memory");
	t->vm = vm;
	t->ops = ops;
	t->dev = dev;
	t->kick_fd = t->irq_fd = t->resample_fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	for (unsigned s = 0; s < VESSEL_VIRTIO_MMIO_MAX; s++) {
		uint64_t base = VESSEL_VIRTIO_MMIO_BASE + s * VESSEL_VIRTIO_MMIO_STRIDE;

		err = iobus_register(&vm->mmio, base, VESSEL_VIRTIO_MMIO_STRIDE, "virtio-mmio",
				     mmio_access, t);
		if (err == -EEXIST)
			continue;
		if (!err) {
			t->slot = s;
			t->base = base;
			t->irq = VESSEL_VIRTIO_IRQ_BASE + s;
		}
		break;
	}
	if (err) {
		free(t);
		if (err == -EEXIST)
			return vm_set_err(vm, -ENOSPC, "at most %u virtio devices per VM",
					  VESSEL_VIRTIO_MMIO_MAX);
		return vm_set_err(vm, err, "cannot claim a virtio-mmio window: %s", strerror(-err));
	}
	t->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->kick_fd < 0 || t->irq_fd < 0 || t->resample_fd < 0) {
		err = vm_set_err(vm, -errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	err = vv_join(t);
	if (err) {
		vm_set_err(vm, err, "cannot attach the virtio pause hook: %s", strerror(-err));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	/* the MMIO range stays registered until vm_destroy() frees the bus;
	 * nothing runs before that since the VM fails to build */
	virtio_mmio_destroy(t);
	return err;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	if (!t)
		return;
	vv_leave(t);
	unwire_kvm(t);
	if (t->kick_fd >= 0)
		close(t->kick_fd);
	if (t->irq_fd >= 0)
		close(t->irq_fd);
	if (t->resample_fd >= 0)
		close(t->resample_fd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void virtio_mmio_boot_device(const struct virtio_mmio *t, struct vessel_boot_device *out)
{
	*out = (struct vessel_boot_device){
		.type = VESSEL_DEV_VIRTIO_MMIO,
		.irq = t->irq,
		.base = t->base,
		.size = VESSEL_VIRTIO_MMIO_STRIDE,
	};
}

/* ---------------------------------------------------------------- save / restore */

int virtio_mmio_restore(struct virtio_mmio *t, const struct virtio_mmio_state *s)
{
	struct virtq vq[VIRTIO_MMIO_QUEUES_MAX];
	char why[160];

	if (virtio_mmio_state_check(s, virtio_mmio_offered(t), t->ops->nqueues, &t->vm->mem, vq,
				    why, sizeof(why))) {
		vm_log(t->vm, "virtio-mmio slot %u: saved state refused: %s", t->slot, why);
		return -EINVAL;
	}
	t->status = s->status;
	t->dev_feat_sel = s->dev_feat_sel;
	t->drv_feat_sel = s->drv_feat_sel;
	t->queue_sel = s->queue_sel;
	t->drv_features = s->drv_features;
	t->isr = s->isr;
	t->config_generation = s->config_generation;
	memcpy(t->vq, vq, sizeof(vq));
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		wire_kvm(t);
	/* a line the source had up: raise it here (a spurious interrupt at
	 * worst, which a virtio driver tolerates) */
	if (t->isr) {
		t->unseen = true;
		line_set(t, true);
	}
	return 0;
}
