// SPDX-License-Identifier: MIT
#include "dev/virtqueue.h"
#include "core/guest_mem.h"

#include "abi/virtio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool in_ram(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	return len == 0 ? gmem_region_of(m, gpa) != NULL : gmem_ptr(m, gpa, len) != NULL;
}

int vq_check(const struct virtq *q, const struct gmem *m, char *why, size_t whylen)
{
	unsigned num = q->num;

	if (num == 0 || num > VQ_NUM_MAX || (num & (num - 1)))
		return refuse(why, whylen, "queue size %u is not a power of 2 in 1..%u", num,
			      VQ_NUM_MAX);
	if (q->desc % 16 || q->avail % 2 || q->used % 4)
		return refuse(
			why, whylen,
			"queue areas misaligned (descriptors %#llx, driver %#llx, device %#llx)",
			(unsigned long long)q->desc, (unsigned long long)q->avail,
			(unsigned long long)q->used);
	if (!in_ram(m, q->desc, 16ull * num))
		return refuse(why, whylen, "descriptor table %#llx (+%u) is not in RAM",
			      (unsigned long long)q->desc, 16 * num);
	if (!in_ram(m, q->avail, VIRTQ_AVAIL_SIZE(num)))
		return refuse(why, whylen, "available ring %#llx is not in RAM",
			      (unsigned long long)q->avail);
	if (!in_ram(m, q->used, VIRTQ_USED_SIZE(num)))
		return refuse(why, whylen, "used ring %#llx is not in RAM",
			      (unsigned long long)q->used);
	return 0;
}

static int ring_err(int rc, char *why, size_t whylen, const char *what)
{
	if (rc == -EHWPOISON)
		snprintf(why, whylen, "the %s is on a poisoned page", what);
	else
		snprintf(why, whylen, "the %s is not in RAM", what);
	return rc == -EHWPOISON ? rc : -EINVAL;
}

/* Walks the chain starting at head (read one descriptor at a time). */
static int walk(const struct virtq *q, const struct gmem *m, uint16_t head, struct vq_chain *c,
		char *why, size_t whylen)
{
	uint16_t i = head;
	uint64_t total = 0;
	bool seen_write = false;

	c->head = head;
	c->nsegs = c->nread = 0;
	c->rbytes = c->wbytes = 0;
	for (unsigned n = 0;; n++) {
		struct virtq_desc d;
		int rc;

		/* more descriptors than the table holds: the chain loops */
		if (n >= q->num)
			return refuse(why, whylen,
				      "descriptor chain from %u loops (more than %u links)", head,
				      q->num);
		if (n >= VQ_SEGS_MAX)
			return refuse(why, whylen,
				      "descriptor chain from %u has more than %u links", head,
				      VQ_SEGS_MAX);
		rc = gmem_read(m, q->desc + 16ull * i, &d, sizeof(d));
		if (rc)
			return ring_err(rc, why, whylen, "descriptor table");
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return refuse(why, whylen,
				      "descriptor %u is indirect (VIRTIO_F_INDIRECT_DESC was not "
				      "offered)",
				      i);
		if (d.len && !gmem_ptr(m, d.addr, d.len))
			return refuse(why, whylen,
				      "descriptor %u points outside RAM (%#llx, %u bytes)", i,
				      (unsigned long long)d.addr, d.len);
		total += d.len;
		if (total > VQ_BYTES_MAX)
			return refuse(why, whylen,
				      "descriptor chain from %u describes more than %u bytes", head,
				      VQ_BYTES_MAX);
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			seen_write = true;
			c->wbytes += d.len;
		} else {
			if (seen_write)
				return refuse(
					why, whylen,
					"descriptor %u is device-readable after a writable one", i);
			c->rbytes += d.len;
			c->nread++;
		}
		c->seg[c->nsegs++] =
			(struct vq_seg){ d.addr, d.len, (d.flags & VIRTQ_DESC_F_WRITE) != 0 };
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= q->num)
			return refuse(why, whylen,
				      "descriptor %u links to %u, beyond the queue (%u)", i, d.next,
				      q->num);
		i = d.next;
	}
}

int vq_pop(struct virtq *q, const struct gmem *m, struct vq_chain *c, char *why, size_t whylen)
{
	uint16_t idx, head;
	int rc;

	rc = gmem_read(m, q->avail + 2, &idx, sizeof(idx));
	if (rc)
		return ring_err(rc, why, whylen, "available ring");
	if (idx == q->last_avail)
		return 0;
	if ((uint16_t)(idx - q->last_avail) > q->num)
		return refuse(why, whylen,
			      "available index jumped from %u to %u (more than the %u entries)",
			      q->last_avail, idx, q->num);
	/* the ring entry after the index: x86 keeps loads in order, the
	 * compiler is held by the call */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	rc = gmem_read(m, q->avail + 4 + 2ull * (q->last_avail % q->num), &head, sizeof(head));
	if (rc)
		return ring_err(rc, why, whylen, "available ring");
	if (head >= q->num)
		return refuse(why, whylen, "available entry %u names descriptor %u of %u",
			      q->last_avail, head, q->num);
	rc = walk(q, m, head, c, why, whylen);
	if (rc)
		return rc;
	q->last_avail++;
	return 1;
}

int vq_push(struct virtq *q, struct gmem *m, uint16_t head, uint32_t len)
{
	struct virtq_used_elem e = { head, len };
	uint16_t next = (uint16_t)(q->used_idx + 1);
	int rc;

	rc = gmem_write(m, q->used + 4 + 8ull * (q->used_idx % q->num), &e, sizeof(e));
	if (rc)
		return rc;
	/* the element before the index that publishes it */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	rc = gmem_write(m, q->used + 2, &next, sizeof(next));
	if (rc)
		return rc;
	q->used_idx = next;
	return 0;
}

/* The standard's vring_need_event(): event in [old, new) modulo 2^16. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool vq_need_interrupt(const struct virtq *q, const struct gmem *m)
{
	uint16_t v;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		/* used_event: after the available ring's num entries */
		if (gmem_read(m, q->avail + 4 + 2ull * q->num, &v, sizeof(v)))
			return true;
		return need_event(v, q->used_idx, q->signalled_used);
	}
	if (gmem_read(m, q->avail, &v, sizeof(v)))
		return true;
	return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool vq_consumed(const struct virtq *q, const struct gmem *m)
{
	uint16_t v;

	if (!q->event_idx)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !gmem_read(m, q->avail + 4 + 2ull * q->num, &v, sizeof(v)) && v == q->used_idx;
}

bool vq_enable_kick(struct virtq *q, struct gmem *m)
{
	uint16_t idx;

	if (!q->event_idx)
		return false;
	/* avail_event: after the used ring's num entries */
	if (gmem_write(m, q->used + 4 + 8ull * q->num, &q->last_avail, sizeof(q->last_avail)))
		return false;
	/* the request before the look: a driver adding an entry now sees it */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !gmem_read(m, q->avail + 2, &idx, sizeof(idx)) && idx != q->last_avail;
}

/* Calls fn on the pieces of [off, off + len) of the readable or writable part. */
static int for_range(const struct vq_chain *c, bool write, uint64_t off, uint64_t len,
		     int (*fn)(void *ctx, uint64_t gpa, uint64_t done, uint64_t n), void *ctx)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < c->nsegs && done < len; i++) {
		const struct vq_seg *s = &c->seg[i];
		uint64_t n;
		int rc;

		if (s->write != write)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off;
		if (n > len - done)
			n = len - done;
		rc = fn(ctx, s->gpa + off, done, n);
		if (rc)
			return rc;
		done += n;
		off = 0;
	}
	return done == len ? 0 : -EFAULT;
}

struct copy_ctx {
	struct gmem *m;
	uint8_t *buf;
};

static int read_piece(void *ctx, uint64_t gpa, uint64_t done, uint64_t n)
{
	struct copy_ctx *x = ctx;

	return gmem_read(x->m, gpa, x->buf + done, n);
}

static int write_piece(void *ctx, uint64_t gpa, uint64_t done, uint64_t n)
{
	struct copy_ctx *x = ctx;

	return gmem_write(x->m, gpa, x->buf + done, n);
}

int vq_chain_read(const struct vq_chain *c, const struct gmem *m, uint64_t off, void *dst,
		  uint64_t len)
{
	/* gmem_read does not write guest memory: the cast only shares the ctx */
	struct copy_ctx x = { (struct gmem *)m, dst };

	return len ? for_range(c, false, off, len, read_piece, &x) : 0;
}

int vq_chain_write(const struct vq_chain *c, struct gmem *m, uint64_t off, const void *src,
		   uint64_t len)
{
	struct copy_ctx x = { m, (uint8_t *)src };

	return len ? for_range(c, true, off, len, write_piece, &x) : 0;
}
