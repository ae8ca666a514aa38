// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for a virtio-blk disk's saved state, which arrives from
 * the migration peer: vblk_blob_decode() (vmm/dev/vblk_state.c) with the
 * transport check and the calibrated-interrupt restore it runs, exactly as
 * a destination runs them. A refusal must give a reason. An accepted state
 * must be safe to run: its ready queues pass vq_check, and the restored
 * interrupt machine (driven by the bytes after the blob: starts,
 * completions, clock steps, polls) signals every pending completion within
 * the timeout and never reports a latency longer than the waits it was
 * given plus the time that passed.
 *
 * Input: a struct vblk_blob, then operations, two bytes each.
 *
 * VBLK_FUZZ_SEEDS=DIR: write seeds (states made by the real save
 * functions: idle, pending completions, calibrated, read-only) and exit.
 */
#include "core/guest_mem.h"
#include "dev/cintr.h"
#include "dev/vblk_state.h"
#include "dev/virtio_mmio.h"

#include "abi/virtio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAM (4ull << 20)
#define NOW 1000000000000ull /* the destination's clock at the restore */

#define OFFERED                                                                                    \
	((1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |                        \
	 (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VESSEL_VIRTIO_BLK_F_CINTR) |                      \
	 (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seed(const char *dir, const char *name, bool calibrated, unsigned pending, bool ro)
{
	static struct virtio_mmio t;
	struct vblk_blob b = { .magic = VBLK_MAGIC,
			       .version = VBLK_VERSION,
			       .capacity = 2048,
			       .readonly = ro,
			       .active = 1 };
	struct cintr c;
	char path[4096];
	FILE *f;

	memset(&t, 0, sizeof(t));
	t.status = 15;
	t.drv_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX) |
			 (calibrated ? 1ull << VESSEL_VIRTIO_BLK_F_CINTR : 0);
	t.vq[0] = (struct virtq){ .num = 16,
				  .ready = true,
				  .desc = 0x1000,
				  .avail = 0x2000,
				  .used = 0x3000,
				  .last_avail = 7,
				  .used_idx = 7 };
	virtio_mmio_save(&t, &b.tr);
	cintr_init(&c);
	cintr_reset(&c, calibrated);
	for (unsigned i = 0; i < pending; i++) {
		cintr_start(&c, i);
		cintr_complete(&c, i, 0, 5000 + 100 * i, 9000 + 300 * i);
	}
	cintr_save(&c, 20000, &b.ci);
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&b, sizeof(b), 1, f) != 1 ||
	    fwrite("\x00\x01\x01\x01\x02\x40\x03\x00\x01\x03\x02\xff\x03\x00", 14, 1, f) != 1 ||
	    fclose(f)) {
		perror(path);
		exit(1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("VBLK_FUZZ_SEEDS");

	(void)argc;
	(void)argv;
	if (!dir)
		return 0;
	seed(dir, "idle", false, 0, false);
	seed(dir, "every-pending", false, 1, false);
	seed(dir, "calibrated-pending", true, 5, false);
	seed(dir, "readonly", true, 0, true);
	exit(0);
}

/* The restored machine, driven by ops; aborts on a broken promise. */
static void drive(const struct cintr_saved *s, const uint8_t *op, size_t n)
{
	static struct cintr c;
	uint64_t now = NOW, oldest;
	char why[160];

	cintr_init(&c);
	if (cintr_restore(&c, s, NOW, why, sizeof(why)))
		abort();		       /* the decoder accepted what the restore refuses */
	oldest = NOW - s->pending_max_wait_ns; /* no request is older */
	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned arg = op[i + 1];
		enum cintr_reason r = CINTR_NONE;

		if (c.pending) {
			uint64_t d = cintr_deadline(&c);

			if (!d || d > now + (uint64_t)c.timeout_us * 1000)
				abort(); /* a pending completion would wait past the timeout */
		}
		switch (op[i] % 4) {
		case 0:
			cintr_start(&c, arg % CINTR_SLOTS);
			break;
		case 1: /* complete a request made available a little earlier */
			r = cintr_complete(
				&c, arg % CINTR_SLOTS, arg >> 6,
				now - (arg % 16) * 1000 < oldest ? oldest : now - (arg % 16) * 1000,
				now);
			break;
		case 2:
			now += (uint64_t)arg * 4000;
			break;
		case 3:
			r = cintr_poll(&c, now);
			break;
		}
		if (r != CINTR_NONE) {
			cintr_fired(&c, r, now);
			if (c.pending || cintr_deadline(&c))
				abort();
			for (unsigned k = 0; k < CINTR_RECENT && k < c.lat_count; k++)
				if (c.recent[k] > now - oldest)
					abort(); /* a latency longer than any wait */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmem mem;
	static int ready;
	struct vblk_blob b;
	struct virtq vq[VIRTIO_MMIO_QUEUES_MAX];
	char why[200];

	if (!ready) {
		if (gmem_create(&mem, RAM))
			abort();
		ready = 1;
	}
	if (size < sizeof(b))
		return 0;
	why[0] = 0;
	if (vblk_blob_decode(data, sizeof(b),
			     OFFERED | (data[16] & 1 ? 1ull << VIRTIO_BLK_F_RO : 0), &mem, &b, vq,
			     why, sizeof(why))) {
		if (!why[0])
			abort(); /* every refusal has a reason */
		return 0;
	}
	for (unsigned i = 0; i < VIRTIO_MMIO_QUEUES_MAX; i++)
		if (vq[i].ready && vq_check(&vq[i], &mem, why, sizeof(why)))
			abort(); /* an invalid ready queue got through */
	drive(&b.ci, data + sizeof(b), size - sizeof(b));
	return 0;
}
