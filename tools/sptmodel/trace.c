// SPDX-License-Identifier: MIT
/* The validating page-table trace reader (trace.h). */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (4ull << 30)

struct parser {
	const uint8_t *p;
	size_t len;
	struct ptr_trace *t;
	/* the segment being filled */
	struct vessel_pt_rec *rec;
	size_t nrec, cap;
	uint64_t lost;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
bad(struct parser *ps, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ps->err, ps->errlen, "offset %zu: ", off);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < ps->errlen)
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *ptr_kind_name(unsigned kind)
{
	static const char *const names[] = {
		"?", "write", "invlpg", "cr3", "fault", "free", "alloc"
	};

	return kind <= VESSEL_PT_KIND_MAX ? names[kind] : "?";
}

static bool nul_within(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static int check_rec(struct parser *ps, size_t off, const struct vessel_pt_rec *r, uint32_t cpu)
{
	if (r->kind == 0 || r->kind > VESSEL_PT_KIND_MAX)
		return bad(ps, off, "record kind %u is unknown", r->kind);
	if (r->cpu != cpu)
		return bad(ps, off, "record of cpu %u in cpu %u's block", r->cpu, cpu);
	switch (r->kind) {
	case VESSEL_PT_WRITE:
		if (r->level < 1 || r->level > 4)
			return bad(ps, off, "write at level %u (1..4)", r->level);
		if (r->addr & 7)
			return bad(ps, off, "write to %#llx: entries are 8-byte aligned",
				   (unsigned long long)r->addr);
		break;
	case VESSEL_PT_FREE:
		if (r->level < 1 || r->level > 4)
			return bad(ps, off, "free of a level-%u table (1..4)", r->level);
		/* fall through */
	case VESSEL_PT_ALLOC:
		if (r->addr & 4095)
			return bad(ps, off, "%s of %#llx: not a page address",
				   ptr_kind_name(r->kind), (unsigned long long)r->addr);
		break;
	default:
		if (r->level)
			return bad(ps, off, "%s record with level %u", ptr_kind_name(r->kind),
				   r->level);
	}
	return 0;
}

static int add_recs(struct parser *ps, size_t off, const uint8_t *pay, uint32_t size)
{
	struct vessel_ptf_recs h;

	if (size < sizeof(h))
		return bad(ps, off, "RECS block of %u bytes", size);
	memcpy(&h, pay, sizeof(h));
	if (h.cpu >= ps->t->cpus)
		return bad(ps, off, "RECS of cpu %u, the trace has %u", h.cpu, ps->t->cpus);
	if ((uint64_t)h.count * sizeof(struct vessel_pt_rec) + sizeof(h) != size)
		return bad(ps, off, "RECS block of %u bytes cannot hold %u records", size, h.count);
	if (ps->nrec + h.count > ps->cap) {
		size_t cap = ps->cap ? ps->cap : 1024;
		struct vessel_pt_rec *n;

		while (cap < ps->nrec + h.count)
			cap *= 2;
		n = realloc(ps->rec, cap * sizeof(*n));
		if (!n)
			return bad(ps, off, "out of memory for %zu records", cap);
		ps->rec = n;
		ps->cap = cap;
	}
	for (uint32_t i = 0; i < h.count; i++) {
		struct vessel_pt_rec *r = &ps->rec[ps->nrec + i];
		int rc;

		memcpy(r, pay + sizeof(h) + (size_t)i * sizeof(*r), sizeof(*r));
		rc = check_rec(ps, off + 8 + sizeof(h) + (size_t)i * sizeof(*r), r, h.cpu);
		if (rc)
			return rc;
	}
	ps->nrec += h.count;
	ps->lost += h.lost;
	ps->t->records += h.count;
	ps->t->lost += h.lost;
	return 0;
}

static uint32_t sort_base;

static int by_seq(const void *a, const void *b)
{
	int32_t x = (int32_t)(((const struct vessel_pt_rec *)a)->seq - sort_base);
	int32_t y = (int32_t)(((const struct vessel_pt_rec *)b)->seq - sort_base);

	return (x > y) - (x < y);
}

/* Close the segment being filled (sorted by seq) and start a new one. */
static struct ptr_segment *close_segment(struct parser *ps)
{
	struct ptr_segment *segs = realloc(ps->t->seg, (ps->t->nseg + 1) * sizeof(*segs));
	struct ptr_segment *s;

	if (!segs)
		return NULL;
	ps->t->seg = segs;
	s = &segs[ps->t->nseg++];
	memset(s, 0, sizeof(*s));
	if (ps->nrec) {
		/* a segment spans far fewer than 2^31 records: compare seq modulo 2^32 */
		sort_base = ps->rec[0].seq;
		for (size_t i = 1; i < ps->nrec; i++) {
			if ((int32_t)(ps->rec[i].seq - sort_base) < 0)
				sort_base = ps->rec[i].seq;
		}
		qsort(ps->rec, ps->nrec, sizeof(*ps->rec), by_seq);
	}
	s->rec = ps->rec;
	s->nrec = ps->nrec;
	s->lost = ps->lost;
	ps->rec = NULL;
	ps->nrec = ps->cap = 0;
	ps->lost = 0;
	return s;
}

static int add_mark(struct parser *ps, size_t off, const uint8_t *pay, uint32_t size)
{
	struct vessel_ptf_mark m;
	struct ptr_segment *s;

	if (size < sizeof(m))
		return bad(ps, off, "MARK block of %u bytes", size);
	memcpy(&m, pay, sizeof(m));
	if (!nul_within(m.name, sizeof(m.name)))
		return bad(ps, off, "MARK name is not NUL-terminated");
	if (m.nstats > VESSEL_PTF_MAX_STATS)
		return bad(ps, off, "MARK with %u statistics (at most %u)", m.nstats,
			   VESSEL_PTF_MAX_STATS);
	if ((uint64_t)m.nstats * sizeof(struct vessel_ptf_stat) + sizeof(m) != size)
		return bad(ps, off, "MARK block of %u bytes cannot hold %u statistics", size,
			   m.nstats);
	for (uint32_t i = 0; i < m.nstats; i++) {
		const char *name = (const char *)pay + sizeof(m) + (size_t)i * 48;

		if (!nul_within(name, VESSEL_PTF_STAT_NAME))
			return bad(ps, off, "statistic %u's name is not NUL-terminated", i);
	}
	s = close_segment(ps);
	if (!s)
		return bad(ps, off, "out of memory");
	memcpy(s->name, m.name, sizeof(s->name));
	s->marked = true;
	s->host_ns = m.host_ns;
	s->nstats = m.nstats;
	if (m.nstats) {
		s->stats = malloc(m.nstats * sizeof(*s->stats));
		if (!s->stats)
			return bad(ps, off, "out of memory");
		for (uint32_t i = 0; i < m.nstats; i++) {
			struct vessel_ptf_stat st;

			memcpy(&st, pay + sizeof(m) + (size_t)i * sizeof(st), sizeof(st));
			memcpy(s->stats[i].name, st.name, sizeof(st.name));
			s->stats[i].value = st.value;
		}
	}
	return 0;
}

static int add_end(struct parser *ps, size_t off, const uint8_t *pay, uint32_t size, size_t next)
{
	struct vessel_ptf_end e;

	if (size != sizeof(e))
		return bad(ps, off, "END block of %u bytes (32)", size);
	memcpy(&e, pay, sizeof(e));
	if (next != ps->len)
		return bad(ps, off, "%zu bytes after the END block", ps->len - next);
	if (e.records != ps->t->records || e.lost != ps->t->lost)
		return bad(ps, off,
			   "END counts %llu records (%llu lost), the blocks hold %llu (%llu lost)",
			   (unsigned long long)e.records, (unsigned long long)e.lost,
			   (unsigned long long)ps->t->records, (unsigned long long)ps->t->lost);
	if (e.flags & ~VESSEL_PTF_END_F_RECOVERED)
		return bad(ps, off, "END flags %#llx unknown", (unsigned long long)e.flags);
	ps->t->complete = true;
	ps->t->recovered = e.flags & VESSEL_PTF_END_F_RECOVERED;
	return 0;
}

int ptr_parse(const void *buf, size_t len, struct ptr_trace *t, char *err, size_t errlen)
{
	struct parser ps = { .p = buf, .len = len, .t = t, .err = err, .errlen = errlen };
	struct vessel_ptf_header h;
	size_t off = sizeof(h);
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (len < sizeof(h))
		return bad(&ps, 0, "%zu bytes: shorter than the 32-byte header", len);
	memcpy(&h, buf, sizeof(h));
	if (h.magic != VESSEL_PTF_MAGIC)
		return bad(&ps, 0, "not a page-table trace (no VSLPTRC1 magic)");
	if (h.version != VESSEL_PTF_VERSION)
		return bad(&ps, 8, "version %u (this reader knows %u)", h.version,
			   VESSEL_PTF_VERSION);
	if (h.header_size != sizeof(h) || h.rec_size != sizeof(struct vessel_pt_rec))
		return bad(&ps, 12, "header size %u / record size %u (32 / 32)", h.header_size,
			   h.rec_size);
	if (h.cpus == 0 || h.cpus > VESSEL_PTF_MAX_CPUS)
		return bad(&ps, 20, "%u CPUs (1..%u)", h.cpus, VESSEL_PTF_MAX_CPUS);
	t->cpus = h.cpus;
	t->mem_size = h.mem_size;
	while (off < len && !t->complete && !rc) {
		struct vessel_ptf_block_head bh;
		const uint8_t *pay;

		if (len - off >= sizeof(bh))
			memcpy(&bh, ps.p + off, sizeof(bh));
		if (len - off < sizeof(bh) || bh.size > len - off - sizeof(bh)) {
			snprintf(t->note, sizeof(t->note),
				 "cut short at offset %zu, in the middle of a block", off);
			break;
		}
		if (bh.size % 8 || bh.size > VESSEL_PTF_MAX_BLOCK) {
			rc = bad(&ps, off, "block of %u bytes (a multiple of 8, at most %u)",
				 bh.size, VESSEL_PTF_MAX_BLOCK);
			break;
		}
		pay = ps.p + off + sizeof(bh);
		switch (bh.type) {
		case VESSEL_PTF_RECS:
			rc = add_recs(&ps, off, pay, bh.size);
			break;
		case VESSEL_PTF_MARK:
			rc = add_mark(&ps, off, pay, bh.size);
			break;
		case VESSEL_PTF_END:
			rc = add_end(&ps, off, pay, bh.size, off + sizeof(bh) + bh.size);
			break;
		default:
			rc = bad(&ps, off, "block type %u is unknown", bh.type);
		}
		off += sizeof(bh) + bh.size;
	}
	if (!rc && !t->complete && !t->note[0])
		snprintf(t->note, sizeof(t->note),
			 "no END block (the VMM did not finish the file)");
	if (!rc && ps.nrec && !close_segment(&ps))
		rc = bad(&ps, off, "out of memory");
	free(ps.rec);
	if (rc)
		ptr_free(t);
	return rc;
}

int ptr_read_file(const char *path, struct ptr_trace *t, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	memset(t, 0, sizeof(*t));
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most 4 GiB", path);
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	{
		char why[256];

		rc = ptr_parse(buf, got, t, why, sizeof(why));
		if (rc)
			snprintf(err, errlen, "%s: %s", path, why);
	}
	free(buf);
	return rc;
}

void ptr_free(struct ptr_trace *t)
{
	for (size_t i = 0; i < t->nseg; i++) {
		free(t->seg[i].rec);
		free(t->seg[i].stats);
	}
	free(t->seg);
	memset(t, 0, sizeof(*t));
}

uint64_t ptr_stat(const struct ptr_segment *seg, const char *name, bool *found)
{
	for (uint32_t i = 0; i < seg->nstats; i++) {
		if (!strcmp(seg->stats[i].name, name)) {
			if (found)
				*found = true;
			return seg->stats[i].value;
		}
	}
	if (found)
		*found = false;
	return 0;
}
