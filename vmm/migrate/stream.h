/* SPDX-License-Identifier: MIT */
/*
 * The Vessel migration stream: wire format, buffered writer, validating reader.
 *
 * docs/migration.md has the prose version and the layout diagrams. In short:
 *
 *   preamble  "VESSLMIG" | le32 version | le32 flags (0)          16 bytes
 *   record*   le32 type | le32 length | payload[length] | le64 checksum
 *
 * The checksum is XXH3-64 of the payload, seeded with a value derived from the
 * record's sequence number, type and length (mig_rec_seed()), so a flipped
 * header bit, a dropped, duplicated or reordered record all fail the check.
 * All integers are little-endian. Every record type has a fixed payload size
 * or a cap; the reader rejects anything else before allocating or reading it.
 */
#ifndef VESSEL_MIGRATE_STREAM_H
#define VESSEL_MIGRATE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#define MIG_MAGIC	 "VESSLMIG"
#define MIG_MAGIC_LEN	 8
#define MIG_VERSION	 1u
#define MIG_PREAMBLE_LEN 16u
#define MIG_REC_HDR_LEN	 8u
#define MIG_REC_SUM_LEN	 8u

#define MIG_PAGE_SIZE	   4096u
#define MIG_MAX_MEM	   (64ull << 30) /* largest guest RAM accepted */
#define MIG_MAX_VCPUS	   256u
#define MIG_STATE_MAX	   (1u << 20) /* one STATE blob */
#define MIG_MSG_MAX	   256u	      /* ABORT / ACK message text */
#define MIG_STATE_NAME_LEN 16u
#define MIG_MAX_RECORD_LEN (MIG_STATE_HDR_LEN + MIG_STATE_MAX)

enum mig_rec_type {
	MIG_REC_HELLO = 1,	/* VM shape; first record, exactly once */
	MIG_REC_PAGE = 2,	/* one guest page: DATA, ZERO or POISONED */
	MIG_REC_PASS = 3,	/* end of one pre-copy pass (progress only) */
	MIG_REC_STATE = 4,	/* an opaque state blob: vCPU, irqchip, clock, device */
	MIG_REC_END = 5,	/* last record: counts to cross-check */
	MIG_REC_ABORT = 6,	/* source gives up; destination exits with msg */
	MIG_REC_ACK = 7,	/* destination -> source: restored (status 0) or not */
	MIG_REC_ZERO_RANGE = 8, /* a run of all-zero pages: le64 gpa, le64 npages */
	MIG_REC_FREE_RANGE = 9, /* a run of pages free in the guest: le64 gpa, le64 npages */
	MIG_REC_TYPE_MAX = MIG_REC_FREE_RANGE,
};

enum mig_page_kind {
	MIG_PAGE_DATA = 1,     /* 4096 bytes follow */
	MIG_PAGE_ZERO = 2,     /* all zero, no data */
	MIG_PAGE_POISONED = 3, /* uncorrectable memory error: no data, re-poison */
	MIG_PAGE_FREE = 4,     /* free in the guest (its hyper-callback said so): no
				* data; the destination leaves it unpopulated */
	MIG_PAGE_KIND_MAX = MIG_PAGE_FREE,
};

/* Where the source learned that a page is poisoned (POISONED records only). */
enum mig_poison_origin {
	MIG_POISON_NONE = 0,	/* DATA, ZERO and FREE records */
	MIG_POISON_KNOWN = 1,	/* in the VM's poison set before the read */
	MIG_POISON_ON_READ = 2, /* SIGBUS during the memory-exception-safe copy */
	MIG_POISON_ORIGIN_MAX = MIG_POISON_ON_READ,
};

enum mig_state_kind {
	MIG_STATE_VCPU = 1,
	MIG_STATE_IRQCHIP = 2,
	MIG_STATE_CLOCK = 3,
	MIG_STATE_DEVICE = 4,
	MIG_STATE_VM = 5, /* anything else VM-wide the VMM wants to carry */
	MIG_STATE_KIND_MAX = MIG_STATE_VM,
};

/* Payload sizes (fixed parts) */
#define MIG_HELLO_LEN	  24u /* le64 mem_size, le32 nr_vcpus, le32 page_size, le32 flags, le32 rsv */
#define MIG_PAGE_HDR_LEN  16u /* le64 gpa, le16 kind, le16 origin, le32 rsv */
#define MIG_PASS_LEN	  24u /* le32 pass, le32 rsv, le64 pages, le64 dirty_left */
#define MIG_STATE_HDR_LEN 32u /* le32 kind, le32 instance, name[16], le32 version, le32 rsv */
#define MIG_END_LEN	  16u /* le64 page_records, le64 state_records */
#define MIG_MSG_HDR_LEN	  8u  /* le32 code/status, le32 rsv, then text (no NUL) */
#define MIG_ZRANGE_LEN	  16u /* le64 gpa, le64 npages */

struct mig_hello {
	uint64_t mem_size;
	uint32_t nr_vcpus;
	uint32_t page_size;
	uint32_t flags;
};

/* One decoded, validated record. Pointers refer to the reader's buffer and
 * stay valid until the next mig_read_record() call. */
struct mig_record {
	uint32_t type;
	uint32_t length;
	uint64_t seq;
	union {
		struct mig_hello hello;
		struct {
			uint64_t gpa;
			uint16_t kind;
			uint16_t origin;
			const uint8_t *data; /* DATA only, MIG_PAGE_SIZE bytes */
		} page;
		struct {
			uint32_t pass;
			uint64_t pages;
			uint64_t dirty_left;
		} pass;
		struct {
			uint32_t kind;
			uint32_t instance;
			uint32_t version;
			char name[MIG_STATE_NAME_LEN + 1];
			const uint8_t *data;
			uint32_t len;
		} state;
		struct {
			uint64_t page_records;
			uint64_t state_records;
		} end;
		struct {
			uint64_t gpa;
			uint64_t npages; /* >= 1, the run ends at or below MIG_MAX_MEM */
		} zrange; /* ZERO_RANGE and FREE_RANGE */
		struct {
			int32_t code;
			char text[MIG_MSG_MAX + 1];
		} msg; /* ABORT and ACK */
	} u;
};

/* Seed of a record's checksum: binds it to its place in the stream. */
uint64_t mig_rec_seed(uint64_t seq, uint32_t type, uint32_t length);

/* Human-readable names for messages ("PAGE", "DATA", ...); never NULL. */
const char *mig_rec_type_name(uint32_t type);
const char *mig_page_kind_name(uint32_t kind);

/* ---------------------------------------------------------------------- */
/* Writer: buffers records and writes them to a connection.              */

struct mig_writer {
	struct mig_conn conn; /* where records go (a copy, not owned) */
	int timeout_ms;	      /* per write(), -1 = none */
	uint64_t seq;
	uint64_t bytes; /* bytes handed to the fd so far */
	uint64_t page_records, state_records;
	uint8_t *buf;
	size_t len, cap;
	char err[256];
};

/*
 * Set up a writer on fd (not owned), a plain connection. Returns 0 or -ENOMEM.
 * timeout_ms bounds each wait for the fd to become writable (-1: forever).
 */
int mig_writer_init(struct mig_writer *w, int fd, int timeout_ms);
/* The same on a connection (plain or TLS; copied, not owned). */
int mig_writer_init_conn(struct mig_writer *w, const struct mig_conn *c, int timeout_ms);
void mig_writer_free(struct mig_writer *w);

/* Each mig_put_* appends one record (the preamble for mig_put_preamble).
 * They return 0 or -errno (write failure, -ETIMEDOUT); w->err says why. */
int mig_put_preamble(struct mig_writer *w);
int mig_put_hello(struct mig_writer *w, const struct mig_hello *h);
/* data: MIG_PAGE_SIZE bytes for DATA, ignored (may be NULL) otherwise. */
int mig_put_page(struct mig_writer *w, uint64_t gpa, enum mig_page_kind kind,
		 enum mig_poison_origin origin, const void *data);
/* npages (>= 1) ZERO or FREE pages from gpa (ZERO_RANGE / FREE_RANGE); one page record. */
int mig_put_range(struct mig_writer *w, enum mig_page_kind kind, uint64_t gpa, uint64_t npages);
int mig_put_pass(struct mig_writer *w, uint32_t pass, uint64_t pages, uint64_t dirty_left);
/* name: at most MIG_STATE_NAME_LEN chars; len <= MIG_STATE_MAX. -EINVAL otherwise. */
int mig_put_state(struct mig_writer *w, enum mig_state_kind kind, uint32_t instance,
		  const char *name, uint32_t version, const void *data, uint32_t len);
/* END carries the counts of PAGE and STATE records written so far. */
int mig_put_end(struct mig_writer *w);
int mig_put_msg(struct mig_writer *w, enum mig_rec_type type, int32_t code, const char *text);
/* Write out everything buffered. */
int mig_flush(struct mig_writer *w);

/* ---------------------------------------------------------------------- */
/* Reader: validates every field of every record it returns.             */

struct mig_reader {
	struct mig_conn conn; /* a copy, not owned; conn.ops NULL: from memory */
	int timeout_ms;	      /* per read(), -1 = none */
	const uint8_t *mem;
	size_t mem_len;
	uint64_t seq;
	uint64_t bytes; /* bytes consumed */
	uint8_t *buf;
	size_t start, end, cap;
	char err[256];
};

/* A reader on fd (not owned), on a connection (copied, not owned) or on a
 * memory buffer. 0 or -ENOMEM. */
int mig_reader_init_fd(struct mig_reader *r, int fd, int timeout_ms);
int mig_reader_init_conn(struct mig_reader *r, const struct mig_conn *c, int timeout_ms);
int mig_reader_init_mem(struct mig_reader *r, const void *data, size_t len);

/*
 * mig_reader_push - put n bytes already read from the connection (e.g. the
 * preamble a listener checked) back in front of what comes next. Only on a
 * fresh connection reader; 0, or -EINVAL (memory reader, no room).
 */
int mig_reader_push(struct mig_reader *r, const void *data, size_t n);
void mig_reader_free(struct mig_reader *r);

/*
 * Read and check the preamble. 0, or -EPROTO (bad magic/version/flags),
 * -EPIPE (truncated), -EIO/-ETIMEDOUT; r->err names the problem.
 */
int mig_read_preamble(struct mig_reader *r);

/* mig_check_preamble - is p (MIG_PREAMBLE_LEN bytes) a preamble this build
 * reads? 0, or -EPROTO with the reason in err. */
int mig_check_preamble(const uint8_t *p, char *err, size_t errlen);

/*
 * Read the next record, verify its framing, size cap, checksum and every
 * field of its payload, and decode it into *rec. Returns 0, or -EPROTO
 * (malformed), -EBADMSG (checksum), -E2BIG (over a size cap), -EPIPE
 * (truncated: the stream ended inside or before a record), -EIO,
 * -ETIMEDOUT. r->err holds a one-line message naming the record and field.
 * Ordering rules (HELLO first, END last) are the receiver's (recv.h).
 */
int mig_read_record(struct mig_reader *r, struct mig_record *rec);

#endif /* VESSEL_MIGRATE_STREAM_H */
