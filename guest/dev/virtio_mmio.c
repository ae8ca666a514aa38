// SPDX-License-Identifier: MIT
#include "dev/virtio_mmio.h"
#include "arch/x86_64/cpu.h"
#include "kernel/boot.h"
#include "kernel/printk.h"
#include "lib/cmdline.h"
#include "lib/errno.h"

#include <abi/virtio.h>

uint32_t vmmio_read(const struct vmmio *v, uint32_t off)
{
	if (v->exits)
		__atomic_fetch_add(v->exits, 1, __ATOMIC_RELAXED);
	return *(volatile uint32_t *)(v->regs + off);
}

void vmmio_write(const struct vmmio *v, uint32_t off, uint32_t val)
{
	if (v->exits)
		__atomic_fetch_add(v->exits, 1, __ATOMIC_RELAXED);
	*(volatile uint32_t *)(v->regs + off) = val;
}

/* 1 if a virtio 1.x device answers at v (which has base and irq set). */
static int probe(struct vmmio *v)
{
	uint32_t magic, version;

	/* the direct map covers 4 GiB: the top 32 MiB (devices) uncached */
	if (v->base >= PHYSMAP_LIMIT || v->size < 0x200 || v->base + v->size > PHYSMAP_LIMIT) {
		printk("virtio-mmio: device at %#lx is outside the direct map\n", v->base);
		return 0;
	}
	v->regs = phys_to_virt(v->base);
	magic = vmmio_read(v, VIRTIO_MMIO_MAGIC_VALUE);
	version = vmmio_read(v, VIRTIO_MMIO_VERSION);
	if (magic != VIRTIO_MMIO_MAGIC)
		return 0;
	if (version != VIRTIO_MMIO_VERSION2) {
		printk("virtio-mmio: device at %#lx is legacy (version %u): not supported\n",
		       v->base, version);
		return 0;
	}
	v->device_id = vmmio_read(v, VIRTIO_MMIO_DEVICE_ID);
	return v->device_id != 0; /* 0: an empty transport slot (QEMU) */
}

int vmmio_discover(struct vmmio *devs, int max)
{
	char val[64];
	int n = 0;

	for (uint32_t i = 0; i < boot.dev_count && n < max; i++) {
		const struct vessel_boot_device *d = &boot.dev[i];

		if (d->type != VESSEL_DEV_VIRTIO_MMIO)
			continue;
		devs[n] = (struct vmmio){ .base = d->base, .size = d->size, .irq = d->irq };
		n += probe(&devs[n]);
	}
	for (int k = 0; n < max && cmdline_get_nth(boot.cmdline, "virtio_mmio.device=", k, val,
						   sizeof(val)) >= 0;
	     k++) {
		struct vmmio *v = &devs[n];

		*v = (struct vmmio){ 0 };
		if (cmdline_parse_virtio_mmio(val, &v->size, &v->base, &v->irq)) {
			printk("virtio-mmio: cannot parse virtio_mmio.device=%s "
			       "(want SIZE@BASE:IRQ)\n",
			       val);
			continue;
		}
		n += probe(v);
	}
	return n;
}

int vmmio_negotiate(const struct vmmio *v, uint64_t wanted, uint64_t *got)
{
	uint64_t have;

	vmmio_write(v, VIRTIO_MMIO_STATUS, 0);
	vmmio_write(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vmmio_write(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vmmio_write(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	have = (uint64_t)vmmio_read(v, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	vmmio_write(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	have |= vmmio_read(v, VIRTIO_MMIO_DEVICE_FEATURES);
	wanted |= 1ull << VIRTIO_F_VERSION_1;
	if (!(have >> VIRTIO_F_VERSION_1 & 1)) {
		vmmio_fail(v);
		return -EIO;
	}
	*got = have & wanted;
	vmmio_write(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vmmio_write(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)*got);
	vmmio_write(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vmmio_write(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(*got >> 32));
	vmmio_write(v, VIRTIO_MMIO_STATUS,
		    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(vmmio_read(v, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		vmmio_fail(v);
		return -EIO;
	}
	return 0;
}

uint32_t vmmio_queue_max(const struct vmmio *v, uint32_t idx)
{
	vmmio_write(v, VIRTIO_MMIO_QUEUE_SEL, idx);
	return vmmio_read(v, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

int vmmio_queue_setup(const struct vmmio *v, uint32_t idx, uint32_t num, uint64_t desc,
		      uint64_t avail, uint64_t used)
{
	uint32_t max = vmmio_queue_max(v, idx);

	if (!max)
		return -ENODEV;
	if (num > max)
		return -EINVAL;
	vmmio_write(v, VIRTIO_MMIO_QUEUE_NUM, num);
	vmmio_write(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	vmmio_write(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	vmmio_write(v, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	vmmio_write(v, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	vmmio_write(v, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	vmmio_write(v, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
	vmmio_write(v, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

void vmmio_driver_ok(const struct vmmio *v)
{
	vmmio_write(v, VIRTIO_MMIO_STATUS,
		    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
			    VIRTIO_STATUS_DRIVER_OK);
}

void vmmio_fail(const struct vmmio *v)
{
	vmmio_write(v, VIRTIO_MMIO_STATUS,
		    vmmio_read(v, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FAILED);
}

void vmmio_notify(const struct vmmio *v, uint32_t idx)
{
	vmmio_write(v, VIRTIO_MMIO_QUEUE_NOTIFY, idx);
}

uint32_t vmmio_irq_ack(const struct vmmio *v)
{
	uint32_t isr = vmmio_read(v, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (isr)
		vmmio_write(v, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

uint32_t vmmio_config_read32(const struct vmmio *v, uint32_t off)
{
	return vmmio_read(v, VIRTIO_MMIO_CONFIG + off);
}

uint64_t vmmio_config_read64(const struct vmmio *v, uint32_t off)
{
	uint32_t gen, lo, hi;

	/* a 64-bit field is two reads: retry if the device changed it between */
	do {
		gen = vmmio_read(v, VIRTIO_MMIO_CONFIG_GENERATION);
		lo = vmmio_config_read32(v, off);
		hi = vmmio_config_read32(v, off + 4);
	} while (gen != vmmio_read(v, VIRTIO_MMIO_CONFIG_GENERATION));
	return (uint64_t)hi << 32 | lo;
}

void vmmio_config_write32(const struct vmmio *v, uint32_t off, uint32_t val)
{
	vmmio_write(v, VIRTIO_MMIO_CONFIG + off, val);
}
