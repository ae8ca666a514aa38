// SPDX-License-Identifier: MIT
/* Unit tests of the migration stream: encoder, validating reader, receiver
 * state machine. Every malformed input must be rejected with a clear error. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <xxhash.h>

#include "migrate/recv.h"
#include "migrate/stream.h"

#define MEM (64 * 4096ull)

/* A destination: a small guest memory plus what arrived. */
struct sink {
	uint8_t mem[MEM];
	uint8_t kind[MEM / 4096];
	int states;
	char state_name[32];
	uint8_t state_data[64];
	uint32_t state_len;
	int passes;
	uint64_t want_mem;
};

static int sink_hello(void *ctx, const struct mig_hello *h, char *err, size_t errlen)
{
	struct sink *s = ctx;

	if (h->mem_size != s->want_mem) {
		snprintf(err, errlen, "memory size %llu does not match",
			 (unsigned long long)h->mem_size);
		return -EINVAL;
	}
	return 0;
}

static int sink_page(void *ctx, uint64_t gpa, uint32_t kind, uint32_t origin, const uint8_t *data,
		     char *err, size_t errlen)
{
	struct sink *s = ctx;

	if (gpa >= MEM) {
		snprintf(err, errlen, "page %#llx is outside the guest memory",
			 (unsigned long long)gpa);
		return -ERANGE;
	}
	s->kind[gpa / 4096] = (uint8_t)kind;
	if (kind == MIG_PAGE_DATA)
		memcpy(s->mem + gpa, data, 4096);
	else
		memset(s->mem + gpa, 0, 4096);
	return 0;
}

static int sink_state(void *ctx, const struct mig_record *rec, char *err, size_t errlen)
{
	struct sink *s = ctx;

	s->states++;
	snprintf(s->state_name, sizeof(s->state_name), "%s", rec->u.state.name);
	s->state_len = rec->u.state.len;
	if (rec->u.state.len <= sizeof(s->state_data))
		memcpy(s->state_data, rec->u.state.data, rec->u.state.len);
	return 0;
}

static void sink_pass(void *ctx, const struct mig_record *rec)
{
	((struct sink *)ctx)->passes++;
}

static const struct mig_recv_ops sink_ops = {
	.hello = sink_hello, .page = sink_page, .state = sink_state, .pass = sink_pass
};

/* Write with the real writer into a memfd and hand back its bytes. */
struct out {
	int fd;
	struct mig_writer w;
};

static void out_open(struct out *o)
{
	o->fd = memfd_create("stream", MFD_CLOEXEC);
	assert_true(o->fd >= 0);
	assert_int_equal(mig_writer_init(&o->w, o->fd, 1000), 0);
}

static uint8_t *out_close(struct out *o, size_t *len)
{
	uint8_t *buf;
	off_t n;

	assert_int_equal(mig_flush(&o->w), 0);
	n = lseek(o->fd, 0, SEEK_END);
	buf = malloc((size_t)n + 1);
	assert_int_equal(pread(o->fd, buf, (size_t)n, 0), n);
	*len = (size_t)n;
	mig_writer_free(&o->w);
	close(o->fd);
	return buf;
}

static uint8_t page_a[4096], page_b[4096];

/*
 * A valid stream: HELLO, 3 DATA, 1 ZERO, 1 POISONED, PASS, ZERO_RANGE,
 * PAGES (pages 5-6, filled in place; page 7's slot taken back), STATE, END.
 */
static uint8_t *valid_stream(size_t *len)
{
	struct mig_hello h = { .mem_size = MEM, .nr_vcpus = 2, .page_size = 4096 };
	struct out o;
	uint8_t *slot;

	for (int i = 0; i < 4096; i++) {
		page_a[i] = (uint8_t)(i * 7);
		page_b[i] = (uint8_t)(255 - i);
	}
	out_open(&o);
	assert_int_equal(mig_put_preamble(&o.w), 0);
	assert_int_equal(mig_put_hello(&o.w, &h), 0);
	assert_int_equal(mig_put_page(&o.w, 0, MIG_PAGE_DATA, 0, page_a), 0);
	assert_int_equal(mig_put_page(&o.w, 4096, MIG_PAGE_DATA, 0, page_b), 0);
	assert_int_equal(mig_put_page(&o.w, 8192, MIG_PAGE_ZERO, 0, NULL), 0);
	assert_int_equal(mig_put_page(&o.w, 3 * 4096, MIG_PAGE_POISONED, MIG_POISON_KNOWN, NULL),
			 0);
	assert_int_equal(mig_put_pass(&o.w, 1, 4, 1), 0);
	assert_int_equal(mig_put_page(&o.w, 63 * 4096, MIG_PAGE_DATA, 0, page_a), 0);
	assert_int_equal(mig_put_range(&o.w, MIG_PAGE_ZERO, 4096, 2), 0); /* clears page 1 again */
	assert_int_equal(mig_run_slot(&o.w, 5 * 4096, &slot), 0);
	memcpy(slot, page_b, 4096);
	assert_int_equal(mig_run_slot(&o.w, 6 * 4096, &slot), 0);
	memcpy(slot, page_a, 4096);
	assert_int_equal(mig_run_slot(&o.w, 7 * 4096, &slot), 0);
	memset(slot, 0, 4096); /* a zero page after all: */
	mig_run_unslot(&o.w);
	assert_int_equal(mig_put_state(&o.w, MIG_STATE_VCPU, 0, "vcpu.regs", 1, "hello", 5), 0);
	assert_int_equal(mig_put_end(&o.w), 0);
	return out_close(&o, len);
}

static int run_mem(const uint8_t *buf, size_t len, struct sink *s, char *err, size_t errlen)
{
	struct mig_reader r;
	int rc;

	memset(s, 0, sizeof(*s));
	s->want_mem = MEM;
	mig_reader_init_mem(&r, buf, len);
	rc = mig_recv_stream(&r, &sink_ops, s, NULL, err, errlen);
	mig_reader_free(&r);
	return rc;
}

static void test_roundtrip(void **state)
{
	static struct sink s;
	char err[256];
	size_t len;
	uint8_t *buf = valid_stream(&len);

	assert_int_equal(run_mem(buf, len, &s, err, sizeof(err)), 0);
	assert_memory_equal(s.mem, page_a, 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(s.mem[4096 + i], 0); /* DATA, then part of a ZERO_RANGE */
	assert_memory_equal(s.mem + 63 * 4096, page_a, 4096);
	assert_memory_equal(s.mem + 5 * 4096, page_b, 4096);
	assert_memory_equal(s.mem + 6 * 4096, page_a, 4096);
	assert_int_equal(s.kind[6], MIG_PAGE_DATA);
	assert_int_equal(s.kind[7], 0);
	assert_int_equal(s.kind[1], MIG_PAGE_ZERO);
	assert_int_equal(s.kind[2], MIG_PAGE_ZERO);
	assert_int_equal(s.kind[3], MIG_PAGE_POISONED);
	assert_int_equal(s.kind[4], 0);
	assert_int_equal(s.states, 1);
	assert_string_equal(s.state_name, "vcpu.regs");
	assert_int_equal(s.state_len, 5);
	assert_memory_equal(s.state_data, "hello", 5);
	assert_int_equal(s.passes, 1);
	free(buf);
}

/* Same stream through a pipe and the buffered fd reader. */
static void test_roundtrip_fd(void **state)
{
	static struct sink s;
	struct mig_recv_stats st;
	struct mig_reader r;
	char err[256];
	size_t len;
	uint8_t *buf = valid_stream(&len);
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_true(len < 65536);
	assert_int_equal(write(p[1], buf, len), (ssize_t)len);
	close(p[1]);
	memset(&s, 0, sizeof(s));
	s.want_mem = MEM;
	assert_int_equal(mig_reader_init_fd(&r, p[0], 1000), 0);
	assert_int_equal(mig_recv_stream(&r, &sink_ops, &s, &st, err, sizeof(err)), 0);
	assert_int_equal(st.pages_data, 5);
	assert_int_equal(st.pages_zero, 3);
	assert_int_equal(st.pages_poisoned, 1);
	assert_int_equal(st.bytes, len);
	assert_memory_equal(s.mem + 63 * 4096, page_a, 4096);
	mig_reader_free(&r);
	close(p[0]);
	free(buf);
}

/* Every truncation point is an error, and says "truncated". */
static void test_truncated_everywhere(void **state)
{
	static struct sink s;
	char err[256];
	size_t len;
	uint8_t *buf = valid_stream(&len);

	for (size_t cut = 0; cut < len; cut++) {
		int rc = run_mem(buf, cut, &s, err, sizeof(err));

		if (rc != -EPIPE)
			fail_msg("cut at %zu of %zu: rc %d (%s)", cut, len, rc, err);
		assert_non_null(strstr(err, "truncated"));
	}
	free(buf);
}

/* Flipping any single bit anywhere makes the stream fail. */
static void test_bitflip_everywhere(void **state)
{
	static struct sink s;
	char err[256];
	size_t len;
	uint8_t *buf = valid_stream(&len);

	for (size_t i = 0; i < len; i++) {
		int bit = (int)(i % 8);

		buf[i] ^= (uint8_t)(1 << bit);
		if (run_mem(buf, len, &s, err, sizeof(err)) == 0)
			fail_msg("flip of bit %d at byte %zu of %zu went unnoticed", bit, i, len);
		buf[i] ^= (uint8_t)(1 << bit);
	}
	assert_int_equal(run_mem(buf, len, &s, err, sizeof(err)), 0);
	free(buf);
}

/* Hand-made records with a valid checksum, to reach the field checks. */
struct raw {
	uint8_t buf[16384];
	size_t len;
	uint64_t seq;
};

static void raw_preamble(struct raw *r)
{
	uint32_t v = MIG_VERSION, f = 0;

	memcpy(r->buf, MIG_MAGIC, 8);
	memcpy(r->buf + 8, &v, 4);
	memcpy(r->buf + 12, &f, 4);
	r->len = 16;
	r->seq = 0;
}

static void raw_record(struct raw *r, uint32_t type, const void *payload, uint32_t len)
{
	uint64_t sum = XXH3_64bits_withSeed(payload, len, mig_rec_seed(r->seq, type, len));

	memcpy(r->buf + r->len, &type, 4);
	memcpy(r->buf + r->len + 4, &len, 4);
	memcpy(r->buf + r->len + 8, payload, len);
	memcpy(r->buf + r->len + 8 + len, &sum, 8);
	r->len += 16 + len;
	r->seq++;
}

static void raw_hello(struct raw *r, uint64_t mem, uint32_t vcpus, uint32_t psz, uint32_t flags)
{
	uint8_t p[24] = { 0 };

	memcpy(p, &mem, 8);
	memcpy(p + 8, &vcpus, 4);
	memcpy(p + 12, &psz, 4);
	memcpy(p + 16, &flags, 4);
	raw_record(r, MIG_REC_HELLO, p, 24);
}

static void raw_page(struct raw *r, uint64_t gpa, uint16_t kind, uint16_t origin, int with_data)
{
	uint8_t p[16 + 4096] = { 0 };

	memcpy(p, &gpa, 8);
	memcpy(p + 8, &kind, 2);
	memcpy(p + 10, &origin, 2);
	raw_record(r, MIG_REC_PAGE, p, with_data ? 16 + 4096 : 16);
}

static void raw_end(struct raw *r, uint64_t pages, uint64_t states)
{
	uint64_t p[2] = { pages, states };

	raw_record(r, MIG_REC_END, p, 16);
}

static int run_raw(struct raw *r, char *err)
{
	static struct sink s;

	return run_mem(r->buf, r->len, &s, err, 256);
}

static void expect(struct raw *r, int want_rc, const char *want_msg)
{
	char err[256] = "";
	int rc = run_raw(r, err);

	if (rc != want_rc || !strstr(err, want_msg))
		fail_msg("rc %d (want %d), message '%s' (want '%s')", rc, want_rc, err, want_msg);
}

static void test_preamble_checks(void **state)
{
	struct raw r;

	raw_preamble(&r);
	r.buf[0] = 'X';
	expect(&r, -EPROTO, "bad magic");
	raw_preamble(&r);
	r.buf[8] = 9;
	expect(&r, -EPROTO, "version 9");
	raw_preamble(&r);
	r.buf[12] = 1;
	expect(&r, -EPROTO, "flags");
	raw_preamble(&r);
	expect(&r, -EPIPE, "without END");
}

static void test_hello_checks(void **state)
{
	static struct raw r;

	raw_preamble(&r);
	raw_hello(&r, MEM, 2, 8192, 0);
	expect(&r, -EPROTO, "page size 8192");
	raw_preamble(&r);
	raw_hello(&r, MEM + 1, 2, 4096, 0);
	expect(&r, -EPROTO, "memory size");
	raw_preamble(&r);
	raw_hello(&r, MIG_MAX_MEM + 4096, 2, 4096, 0);
	expect(&r, -EPROTO, "memory size");
	raw_preamble(&r);
	raw_hello(&r, MEM, 0, 4096, 0);
	expect(&r, -EPROTO, "vCPU count 0");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1000, 4096, 0);
	expect(&r, -EPROTO, "vCPU count 1000");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 4);
	expect(&r, -EPROTO, "unknown flags");
	/* the destination's own check (the sink wants MEM) */
	raw_preamble(&r);
	raw_hello(&r, 2 * MEM, 1, 4096, 0);
	expect(&r, -EINVAL, "does not match");
	/* ordering */
	raw_preamble(&r);
	raw_page(&r, 0, MIG_PAGE_ZERO, 0, 0);
	expect(&r, -EPROTO, "before HELLO");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_hello(&r, MEM, 1, 4096, 0);
	expect(&r, -EPROTO, "second HELLO");
}

static void test_page_checks(void **state)
{
	static struct raw r;

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, 100, MIG_PAGE_ZERO, 0, 0);
	expect(&r, -EPROTO, "not page aligned");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, MEM, MIG_PAGE_ZERO, 0, 0);
	expect(&r, -ERANGE, "outside");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, MIG_MAX_MEM, MIG_PAGE_ZERO, 0, 0);
	expect(&r, -EPROTO, "not page aligned below");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, 0, MIG_PAGE_DATA, 0, 0);
	expect(&r, -EPROTO, "no page data");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, 0, MIG_PAGE_POISONED, MIG_POISON_KNOWN, 1);
	expect(&r, -EPROTO, "must not carry data");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, 0, 9, 0, 0);
	expect(&r, -EPROTO, "unknown page kind 9");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, 0, MIG_PAGE_POISONED, 0, 0);
	expect(&r, -EPROTO, "unknown origin");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, 0, MIG_PAGE_ZERO, MIG_POISON_ON_READ, 0);
	expect(&r, -EPROTO, "poison origin");

	/* a valid poisoned page from a read error */
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, 0, MIG_PAGE_POISONED, MIG_POISON_ON_READ, 0);
	raw_end(&r, 1, 0);
	expect(&r, 0, "");
}

static void test_framing_checks(void **state)
{
	static struct raw r;
	uint8_t big[64] = { 0 };
	uint32_t t, l;

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, 42, big, 8);
	expect(&r, -EPROTO, "unknown type 42");

	/* a huge length is refused before anything is read or allocated */
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	t = MIG_REC_STATE;
	l = 0xfffffff0u;
	memcpy(r.buf + r.len, &t, 4);
	memcpy(r.buf + r.len + 4, &l, 4);
	r.len += 8;
	expect(&r, -E2BIG, "exceeds the cap");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, MIG_REC_PAGE, big, 40);
	expect(&r, -EPROTO, "neither");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, MIG_REC_END, big, 8);
	expect(&r, -EPROTO, "below the minimum");

	/* records swapped: checksums are bound to the position */
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	{
		size_t a = r.len;

		raw_page(&r, 0, MIG_PAGE_ZERO, 0, 0);
		size_t b = r.len;

		raw_page(&r, 4096, MIG_PAGE_ZERO, 0, 0);
		uint8_t tmp[32];

		memcpy(tmp, r.buf + a, 32);
		memcpy(r.buf + a, r.buf + b, 32);
		memcpy(r.buf + b, tmp, 32);
	}
	raw_end(&r, 2, 0);
	expect(&r, -EBADMSG, "checksum mismatch");
}

static void raw_zrange(struct raw *r, uint64_t gpa, uint64_t n)
{
	uint64_t p[2] = { gpa, n };

	raw_record(r, MIG_REC_ZERO_RANGE, p, 16);
}

static void test_zero_range_checks(void **state)
{
	static struct raw r;

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_zrange(&r, 0, 64);
	raw_end(&r, 1, 0);
	expect(&r, 0, "");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_zrange(&r, 0, 0);
	expect(&r, -EPROTO, "empty or beyond");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_zrange(&r, 4096, UINT64_MAX / 4096 + 5); /* would wrap around */
	expect(&r, -EPROTO, "empty or beyond");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_zrange(&r, 12, 1);
	expect(&r, -EPROTO, "not page aligned");

	/* a run leaving guest RAM: the destination's page check stops it */
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_zrange(&r, MEM - 4096, 2);
	expect(&r, -ERANGE, "outside");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, MIG_REC_ZERO_RANGE, "12345678", 8);
	expect(&r, -EPROTO, "below the minimum");
}

static void test_state_end_abort(void **state)
{
	static struct raw r;
	uint8_t st[40] = { 0 };
	uint32_t kind = MIG_STATE_DEVICE;

	memcpy(st, &kind, 4);
	memcpy(st + 8, "uart", 4);
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, MIG_REC_STATE, st, 40);
	raw_end(&r, 0, 1);
	expect(&r, 0, "");

	st[8] = '\n';
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, MIG_REC_STATE, st, 40);
	expect(&r, -EPROTO, "bad character");

	memcpy(st + 8, "uart\0x", 6);
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, MIG_REC_STATE, st, 40);
	expect(&r, -EPROTO, "garbage after the name");

	memset(st + 8, 0, 16);
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, MIG_REC_STATE, st, 40);
	expect(&r, -EPROTO, "empty name");

	kind = 77;
	memcpy(st, &kind, 4);
	memcpy(st + 8, "uart", 4);
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_record(&r, MIG_REC_STATE, st, 40);
	expect(&r, -EPROTO, "unknown state kind 77");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_page(&r, 0, MIG_PAGE_ZERO, 0, 0);
	raw_end(&r, 2, 0);
	expect(&r, -EPROTO, "END: source sent 2 pages");

	{
		uint8_t m[8 + 11] = { 0 };

		memcpy(m + 8, "disk failed", 11);
		raw_preamble(&r);
		raw_hello(&r, MEM, 1, 4096, 0);
		raw_record(&r, MIG_REC_ABORT, m, sizeof(m));
		expect(&r, -ECANCELED, "source aborted the migration: disk failed");
		m[9] = 0x07;
		raw_preamble(&r);
		raw_hello(&r, MEM, 1, 4096, 0);
		raw_record(&r, MIG_REC_ABORT, m, sizeof(m));
		expect(&r, -EPROTO, "not printable");
		raw_preamble(&r);
		raw_hello(&r, MEM, 1, 4096, 0);
		m[9] = 'x';
		raw_record(&r, MIG_REC_ACK, m, sizeof(m));
		expect(&r, -EPROTO, "unexpected ACK");
	}
}

/* The fd reader gives up on a silent peer with a clear message. */
static void test_stall_timeout(void **state)
{
	struct mig_reader r;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], MIG_MAGIC, 8), 8);
	assert_int_equal(mig_reader_init_fd(&r, p[0], 100), 0);
	assert_int_equal(mig_read_preamble(&r), -ETIMEDOUT);
	assert_non_null(strstr(r.err, "stalled"));
	mig_reader_free(&r);
	close(p[0]);
	close(p[1]);
}

/* The writer reports a closed destination instead of dying of SIGPIPE. */
static void test_writer_peer_closed(void **state)
{
	struct mig_writer w;
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(mig_writer_init(&w, p[1], 100), 0);
	assert_int_equal(mig_put_preamble(&w), 0);
	assert_int_equal(mig_flush(&w), -EPIPE);
	assert_non_null(strstr(w.err, "closed"));
	mig_writer_free(&w);
	close(p[1]);
}

/* The writer's own argument checks. */
static void test_writer_rejects(void **state)
{
	struct mig_writer w;

	assert_int_equal(mig_writer_init(&w, -1, 0), 0);
	assert_int_equal(mig_put_page(&w, 0, MIG_PAGE_DATA, 0, NULL), -EINVAL);
	assert_int_equal(mig_put_page(&w, 0, 7, 0, NULL), -EINVAL);
	assert_int_equal(mig_put_state(&w, MIG_STATE_VCPU, 0, "", 0, NULL, 0), -EINVAL);
	assert_int_equal(mig_put_state(&w, MIG_STATE_VCPU, 0, "a-name-longer-than-16", 0, NULL, 0),
			 -EINVAL);
	assert_int_equal(mig_put_state(&w, MIG_STATE_VCPU, 0, "x", 0, "", MIG_STATE_MAX + 1),
			 -EINVAL);
	assert_int_equal(mig_put_msg(&w, MIG_REC_PAGE, 0, "x"), -EINVAL);
	assert_int_equal(mig_put_range(&w, MIG_PAGE_ZERO, 0, 0), -EINVAL);
	mig_writer_free(&w);
}

/* ---- PAGES runs, post-copy streams and the return channel ---- */

struct runs_sink {
	struct sink s;
	uint64_t range_pages; /* pages of ZERO_RANGE / FREE_RANGE records */
	uint32_t runs[8];     /* npages of each PAGES callback */
	unsigned nruns;
	uint8_t pending[8];
	uint64_t pending_npages;
};

static int runs_pages(void *ctx, uint64_t gpa, uint32_t npages, const uint8_t *data, char *err,
		      size_t errlen)
{
	struct runs_sink *rs = ctx;

	if (gpa + (uint64_t)npages * 4096 > MEM) {
		snprintf(err, errlen, "run outside the guest memory");
		return -ERANGE;
	}
	memcpy(rs->s.mem + gpa, data, (size_t)npages * 4096);
	for (uint32_t i = 0; i < npages; i++)
		rs->s.kind[gpa / 4096 + i] = MIG_PAGE_DATA;
	if (rs->nruns < 8)
		rs->runs[rs->nruns++] = npages;
	return 0;
}

static int runs_pending(void *ctx, const struct mig_record *rec, char *err, size_t errlen)
{
	struct runs_sink *rs = ctx;

	rs->pending_npages = rec->u.pending.npages;
	memcpy(rs->pending, rec->u.pending.bitmap,
	       rec->u.pending.npages / 8 < 8 ? (rec->u.pending.npages + 7) / 8 : 8);
	return 0;
}

static int runs_range(void *ctx, uint64_t gpa, uint64_t npages, uint32_t kind, char *err,
		      size_t errlen)
{
	struct runs_sink *rs = ctx;

	if (gpa + npages * 4096 > MEM) {
		snprintf(err, errlen, "run outside the guest memory");
		return -ERANGE;
	}
	memset(rs->s.mem + gpa, 0, npages * 4096);
	memset(rs->s.kind + gpa / 4096, (int)kind, npages);
	rs->range_pages += npages;
	return 0;
}

static const struct mig_recv_ops runs_ops = { .hello = sink_hello,
					      .page = sink_page,
					      .pages = runs_pages,
					      .range = runs_range,
					      .state = sink_state,
					      .pending = runs_pending };

/* 64 pages fill one PAGES record; the 65th starts the next; a gap too. */
static void test_pages_runs(void **state)
{
	static uint8_t pages[MEM];
	static struct runs_sink rs;
	struct mig_hello h = { .mem_size = MEM, .nr_vcpus = 1, .page_size = 4096 };
	struct mig_reader r;
	struct out o;
	uint8_t *buf, *slot;
	char err[256];
	size_t len;

	for (size_t i = 0; i < sizeof(pages); i++)
		pages[i] = (uint8_t)(i * 13 + i / 4096);
	out_open(&o);
	assert_int_equal(mig_put_preamble(&o.w), 0);
	assert_int_equal(mig_put_hello(&o.w, &h), 0);
	for (unsigned p = 0; p < 64; p++) {
		if (p == 40)
			continue; /* a gap: pages 0-39 and 41-63, then 64... none */
		assert_int_equal(mig_run_slot(&o.w, p * 4096ull, &slot), 0);
		memcpy(slot, pages + p * 4096, 4096);
	}
	assert_int_equal(mig_put_pages(&o.w, 0, 64, pages), 0); /* a whole record again */
	assert_int_equal(mig_put_pages(&o.w, 0, 65, pages), -EINVAL);
	assert_int_equal(mig_put_pages(&o.w, 0, 0, pages), -EINVAL);
	assert_int_equal(o.w.page_records, 3);
	assert_int_equal(mig_put_end(&o.w), 0);
	buf = out_close(&o, &len);

	memset(&rs, 0, sizeof(rs));
	rs.s.want_mem = MEM;
	mig_reader_init_mem(&r, buf, len);
	assert_int_equal(mig_recv_stream(&r, &runs_ops, &rs, NULL, err, sizeof(err)), 0);
	mig_reader_free(&r);
	assert_int_equal(rs.nruns, 3);
	assert_int_equal(rs.runs[0], 40);
	assert_int_equal(rs.runs[1], 23);
	assert_int_equal(rs.runs[2], 64);
	assert_memory_equal(rs.s.mem, pages, MEM);
	/* without a pages() callback each page goes to page() */
	assert_int_equal(run_mem(buf, len, &rs.s, err, sizeof(err)), 0);
	assert_memory_equal(rs.s.mem, pages, MEM);
	free(buf);
}

static void raw_pages(struct raw *r, uint64_t gpa, uint32_t npages, uint32_t carried)
{
	static uint8_t p[16 + 3 * 4096 + 1];

	memcpy(p, &gpa, 8);
	memcpy(p + 8, &npages, 4);
	raw_record(r, MIG_REC_PAGES, p, 16 + carried);
}

static void test_pages_checks(void **state)
{
	static struct raw r;

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pages(&r, 4096, 2, 2 * 4096);
	raw_end(&r, 1, 0);
	expect(&r, 0, "");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pages(&r, 0, 1, 4096 + 1);
	expect(&r, -EPROTO, "not a whole number of pages");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pages(&r, 0, 3, 2 * 4096);
	expect(&r, -EPROTO, "3 pages announced, 2 carried");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pages(&r, MIG_MAX_MEM - 4096, 2, 2 * 4096);
	expect(&r, -EPROTO, "not page aligned below");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pages(&r, 0, 0, 0);
	expect(&r, -EPROTO, "below the minimum");

	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pages(&r, MEM - 4096, 2, 2 * 4096);
	expect(&r, -ERANGE, "outside"); /* the sink's own check, page by page */
}

/*
 * A post-copy stream: pages, PENDING, STATE, POSTCOPY, the pending pages,
 * END. mig_recv_run() stops at POSTCOPY and goes on when called again.
 */
static uint8_t *postcopy_stream(size_t *len, bool state_late)
{
	struct mig_hello h = { .mem_size = MEM, .nr_vcpus = 1, .page_size = 4096 };
	uint8_t bitmap[8] = { 0, 0xff, 0, 0, 0, 0, 0, 0x80 }; /* pages 8-15 and 63 */
	struct out o;

	out_open(&o);
	assert_int_equal(mig_put_preamble(&o.w), 0);
	assert_int_equal(mig_put_hello(&o.w, &h), 0);
	assert_int_equal(mig_put_pages(&o.w, 0, 1, page_a), 0);
	assert_int_equal(mig_put_pending(&o.w, 0, 64, bitmap), 0);
	assert_int_equal(mig_put_state(&o.w, MIG_STATE_VCPU, 0, "vcpu", 1, "x", 1), 0);
	assert_int_equal(mig_put_postcopy(&o.w, 9), 0);
	assert_int_equal(mig_put_page(&o.w, 63 * 4096, MIG_PAGE_DATA, 0, page_b), 0);
	assert_int_equal(mig_put_pages(&o.w, 8 * 4096, 1, page_b), 0);
	assert_int_equal(mig_put_range(&o.w, MIG_PAGE_ZERO, 9 * 4096, 6), 0);
	assert_int_equal(mig_put_page(&o.w, 15 * 4096, MIG_PAGE_POISONED, MIG_POISON_ON_READ, NULL),
			 0);
	if (state_late)
		assert_int_equal(mig_put_state(&o.w, MIG_STATE_VCPU, 1, "vcpu", 1, "y", 1), 0);
	assert_int_equal(mig_put_end(&o.w), 0);
	return out_close(&o, len);
}

static void test_postcopy_stream(void **state)
{
	static struct runs_sink rs;
	struct mig_recv rv;
	struct mig_reader r;
	char err[256];
	size_t len;
	uint8_t *buf = postcopy_stream(&len, false);

	memset(&rs, 0, sizeof(rs));
	rs.s.want_mem = MEM;
	mig_reader_init_mem(&r, buf, len);
	mig_recv_init(&rv, &runs_ops, &rs);
	assert_int_equal(mig_recv_run(&rv, &r, err, sizeof(err)), MIG_RECV_POSTCOPY);
	assert_int_equal(rs.pending_npages, 64);
	assert_int_equal(rs.pending[1], 0xff);
	assert_int_equal(rs.pending[7], 0x80);
	assert_int_equal(rs.s.states, 1);
	assert_int_equal(rs.s.kind[63], 0); /* not yet */
	assert_int_equal(mig_recv_run(&rv, &r, err, sizeof(err)), 0);
	assert_memory_equal(rs.s.mem + 63 * 4096, page_b, 4096);
	assert_memory_equal(rs.s.mem + 8 * 4096, page_b, 4096);
	assert_int_equal(rs.s.kind[15], MIG_PAGE_POISONED);
	assert_int_equal(rs.s.kind[9], MIG_PAGE_ZERO);
	assert_int_equal(rs.range_pages, 6); /* one range() call, not six page() */
	assert_int_equal(rv.st.pages_data, 3);
	assert_int_equal(rv.st.pages_zero, 6);
	assert_int_equal(rv.st.pages_poisoned, 1);
	mig_reader_free(&r);
	/* the one-call form reads both parts */
	assert_int_equal(run_mem(buf, len, &rs.s, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "does not take post-copy"));
	free(buf);

	buf = postcopy_stream(&len, true);
	mig_reader_init_mem(&r, buf, len);
	assert_int_equal(mig_recv_stream(&r, &runs_ops, &rs, NULL, err, sizeof(err)), -EPROTO);
	if (!strstr(err, "STATE record #9 after POSTCOPY"))
		fail_msg("%s", err);
	mig_reader_free(&r);
	free(buf);
}

/* a PENDING record whose bitmap is 0xff, last (2 bytes) */
static void raw_pending(struct raw *r, uint64_t gpa, uint64_t npages, uint8_t last)
{
	uint8_t p[16 + 2] = { 0 };

	memcpy(p, &gpa, 8);
	memcpy(p + 8, &npages, 8);
	p[16] = 0xff;
	p[17] = last;
	raw_record(r, MIG_REC_PENDING, p, sizeof(p));
}

/* expect() for a destination that takes post-copy */
static void expect_pc(struct raw *r, int want_rc, const char *want_msg)
{
	static struct runs_sink rs;
	struct mig_reader rd;
	char err[256] = "";
	int rc;

	memset(&rs, 0, sizeof(rs));
	rs.s.want_mem = MEM;
	mig_reader_init_mem(&rd, r->buf, r->len);
	rc = mig_recv_stream(&rd, &runs_ops, &rs, NULL, err, sizeof(err));
	mig_reader_free(&rd);
	if (rc != want_rc || !strstr(err, want_msg))
		fail_msg("rc %d (want %d), message '%s' (want '%s')", rc, want_rc, err, want_msg);
}

static void test_postcopy_checks(void **state)
{
	static struct raw r;
	uint64_t pc[3] = { 0, 0, 12 };

	/* PENDING: bits past the last page, size mismatch, beyond the cap */
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pending(&r, 0, 12, 0x0f);
	raw_record(&r, MIG_REC_POSTCOPY, pc, sizeof(pc));
	raw_end(&r, 0, 0);
	expect_pc(&r, 0, "");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pending(&r, 0, 12, 0x10);
	expect_pc(&r, -EPROTO, "bits set past its last page");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pending(&r, 0, 24, 0);
	expect_pc(&r, -EPROTO, "24 pages do not match a bitmap of 2 bytes");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pending(&r, MIG_MAX_MEM - 4096, 16, 0);
	expect_pc(&r, -EPROTO, "not page aligned below");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	raw_pending(&r, 0, 16, 0);
	expect(&r, -EPROTO, "does not take post-copy");

	/* POSTCOPY with counts that do not match */
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	pc[0] = 1;
	raw_record(&r, MIG_REC_POSTCOPY, pc, sizeof(pc));
	expect_pc(&r, -EPROTO, "POSTCOPY: source sent 1 pages");

	/* a destination without post-copy (vessel run --no-postcopy) refuses
	 * each post-copy record, even a post-copy of nothing, and the CHANNEL
	 * that announces one */
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	pc[0] = 0;
	raw_record(&r, MIG_REC_POSTCOPY, pc, sizeof(pc));
	expect(&r, -EPROTO, "POSTCOPY record #1: this destination does not take post-copy");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	{
		uint32_t ch[6] = { MIG_CHANNEL_URGENT, 0, 1, 2, 3, 4 };

		raw_record(&r, MIG_REC_CHANNEL, ch, sizeof(ch));
		expect(&r, -EPROTO, "CHANNEL record #1: this destination does not take post-copy");
		raw_preamble(&r);
		raw_hello(&r, MEM, 1, 4096, 0);
		raw_record(&r, MIG_REC_CHANNEL, ch, sizeof(ch));
		raw_record(&r, MIG_REC_POSTCOPY, pc, sizeof(pc));
		raw_end(&r, 0, 0);
		expect_pc(&r, 0, "");
	}

	/* the destination's records have no place in a source stream */
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	pc[0] = 0;
	raw_record(&r, MIG_REC_SYNC, pc, 16);
	expect(&r, -EPROTO, "unexpected SYNC record");
	raw_preamble(&r);
	raw_hello(&r, MEM, 1, 4096, 0);
	pc[1] = 1;
	raw_record(&r, MIG_REC_REQUEST, pc, 16);
	expect(&r, -EPROTO, "unexpected REQUEST record");
}

/* SYNC and REQUEST, the destination's records, through the reader. */
static void test_return_records(void **state)
{
	static struct raw r;
	struct mig_record rec;
	struct mig_reader rd;
	struct out o;
	uint64_t q[2] = { 4096, 65 };
	uint8_t *buf;
	size_t len;

	out_open(&o);
	assert_int_equal(mig_put_sync(&o.w, 3, 123456), 0);
	assert_int_equal(mig_put_request(&o.w, 0x5000, 64), 0);
	assert_int_equal(mig_put_request(&o.w, 0x5000, 65), -EINVAL);
	assert_int_equal(mig_put_request(&o.w, 0x5000, 0), -EINVAL);
	assert_int_equal(mig_put_msg(&o.w, MIG_REC_ACK, 0, "restored"), 0);
	buf = out_close(&o, &len);
	mig_reader_init_mem(&rd, buf, len);
	assert_int_equal(mig_read_record(&rd, &rec), 0);
	assert_int_equal(rec.type, MIG_REC_SYNC);
	assert_int_equal(rec.u.sync.pass, 3);
	assert_int_equal(rec.u.sync.bytes, 123456);
	assert_int_equal(mig_read_record(&rd, &rec), 0);
	assert_int_equal(rec.type, MIG_REC_REQUEST);
	assert_int_equal(rec.u.request.gpa, 0x5000);
	assert_int_equal(rec.u.request.npages, 64);
	assert_int_equal(mig_read_record(&rd, &rec), 0);
	assert_int_equal(rec.type, MIG_REC_ACK);
	mig_reader_free(&rd);
	free(buf);

	r.len = 0;
	r.seq = 0;
	raw_record(&r, MIG_REC_REQUEST, q, 16);
	mig_reader_init_mem(&rd, r.buf, r.len);
	assert_int_equal(mig_read_record(&rd, &rec), -EPROTO);
	assert_non_null(strstr(rd.err, "REQUEST record #0: 65 pages from 0x1000"));
	mig_reader_free(&rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_fd),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bitflip_everywhere),
		cmocka_unit_test(test_preamble_checks),
		cmocka_unit_test(test_hello_checks),
		cmocka_unit_test(test_page_checks),
		cmocka_unit_test(test_framing_checks),
		cmocka_unit_test(test_zero_range_checks),
		cmocka_unit_test(test_state_end_abort),
		cmocka_unit_test(test_stall_timeout),
		cmocka_unit_test(test_writer_peer_closed),
		cmocka_unit_test(test_writer_rejects),
		cmocka_unit_test(test_pages_runs),
		cmocka_unit_test(test_pages_checks),
		cmocka_unit_test(test_postcopy_stream),
		cmocka_unit_test(test_postcopy_checks),
		cmocka_unit_test(test_return_records),
	};

	return cmocka_run_group_tests_name("mig_stream", tests, NULL, NULL);
}
