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

/* A valid stream: HELLO, 3 DATA, 1 ZERO, 1 POISONED, PASS, ZERO_RANGE, STATE, END. */
static uint8_t *valid_stream(size_t *len)
{
	struct mig_hello h = { .mem_size = MEM, .nr_vcpus = 2, .page_size = 4096 };
	struct out o;

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
	assert_int_equal(st.pages_data, 3);
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
	r.buf[8] = 2;
	expect(&r, -EPROTO, "version 2");
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
	};

	return cmocka_run_group_tests_name("mig_stream", tests, NULL, NULL);
}
