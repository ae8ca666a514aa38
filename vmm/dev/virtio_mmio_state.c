// SPDX-License-Identifier: MIT
/*
 * A virtio-mmio transport's saved state (dev/virtio_mmio.h): taking it and
 * checking one that arrived. Pure (no KVM, no locks of its own), so that
 * the saved-state fuzzer (tests/fuzz/vblk_state_fuzz.c) runs exactly what
 * a restore runs.
 */
#include "dev/virtio_mmio.h"

#include "abi/virtio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void virtio_mmio_save(const struct virtio_mmio *t, struct virtio_mmio_state *s)
{
	memset(s, 0, sizeof(*s));
	s->status = t->status;
	s->dev_feat_sel = t->dev_feat_sel;
	s->drv_feat_sel = t->drv_feat_sel;
	s->queue_sel = t->queue_sel;
	s->drv_features = t->drv_features;
	s->isr = t->isr;
	s->config_generation = t->config_generation;
	for (unsigned i = 0; i < VIRTIO_MMIO_QUEUES_MAX; i++) {
		const struct virtq *q = &t->vq[i];

		s->vq[i] = (struct virtio_mmio_vq_state){ .desc = q->desc,
							  .avail = q->avail,
							  .used = q->used,
							  .num = q->num,
							  .last_avail = q->last_avail,
							  .used_idx = q->used_idx,
							  .ready = q->ready,
							  .signalled_used = q->signalled_used };
	}
}

int virtio_mmio_state_check(const struct virtio_mmio_state *s, uint64_t offered, unsigned nqueues,
			    const struct gmem *mem, struct virtq vq[VIRTIO_MMIO_QUEUES_MAX],
			    char *why, size_t whylen)
{
	if (s->drv_features & ~offered) {
		snprintf(why, whylen, "driver features %#llx were not offered (%#llx)",
			 (unsigned long long)s->drv_features, (unsigned long long)offered);
		return -EINVAL;
	}
	if (s->isr & ~3u) {
		snprintf(why, whylen, "interrupt status %#x has unknown bits", s->isr);
		return -EINVAL;
	}
	if ((s->status & VIRTIO_STATUS_FEATURES_OK) &&
	    !((s->drv_features >> VIRTIO_F_VERSION_1) & 1)) {
		snprintf(why, whylen, "FEATURES_OK without VERSION_1");
		return -EINVAL;
	}
	for (unsigned i = 0; i < VIRTIO_MMIO_QUEUES_MAX; i++) {
		const struct virtio_mmio_vq_state *v = &s->vq[i];
		char qwhy[120];

		vq[i] = (struct virtq){ .num = v->num,
					.ready = v->ready != 0,
					.desc = v->desc,
					.avail = v->avail,
					.used = v->used,
					.last_avail = v->last_avail,
					.used_idx = v->used_idx,
					.signalled_used = v->signalled_used,
					.event_idx =
						(s->status & VIRTIO_STATUS_DRIVER_OK) &&
						((s->drv_features >> VIRTIO_F_EVENT_IDX) & 1) };
		if (v->ready > 1 || (i >= nqueues && (v->ready || v->num))) {
			snprintf(why, whylen, "queue %u: %s", i,
				 v->ready > 1 ? "ready is neither 0 nor 1" :
						"the device has no such queue");
			return -EINVAL;
		}
		if (vq[i].ready && vq_check(&vq[i], mem, qwhy, sizeof(qwhy))) {
			snprintf(why, whylen, "queue %u: %s", i, qwhy);
			return -EINVAL;
		}
	}
	return 0;
}
