// SPDX-License-Identifier: MIT
/*
 * The virtio-blk device end to end without KVM: a VM from vm_new() with
 * real --disk images (temporary files), driven like a guest driver would:
 * MMIO exits through exit_dispatch(), rings and buffers in guest memory,
 * the device thread and the io_uring (and worker-pool) backend for real.
 * Also the transport's interrupt-line logic, save/restore round trips and
 * refused blobs, the pause drain, and the --disk option checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arch/x86/arch.h"
#include "core/exit.h"
#include "core/vm.h"
#include "dev/blk_backend.h"
#include "dev/device.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_mmio.h"

#include "abi/vessel.h"
#include "abi/virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEM   (16ull << 20)
#define QNUM  64
#define DESC  0x100000ull
#define AVAIL 0x101000ull
#define USED  0x102000ull
#define HDRS  0x103000ull /* request headers and status bytes */
#define DATA  0x200000ull /* data buffers, 64 KiB each */
#define DISK  (1u << 20)  /* 1 MiB images */

struct ctx {
	struct vm *vm;
	struct kvm_run *run;
	char path[2][64];
	char log[4096];
	uint16_t avail_idx, used_seen;
};

static void cap_log(void *opaque, const char *line)
{
	struct ctx *c = opaque;

	strncat(c->log, line, sizeof(c->log) - strlen(c->log) - 2);
	strcat(c->log, "\n");
}

static void make_image(char *path, size_t len, unsigned size)
{
	int fd;

	snprintf(path, len, "/tmp/vblk-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

/* A VM with the given --disk arguments (NULL-terminated). */
static int new_vm(struct ctx *c, const char *const *args)
{
	struct vm_config cfg = { .cpus = 1, .mem_size = MEM, .log = cap_log, .log_opaque = c };
	char err[256];
	int rc;

	for (unsigned i = 0; args[i]; i++)
		cfg.device_args[cfg.nr_device_args++] = (struct vm_device_arg){ "--disk", args[i] };
	rc = vm_new(&c->vm, &cfg, err, sizeof(err));
	if (rc)
		snprintf(c->log, sizeof(c->log), "%s", err);
	c->avail_idx = c->used_seen = 0;
	return rc;
}

static int setup_disk(void **state, const char *opts)
{
	struct ctx *c = calloc(1, sizeof(*c));
	char arg[128];
	const char *args[] = { arg, NULL };

	if (!c)
		return -1;
	make_image(c->path[0], sizeof(c->path[0]), DISK);
	snprintf(arg, sizeof(arg), "%s%s", c->path[0], opts);
	c->run = calloc(1, 8192);
	if (new_vm(c, args))
		return -1;
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_disk(state, "");
}

static int setup_ro(void **state)
{
	return setup_disk(state, ",readonly");
}

static int setup_threads(void **state)
{
	return setup_disk(state, ",io=threads");
}

static int setup_nocintr(void **state)
{
	return setup_disk(state, ",cintr=off");
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	vm_destroy(c->vm);
	for (unsigned i = 0; i < 2; i++)
		if (c->path[i][0])
			unlink(c->path[i]);
	free(c->run);
	free(c);
	return 0;
}

/* ---------------------------------------------------------------- a tiny driver */

static uint32_t mmio(struct ctx *c, unsigned slot, uint32_t off, int write, uint32_t v,
		     uint32_t size)
{
	struct exit_result res;

	memset(c->run, 0, sizeof(*c->run));
	c->run->exit_reason = KVM_EXIT_MMIO;
	c->run->mmio.phys_addr = VESSEL_VIRTIO_MMIO_BASE + slot * VESSEL_VIRTIO_MMIO_STRIDE + off;
	c->run->mmio.len = size;
	c->run->mmio.is_write = (uint8_t)write;
	memcpy(c->run->mmio.data, &v, 4);
	exit_dispatch(c->vm, NULL, c->run, &res);
	assert_int_equal(res.action, EXIT_CONTINUE);
	memcpy(&v, c->run->mmio.data, 4);
	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static uint32_t rd(struct ctx *c, uint32_t off)
{
	return mmio(c, 0, off, 0, 0, 4);
}

static void wr(struct ctx *c, uint32_t off, uint32_t v)
{
	mmio(c, 0, off, 1, v, 4);
}

static void *guest(struct ctx *c, uint64_t gpa, size_t len)
{
	void *p = gmem_ptr(&c->vm->mem, gpa, len);

	assert_non_null(p);
	return p;
}

/* Reads the 64 feature bits the device offers. */
static uint64_t offered(struct ctx *c)
{
	uint64_t f;

	wr(c, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(c, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(c, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(c, VIRTIO_MMIO_DEVICE_FEATURES);
}

/* Negotiates `features` (VERSION_1 added) and starts queue 0. Returns the status. */
static uint32_t start(struct ctx *c, uint64_t features)
{
	features |= 1ull << VIRTIO_F_VERSION_1;
	memset(guest(c, DESC, 0x3000), 0, 0x3000);
	wr(c, VIRTIO_MMIO_STATUS, 0);
	wr(c, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(c, VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	wr(c, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(c, VIRTIO_MMIO_QUEUE_NUM, QNUM);
	wr(c, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC);
	wr(c, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
	wr(c, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED);
	wr(c, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(c, VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
	c->avail_idx = c->used_seen = 0;
	return rd(c, VIRTIO_MMIO_STATUS);
}

/* Queues request `i` (descriptors 3i..3i+2, data at DATA + i * 64 KiB); no kick. */
static void queue(struct ctx *c, unsigned i, uint32_t type, uint64_t sector, uint32_t len,
		  uint32_t flags)
{
	struct virtio_blk_req h = { type, flags, sector };
	struct virtq_desc *d = guest(c, DESC + 48ull * i, 48);
	uint16_t *ring = guest(c, AVAIL, 4 + 2 * QNUM);

	memcpy(guest(c, HDRS + 32ull * i, 16), &h, 16);
	*(uint8_t *)guest(c, HDRS + 32ull * i + 16, 1) = 0xff;
	d[0] = (struct virtq_desc){ HDRS + 32ull * i, 16, VIRTQ_DESC_F_NEXT,
				    (uint16_t)(len ? 3 * i + 1 : 3 * i + 2) };
	d[1] = (struct virtq_desc){ DATA + 0x10000ull * i, len,
				    VIRTQ_DESC_F_NEXT |
					    (type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE),
				    (uint16_t)(3 * i + 2) };
	d[2] = (struct virtq_desc){ HDRS + 32ull * i + 16, 1, VIRTQ_DESC_F_WRITE, 0 };
	ring[2 + c->avail_idx % QNUM] = (uint16_t)(3 * i);
	c->avail_idx++;
	__atomic_store_n(&ring[1], c->avail_idx, __ATOMIC_RELEASE);
}

static void kick(struct ctx *c)
{
	wr(c, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static uint16_t used_idx(struct ctx *c)
{
	return __atomic_load_n((uint16_t *)guest(c, USED + 2, 2), __ATOMIC_ACQUIRE);
}

/* Waits (bounded: a hang is a failure, not a timing verdict) for n more used entries. */
static void wait_used(struct ctx *c, unsigned n)
{
	uint16_t want = (uint16_t)(c->used_seen + n);

	for (unsigned i = 0; i < 20000 && (int16_t)(used_idx(c) - want) < 0; i++)
		usleep(500);
	assert_int_equal(used_idx(c), want);
	c->used_seen = want;
}

static uint8_t status_of(struct ctx *c, unsigned i)
{
	return *(uint8_t *)guest(c, HDRS + 32ull * i + 16, 1);
}

static uint64_t counter(struct ctx *c, unsigned inst, const char *name)
{
	struct device *d = device_find_nth(c->vm, "virtio-blk", inst);
	struct device_stat st[DEVICE_STATS_MAX];
	char label[16];
	unsigned n;

	assert_non_null(d);
	n = d->ops->stats(d->priv, label, sizeof(label), st, DEVICE_STATS_MAX);
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(st[i].name, name))
			return st[i].value;
	fail_msg("no counter %s", name);
	return 0;
}

/* Waits (bounded, like wait_used) until counter `name` of disk 0 reaches want. */
static void wait_counter(struct ctx *c, const char *name, uint64_t want)
{
	for (unsigned i = 0; i < 20000 && counter(c, 0, name) < want; i++)
		usleep(500);
}

static void fill(void *buf, size_t len, unsigned seed)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* ---------------------------------------------------------------- tests */

static void test_registers(void **state)
{
	struct ctx *c = *state;
	uint64_t f;

	assert_int_equal(rd(c, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
	assert_int_equal(rd(c, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(c, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_int_equal(rd(c, VIRTIO_MMIO_VENDOR_ID), VESSEL_VIRTIO_VENDOR);
	f = offered(c);
	assert_true(f >> VIRTIO_F_VERSION_1 & 1);
	assert_true(f >> VIRTIO_F_EVENT_IDX & 1);
	assert_true(f >> VIRTIO_BLK_F_FLUSH & 1);
	assert_true(f >> VESSEL_VIRTIO_BLK_F_CINTR & 1);
	assert_false(f >> VIRTIO_BLK_F_RO & 1);
	assert_false(f >> VIRTIO_F_INDIRECT_DESC & 1);
	wr(c, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(c, VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wr(c, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(c, VIRTIO_MMIO_QUEUE_NUM_MAX), 0); /* one queue */
	/* configuration: capacity (two halves), blk_size, calibrated-interrupt block */
	assert_int_equal(rd(c, VIRTIO_MMIO_CONFIG), DISK / 512);
	assert_int_equal(rd(c, VIRTIO_MMIO_CONFIG + 4), 0);
	assert_int_equal(rd(c, VIRTIO_MMIO_CONFIG + 20), 512);
	assert_int_equal(mmio(c, 0, VIRTIO_MMIO_CONFIG, 0, 0, 2), DISK / 512);
	assert_int_equal(rd(c, VIRTIO_MMIO_CONFIG + VESSEL_BLK_CINTR_CONFIG),
			 VESSEL_BLK_CINTR_DEF_THRESHOLD);
	assert_int_equal(rd(c, VIRTIO_MMIO_CONFIG + VESSEL_BLK_CINTR_CONFIG + 4),
			 VESSEL_BLK_CINTR_DEF_TIMEOUT);
	wr(c, VIRTIO_MMIO_CONFIG + VESSEL_BLK_CINTR_CONFIG, 5000);
	assert_int_equal(rd(c, VIRTIO_MMIO_CONFIG + VESSEL_BLK_CINTR_CONFIG),
			 VESSEL_BLK_CINTR_THRESHOLD_MAX);
	wr(c, VIRTIO_MMIO_CONFIG, 7); /* capacity is read-only */
	assert_int_equal(rd(c, VIRTIO_MMIO_CONFIG), DISK / 512);
	/* registers are 32-bit: a 2-byte read gives 0 */
	assert_int_equal(mmio(c, 0, VIRTIO_MMIO_MAGIC_VALUE, 0, 0, 2), 0);
}

static void test_negotiation(void **state)
{
	struct ctx *c = *state;

	wr(c, VIRTIO_MMIO_STATUS, 0);
	wr(c, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BLK_F_FLUSH); /* no VERSION_1 */
	wr(c, VIRTIO_MMIO_STATUS, 11);
	assert_false(rd(c, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	wr(c, VIRTIO_MMIO_STATUS, 0);
	wr(c, VIRTIO_MMIO_STATUS, 3);
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_F_INDIRECT_DESC); /* not offered */
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(c, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(c, VIRTIO_MMIO_STATUS, 11);
	assert_false(rd(c, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	/* DRIVER_OK without FEATURES_OK: the device needs a reset */
	wr(c, VIRTIO_MMIO_STATUS, 0);
	wr(c, VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_DRIVER_OK);
	assert_true(rd(c, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_non_null(strstr(c->log, "DRIVER_OK without FEATURES_OK"));
	assert_int_equal(start(c, 0) & 0xff, 15);
}

static void test_io(void **state)
{
	struct ctx *c = *state;
	uint8_t *buf = guest(c, DATA, 8192), back[8192];
	int fd = open(c->path[0], O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(start(c, 0), 15);
	fill(buf, 8192, 1);
	queue(c, 0, VIRTIO_BLK_T_OUT, 9, 8192, 0);
	kick(c);
	wait_used(c, 1);
	assert_int_equal(status_of(c, 0), VIRTIO_BLK_S_OK);
	/* the bytes are in the image file */
	assert_int_equal(pread(fd, back, 8192, 9 * 512), 8192);
	assert_memory_equal(back, buf, 8192);
	/* read them back into another buffer; the used length counts data + status */
	memset(guest(c, DATA + 0x10000, 8192), 0, 8192);
	queue(c, 1, VIRTIO_BLK_T_IN, 9, 8192, 0);
	queue(c, 2, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	queue(c, 3, VIRTIO_BLK_T_GET_ID, 0, 20, 0);
	queue(c, 4, VIRTIO_BLK_T_IN, DISK / 512 - 1, 1024, 0); /* across the end */
	queue(c, 5, 99, 0, 512, 0);			       /* unknown type */
	kick(c);
	wait_used(c, 5);
	assert_int_equal(status_of(c, 1), VIRTIO_BLK_S_OK);
	assert_memory_equal(guest(c, DATA + 0x10000, 8192), buf, 8192);
	assert_int_equal(status_of(c, 2), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(c, 3), VIRTIO_BLK_S_OK);
	assert_memory_equal(guest(c, DATA + 0x30000, 11), "vblk-test-", 10);
	assert_int_equal(status_of(c, 4), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(c, 5), VIRTIO_BLK_S_UNSUPP);
	for (unsigned i = 0; i < 5; i++) {
		struct virtq_used_elem *e = guest(c, USED + 4 + 8ull * ((1 + i) % QNUM), 8);

		if (e->id == 3) /* the read */
			assert_int_equal(e->len, 8193);
	}
	assert_int_equal(counter(c, 0, "requests"), 6);
	assert_int_equal(counter(c, 0, "writes"), 1);
	assert_int_equal(counter(c, 0, "reads"), 2);
	assert_int_equal(counter(c, 0, "flushes"), 1);
	assert_int_equal(counter(c, 0, "errors"), 2);
	assert_int_equal(counter(c, 0, "bytes_written"), 8192);
	/* the interrupt status says a used buffer came; ACK clears it */
	assert_int_equal(rd(c, VIRTIO_MMIO_INTERRUPT_STATUS) & 1, 1);
	wr(c, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	assert_int_equal(rd(c, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	close(fd);
}

/*
 * Device DMA into another domain's memory (gmem_hide: the secure domain's
 * pages, vmm/domain/): a read request whose buffer lies there and a write
 * request whose data lies there both fail with IOERR; the hidden bytes and
 * the image are untouched; requests elsewhere go on.
 */
static void test_secure_memory(void **state)
{
	struct ctx *c = *state;
	uint8_t *hidden = c->vm->mem.base + DATA + 0x10000, zero[4096] = { 0 }, back[4096];
	int fd = open(c->path[0], O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(start(c, 0), 15);
	assert_int_equal(gmem_hide(&c->vm->mem, DATA + 0x10000, 0x20000), 0);
	fill(guest(c, DATA, 4096), 4096, 7);
	memset(hidden, 0x5a, 0x20000);
	queue(c, 0, VIRTIO_BLK_T_OUT, 0, 4096, 0);  /* a normal write: sector 0 */
	queue(c, 1, VIRTIO_BLK_T_IN, 0, 4096, 0);   /* into hidden memory */
	queue(c, 2, VIRTIO_BLK_T_OUT, 40, 4096, 0); /* from hidden memory */
	kick(c);
	wait_used(c, 3);
	assert_int_equal(status_of(c, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(c, 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(c, 2), VIRTIO_BLK_S_IOERR);
	for (unsigned k = 0; k < 0x20000; k++)
		if (hidden[k] != 0x5a)
			fail_msg("the device wrote hidden memory at +%#x", k);
	assert_int_equal(pread(fd, back, 4096, 40 * 512), 4096);
	assert_memory_equal(back, zero, 4096); /* nothing of the hidden data reached the image */
	assert_int_equal(pread(fd, back, 4096, 0), 4096);
	assert_memory_equal(back, guest(c, DATA, 4096), 4096);
	close(fd);
}

static void test_readonly(void **state)
{
	struct ctx *c = *state;
	uint64_t f;
	uint8_t zero[4096] = { 0 }, back[4096];
	int fd = open(c->path[0], O_RDONLY);

	wr(c, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = rd(c, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(f >> VIRTIO_BLK_F_RO & 1);
	assert_int_equal(start(c, 1ull << VIRTIO_BLK_F_RO), 15);
	fill(guest(c, DATA, 4096), 4096, 3);
	queue(c, 0, VIRTIO_BLK_T_OUT, 0, 4096, 0);
	queue(c, 1, VIRTIO_BLK_T_IN, 0, 4096, 0);
	kick(c);
	wait_used(c, 2);
	assert_int_equal(status_of(c, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(c, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(pread(fd, back, 4096, 0), 4096);
	assert_memory_equal(back, zero, 4096);
	close(fd);
}

static void test_threads_backend(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(start(c, 0), 15);
	for (unsigned i = 0; i < 12; i++) {
		fill(guest(c, DATA + 0x10000ull * i, 4096), 4096, i);
		queue(c, i, VIRTIO_BLK_T_OUT, 8ull * i, 4096, 0);
	}
	kick(c);
	wait_used(c, 12);
	for (unsigned i = 0; i < 12; i++) {
		assert_int_equal(status_of(c, i), VIRTIO_BLK_S_OK);
		memset(guest(c, DATA + 0x10000ull * i, 4096), 0, 4096);
		queue(c, i, VIRTIO_BLK_T_IN, 8ull * i, 4096, 0);
	}
	kick(c);
	wait_used(c, 12);
	for (unsigned i = 0; i < 12; i++) {
		uint8_t want[4096];

		fill(want, sizeof(want), i);
		assert_int_equal(status_of(c, i), VIRTIO_BLK_S_OK);
		assert_memory_equal(guest(c, DATA + 0x10000ull * i, 4096), want, 4096);
	}
}

/*
 * The io_uring backend's ring does reads, writes and fsyncs and nothing
 * else (what lets the sandboxed monitor's filter allow io_uring_enter):
 * an OPENAT, a CONNECT, even a NOP is refused with -EACCES, while a READ
 * reaches the kernel (and fails on fd -1 with -EBADF).
 */
static void test_uring_restricted(void **state)
{
	char path[] = "/tmp/vessel-uring-XXXXXX";
	int fd = mkstemp(path);
	struct blk_backend *b;
	char err[128];

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(blk_uring_ops.open(fd, 8, &b, err, sizeof(err)), 0);
	assert_int_equal(blk_uring_try_op(b, IORING_OP_OPENAT), -EACCES);
	assert_int_equal(blk_uring_try_op(b, IORING_OP_CONNECT), -EACCES);
	assert_int_equal(blk_uring_try_op(b, IORING_OP_NOP), -EACCES);
	assert_int_equal(blk_uring_try_op(b, IORING_OP_READ), -EBADF);
	blk_uring_ops.close(b);
	close(fd);
}

static void test_bad_chain(void **state)
{
	struct ctx *c = *state;
	struct virtq_desc *d = guest(c, DESC, 48);

	assert_int_equal(start(c, 0), 15);
	queue(c, 0, VIRTIO_BLK_T_IN, 0, 512, 0);
	d[2].flags |= VIRTQ_DESC_F_NEXT; /* status -> data -> status ...: a loop */
	d[2].next = 1;
	kick(c);
	for (unsigned i = 0; i < 20000 && !(rd(c, VIRTIO_MMIO_STATUS) & 64); i++)
		usleep(500);
	assert_true(rd(c, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_true(rd(c, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_non_null(strstr(c->log, "vda: device needs reset: descriptor chain from 0 loops"));
	assert_int_equal(used_idx(c), 0);
	/* a stopped device takes nothing more */
	queue(c, 1, VIRTIO_BLK_T_IN, 0, 512, 0);
	kick(c);
	usleep(20000);
	assert_int_equal(used_idx(c), 0);
	/* after a reset it serves again */
	assert_int_equal(start(c, 0), 15);
	queue(c, 0, VIRTIO_BLK_T_IN, 0, 512, 0);
	kick(c);
	wait_used(c, 1);
	assert_int_equal(status_of(c, 0), VIRTIO_BLK_S_OK);
	/* a short header is just as fatal */
	*(uint32_t *)guest(c, DESC + 8, 4) = 4; /* header length 4 */
	queue(c, 1, VIRTIO_BLK_T_IN, 0, 512, 0);
	((struct virtq_desc *)guest(c, DESC + 48, 16))->len = 4;
	kick(c);
	for (unsigned i = 0; i < 20000 && !(rd(c, VIRTIO_MMIO_STATUS) & 64); i++)
		usleep(500);
	assert_non_null(strstr(c->log, "no room for the 16-byte header"));
	assert_int_equal(counter(c, 0, "resets_needed"), 2);
}

static void test_two_disks(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	const char *args[] = { NULL, NULL, NULL };
	struct vessel_boot_info bi;
	char label[16];
	struct device_stat st[DEVICE_STATS_MAX];
	struct device *d;

	assert_non_null(c);
	c->run = calloc(1, 8192);
	make_image(c->path[0], sizeof(c->path[0]), DISK);
	make_image(c->path[1], sizeof(c->path[1]), 2 * DISK);
	args[0] = c->path[0];
	args[1] = c->path[1];
	assert_int_equal(new_vm(c, args), 0);
	*state = c;
	d = device_find_nth(c->vm, "virtio-blk", 1);
	assert_non_null(d);
	assert_int_equal(device_instance(c->vm, d), 1);
	d->ops->stats(d->priv, label, sizeof(label), st, DEVICE_STATS_MAX);
	assert_string_equal(label, "vdb");
	assert_null(device_find_nth(c->vm, "virtio-blk", 2));
	arch_boot_info_fill(c->vm, &bi);
	assert_int_equal(bi.dev_count, 2);
	assert_int_equal(bi.dev[0].base, VESSEL_VIRTIO_MMIO_BASE);
	assert_int_equal(bi.dev[1].base, VESSEL_VIRTIO_MMIO_BASE + VESSEL_VIRTIO_MMIO_STRIDE);
	assert_int_equal(bi.dev[0].irq, VESSEL_VIRTIO_IRQ_BASE);
	assert_int_equal(bi.dev[1].irq, VESSEL_VIRTIO_IRQ_BASE + 1);
	assert_int_equal(bi.dev[1].type, VESSEL_DEV_VIRTIO_MMIO);
	/* the second disk answers at slot 1 with its own capacity */
	assert_int_equal(mmio(c, 1, VIRTIO_MMIO_CONFIG, 0, 0, 4), 2 * DISK / 512);
	/* the window is RESERVED in the memory map */
	for (unsigned i = 0, found = 0; i <= bi.mmap_count; i++) {
		if (i == bi.mmap_count) {
			assert_true(found);
			break;
		}
		found |= bi.mmap[i].base == VESSEL_VIRTIO_MMIO_BASE &&
			 bi.mmap[i].type == VESSEL_MEM_RESERVED;
	}
}

/* Calibrated mode through the device: 8 requests, the last a BARRIER, one interrupt. */
static void test_calibrated(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(start(c, 1ull << VESSEL_VIRTIO_BLK_F_CINTR), 15);
	wr(c, VIRTIO_MMIO_CONFIG + VESSEL_BLK_CINTR_CONFIG + 4, VESSEL_BLK_CINTR_TIMEOUT_MAX);
	for (unsigned i = 0; i < 8; i++)
		queue(c, i, VIRTIO_BLK_T_IN, 8ull * i, 4096, i == 7 ? VESSEL_BLK_REQ_BARRIER : 0);
	kick(c);
	wait_used(c, 8);
	assert_int_equal(counter(c, 0, "irq_barrier"), 1);
	assert_int_equal(counter(c, 0, "irq_threshold") + counter(c, 0, "irq_timeout"), 0);
	assert_int_equal(counter(c, 0, "interrupts"), 1);
	assert_int_equal(counter(c, 0, "latency_count"), 8);
	/* a single URGENT request interrupts at once */
	wr(c, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	queue(c, 0, VIRTIO_BLK_T_IN, 0, 512, VESSEL_BLK_REQ_URGENT);
	kick(c);
	wait_used(c, 1);
	wait_counter(c, "irq_urgent", 1);
	assert_int_equal(counter(c, 0, "irq_urgent"), 1);
	assert_int_equal(counter(c, 0, "interrupts"), 2);
	/* without the feature: an interrupt per completion, flags ignored */
	assert_int_equal(start(c, 0), 15);
	for (unsigned i = 0; i < 4; i++)
		queue(c, i, VIRTIO_BLK_T_IN, 0, 512, VESSEL_BLK_REQ_BARRIER);
	kick(c);
	wait_used(c, 4);
	wait_counter(c, "irq_every", 4);
	assert_int_equal(counter(c, 0, "irq_every"), 4);
	assert_int_equal(counter(c, 0, "irq_barrier"), 1);
}

/*
 * ,cintr=off: the feature is not offered, a driver that asks for it is
 * refused FEATURES_OK, and flagged requests each get an interrupt (the
 * standard behaviour); a saved state that negotiated it is refused.
 */
static void test_cintr_off(void **state)
{
	struct ctx *c = *state, d = { 0 };
	char arg[128];
	const char *args[] = { arg, NULL };
	uint8_t blob[4096];
	struct device *src, *dst;
	ssize_t n;

	assert_false(offered(c) >> VESSEL_VIRTIO_BLK_F_CINTR & 1);
	assert_true(offered(c) >> VIRTIO_F_EVENT_IDX & 1);
	assert_int_equal(counter(c, 0, "cintr_offered"), 0);
	assert_int_not_equal(start(c, 1ull << VESSEL_VIRTIO_BLK_F_CINTR), 15);
	assert_int_equal(start(c, 0), 15);
	for (unsigned i = 0; i < 4; i++)
		queue(c, i, VIRTIO_BLK_T_IN, 0, 512, i == 3 ? VESSEL_BLK_REQ_BARRIER : 0);
	kick(c);
	wait_used(c, 4);
	wait_counter(c, "irq_every", 4);
	assert_int_equal(counter(c, 0, "irq_every"), 4);
	assert_int_equal(counter(c, 0, "irq_barrier"), 0);
	assert_int_equal(counter(c, 0, "calibrated"), 0);
	/* a state that negotiated CINTR (from a disk offering it) is refused here */
	snprintf(arg, sizeof(arg), "%s", c->path[0]);
	d.run = c->run;
	assert_int_equal(new_vm(&d, args), 0);
	src = device_find(d.vm, "virtio-blk");
	assert_int_equal(start(&d, 1ull << VESSEL_VIRTIO_BLK_F_CINTR), 15);
	n = src->ops->save(src->priv, blob, sizeof(blob));
	assert_true(n > 0);
	dst = device_find(c->vm, "virtio-blk");
	assert_int_equal(dst->ops->restore(dst->priv, blob, (size_t)n), -EINVAL);
	assert_non_null(strstr(c->log, "this disk has cintr=off"));
	vm_destroy(d.vm);
}

/*
 * What the device writes into guest memory (read data, the status byte,
 * the used ring) is in the VMM-dirty bitmap a migration pass takes, and
 * what it only reads (a write's data, the descriptors) is not: a page the
 * device filled after the migration had sent it would otherwise stay stale
 * on the destination.
 */
static void test_dirty(void **state)
{
	struct ctx *c = *state;
	struct gmem *m = &c->vm->mem;
	uint64_t want, got = 0;

	assert_int_equal(start(c, 0), 15);
	assert_int_equal(gmem_dirty_track(m, true), 0);
	for (uint64_t w = 0; w < MEM / 4096 / 64; w++)
		gmem_dirty_take(m, w);
	queue(c, 0, VIRTIO_BLK_T_IN, 0, 8192, 0);   /* two pages from DATA */
	queue(c, 1, VIRTIO_BLK_T_OUT, 64, 4096, 0); /* reads DATA + 64 KiB */
	kick(c);
	wait_used(c, 2);
	/* pages 0x200, 0x201 (read data), 0x102 (used ring), 0x103 (status) */
	assert_int_equal(gmem_dirty_take(m, 0x200 / 64), 3ull << (0x200 % 64));
	want = 1ull << (0x102 % 64) | 1ull << (0x103 % 64);
	assert_int_equal(gmem_dirty_take(m, 0x102 / 64), want);
	for (uint64_t w = 0; w < MEM / 4096 / 64; w++)
		got |= gmem_dirty_take(m, w);
	assert_int_equal(got, 0); /* DATA + 64 KiB, the descriptors, the avail ring: read only */
	assert_int_equal(gmem_dirty_track(m, false), 0);
}

static void test_pause_drains(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(start(c, 0), 15);
	for (unsigned i = 0; i < 15; i++)
		queue(c, i, VIRTIO_BLK_T_OUT, 16ull * i, 65536 / 2, 0);
	kick(c);
	/* once the device took them all, the pause waits for every one */
	wait_counter(c, "requests", 15);
	vm_hooks_pause(c->vm);
	assert_int_equal(counter(c, 0, "in_flight"), 0);
	assert_int_equal(used_idx(c), 15);
	/* paused: a new request stays on the available ring */
	queue(c, 0, VIRTIO_BLK_T_IN, 0, 512, 0);
	kick(c);
	usleep(20000);
	assert_int_equal(used_idx(c), 15);
	vm_hooks_resume(c->vm);
	c->used_seen = 15;
	wait_used(c, 1);
}

static void test_save_restore(void **state)
{
	struct ctx *c = *state, d = { 0 };
	uint8_t a[4096], b[4096];
	ssize_t na, nb;
	const char *args[2] = { NULL, NULL };
	char arg[128], small[64];
	struct device *src, *dst;

	assert_int_equal(start(c, 1ull << VESSEL_VIRTIO_BLK_F_CINTR | 1ull << VIRTIO_F_EVENT_IDX),
			 15);
	/* the last one URGENT: nothing waits for an interrupt, so two saves
	 * of this state are the same bytes */
	for (unsigned i = 0; i < 5; i++)
		queue(c, i, VIRTIO_BLK_T_IN, 0, 512, i == 4 ? VESSEL_BLK_REQ_URGENT : 0);
	kick(c);
	wait_used(c, 5);
	wait_counter(c, "irq_urgent", 1);
	src = device_find(c->vm, "virtio-blk");
	na = src->ops->save(src->priv, a, sizeof(a));
	assert_true(na > 0);
	assert_int_equal(src->ops->save(src->priv, a, 16), -ENOSPC);
	/* a second VM on the same image (shared storage) takes the state */
	snprintf(arg, sizeof(arg), "%s", c->path[0]);
	args[0] = arg;
	d.run = c->run;
	assert_int_equal(new_vm(&d, args), 0);
	dst = device_find(d.vm, "virtio-blk");
	assert_int_equal(dst->ops->restore(dst->priv, a, (size_t)na), 0);
	nb = dst->ops->save(dst->priv, b, sizeof(b));
	assert_int_equal(nb, na);
	assert_memory_equal(a, b, (size_t)na);
	assert_int_equal(mmio(&d, 0, VIRTIO_MMIO_STATUS, 0, 0, 4), 15);
	/* refused: truncated, corrupted, a queue outside RAM, another disk size */
	assert_int_equal(dst->ops->restore(dst->priv, a, (size_t)na - 1), -EINVAL);
	b[0] ^= 1;
	assert_int_equal(dst->ops->restore(dst->priv, b, (size_t)nb), -EINVAL);
	vm_destroy(d.vm);
	make_image(small, sizeof(small), DISK / 2);
	args[0] = small;
	assert_int_equal(new_vm(&d, args), 0);
	dst = device_find(d.vm, "virtio-blk");
	assert_int_equal(dst->ops->restore(dst->priv, a, (size_t)na), -EINVAL);
	assert_non_null(strstr(d.log, "saved state is of a writable disk of 2048 sectors"));
	vm_destroy(d.vm);
	unlink(small);
	/* the restored device goes on where the first left off (with the
	 * memory copied, as a migration does) */
	args[0] = arg;
	assert_int_equal(new_vm(&d, args), 0);
	memcpy(d.vm->mem.base, c->vm->mem.base, MEM);
	dst = device_find(d.vm, "virtio-blk");
	assert_int_equal(dst->ops->restore(dst->priv, a, (size_t)na), 0);
	vm_destroy(c->vm);
	c->vm = d.vm;
	c->avail_idx = 5;
	c->used_seen = 5;
	queue(c, 5, VIRTIO_BLK_T_IN, 0, 512, VESSEL_BLK_REQ_URGENT);
	kick(c);
	wait_used(c, 1);
	assert_int_equal(status_of(c, 5), VIRTIO_BLK_S_OK);
	assert_int_equal(counter(c, 0, "requests"), 6); /* counters travel with the state */
}

/* ---------------------------------------------------------------- the interrupt line */

static uint64_t dummy_features(void *dev)
{
	return 0;
}

static void dummy_config(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	memset(data, 0, size);
}

static void dummy_config_w(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
}

static int dummy_activate(void *dev)
{
	return 0;
}

static void dummy_reset(void *dev)
{
}

static const struct virtio_dev_ops dummy_ops = {
	.device_id = 99,
	.nqueues = 1,
	.features = dummy_features,
	.config_read = dummy_config,
	.config_write = dummy_config_w,
	.activate = dummy_activate,
	.reset = dummy_reset,
};

static uint64_t take(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void eoi(struct virtio_mmio *t)
{
	uint64_t one = 1;

	assert_int_equal(write(t->resample_fd, &one, sizeof(one)), sizeof(one));
	virtio_mmio_resample(t);
}

/*
 * The irqfd path's decisions, with the eventfds real and KVM simulated: an
 * EOI before the handler read the status (this host's early EOI) does not
 * raise the line again; bits set after the handler's read, merged into a
 * line that was still up, do.
 */
static void test_line(void **state)
{
	struct ctx *c = *state;
	struct virtio_mmio *t;

	assert_int_equal(virtio_mmio_create(c->vm, &dummy_ops, NULL, &t), 0);
	assert_int_equal(t->slot, 1);
	t->kvm_wired = true;   /* as if KVM took the irqfd */
	t->vq[0].ready = true; /* a queue without EVENT_IDX: always "behind" */
	virtio_mmio_signal(t, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(take(t->irq_fd), 1);
	eoi(t); /* early: the handler has not read the status */
	assert_int_equal(take(t->irq_fd), 0);
	assert_int_equal(t->early_eois, 1);
	assert_int_equal(mmio(c, 1, VIRTIO_MMIO_INTERRUPT_STATUS, 0, 0, 4), 1); /* the handler */
	mmio(c, 1, VIRTIO_MMIO_INTERRUPT_ACK, 1, 1, 4);
	eoi(t); /* its own EOI: nothing new */
	assert_int_equal(take(t->irq_fd), 0);
	/* a rise, the handler reads, then a completion merges into the high line */
	virtio_mmio_signal(t, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(take(t->irq_fd), 1);
	assert_int_equal(mmio(c, 1, VIRTIO_MMIO_INTERRUPT_STATUS, 0, 0, 4), 1);
	mmio(c, 1, VIRTIO_MMIO_INTERRUPT_ACK, 1, 1, 4);
	virtio_mmio_signal(t, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(take(t->irq_fd), 1); /* written, but the line was up */
	eoi(t);
	assert_int_equal(take(t->irq_fd), 1); /* raised again: nobody saw that bit */
	assert_int_equal(t->reasserts, 1);
	t->kvm_wired = false;
	virtio_mmio_destroy(t);
}

/* ---------------------------------------------------------------- options */

static void test_options(void **state)
{
	const struct device_ops *ops = device_by_option("--disk");
	char path[64], dir[] = "/tmp/vblk-dir-XXXXXX", err[256], arg[128];
	struct vblk_opts o;

	assert_non_null(ops);
	assert_int_equal(vblk_parse_opts("a.img,readonly,io=threads", &o, err, sizeof(err)), 0);
	assert_string_equal(o.path, "a.img");
	assert_true(o.readonly);
	assert_string_equal(o.io, "threads");
	assert_true(o.cintr);
	assert_int_equal(vblk_parse_opts("a.img", &o, err, sizeof(err)), 0);
	assert_false(o.readonly);
	assert_string_equal(o.io, "uring");
	assert_true(o.cintr);
	assert_int_equal(vblk_parse_opts("a.img,cintr=off", &o, err, sizeof(err)), 0);
	assert_false(o.cintr);
	assert_int_equal(vblk_parse_opts("a.img,cintr=off,cintr=on", &o, err, sizeof(err)), 0);
	assert_true(o.cintr);
	assert_int_equal(vblk_parse_opts("a.img,cintr=no", &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown option 'cintr=no'"));
	assert_int_equal(vblk_parse_opts("a.img,ro", &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown option 'ro'"));
	assert_int_equal(vblk_parse_opts(",readonly", &o, err, sizeof(err)), -EINVAL);
	assert_int_equal(ops->check("/nonexistent/x.img", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "No such file"));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ops->check(dir, err, sizeof(err)), -EINVAL);
	rmdir(dir);
	make_image(path, sizeof(path), 100); /* smaller than a sector */
	assert_int_equal(ops->check(path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "smaller than one 512-byte sector"));
	assert_int_equal(truncate(path, 4096), 0);
	assert_int_equal(ops->check(path, err, sizeof(err)), 0);
	if (geteuid() != 0) { /* root opens anything: only then is this checkable */
		chmod(path, 0444);
		assert_int_equal(ops->check(path, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "add ,readonly"));
	}
	snprintf(arg, sizeof(arg), "%s,readonly", path);
	assert_int_equal(ops->check(arg, err, sizeof(err)), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup_ro, teardown),
		cmocka_unit_test_setup_teardown(test_secure_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_backend, setup_threads, teardown),
		cmocka_unit_test_setup_teardown(test_bad_chain, setup, teardown),
		cmocka_unit_test_teardown(test_two_disks, teardown),
		cmocka_unit_test_setup_teardown(test_calibrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cintr_off, setup_nocintr, teardown),
		cmocka_unit_test_setup_teardown(test_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line, setup, teardown),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_uring_restricted),
	};

	return cmocka_run_group_tests_name("vmm-virtio-blk", tests, NULL, NULL);
}
