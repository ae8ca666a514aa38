// SPDX-License-Identifier: MIT
/* Migration stream: record encoding and the buffered writer (see stream.h). */
#include "stream.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxh_x86dispatch.h> /* XXH3 with the widest vector unit the CPU has (AVX2: 2x SSE2) */

#define WRITER_BUF (MIG_MAX_RECORD_LEN + (1u << 20))

uint64_t mig_rec_seed(uint64_t seq, uint32_t type, uint32_t length)
{
	uint64_t hdr = ((uint64_t)type << 32) | length;

	return XXH3_64bits_withSeed(&hdr, sizeof(hdr), seq * 0x9e3779b97f4a7c15ull + 1);
}

const char *mig_rec_type_name(uint32_t type)
{
	static const char *const names[] = {
		[MIG_REC_HELLO] = "HELLO",
		[MIG_REC_PAGE] = "PAGE",
		[MIG_REC_PASS] = "PASS",
		[MIG_REC_STATE] = "STATE",
		[MIG_REC_END] = "END",
		[MIG_REC_ABORT] = "ABORT",
		[MIG_REC_ACK] = "ACK",
		[MIG_REC_ZERO_RANGE] = "ZERO_RANGE",
		[MIG_REC_FREE_RANGE] = "FREE_RANGE",
		[MIG_REC_PAGES] = "PAGES",
		[MIG_REC_SYNC] = "SYNC",
		[MIG_REC_PENDING] = "PENDING",
		[MIG_REC_POSTCOPY] = "POSTCOPY",
		[MIG_REC_REQUEST] = "REQUEST",
		[MIG_REC_CHANNEL] = "CHANNEL",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

const char *mig_page_kind_name(uint32_t kind)
{
	switch (kind) {
	case MIG_PAGE_DATA:
		return "DATA";
	case MIG_PAGE_ZERO:
		return "ZERO";
	case MIG_PAGE_POISONED:
		return "POISONED";
	case MIG_PAGE_FREE:
		return "FREE";
	}
	return "unknown";
}

int mig_writer_init_conn(struct mig_writer *w, const struct mig_conn *c, int timeout_ms)
{
	memset(w, 0, sizeof(*w));
	w->conn = *c;
	w->timeout_ms = timeout_ms;
	w->cap = WRITER_BUF;
	w->buf = malloc(w->cap);
	return w->buf ? 0 : -ENOMEM;
}

int mig_writer_init(struct mig_writer *w, int fd, int timeout_ms)
{
	struct mig_conn c;

	mig_conn_plain(&c, fd);
	return mig_writer_init_conn(w, &c, timeout_ms);
}

void mig_writer_free(struct mig_writer *w)
{
	free(w->buf);
	w->buf = NULL;
}

int mig_flush(struct mig_writer *w)
{
	int rc;

	mig_run_close(w);
	if (!w->len)
		return 0;
	rc = mig_conn_write_full(&w->conn, w->buf, w->len, w->timeout_ms);
	if (rc) {
		const char *why = mig_conn_error(&w->conn);

		snprintf(w->err, sizeof(w->err), "sending the migration stream failed: %s",
			 why	      ? why :
			 rc == -EPIPE ? "connection closed by the destination" :
					strerror(-rc));
		return rc;
	}
	w->bytes += w->len;
	w->len = 0;
	return 0;
}

static int put_bytes(struct mig_writer *w, const void *p, size_t n)
{
	int rc;

	mig_run_close(w);
	if (w->len + n > w->cap) {
		rc = mig_flush(w);
		if (rc)
			return rc;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

/*
 * One record: header, fixed part, optional variable part, checksum over both
 * parts. The buffer holds the largest record, so a record is assembled in
 * place and hashed in one piece.
 */
static int put_record(struct mig_writer *w, uint32_t type, const void *fixed, uint32_t flen,
		      const void *var, uint32_t vlen)
{
	size_t total = MIG_REC_HDR_LEN + flen + vlen + MIG_REC_SUM_LEN;
	uint32_t hdr[2] = { htole32(type), htole32(flen + vlen) };
	uint8_t *payload;
	uint64_t sum;
	int rc;

	mig_run_close(w);
	if (total > w->cap)
		return -E2BIG;
	if (w->len + total > w->cap) {
		rc = mig_flush(w);
		if (rc)
			return rc;
	}
	memcpy(w->buf + w->len, hdr, sizeof(hdr));
	payload = w->buf + w->len + MIG_REC_HDR_LEN;
	memcpy(payload, fixed, flen);
	if (vlen)
		memcpy(payload + flen, var, vlen);
	sum = htole64(XXH3_64bits_withSeed(payload, flen + vlen,
					   mig_rec_seed(w->seq, type, flen + vlen)));
	memcpy(payload + flen + vlen, &sum, sizeof(sum));
	w->len += total;
	w->seq++;
	return 0;
}

static void le32_at(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void le64_at(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/*
 * The open PAGES record lives at buf + run_off: header, fixed part, run_n
 * pages; w->len stays at run_off until it is closed, so nothing else can be
 * appended behind it meanwhile (every put goes through mig_run_close()).
 */
#define RUN_DATA_OFF (MIG_REC_HDR_LEN + MIG_PAGES_HDR_LEN)
#define RUN_MAX_LEN  (RUN_DATA_OFF + MIG_RUN_MAX * MIG_PAGE_SIZE + MIG_REC_SUM_LEN)

void mig_run_close(struct mig_writer *w)
{
	uint32_t len = MIG_PAGES_HDR_LEN + w->run_n * MIG_PAGE_SIZE;
	uint8_t *rec = w->buf + w->run_off, *payload = rec + MIG_REC_HDR_LEN;
	uint64_t sum;

	if (!w->run_n)
		return;
	le32_at(rec, MIG_REC_PAGES);
	le32_at(rec + 4, len);
	le64_at(payload, w->run_gpa);
	le32_at(payload + 8, w->run_n);
	le32_at(payload + 12, 0);
	sum = htole64(XXH3_64bits_withSeed(payload, len, mig_rec_seed(w->seq, MIG_REC_PAGES, len)));
	memcpy(payload + len, &sum, sizeof(sum));
	w->len = w->run_off + MIG_REC_HDR_LEN + len + MIG_REC_SUM_LEN;
	w->seq++;
	w->page_records++;
	w->run_n = 0;
}

int mig_run_slot(struct mig_writer *w, uint64_t gpa, uint8_t **slot)
{
	int rc;

	if (w->run_n && w->run_n < MIG_RUN_MAX &&
	    gpa == w->run_gpa + (uint64_t)w->run_n * MIG_PAGE_SIZE) {
		*slot = w->buf + w->run_off + RUN_DATA_OFF + (size_t)w->run_n++ * MIG_PAGE_SIZE;
		return 0;
	}
	mig_run_close(w);
	if (w->len + RUN_MAX_LEN > w->cap) {
		rc = mig_flush(w);
		if (rc)
			return rc;
	}
	w->run_off = w->len;
	w->run_gpa = gpa;
	w->run_n = 1;
	*slot = w->buf + w->run_off + RUN_DATA_OFF;
	return 0;
}

void mig_run_unslot(struct mig_writer *w)
{
	if (w->run_n)
		w->run_n--;
}

int mig_put_pages(struct mig_writer *w, uint64_t gpa, uint32_t npages, const void *data)
{
	uint8_t *slot;
	int rc;

	if (npages == 0 || npages > MIG_RUN_MAX || !data)
		return -EINVAL;
	mig_run_close(w);
	for (uint32_t i = 0; i < npages; i++) {
		rc = mig_run_slot(w, gpa + (uint64_t)i * MIG_PAGE_SIZE, &slot);
		if (rc)
			return rc;
		memcpy(slot, (const uint8_t *)data + (size_t)i * MIG_PAGE_SIZE, MIG_PAGE_SIZE);
	}
	mig_run_close(w);
	return 0;
}

static void le16_at(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

int mig_put_preamble(struct mig_writer *w)
{
	uint8_t p[MIG_PREAMBLE_LEN] = { 0 };

	memcpy(p, MIG_MAGIC, MIG_MAGIC_LEN);
	le32_at(p + 8, MIG_VERSION);
	return put_bytes(w, p, sizeof(p));
}

int mig_put_hello(struct mig_writer *w, const struct mig_hello *h)
{
	uint8_t p[MIG_HELLO_LEN] = { 0 };

	le64_at(p, h->mem_size);
	le32_at(p + 8, h->nr_vcpus);
	le32_at(p + 12, h->page_size);
	le32_at(p + 16, h->flags);
	return put_record(w, MIG_REC_HELLO, p, sizeof(p), NULL, 0);
}

int mig_put_page(struct mig_writer *w, uint64_t gpa, enum mig_page_kind kind,
		 enum mig_poison_origin origin, const void *data)
{
	uint8_t p[MIG_PAGE_HDR_LEN] = { 0 };

	if (kind < MIG_PAGE_DATA || kind > MIG_PAGE_KIND_MAX || (kind == MIG_PAGE_DATA && !data))
		return -EINVAL;
	le64_at(p, gpa);
	le16_at(p + 8, (uint16_t)kind);
	le16_at(p + 10, (uint16_t)origin);
	w->page_records++;
	return put_record(w, MIG_REC_PAGE, p, sizeof(p), data,
			  kind == MIG_PAGE_DATA ? MIG_PAGE_SIZE : 0);
}

int mig_put_range(struct mig_writer *w, enum mig_page_kind kind, uint64_t gpa, uint64_t npages)
{
	uint8_t p[MIG_ZRANGE_LEN];

	if (npages == 0 || (kind != MIG_PAGE_ZERO && kind != MIG_PAGE_FREE))
		return -EINVAL;
	le64_at(p, gpa);
	le64_at(p + 8, npages);
	w->page_records++;
	return put_record(w, kind == MIG_PAGE_ZERO ? MIG_REC_ZERO_RANGE : MIG_REC_FREE_RANGE, p,
			  sizeof(p), NULL, 0);
}

int mig_put_pass(struct mig_writer *w, uint32_t pass, uint64_t pages, uint64_t dirty_left)
{
	uint8_t p[MIG_PASS_LEN] = { 0 };

	le32_at(p, pass);
	le64_at(p + 8, pages);
	le64_at(p + 16, dirty_left);
	return put_record(w, MIG_REC_PASS, p, sizeof(p), NULL, 0);
}

int mig_put_state(struct mig_writer *w, enum mig_state_kind kind, uint32_t instance,
		  const char *name, uint32_t version, const void *data, uint32_t len)
{
	uint8_t p[MIG_STATE_HDR_LEN] = { 0 };
	size_t nlen = strlen(name);

	if (nlen == 0 || nlen > MIG_STATE_NAME_LEN || len > MIG_STATE_MAX || (len && !data) ||
	    kind < MIG_STATE_VCPU || kind > MIG_STATE_KIND_MAX) {
		snprintf(w->err, sizeof(w->err), "bad state record '%s' (%u bytes)", name, len);
		return -EINVAL;
	}
	le32_at(p, kind);
	le32_at(p + 4, instance);
	memcpy(p + 8, name, nlen);
	le32_at(p + 24, version);
	w->state_records++;
	return put_record(w, MIG_REC_STATE, p, sizeof(p), data, len);
}

int mig_put_end(struct mig_writer *w)
{
	uint8_t p[MIG_END_LEN];

	le64_at(p, w->page_records);
	le64_at(p + 8, w->state_records);
	return put_record(w, MIG_REC_END, p, sizeof(p), NULL, 0);
}

int mig_put_msg(struct mig_writer *w, enum mig_rec_type type, int32_t code, const char *text)
{
	uint8_t p[MIG_MSG_HDR_LEN] = { 0 };
	char clean[MIG_MSG_MAX];
	size_t n = 0;

	if (type != MIG_REC_ABORT && type != MIG_REC_ACK)
		return -EINVAL;
	/* The receiver accepts printable ASCII only: map anything else to '?'. */
	for (; text && text[n] && n < MIG_MSG_MAX; n++)
		clean[n] = (text[n] >= 0x20 && text[n] < 0x7f) ? text[n] : '?';
	le32_at(p, (uint32_t)code);
	return put_record(w, type, p, sizeof(p), clean, (uint32_t)n);
}

int mig_put_sync(struct mig_writer *w, uint32_t pass, uint64_t bytes)
{
	uint8_t p[MIG_SYNC_LEN] = { 0 };

	le32_at(p, pass);
	le64_at(p + 8, bytes);
	return put_record(w, MIG_REC_SYNC, p, sizeof(p), NULL, 0);
}

int mig_put_pending(struct mig_writer *w, uint64_t gpa, uint64_t npages, const uint8_t *bitmap)
{
	uint8_t p[MIG_PENDING_HDR_LEN];

	if (npages == 0 || npages > MIG_PENDING_MAX || !bitmap)
		return -EINVAL;
	le64_at(p, gpa);
	le64_at(p + 8, npages);
	return put_record(w, MIG_REC_PENDING, p, sizeof(p), bitmap, (uint32_t)((npages + 7) / 8));
}

int mig_put_postcopy(struct mig_writer *w, uint64_t pending)
{
	uint8_t p[MIG_POSTCOPY_LEN];

	le64_at(p, w->page_records);
	le64_at(p + 8, w->state_records);
	le64_at(p + 16, pending);
	return put_record(w, MIG_REC_POSTCOPY, p, sizeof(p), NULL, 0);
}

int mig_put_request(struct mig_writer *w, uint64_t gpa, uint32_t npages)
{
	uint8_t p[MIG_REQUEST_LEN] = { 0 };

	if (npages == 0 || npages > MIG_REQUEST_MAX)
		return -EINVAL;
	le64_at(p, gpa);
	le32_at(p + 8, npages);
	return put_record(w, MIG_REC_REQUEST, p, sizeof(p), NULL, 0);
}

int mig_put_channel(struct mig_writer *w, enum mig_channel_kind kind,
		    const uint8_t token[MIG_TOKEN_LEN])
{
	uint8_t p[MIG_CHANNEL_LEN] = { 0 };

	if (kind != MIG_CHANNEL_URGENT)
		return -EINVAL;
	le32_at(p, kind);
	memcpy(p + 8, token, MIG_TOKEN_LEN);
	return put_record(w, MIG_REC_CHANNEL, p, sizeof(p), NULL, 0);
}
