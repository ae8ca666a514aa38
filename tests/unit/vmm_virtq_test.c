// SPDX-License-Identifier: MIT
/*
 * Unit tests of the pure parts of virtio-blk: the split-virtqueue parser
 * (every way a guest can break a chain), the block request checks and the
 * calibrated-interrupt policy (dev/cintr.h), exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/guest_mem.h"
#include "dev/blk_req.h"
#include "dev/cintr.h"
#include "dev/virtqueue.h"

#include "abi/virtio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MEM   (4ull << 20)
#define DESC  0x10000ull
#define AVAIL 0x11000ull
#define USED  0x12000ull
#define DATA  0x20000ull
#define NUM   8

struct ctx {
	struct gmem m;
	struct virtq q;
	struct vq_chain c;
	char why[200];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || gmem_create(&c->m, MEM))
		return -1;
	c->q = (struct virtq){
		.num = NUM, .ready = true, .desc = DESC, .avail = AVAIL, .used = USED
	};
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	gmem_destroy(&c->m);
	free(c);
	return 0;
}

static void desc(struct ctx *c, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	assert_int_equal(gmem_write(&c->m, DESC + 16ull * i, &d, sizeof(d)), 0);
}

/* Makes `head` available as entry `slot` and sets avail.idx to idx. */
static void avail(struct ctx *c, unsigned slot, uint16_t head, uint16_t idx)
{
	assert_int_equal(gmem_write(&c->m, AVAIL + 4 + 2ull * slot, &head, 2), 0);
	assert_int_equal(gmem_write(&c->m, AVAIL + 2, &idx, 2), 0);
}

static int pop(struct ctx *c)
{
	c->why[0] = 0;
	return vq_pop(&c->q, &c->m, &c->c, c->why, sizeof(c->why));
}

static void test_check(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(vq_check(&c->q, &c->m, c->why, sizeof(c->why)), 0);
	c->q.num = 6;
	assert_int_equal(vq_check(&c->q, &c->m, c->why, sizeof(c->why)), -EINVAL);
	assert_non_null(strstr(c->why, "power of 2"));
	c->q.num = 512;
	assert_int_equal(vq_check(&c->q, &c->m, c->why, sizeof(c->why)), -EINVAL);
	c->q.num = NUM;
	c->q.desc = DESC + 8;
	assert_int_equal(vq_check(&c->q, &c->m, c->why, sizeof(c->why)), -EINVAL);
	assert_non_null(strstr(c->why, "misaligned"));
	c->q.desc = MEM - 16; /* table runs past the end of RAM */
	assert_int_equal(vq_check(&c->q, &c->m, c->why, sizeof(c->why)), -EINVAL);
	assert_non_null(strstr(c->why, "not in RAM"));
	c->q.desc = DESC;
	c->q.used = 0xfeb00000ull;
	assert_int_equal(vq_check(&c->q, &c->m, c->why, sizeof(c->why)), -EINVAL);
}

static void test_good_chain(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(pop(c), 0); /* nothing available */
	desc(c, 2, DATA, 16, VIRTQ_DESC_F_NEXT, 5);
	desc(c, 5, DATA + 512, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7);
	desc(c, 7, DATA + 8192, 1, VIRTQ_DESC_F_WRITE, 0);
	avail(c, 0, 2, 1);
	assert_int_equal(pop(c), 1);
	assert_int_equal(c->c.head, 2);
	assert_int_equal(c->c.nsegs, 3);
	assert_int_equal(c->c.nread, 1);
	assert_int_equal(c->c.rbytes, 16);
	assert_int_equal(c->c.wbytes, 4097);
	assert_int_equal(c->q.last_avail, 1);
	assert_int_equal(pop(c), 0);
	/* indices wrap modulo 2^16 */
	c->q.last_avail = 0xffff;
	avail(c, 0xffff % NUM, 2, 0);
	assert_int_equal(pop(c), 1);
	assert_int_equal(c->q.last_avail, 0);
}

static void test_chain_copy(void **state)
{
	struct ctx *c = *state;
	uint8_t in[40], out[40];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	/* readable: 10 + 30 bytes in two pieces; writable: 5 + 35 */
	desc(c, 0, DATA, 10, VIRTQ_DESC_F_NEXT, 1);
	desc(c, 1, DATA + 100, 30, VIRTQ_DESC_F_NEXT, 2);
	desc(c, 2, DATA + 200, 5, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	desc(c, 3, DATA + 300, 35, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(gmem_write(&c->m, DATA, in, 10), 0);
	assert_int_equal(gmem_write(&c->m, DATA + 100, in + 10, 30), 0);
	avail(c, 0, 0, 1);
	assert_int_equal(pop(c), 1);
	memset(out, 0, sizeof(out));
	assert_int_equal(vq_chain_read(&c->c, &c->m, 4, out, 20), 0);
	assert_memory_equal(out, in + 4, 20);
	assert_int_equal(vq_chain_read(&c->c, &c->m, 30, out, 11), -EFAULT); /* past the end */
	assert_int_equal(vq_chain_write(&c->c, &c->m, 3, in, 37), 0);
	assert_memory_equal(gmem_ptr(&c->m, DATA + 203, 2), in, 2);
	assert_memory_equal(gmem_ptr(&c->m, DATA + 300, 35), in + 2, 35);
	assert_int_equal(vq_chain_write(&c->c, &c->m, 0, in, 41), -EFAULT);
}

/* Each broken chain is refused with a reason naming the problem. */
static void refused(struct ctx *c, const char *reason)
{
	uint16_t before = c->q.last_avail;

	assert_int_equal(pop(c), -EINVAL);
	assert_non_null(strstr(c->why, reason));
	assert_int_equal(c->q.last_avail, before); /* nothing consumed */
}

static void test_loop(void **state)
{
	struct ctx *c = *state;

	desc(c, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(c, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	avail(c, 0, 0, 1);
	refused(c, "loops");
	desc(c, 3, DATA, 16, VIRTQ_DESC_F_NEXT, 3); /* onto itself */
	avail(c, 0, 3, 1);
	refused(c, "loops");
}

static void test_outside_ram(void **state)
{
	struct ctx *c = *state;

	desc(c, 0, MEM - 8, 16, 0, 0); /* crosses the end of RAM */
	avail(c, 0, 0, 1);
	refused(c, "outside RAM");
	desc(c, 0, 0xfffffffffffffff0ull, 0x20, 0, 0); /* wraps around */
	refused(c, "outside RAM");
	desc(c, 0, 0xfec00000ull, 4, 0, 0); /* the IOAPIC */
	refused(c, "outside RAM");
}

static void test_bad_links(void **state)
{
	struct ctx *c = *state;

	desc(c, 0, DATA, 16, VIRTQ_DESC_F_NEXT, NUM); /* next beyond the table */
	avail(c, 0, 0, 1);
	refused(c, "beyond the queue");
	avail(c, 0, NUM + 3, 1); /* head beyond the table */
	refused(c, "names descriptor");
	desc(c, 0, DATA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail(c, 0, 0, 1);
	refused(c, "indirect");
	desc(c, 0, DATA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc(c, 1, DATA, 16, 0, 0);
	refused(c, "readable after a writable");
	avail(c, 0, 0, NUM + 1); /* more available than the queue holds */
	refused(c, "jumped");
}

static void test_caps(void **state)
{
	struct ctx *c = *state;

	c->q.num = 256;
	c->q.desc = 0x100000; /* room for 256 descriptors */
	for (unsigned i = 0; i < 200; i++) {
		struct virtq_desc d = { DATA, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1) };

		assert_int_equal(gmem_write(&c->m, c->q.desc + 16ull * i, &d, sizeof(d)), 0);
	}
	avail(c, 0, 0, 1);
	refused(c, "more than 130 links");
	/* two descriptors of 1.5 MiB: over the 2 MiB cap */
	c->q = (struct virtq){
		.num = NUM, .ready = true, .desc = DESC, .avail = AVAIL, .used = USED
	};
	desc(c, 0, 0x100000, 3u << 19, VIRTQ_DESC_F_NEXT, 1);
	desc(c, 1, 0x100000, 3u << 19, 0, 0);
	avail(c, 0, 0, 1);
	refused(c, "more than");
}

static void test_push_and_events(void **state)
{
	struct ctx *c = *state;
	struct virtq_used_elem e;
	uint16_t idx, ev;

	assert_int_equal(vq_push(&c->q, &c->m, 5, 4097), 0);
	assert_int_equal(gmem_read(&c->m, USED + 4, &e, sizeof(e)), 0);
	assert_int_equal(e.id, 5);
	assert_int_equal(e.len, 4097);
	assert_int_equal(gmem_read(&c->m, USED + 2, &idx, 2), 0);
	assert_int_equal(idx, 1);
	/* without EVENT_IDX: interrupt unless NO_INTERRUPT */
	assert_true(vq_need_interrupt(&c->q, &c->m));
	idx = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_int_equal(gmem_write(&c->m, AVAIL, &idx, 2), 0);
	assert_false(vq_need_interrupt(&c->q, &c->m));
	assert_false(vq_consumed(&c->q, &c->m));
	assert_false(vq_enable_kick(&c->q, &c->m));
	/* EVENT_IDX: used_event after the available ring */
	c->q.event_idx = true;
	ev = 0; /* the driver wants an interrupt for entry 0 */
	assert_int_equal(gmem_write(&c->m, AVAIL + 4 + 2 * NUM, &ev, 2), 0);
	assert_true(vq_need_interrupt(&c->q, &c->m));
	ev = 1; /* it consumed entry 0 already */
	assert_int_equal(gmem_write(&c->m, AVAIL + 4 + 2 * NUM, &ev, 2), 0);
	assert_false(vq_need_interrupt(&c->q, &c->m));
	assert_true(vq_consumed(&c->q, &c->m));
	c->q.signalled_used = 1;
	assert_int_equal(vq_push(&c->q, &c->m, 6, 1), 0);
	assert_true(vq_need_interrupt(&c->q, &c->m)); /* entry 1 crosses used_event 1 */
	/* avail_event after the used ring; entries made available meanwhile are reported */
	c->q.last_avail = 3;
	idx = 3;
	assert_int_equal(gmem_write(&c->m, AVAIL + 2, &idx, 2), 0);
	assert_false(vq_enable_kick(&c->q, &c->m));
	assert_int_equal(gmem_read(&c->m, USED + 4 + 8 * NUM, &ev, 2), 0);
	assert_int_equal(ev, 3);
	idx = 4;
	assert_int_equal(gmem_write(&c->m, AVAIL + 2, &idx, 2), 0);
	assert_true(vq_enable_kick(&c->q, &c->m));
}

/* ---------------------------------------------------------------- block requests */

static int req(struct ctx *c, uint32_t type, uint64_t sector, uint32_t data, bool write_data,
	       uint64_t capacity, bool ro, struct blk_req_info *r)
{
	struct virtio_blk_req h = { type, 0, sector };

	assert_int_equal(gmem_write(&c->m, DATA, &h, sizeof(h)), 0);
	desc(c, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(c, 1, DATA + 4096, data, VIRTQ_DESC_F_NEXT | (write_data ? VIRTQ_DESC_F_WRITE : 0), 2);
	desc(c, 2, DATA + 0x20000, 1, VIRTQ_DESC_F_WRITE, 0);
	avail(c, c->q.last_avail % NUM, 0, (uint16_t)(c->q.last_avail + 1));
	assert_int_equal(pop(c), 1);
	return blk_req_parse(&c->c, &c->m, capacity, ro, r, c->why, sizeof(c->why));
}

static void test_blk_req(void **state)
{
	struct ctx *c = *state;
	struct blk_req_info r;

	assert_int_equal(req(c, VIRTIO_BLK_T_IN, 10, 4096, true, 100, false, &r), 0);
	assert_int_equal(r.kind, BLK_REQ_IO);
	assert_int_equal(r.op, BLK_OP_READ);
	assert_int_equal(r.off, 10 * 512);
	assert_int_equal(r.len, 4096);
	assert_int_equal(r.status_off, 4096);
	assert_int_equal(req(c, VIRTIO_BLK_T_OUT, 92, 4096, false, 100, false, &r), 0);
	assert_int_equal(r.kind, BLK_REQ_IO);
	assert_int_equal(r.op, BLK_OP_WRITE);
	assert_int_equal(r.status_off, 0);
	/* the last sectors of the disk, and one past */
	assert_int_equal(req(c, VIRTIO_BLK_T_OUT, 93, 4096, false, 100, false, &r), 0);
	assert_int_equal(r.kind, BLK_REQ_DONE);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(c, VIRTIO_BLK_T_IN, ~0ull, 512, true, 100, false, &r), 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(c, VIRTIO_BLK_T_IN, 0, 100, true, 100, false, &r), 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR); /* not whole sectors */
	assert_int_equal(req(c, VIRTIO_BLK_T_OUT, 0, 512, false, 100, true, &r), 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR); /* read-only */
	assert_int_equal(req(c, VIRTIO_BLK_T_IN, 0, 512, true, 100, true, &r), 0);
	assert_int_equal(r.kind, BLK_REQ_IO); /* reads are fine */
	assert_int_equal(req(c, 77, 0, 512, true, 100, false, &r), 0);
	assert_int_equal(r.status, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(req(c, VIRTIO_BLK_T_GET_ID, 0, 64, true, 100, false, &r), 0);
	assert_int_equal(r.kind, BLK_REQ_ID);
	assert_int_equal(r.len, VIRTIO_BLK_ID_BYTES);
	assert_int_equal(req(c, VIRTIO_BLK_T_FLUSH, 0, 0, true, 100, false, &r), 0);
	assert_int_equal(r.kind, BLK_REQ_IO);
	assert_int_equal(r.op, BLK_OP_FLUSH);
	/* broken structure: the device needs a reset */
	desc(c, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 2); /* an 8-byte header */
	avail(c, c->q.last_avail % NUM, 0, (uint16_t)(c->q.last_avail + 1));
	assert_int_equal(pop(c), 1);
	assert_int_equal(blk_req_parse(&c->c, &c->m, 100, false, &r, c->why, sizeof(c->why)),
			 -EINVAL);
	assert_non_null(strstr(c->why, "header"));
	desc(c, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(c, 1, DATA + 4096, 512, 0, 0); /* no writable status byte */
	avail(c, c->q.last_avail % NUM, 0, (uint16_t)(c->q.last_avail + 1));
	assert_int_equal(pop(c), 1);
	assert_int_equal(blk_req_parse(&c->c, &c->m, 100, false, &r, c->why, sizeof(c->why)),
			 -EINVAL);
	assert_non_null(strstr(c->why, "status"));
}

/* ---------------------------------------------------------------- calibrated interrupts */

static void test_cintr_every(void **state)
{
	struct cintr c;

	cintr_init(&c);
	cintr_reset(&c, false);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(cintr_start(&c, i), 0);
		/* flags mean nothing without the feature */
		assert_int_equal(cintr_complete(&c, i, VESSEL_BLK_REQ_BARRIER, 0, 10), CINTR_EVERY);
		cintr_fired(&c, CINTR_EVERY, 10);
	}
	assert_int_equal(c.fired[CINTR_EVERY], 4);
	assert_int_equal(cintr_start(&c, 0), 0);
	assert_int_equal(cintr_start(&c, 0), -EBUSY); /* in flight already */
}

static void test_cintr_threshold_timeout(void **state)
{
	struct cintr c;

	cintr_init(&c);
	cintr_reset(&c, true);
	cintr_config(&c, 4, 100);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(cintr_start(&c, i), 0);
	assert_int_equal(cintr_deadline(&c), 0);
	assert_int_equal(cintr_complete(&c, 0, 0, 0, 1000), CINTR_NONE);
	assert_int_equal(cintr_deadline(&c), 1000 + 100 * 1000);
	assert_int_equal(cintr_complete(&c, 1, 0, 0, 2000), CINTR_NONE);
	assert_int_equal(cintr_complete(&c, 2, 0, 0, 3000), CINTR_NONE);
	assert_int_equal(cintr_complete(&c, 3, 0, 0, 4000), CINTR_THRESHOLD);
	cintr_fired(&c, CINTR_THRESHOLD, 4000);
	assert_int_equal(cintr_deadline(&c), 0);
	/* the timeout counts from the oldest unsignalled completion */
	assert_int_equal(cintr_complete(&c, 4, 0, 0, 50000), CINTR_NONE);
	assert_int_equal(cintr_complete(&c, 5, 0, 0, 90000), CINTR_NONE);
	assert_int_equal(cintr_poll(&c, 149999), CINTR_NONE);
	assert_int_equal(cintr_poll(&c, 150000), CINTR_TIMEOUT);
	cintr_fired(&c, CINTR_TIMEOUT, 150000);
	assert_int_equal(c.fired[CINTR_TIMEOUT], 1);
	assert_int_equal(c.lat_count, 6);
	/* clamps */
	cintr_config(&c, 0, 0);
	assert_int_equal(c.threshold, 1);
	assert_int_equal(c.timeout_us, 1);
	cintr_config(&c, 1u << 30, 1u << 30);
	assert_int_equal(c.threshold, VESSEL_BLK_CINTR_THRESHOLD_MAX);
	assert_int_equal(c.timeout_us, VESSEL_BLK_CINTR_TIMEOUT_MAX);
}

static void test_cintr_urgent(void **state)
{
	struct cintr c;

	cintr_init(&c);
	cintr_reset(&c, true);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(cintr_start(&c, i), 0);
	assert_int_equal(cintr_complete(&c, 0, 0, 100, 200), CINTR_NONE);
	assert_int_equal(cintr_complete(&c, 1, VESSEL_BLK_REQ_URGENT, 150, 300), CINTR_URGENT);
	cintr_fired(&c, CINTR_URGENT, 300);
	/* one interrupt covered both: latencies 200 and 150 */
	assert_int_equal(c.lat_count, 2);
	assert_int_equal(c.lat_sum_ns, 350);
	assert_int_equal(c.lat_max_ns, 200);
	assert_int_equal(cintr_percentile(&c, 0), 150);
	assert_int_equal(cintr_percentile(&c, 100), 200);
	assert_int_equal(cintr_complete(&c, 2, 0, 0, 400), CINTR_NONE);
}

static void test_cintr_barrier(void **state)
{
	struct cintr c;

	cintr_init(&c);
	cintr_reset(&c, true);
	cintr_config(&c, 1000, 1000);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(cintr_start(&c, i), 0);
	/* the barrier (3) completes first: request 0..2 are still in flight */
	assert_int_equal(cintr_complete(&c, 3, VESSEL_BLK_REQ_BARRIER, 0, 1), CINTR_NONE);
	assert_int_equal(cintr_complete(&c, 1, 0, 0, 2), CINTR_NONE);
	assert_int_equal(cintr_complete(&c, 0, 0, 0, 3), CINTR_NONE);
	/* a request made available after the barrier does not hold it back */
	assert_int_equal(cintr_start(&c, 7), 0);
	assert_int_equal(cintr_complete(&c, 2, 0, 0, 4), CINTR_BARRIER);
	cintr_fired(&c, CINTR_BARRIER, 4);
	assert_int_equal(c.nbarrier, 0);
	assert_int_equal(cintr_complete(&c, 7, 0, 0, 5), CINTR_NONE);
}

/* A batch of 32 with the last a BARRIER, in any completion order and with
 * the default threshold: exactly one interrupt, at the last completion. */
/*
 * A saved state moves to another clock: pending completions keep their
 * ages, so the timeout fires as it would have on the source, and the
 * latencies recorded afterwards are measured from the moved times (a
 * restore that left the per-request times behind recorded "now - 0").
 * Corrupt states are refused with a reason and leave the machine as it was.
 */
static void test_cintr_save_restore(void **state)
{
	struct cintr src, dst;
	struct cintr_saved s, bad;
	char why[160];

	(void)state;
	cintr_init(&src);
	cintr_reset(&src, true);
	cintr_config(&src, 8, 100);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(cintr_start(&src, i), 0);
	assert_int_equal(cintr_complete(&src, 0, 0, 1000, 5000), CINTR_NONE);
	assert_int_equal(cintr_complete(&src, 1, 0, 2000, 6000), CINTR_NONE);
	cintr_save(&src, 26000, &s);
	assert_int_equal(s.pending, 2);
	assert_int_equal(s.pending_age_ns, 21000);
	assert_int_equal(s.pending_max_wait_ns, 25000);
	assert_int_equal(s.pending_wait_sum_ns, 25000 + 24000);

	cintr_init(&dst);
	assert_int_equal(cintr_restore(&dst, &s, 10000000, why, sizeof(why)), 0);
	assert_true(dst.calibrated);
	assert_int_equal(dst.threshold, 8);
	assert_int_equal(dst.next_seq, 3);
	/* the source's deadline was 5000 + 100000: 79000 after the save */
	assert_int_equal(cintr_deadline(&dst), 10000000 + 79000);
	assert_int_equal(cintr_poll(&dst, 10000000 + 78999), CINTR_NONE);
	assert_int_equal(cintr_poll(&dst, 10000000 + 79000), CINTR_TIMEOUT);
	cintr_fired(&dst, CINTR_TIMEOUT, 10000000 + 79000);
	assert_int_equal(dst.lat_count, 2);
	assert_int_equal(dst.lat_sum_ns, 25000 + 24000 + 2 * 79000);
	assert_int_equal(dst.lat_max_ns, 25000 + 79000);
	assert_int_equal(cintr_percentile(&dst, 100), 24500 + 79000);

	/* a clock younger than the ages: cut to it, the deadline stays near */
	cintr_init(&dst);
	assert_int_equal(cintr_restore(&dst, &s, 3000, why, sizeof(why)), 0);
	assert_true(cintr_deadline(&dst) <= 3000 + 100 * 1000);

	/* refusals */
	bad = s;
	bad.calibrated = 2;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "mode"));
	bad = s;
	bad.threshold = 0;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "threshold"));
	bad = s;
	bad.timeout_us = VESSEL_BLK_CINTR_TIMEOUT_MAX + 1;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "timeout"));
	bad = s;
	bad.pending = CINTR_SAVED_PENDING_MAX + 1;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	bad = s;
	bad.pending = 0;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "without pending"));
	bad = s;
	bad.pending_age_ns = ~0ull;
	bad.pending_max_wait_ns = ~0ull;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "longer than an hour"));
	bad = s;
	bad.pending_age_ns = s.pending_max_wait_ns + 1;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	bad = s;
	bad.pending_wait_sum_ns = 2 * s.pending_max_wait_ns + 1;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	bad = s;
	bad.next_seq = ~0ull;
	assert_int_equal(cintr_restore(&dst, &bad, 10000000, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "wrapping"));
	/* refused restores left the last good one alone */
	assert_true(cintr_deadline(&dst) <= 3000 + 100 * 1000);
	assert_int_equal(dst.pending, 2);
}

static void test_cintr_batch_of_32(void **state)
{
	unsigned seed = 12345;

	for (unsigned round = 0; round < 200; round++) {
		unsigned order[32], fires = 0, at = 0;
		struct cintr c;

		cintr_init(&c);
		cintr_reset(&c, true);
		for (unsigned i = 0; i < 32; i++) {
			order[i] = i;
			assert_int_equal(cintr_start(&c, 40 + i), 0);
		}
		for (unsigned i = 31; i > 0; i--) {
			unsigned j, t;

			seed = seed * 1103515245u + 12345u;
			j = (seed >> 8) % (i + 1);
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (unsigned i = 0; i < 32; i++) {
			enum cintr_reason r =
				cintr_complete(&c, 40 + order[i],
					       order[i] == 31 ? VESSEL_BLK_REQ_BARRIER : 0, 0, i);

			if (r != CINTR_NONE) {
				fires++;
				at = i;
				cintr_fired(&c, r, i);
			}
		}
		assert_int_equal(fires, 1);
		assert_int_equal(at, 31);
		assert_int_equal(cintr_deadline(&c), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_and_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blk_req, setup, teardown),
		cmocka_unit_test(test_cintr_every),
		cmocka_unit_test(test_cintr_threshold_timeout),
		cmocka_unit_test(test_cintr_urgent),
		cmocka_unit_test(test_cintr_barrier),
		cmocka_unit_test(test_cintr_batch_of_32),
		cmocka_unit_test(test_cintr_save_restore),
	};

	return cmocka_run_group_tests_name("vmm-virtq", tests, NULL, NULL);
}
