/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport (virtio 1.x, register layout version 2) for a
 * device model: the registers, feature negotiation, the device status
 * machine, queue configuration and the interrupt.
 *
 * Where each slot lives (include/abi/vessel.h): slot n of the virtio window
 * at VESSEL_VIRTIO_MMIO_BASE + n * STRIDE, IOAPIC pin VESSEL_VIRTIO_IRQ_BASE
 * + n; a new transport takes the first free slot.
 *
 * Fast paths without a user-space exit, once the driver set DRIVER_OK:
 *   - a queue notification (QUEUE_NOTIFY write) is a KVM ioeventfd: KVM
 *     signals kick_fd and the vCPU goes on; the device thread polls kick_fd;
 *   - the interrupt is a KVM irqfd with a resample fd: writing irq_fd
 *     asserts the level-triggered line, KVM lowers it at the guest's EOI and
 *     signals resample_fd, and the device asserts it again while
 *     INTERRUPT_STATUS has bits the driver has not seen
 *     (virtio_mmio_resample()). That is the level semantics of virtio-mmio
 *     without a KVM_IRQ_LINE per change. With VIRTIO_F_EVENT_IDX (offered
 *     for every device: the ring code does it) the line is not raised
 *     again for used buffers the driver consumed already.
 * Without KVM (unit tests) or if KVM refuses them, the MMIO handler writes
 * kick_fd itself and the line follows INTERRUPT_STATUS through
 * vm_irq_line().
 *
 * Locking: `lock` protects the registers, the queues and the device's own
 * state; the MMIO handler (vCPU threads) and the device thread take it.
 * The device callbacks are called with it held.
 */
#ifndef VMM_DEV_VIRTIO_MMIO_H
#define VMM_DEV_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/virtqueue.h"

struct vm;
struct vessel_boot_device;

#define VIRTIO_MMIO_QUEUES_MAX 2

/* What a device model gives the transport (all called with the lock held). */
struct virtio_dev_ops {
	uint32_t device_id; /* VIRTIO_ID_* */
	unsigned nqueues;   /* 1..VIRTIO_MMIO_QUEUES_MAX */
	/* the feature bits it offers (VIRTIO_F_VERSION_1 is added by the transport) */
	uint64_t (*features)(void *dev);
	/* configuration space at `off` (relative), `size` bytes; reads beyond it give 0 */
	void (*config_read)(void *dev, uint64_t off, uint8_t *data, uint32_t size);
	void (*config_write)(void *dev, uint64_t off, const uint8_t *data, uint32_t size);
	/* DRIVER_OK: features final, queues checked. 0, or -errno to refuse
	 * (the device then needs a reset) */
	int (*activate)(void *dev);
	/* the driver wrote status 0 (or the transport reset itself) */
	void (*reset)(void *dev);
	/* the VM pauses (drain: no request may be in flight when this returns)
	 * and resumes; called without the lock */
	void (*pause)(void *dev);
	void (*resume)(void *dev);
};

struct virtio_mmio {
	struct vm *vm;
	pthread_mutex_t lock;
	const struct virtio_dev_ops *ops;
	void *dev;
	unsigned slot;
	uint64_t base;
	unsigned irq; /* GSI */

	/* registers */
	uint32_t status;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint64_t drv_features;
	uint32_t isr; /* INTERRUPT_STATUS */
	uint32_t config_generation;
	struct virtq vq[VIRTIO_MMIO_QUEUES_MAX];

	int kick_fd;	 /* eventfd: queue notifications */
	int irq_fd;	 /* eventfd: KVM irqfd (level, with resample) */
	int resample_fd; /* eventfd: KVM lowered the line at the guest's EOI */
	bool kvm_wired;	 /* ioeventfd and irqfd registered with KVM */
	bool line_high;	 /* fallback: what vm_irq_line() was last told */
	/* irqfd: the line as KVM has it (up since our last write, down since
	 * its last resample), whether that rise delivered an interrupt whose
	 * handler has not read INTERRUPT_STATUS yet, and whether bits were set
	 * since the driver last read it */
	bool line_up, delivery_pending, unseen;
	uint64_t irqs_raised; /* interrupts asserted (irqfd writes or line raises) */
	uint64_t resamples;   /* EOIs KVM reported (resample_fd) */
	uint64_t reasserts;   /* ... after which the line was raised again */
	uint64_t early_eois;  /* ... that ended an interrupt before its handler read the status */
};

/*
 * virtio_mmio_create - a transport in the first free slot of vm's virtio
 * window, registered on vm->mmio, for device `dev` with `ops`; also joins
 * the VM's pause/resume hook. Returns 0 and *out, or -errno (-ENOSPC when
 * every slot is taken) with vm->err set.
 */
int virtio_mmio_create(struct vm *vm, const struct virtio_dev_ops *ops, void *dev,
		       struct virtio_mmio **out);

/*
 * virtio_mmio_wire - register the transport's eventfds with KVM now
 * (ioeventfd on QUEUE_NOTIFY, irqfd with resample on its GSI) instead of at
 * DRIVER_OK: for a transport whose device runs in another process
 * (virtio_mmio_adopt there). Returns whether they are registered.
 */
bool virtio_mmio_wire(struct virtio_mmio *t);

/*
 * virtio_mmio_adopt - use kick_fd, irq_fd and resample_fd (another
 * process's transport's, which that process registered with KVM:
 * virtio_mmio_wire) instead of this transport's own eventfds, and treat
 * them as wired. Before the device thread starts; the transport owns them.
 */
void virtio_mmio_adopt(struct virtio_mmio *t, int kick_fd, int irq_fd, int resample_fd);

/* virtio_mmio_destroy - leave the hook, close the eventfds, free (the device thread is gone). */
void virtio_mmio_destroy(struct virtio_mmio *t);

/* virtio_mmio_boot_device - the boot-info entry of this transport. */
void virtio_mmio_boot_device(const struct virtio_mmio *t, struct vessel_boot_device *out);

/* virtio_mmio_has - whether the driver accepted feature `bit` (lock held). */
bool virtio_mmio_has(const struct virtio_mmio *t, unsigned bit);

/* virtio_mmio_live - DRIVER_OK set and no reset needed (lock held). */
bool virtio_mmio_live(const struct virtio_mmio *t);

/*
 * virtio_mmio_signal - set `bits` in INTERRUPT_STATUS and assert the
 * interrupt (lock held).
 */
void virtio_mmio_signal(struct virtio_mmio *t, uint32_t bits);

/*
 * virtio_mmio_resample - call when resample_fd is readable (the guest
 * EOI'd): reads it and asserts the line again if INTERRUPT_STATUS has bits
 * set since the driver last read it and no interrupt is on its way to the
 * driver already (lock held).
 */
void virtio_mmio_resample(struct virtio_mmio *t);

/*
 * virtio_mmio_fail - the driver broke the protocol (a bad descriptor
 * chain...): set DEVICE_NEEDS_RESET, raise the configuration interrupt and
 * log `why` once (lock held). The device stops serving until a reset.
 */
void virtio_mmio_fail(struct virtio_mmio *t, const char *name, const char *why);

/*
 * Saved transport state (part of the device's save blob): registers and
 * queues. virtio_mmio_restore() validates it (virtio_mmio_state_check,
 * logging the reason) and, when DRIVER_OK is set, wires the KVM fast paths and
 * asserts the line if INTERRUPT_STATUS is set. Returns 0 or -EINVAL.
 */
struct virtio_mmio_state {
	uint32_t status, dev_feat_sel, drv_feat_sel, queue_sel;
	uint64_t drv_features;
	uint32_t isr, config_generation;
	struct virtio_mmio_vq_state {
		uint64_t desc, avail, used;
		uint16_t num, last_avail, used_idx, ready;
		uint16_t signalled_used, pad[3];
	} vq[VIRTIO_MMIO_QUEUES_MAX];
};

/* virtio_mmio_offered - the features offered: the device's and the transport's. */
uint64_t virtio_mmio_offered(const struct virtio_mmio *t);

void virtio_mmio_save(const struct virtio_mmio *t, struct virtio_mmio_state *s);

/*
 * virtio_mmio_state_check - whether *s is a state a device offering
 * `offered` features (transport bits included) with `nqueues` queues over
 * `mem` may take: features offered, FEATURES_OK only with VERSION_1,
 * INTERRUPT_STATUS bits known, every ready queue valid (vq_check), no
 * queue beyond nqueues configured. Fills vq[] with the queues to install.
 * Returns 0, or -EINVAL with the reason in why. No side effects (pure: the
 * fuzzer runs it on arbitrary bytes).
 */
int virtio_mmio_state_check(const struct virtio_mmio_state *s, uint64_t offered, unsigned nqueues,
			    const struct gmem *mem, struct virtq vq[VIRTIO_MMIO_QUEUES_MAX],
			    char *why, size_t whylen);
int virtio_mmio_restore(struct virtio_mmio *t, const struct virtio_mmio_state *s);

#endif
