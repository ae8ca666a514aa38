/* SPDX-License-Identifier: MIT */
/*
 * The device side of a split virtqueue (include/abi/virtio.h): taking
 * descriptor chains off the available ring and returning them on the used
 * ring. Everything the guest wrote is untrusted and read once, through
 * gmem_read(), into host memory before it is checked: a chain that loops,
 * points outside RAM, breaks the readable-before-writable rule, asks for an
 * indirect table or exceeds the caps is refused with a reason, and the
 * caller puts its device in DEVICE_NEEDS_RESET. No function here blocks,
 * allocates or keeps a pointer into guest memory, so the parser can be
 * fuzzed on its own (tests/fuzz/virtq_fuzz.c).
 */
#ifndef VMM_DEV_VIRTQUEUE_H
#define VMM_DEV_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gmem;

#define VQ_NUM_MAX   256u	/* largest queue the devices offer */
#define VQ_SEGS_MAX  130u	/* descriptors in one chain */
#define VQ_BYTES_MAX (2u << 20) /* bytes one chain may describe */

struct virtq {
	uint16_t num;		 /* entries, a power of 2; 0: not configured */
	bool ready;		 /* QUEUE_READY written 1 */
	uint64_t desc;		 /* guest-physical descriptor table */
	uint64_t avail;		 /* guest-physical available ring (driver area) */
	uint64_t used;		 /* guest-physical used ring (device area) */
	uint16_t last_avail;	 /* next available entry to take */
	uint16_t used_idx;	 /* next used entry to fill */
	bool event_idx;		 /* VIRTIO_F_EVENT_IDX negotiated */
	uint16_t signalled_used; /* used_idx when the driver was last interrupted */
};

/* One descriptor of a chain, checked: [gpa, gpa + len) lies in one RAM region. */
struct vq_seg {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

struct vq_chain {
	uint16_t head;	 /* what goes back on the used ring */
	unsigned nsegs;	 /* readable ones first, then writable */
	unsigned nread;	 /* how many of them are device-readable */
	uint64_t rbytes; /* bytes in readable segments */
	uint64_t wbytes; /* bytes in writable segments */
	struct vq_seg seg[VQ_SEGS_MAX];
};

/*
 * vq_check - whether a configured queue may go live: num a power of 2 in
 * 1..VQ_NUM_MAX, the three areas aligned (16, 2, 4) and inside RAM.
 * Returns 0 or -EINVAL with the reason in why.
 */
int vq_check(const struct virtq *q, const struct gmem *m, char *why, size_t whylen);

/*
 * vq_pop - take the next available chain into *c. Returns 1 (c filled,
 * last_avail advanced), 0 (nothing available), or -EINVAL with the reason
 * in why (the guest broke the ring: the device must stop), or -EHWPOISON
 * when a ring or descriptor sits on a poisoned page (also fatal for the
 * queue). More than num entries ahead of last_avail is a broken ring too.
 */
int vq_pop(struct virtq *q, const struct gmem *m, struct vq_chain *c, char *why, size_t whylen);

/*
 * vq_push - put (head, len) on the used ring and publish it by advancing
 * used.idx (the element is written before the index). Returns 0, or
 * -EFAULT/-EHWPOISON if the used ring cannot be written.
 */
int vq_push(struct virtq *q, struct gmem *m, uint16_t head, uint32_t len);

/*
 * vq_need_interrupt - whether the driver wants an interrupt for the used
 * entries added since the last one (read after a full barrier, so the
 * used.idx just written is ordered before): with VIRTIO_F_EVENT_IDX, if
 * used_event lies in [signalled_used, used_idx) (a driver that already
 * consumed everything wants none); else unless it set
 * VIRTQ_AVAIL_F_NO_INTERRUPT. True when the ring is unreadable.
 */
bool vq_need_interrupt(const struct virtq *q, const struct gmem *m);

/*
 * vq_consumed - with VIRTIO_F_EVENT_IDX: whether the driver has consumed
 * every used entry (its used_event equals used_idx). Always false without.
 */
bool vq_consumed(const struct virtq *q, const struct gmem *m);

/*
 * vq_enable_kick - with VIRTIO_F_EVENT_IDX: ask for a notification at the
 * next available entry (avail_event = last_avail). Returns true if entries
 * became available meanwhile (take them: no kick will come for them).
 * Without EVENT_IDX: false, nothing written.
 */
bool vq_enable_kick(struct virtq *q, struct gmem *m);

/*
 * vq_chain_read - read `len` bytes of the chain's readable part starting
 * at byte `off` into dst. Returns 0 or -EFAULT (outside the readable part)
 * or -EHWPOISON.
 */
int vq_chain_read(const struct vq_chain *c, const struct gmem *m, uint64_t off, void *dst,
		  uint64_t len);

/*
 * vq_chain_write - write `len` bytes into the chain's writable part starting
 * at byte `off` (marking the pages dirty). Returns 0, -EFAULT or -EHWPOISON.
 */
int vq_chain_write(const struct vq_chain *c, struct gmem *m, uint64_t off, const void *src,
		   uint64_t len);

#endif
