// SPDX-License-Identifier: MIT
/* Migration stream: the validating reader (see stream.h). Everything it
 * returns has been checked: framing, size caps, checksum, every field. */
#include "stream.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxh_x86dispatch.h> /* XXH3 with the widest vector unit the CPU has (AVX2: 2x SSE2) */

#define READER_BUF (MIG_REC_HDR_LEN + MIG_MAX_RECORD_LEN + MIG_REC_SUM_LEN + (64u << 10))

static int fail(struct mig_reader *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc;
}

int mig_reader_init_conn(struct mig_reader *r, const struct mig_conn *c, int timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->conn = *c;
	r->timeout_ms = timeout_ms;
	r->cap = READER_BUF;
	r->buf = malloc(r->cap);
	return r->buf ? 0 : -ENOMEM;
}

int mig_reader_init_fd(struct mig_reader *r, int fd, int timeout_ms)
{
	struct mig_conn c;

	mig_conn_plain(&c, fd);
	return mig_reader_init_conn(r, &c, timeout_ms);
}

int mig_reader_push(struct mig_reader *r, const void *data, size_t n)
{
	if (!r->conn.ops || r->start || r->end + n > r->cap)
		return -EINVAL;
	memcpy(r->buf + r->end, data, n);
	r->end += n;
	return 0;
}

int mig_reader_init_mem(struct mig_reader *r, const void *data, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->mem = data;
	r->mem_len = len;
	return 0;
}

void mig_reader_free(struct mig_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/*
 * Make `need` bytes available at *p. Returns 0, or -EPIPE with *got = the
 * bytes that were there when the stream ended, or a transport error.
 */
static int want(struct mig_reader *r, size_t need, const uint8_t **p, size_t *got)
{
	ssize_t n;

	if (!r->conn.ops) {
		size_t left = r->mem_len - r->start;

		*got = left;
		if (left < need)
			return -EPIPE;
		*p = r->mem + r->start;
		return 0;
	}
	while (r->end - r->start < need) {
		if (r->start + need > r->cap) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		n = mig_conn_read_some(&r->conn, r->buf + r->end, r->cap - r->end, r->timeout_ms);
		if (n == 0) {
			*got = r->end - r->start;
			return -EPIPE;
		}
		if (n < 0) {
			*got = r->end - r->start;
			return (int)n;
		}
		r->end += (size_t)n;
	}
	*p = r->buf + r->start;
	*got = need;
	return 0;
}

static void consume(struct mig_reader *r, size_t n)
{
	r->start += n;
	r->bytes += n;
}

static int io_fail(struct mig_reader *r, int rc, size_t need, size_t got, const char *what)
{
	if (rc == -EPIPE)
		return fail(r, rc,
			    "truncated migration stream: %s needs %zu bytes at offset %llu, "
			    "only %zu arrived before the stream ended",
			    what, need, (unsigned long long)r->bytes, got);
	if (rc == -ETIMEDOUT)
		return fail(r, rc, "migration stream stalled: no data for %d ms while reading %s",
			    r->timeout_ms, what);
	return fail(r, rc, "reading the migration stream failed at %s: %s", what,
		    mig_conn_error(&r->conn) ? mig_conn_error(&r->conn) : strerror(-rc));
}

static uint16_t le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

int mig_read_preamble(struct mig_reader *r)
{
	const uint8_t *p;
	size_t got;
	int rc;

	rc = want(r, MIG_PREAMBLE_LEN, &p, &got);
	if (rc)
		return io_fail(r, rc, MIG_PREAMBLE_LEN, got, "the preamble");
	rc = mig_check_preamble(p, r->err, sizeof(r->err));
	if (rc)
		return rc;
	consume(r, MIG_PREAMBLE_LEN);
	return 0;
}

int mig_check_preamble(const uint8_t *p, char *err, size_t errlen)
{
	if (memcmp(p, MIG_MAGIC, MIG_MAGIC_LEN) != 0)
		snprintf(err, errlen, "not a Vessel migration stream (bad magic)");
	else if (le32(p + 8) != MIG_VERSION)
		snprintf(err, errlen, "unsupported migration stream version %u (this is %u)",
			 le32(p + 8), MIG_VERSION);
	else if (le32(p + 12) != 0)
		snprintf(err, errlen, "unknown migration stream flags %#x", le32(p + 12));
	else
		return 0;
	return -EPROTO;
}

/* Payload length rules per type: [min, max]. */
static int check_length(struct mig_reader *r, uint32_t type, uint32_t len)
{
	uint32_t min, max;

	switch (type) {
	case MIG_REC_HELLO:
		min = max = MIG_HELLO_LEN;
		break;
	case MIG_REC_PAGE:
		min = MIG_PAGE_HDR_LEN;
		max = MIG_PAGE_HDR_LEN + MIG_PAGE_SIZE;
		if (len != min && len != max && len <= max)
			return fail(r, -EPROTO, "PAGE record #%llu: length %u is neither %u nor %u",
				    (unsigned long long)r->seq, len, min, max);
		break;
	case MIG_REC_PASS:
		min = max = MIG_PASS_LEN;
		break;
	case MIG_REC_STATE:
		min = MIG_STATE_HDR_LEN;
		max = MIG_STATE_HDR_LEN + MIG_STATE_MAX;
		break;
	case MIG_REC_END:
		min = max = MIG_END_LEN;
		break;
	case MIG_REC_ZERO_RANGE:
	case MIG_REC_FREE_RANGE:
		min = max = MIG_ZRANGE_LEN;
		break;
	case MIG_REC_ABORT:
	case MIG_REC_ACK:
		min = MIG_MSG_HDR_LEN;
		max = MIG_MSG_HDR_LEN + MIG_MSG_MAX;
		break;
	case MIG_REC_PAGES:
		min = MIG_PAGES_HDR_LEN + MIG_PAGE_SIZE;
		max = MIG_PAGES_HDR_LEN + MIG_RUN_MAX * MIG_PAGE_SIZE;
		if (len >= min && len <= max && (len - MIG_PAGES_HDR_LEN) % MIG_PAGE_SIZE)
			return fail(r, -EPROTO,
				    "PAGES record #%llu: length %u is not a whole number of pages",
				    (unsigned long long)r->seq, len);
		break;
	case MIG_REC_SYNC:
		min = max = MIG_SYNC_LEN;
		break;
	case MIG_REC_PENDING:
		min = MIG_PENDING_HDR_LEN + 1;
		max = MIG_PENDING_HDR_LEN + MIG_PENDING_MAX / 8;
		break;
	case MIG_REC_POSTCOPY:
		min = max = MIG_POSTCOPY_LEN;
		break;
	case MIG_REC_REQUEST:
		min = max = MIG_REQUEST_LEN;
		break;
	case MIG_REC_CHANNEL:
		min = max = MIG_CHANNEL_LEN;
		break;
	default:
		return fail(r, -EPROTO, "record #%llu at offset %llu has unknown type %u",
			    (unsigned long long)r->seq, (unsigned long long)r->bytes, type);
	}
	if (len > max)
		return fail(r, -E2BIG, "%s record #%llu: length %u exceeds the cap of %u bytes",
			    mig_rec_type_name(type), (unsigned long long)r->seq, len, max);
	if (len < min)
		return fail(r, -EPROTO, "%s record #%llu: length %u is below the minimum of %u",
			    mig_rec_type_name(type), (unsigned long long)r->seq, len, min);
	return 0;
}

static int printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return 0;
	return 1;
}

static int name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return fail(r, -EPROTO, __VA_ARGS__);                                      \
	} while (0)

static int decode(struct mig_reader *r, struct mig_record *rec, const uint8_t *p, uint32_t len)
{
	unsigned long long seq = (unsigned long long)rec->seq;
	uint32_t n;

	switch (rec->type) {
	case MIG_REC_HELLO: {
		struct mig_hello *h = &rec->u.hello;

		h->mem_size = le64(p);
		h->nr_vcpus = le32(p + 8);
		h->page_size = le32(p + 12);
		h->flags = le32(p + 16);
		REQUIRE(h->page_size == MIG_PAGE_SIZE, "HELLO: page size %u, expected %u",
			h->page_size, MIG_PAGE_SIZE);
		REQUIRE(h->mem_size && h->mem_size % MIG_PAGE_SIZE == 0 &&
				h->mem_size <= MIG_MAX_MEM,
			"HELLO: memory size %llu is not a non-zero multiple of %u up to %llu",
			(unsigned long long)h->mem_size, MIG_PAGE_SIZE, MIG_MAX_MEM);
		REQUIRE(h->nr_vcpus >= 1 && h->nr_vcpus <= MIG_MAX_VCPUS,
			"HELLO: vCPU count %u outside 1..%u", h->nr_vcpus, MIG_MAX_VCPUS);
		REQUIRE(h->flags == 0, "HELLO: unknown flags %#x", h->flags);
		REQUIRE(le32(p + 20) == 0, "HELLO: reserved field is not zero");
		break;
	}
	case MIG_REC_PAGE:
		rec->u.page.gpa = le64(p);
		rec->u.page.kind = le16(p + 8);
		rec->u.page.origin = le16(p + 10);
		rec->u.page.data = NULL;
		REQUIRE(rec->u.page.gpa % MIG_PAGE_SIZE == 0 && rec->u.page.gpa < MIG_MAX_MEM,
			"PAGE record #%llu: address %#llx is not page aligned below %#llx", seq,
			(unsigned long long)rec->u.page.gpa, MIG_MAX_MEM);
		REQUIRE(le32(p + 12) == 0, "PAGE record #%llu: reserved field is not zero", seq);
		switch (rec->u.page.kind) {
		case MIG_PAGE_DATA:
			REQUIRE(len == MIG_PAGE_HDR_LEN + MIG_PAGE_SIZE,
				"PAGE record #%llu (DATA, gpa %#llx): no page data", seq,
				(unsigned long long)rec->u.page.gpa);
			rec->u.page.data = p + MIG_PAGE_HDR_LEN;
			break;
		case MIG_PAGE_ZERO:
		case MIG_PAGE_POISONED:
		case MIG_PAGE_FREE:
			REQUIRE(len == MIG_PAGE_HDR_LEN,
				"PAGE record #%llu (%s, gpa %#llx) must not carry data", seq,
				mig_page_kind_name(rec->u.page.kind),
				(unsigned long long)rec->u.page.gpa);
			break;
		default:
			return fail(r, -EPROTO, "PAGE record #%llu: unknown page kind %u", seq,
				    rec->u.page.kind);
		}
		if (rec->u.page.kind == MIG_PAGE_POISONED)
			REQUIRE(rec->u.page.origin >= MIG_POISON_KNOWN &&
					rec->u.page.origin <= MIG_POISON_ORIGIN_MAX,
				"PAGE record #%llu: POISONED with unknown origin %u", seq,
				rec->u.page.origin);
		else
			REQUIRE(rec->u.page.origin == MIG_POISON_NONE,
				"PAGE record #%llu: %s page with a poison origin", seq,
				mig_page_kind_name(rec->u.page.kind));
		break;
	case MIG_REC_PASS:
		rec->u.pass.pass = le32(p);
		rec->u.pass.pages = le64(p + 8);
		rec->u.pass.dirty_left = le64(p + 16);
		REQUIRE(le32(p + 4) == 0, "PASS record #%llu: reserved field is not zero", seq);
		REQUIRE(rec->u.pass.pages <= MIG_MAX_MEM / MIG_PAGE_SIZE &&
				rec->u.pass.dirty_left <= MIG_MAX_MEM / MIG_PAGE_SIZE,
			"PASS record #%llu: page counts out of range", seq);
		break;
	case MIG_REC_STATE:
		rec->u.state.kind = le32(p);
		rec->u.state.instance = le32(p + 4);
		rec->u.state.version = le32(p + 24);
		REQUIRE(rec->u.state.kind >= MIG_STATE_VCPU &&
				rec->u.state.kind <= MIG_STATE_KIND_MAX,
			"STATE record #%llu: unknown state kind %u", seq, rec->u.state.kind);
		REQUIRE(le32(p + 28) == 0, "STATE record #%llu: reserved field is not zero", seq);
		for (n = 0; n < MIG_STATE_NAME_LEN && p[8 + n]; n++)
			REQUIRE(name_char(p[8 + n]),
				"STATE record #%llu: bad character %#x in the name", seq, p[8 + n]);
		REQUIRE(n > 0, "STATE record #%llu: empty name", seq);
		for (uint32_t i = n; i < MIG_STATE_NAME_LEN; i++)
			REQUIRE(p[8 + i] == 0, "STATE record #%llu: garbage after the name", seq);
		memcpy(rec->u.state.name, p + 8, n);
		rec->u.state.name[n] = 0;
		rec->u.state.data = p + MIG_STATE_HDR_LEN;
		rec->u.state.len = len - MIG_STATE_HDR_LEN;
		break;
	case MIG_REC_END:
		rec->u.end.page_records = le64(p);
		rec->u.end.state_records = le64(p + 8);
		rec->u.end.pending = 0;
		break;
	case MIG_REC_POSTCOPY:
		rec->u.end.page_records = le64(p);
		rec->u.end.state_records = le64(p + 8);
		rec->u.end.pending = le64(p + 16);
		REQUIRE(rec->u.end.pending <= MIG_MAX_MEM / MIG_PAGE_SIZE,
			"POSTCOPY record #%llu: %llu pending pages is more than any guest has", seq,
			(unsigned long long)rec->u.end.pending);
		break;
	case MIG_REC_PAGES:
		rec->u.pages.gpa = le64(p);
		rec->u.pages.npages = le32(p + 8);
		rec->u.pages.data = p + MIG_PAGES_HDR_LEN;
		REQUIRE(le32(p + 12) == 0, "PAGES record #%llu: reserved field is not zero", seq);
		REQUIRE(rec->u.pages.npages == (len - MIG_PAGES_HDR_LEN) / MIG_PAGE_SIZE,
			"PAGES record #%llu: %u pages announced, %u carried", seq,
			rec->u.pages.npages, (len - MIG_PAGES_HDR_LEN) / MIG_PAGE_SIZE);
		REQUIRE(rec->u.pages.gpa % MIG_PAGE_SIZE == 0 &&
				rec->u.pages.gpa <=
					MIG_MAX_MEM - (uint64_t)rec->u.pages.npages * MIG_PAGE_SIZE,
			"PAGES record #%llu: %u pages from %#llx are not page aligned below %#llx",
			seq, rec->u.pages.npages, (unsigned long long)rec->u.pages.gpa,
			MIG_MAX_MEM);
		break;
	case MIG_REC_SYNC:
		rec->u.sync.pass = le32(p);
		rec->u.sync.bytes = le64(p + 8);
		REQUIRE(le32(p + 4) == 0, "SYNC record #%llu: reserved field is not zero", seq);
		break;
	case MIG_REC_PENDING: {
		uint64_t nbytes;

		rec->u.pending.gpa = le64(p);
		rec->u.pending.npages = le64(p + 8);
		rec->u.pending.bitmap = p + MIG_PENDING_HDR_LEN;
		nbytes = (rec->u.pending.npages + 7) / 8;
		REQUIRE(rec->u.pending.npages >= 1 && rec->u.pending.npages <= MIG_PENDING_MAX &&
				nbytes == len - MIG_PENDING_HDR_LEN,
			"PENDING record #%llu: %llu pages do not match a bitmap of %u bytes", seq,
			(unsigned long long)rec->u.pending.npages, len - MIG_PENDING_HDR_LEN);
		REQUIRE(rec->u.pending.gpa % MIG_PAGE_SIZE == 0 &&
				rec->u.pending.gpa <=
					MIG_MAX_MEM - rec->u.pending.npages * MIG_PAGE_SIZE,
			"PENDING record #%llu: %llu pages from %#llx are not page aligned below "
			"%#llx",
			seq, (unsigned long long)rec->u.pending.npages,
			(unsigned long long)rec->u.pending.gpa, MIG_MAX_MEM);
		REQUIRE(rec->u.pending.npages % 8 == 0 ||
				!(p[len - 1] >> (rec->u.pending.npages % 8)),
			"PENDING record #%llu: bits set past its last page", seq);
		break;
	}
	case MIG_REC_CHANNEL:
		rec->u.channel.kind = le32(p);
		memcpy(rec->u.channel.token, p + 8, MIG_TOKEN_LEN);
		REQUIRE(le32(p + 4) == 0, "CHANNEL record #%llu: reserved field is not zero", seq);
		REQUIRE(rec->u.channel.kind == MIG_CHANNEL_URGENT,
			"CHANNEL record #%llu: unknown kind %u", seq, rec->u.channel.kind);
		break;
	case MIG_REC_REQUEST:
		rec->u.request.gpa = le64(p);
		rec->u.request.npages = le32(p + 8);
		REQUIRE(le32(p + 12) == 0, "REQUEST record #%llu: reserved field is not zero", seq);
		REQUIRE(rec->u.request.npages >= 1 && rec->u.request.npages <= MIG_REQUEST_MAX &&
				rec->u.request.gpa % MIG_PAGE_SIZE == 0 &&
				rec->u.request.gpa <=
					MIG_MAX_MEM -
						(uint64_t)rec->u.request.npages * MIG_PAGE_SIZE,
			"REQUEST record #%llu: %u pages from %#llx (1..%u aligned pages below "
			"%#llx)",
			seq, rec->u.request.npages, (unsigned long long)rec->u.request.gpa,
			MIG_REQUEST_MAX, MIG_MAX_MEM);
		break;
	case MIG_REC_ZERO_RANGE:
	case MIG_REC_FREE_RANGE:
		rec->u.zrange.gpa = le64(p);
		rec->u.zrange.npages = le64(p + 8);
		REQUIRE(rec->u.zrange.gpa % MIG_PAGE_SIZE == 0 && rec->u.zrange.gpa < MIG_MAX_MEM,
			"%s record #%llu: address %#llx is not page aligned below %#llx",
			mig_rec_type_name(rec->type), seq, (unsigned long long)rec->u.zrange.gpa,
			MIG_MAX_MEM);
		REQUIRE(rec->u.zrange.npages >= 1 &&
				rec->u.zrange.npages <=
					(MIG_MAX_MEM - rec->u.zrange.gpa) / MIG_PAGE_SIZE,
			"%s record #%llu: %llu pages from %#llx is empty or beyond %#llx",
			mig_rec_type_name(rec->type), seq, (unsigned long long)rec->u.zrange.npages,
			(unsigned long long)rec->u.zrange.gpa, MIG_MAX_MEM);
		break;
	case MIG_REC_ABORT:
	case MIG_REC_ACK:
		rec->u.msg.code = (int32_t)le32(p);
		REQUIRE(le32(p + 4) == 0, "%s record #%llu: reserved field is not zero",
			mig_rec_type_name(rec->type), seq);
		n = len - MIG_MSG_HDR_LEN;
		REQUIRE(printable(p + MIG_MSG_HDR_LEN, n),
			"%s record #%llu: message is not printable text",
			mig_rec_type_name(rec->type), seq);
		memcpy(rec->u.msg.text, p + MIG_MSG_HDR_LEN, n);
		rec->u.msg.text[n] = 0;
		break;
	}
	return 0;
}

int mig_read_record(struct mig_reader *r, struct mig_record *rec)
{
	const uint8_t *p;
	uint32_t type, len;
	uint64_t sum, want_sum;
	size_t got, total;
	char what[64];
	int rc;

	rec->type = 0;
	rc = want(r, MIG_REC_HDR_LEN, &p, &got);
	if (rc == -EPIPE && got == 0)
		return fail(r, -EPIPE,
			    "truncated migration stream: it ended after %llu records without END",
			    (unsigned long long)r->seq);
	if (rc) {
		snprintf(what, sizeof(what), "the header of record #%llu",
			 (unsigned long long)r->seq);
		return io_fail(r, rc, MIG_REC_HDR_LEN, got, what);
	}
	type = le32(p);
	len = le32(p + 4);
	rc = check_length(r, type, len);
	if (rc)
		return rc;
	total = MIG_REC_HDR_LEN + (size_t)len + MIG_REC_SUM_LEN;
	rc = want(r, total, &p, &got);
	if (rc) {
		snprintf(what, sizeof(what), "%s record #%llu", mig_rec_type_name(type),
			 (unsigned long long)r->seq);
		return io_fail(r, rc, total, got, what);
	}
	sum = le64(p + MIG_REC_HDR_LEN + len);
	want_sum = XXH3_64bits_withSeed(p + MIG_REC_HDR_LEN, len, mig_rec_seed(r->seq, type, len));
	if (sum != want_sum)
		return fail(r, -EBADMSG,
			    "%s record #%llu at offset %llu: checksum mismatch (corrupt, "
			    "reordered or missing data)",
			    mig_rec_type_name(type), (unsigned long long)r->seq,
			    (unsigned long long)r->bytes);
	rec->type = type;
	rec->length = len;
	rec->seq = r->seq;
	rc = decode(r, rec, p + MIG_REC_HDR_LEN, len);
	if (rc)
		return rc;
	consume(r, total);
	r->seq++;
	return 0;
}
