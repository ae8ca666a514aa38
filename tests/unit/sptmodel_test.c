// SPDX-License-Identifier: MIT
/*
 * Unit tests of the shadow-paging model (tools/sptmodel): its hash map, the
 * trace file written by the VMM's writer and read back by the validating
 * reader (round trip, every rule of the format broken on purpose, every
 * truncation), and the model's counts on small hand-written traces, worked
 * out by hand in the comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model.h"
#include "pttrace/trace_file.h"
#include "trace.h"
#include "u64map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers: records, files ---- */

static char tmpl[] = "/tmp/sptmodel-test-XXXXXX";
static char dir[sizeof(tmpl)];

static int group_setup(void **state)
{
	memcpy(dir, tmpl, sizeof(tmpl));
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static const char *path_of(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static uint32_t next_seq;

static struct vessel_pt_rec rec(uint8_t kind, uint8_t level, uint64_t addr, uint64_t old_val,
				uint64_t new_val, uint16_t cpu)
{
	return (struct vessel_pt_rec){ addr, old_val, new_val, next_seq++, kind, level, cpu };
}

#define W(level, addr, old_val, new_val) rec(VESSEL_PT_WRITE, level, addr, old_val, new_val, 0)
#define CR3(old_val, new_val)		 rec(VESSEL_PT_CR3, 0, 0, old_val, new_val, 0)

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* One CPU's records in one segment closed by a mark (no statistics), then END. */
static void write_simple(const char *path, const struct vessel_pt_rec *r, uint32_t n)
{
	struct ptf_writer w;

	assert_int_equal(ptf_create(&w, path, 2, 64 << 20), 0);
	assert_int_equal(ptf_write_recs(&w, 0, 0, r, n), 0);
	assert_int_equal(ptf_write_mark(&w, "work", 1, NULL, 0), 0);
	assert_int_equal(ptf_finish(&w, VESSEL_PTF_END_F_RECOVERED), 0);
}

static void load(const char *path, struct ptr_trace *t)
{
	char err[256];
	int rc = ptr_read_file(path, t, err, sizeof(err));

	if (rc)
		fail_msg("%s", err);
}

/* ---- u64map ---- */

static void test_u64map(void **state)
{
	struct u64map m = { 0 };
	enum { N = 5000 };
	static uint64_t keys[N];
	static bool present[N];
	uint64_t v, x = 88172645463325252ull;

	for (int i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		keys[i] = x & 0xfffff000ull; /* collisions in the low bits, like frames */
	}
	for (int round = 0; round < 20000; round++) {
		int i;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		i = (int)(x % N);
		if (x & (1ull << 40)) {
			assert_int_equal(u64map_put(&m, keys[i], (uint64_t)i), 0);
			for (int k = 0; k < N; k++) /* same key twice: one entry */
				if (keys[k] == keys[i])
					present[k] = true;
		} else {
			bool was = false;

			for (int k = 0; k < N; k++)
				if (keys[k] == keys[i]) {
					was |= present[k];
					present[k] = false;
				}
			assert_int_equal(u64map_del(&m, keys[i]), was);
		}
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(u64map_get(&m, keys[i], &v), present[i]);
		if (present[i])
			assert_int_equal(keys[v], keys[i]);
	}
	u64map_free(&m);
	assert_false(u64map_get(&m, keys[0], &v));
	assert_false(u64map_del(&m, keys[0]));
}

/* ---- the file: round trip ---- */

static void test_round_trip(void **state)
{
	struct vessel_ptf_stat st[2] = { { "pf_fixed", 7 }, { "mmu_flooded", 3 } };
	struct vessel_pt_rec a[3], b[2], c[1];
	struct ptr_trace t;
	struct ptf_writer w;
	bool found;

	/* cpu 0 and cpu 1 interleave: seq orders them */
	next_seq = 10;
	a[0] = W(1, 0x5008, 0, 0x7003);				 /* seq 10 */
	b[0] = rec(VESSEL_PT_INVLPG, 0, 0x400000, 0, 0x1000, 1); /* seq 11 */
	a[1] = CR3(0x1000, 0x2000);				 /* seq 12 */
	b[1] = rec(VESSEL_PT_FAULT, 0, 0x401000, 6, 0x2000, 1);	 /* seq 13 */
	a[2] = rec(VESSEL_PT_ALLOC, 0, 0x9000, 0, 0, 0);	 /* seq 14 */
	c[0] = rec(VESSEL_PT_FREE, 2, 0x6000, 0, 0, 0);		 /* seq 15 */
	assert_int_equal(ptf_create(&w, path_of("rt"), 2, 128 << 20), 0);
	assert_int_equal(ptf_write_recs(&w, 1, 0, b, 2), 0);
	assert_int_equal(ptf_write_recs(&w, 0, 2, a, 3), 0);
	assert_int_equal(ptf_write_mark(&w, "first", 123, st, 2), 0);
	assert_int_equal(ptf_write_recs(&w, 0, 0, c, 1), 0);
	assert_int_equal(ptf_finish(&w, VESSEL_PTF_END_F_RECOVERED), 0);
	assert_int_equal(w.records, 6);
	assert_int_equal(w.lost, 2);

	load(path_of("rt"), &t);
	assert_true(t.complete);
	assert_true(t.recovered);
	assert_int_equal(t.cpus, 2);
	assert_int_equal(t.mem_size, 128 << 20);
	assert_int_equal(t.records, 6);
	assert_int_equal(t.lost, 2);
	assert_int_equal(t.nseg, 2);
	assert_string_equal(t.seg[0].name, "first");
	assert_true(t.seg[0].marked);
	assert_int_equal(t.seg[0].host_ns, 123);
	assert_int_equal(t.seg[0].nrec, 5);
	assert_int_equal(t.seg[0].lost, 2);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(t.seg[0].rec[i].seq, 10 + i);
	assert_memory_equal(&t.seg[0].rec[0], &a[0], sizeof(a[0]));
	assert_memory_equal(&t.seg[0].rec[3], &b[1], sizeof(b[1]));
	assert_int_equal(ptr_stat(&t.seg[0], "mmu_flooded", &found), 3);
	assert_true(found);
	assert_int_equal(ptr_stat(&t.seg[0], "exits", &found), 0);
	assert_false(found);
	assert_false(t.seg[1].marked);
	assert_int_equal(t.seg[1].nrec, 1);
	assert_memory_equal(&t.seg[1].rec[0], &c[0], sizeof(c[0]));
	ptr_free(&t);
}

static void test_seq_wraps(void **state)
{
	struct vessel_pt_rec r[4];
	struct ptr_trace t;

	next_seq = UINT32_MAX - 1;
	r[2] = rec(VESSEL_PT_CR3, 0, 0, 0, 0x1000, 0); /* 2^32 - 2 */
	r[3] = rec(VESSEL_PT_CR3, 0, 0, 0, 0x2000, 0); /* 2^32 - 1 */
	r[0] = rec(VESSEL_PT_CR3, 0, 0, 0, 0x3000, 0); /* 0 */
	r[1] = rec(VESSEL_PT_CR3, 0, 0, 0, 0x4000, 0); /* 1 */
	write_simple(path_of("wrap"), r, 4);
	load(path_of("wrap"), &t);
	assert_int_equal(t.seg[0].nrec, 4);
	assert_int_equal(t.seg[0].rec[0].new_val, 0x1000);
	assert_int_equal(t.seg[0].rec[1].new_val, 0x2000);
	assert_int_equal(t.seg[0].rec[2].new_val, 0x3000);
	assert_int_equal(t.seg[0].rec[3].new_val, 0x4000);
	ptr_free(&t);
}

static void test_writer_errors(void **state)
{
	struct ptf_writer w;
	struct vessel_pt_rec r = { 0 };

	assert_int_equal(ptf_create(&w, path_of("x"), 0, 1), -EINVAL);
	assert_int_equal(ptf_create(&w, path_of("x"), VESSEL_PTF_MAX_CPUS + 1, 1), -EINVAL);
	assert_int_equal(ptf_create(&w, "/nonexistent/dir/trace", 1, 1), -ENOENT);
	assert_int_equal(ptf_finish(&w, 0), -EBADF);
	assert_int_equal(ptf_write_recs(&w, 0, 0, &r, 1), -EBADF);
	assert_int_equal(ptf_create(&w, path_of("x"), 1, 1), 0);
	assert_int_equal(ptf_write_recs(&w, 0, 0, &r, VESSEL_PTF_MAX_BLOCK / 32), -EINVAL);
	assert_int_equal(ptf_write_mark(&w, "m", 0, NULL, VESSEL_PTF_MAX_STATS + 1), -EINVAL);
	assert_int_equal(ptf_finish(&w, 0), 0);
}

/* ---- the file: rejections ---- */

/* A valid file: header, RECS (cpu 0, 2 records), MARK (1 stat), END. */
static uint8_t *valid_file(size_t *len)
{
	struct vessel_ptf_stat st = { "pf_fixed", 1 };
	struct vessel_pt_rec r[2];
	struct ptf_writer w;

	next_seq = 0;
	r[0] = W(1, 0x5008, 0, 0x7003);
	r[1] = rec(VESSEL_PT_FREE, 1, 0x5000, 0, 0, 0);
	assert_int_equal(ptf_create(&w, path_of("valid"), 2, 1 << 20), 0);
	assert_int_equal(ptf_write_recs(&w, 0, 0, r, 2), 0);
	assert_int_equal(ptf_write_mark(&w, "m", 0, &st, 1), 0);
	assert_int_equal(ptf_finish(&w, 0), 0);
	return slurp(path_of("valid"), len);
}

/* offsets in valid_file() */
#define OFF_RECS  32
#define OFF_REC0  (32 + 8 + 16)
#define OFF_REC1  (OFF_REC0 + 32)
#define OFF_MARK  (OFF_REC1 + 32)
#define OFF_STAT0 (OFF_MARK + 8 + 48)
#define OFF_END	  (OFF_STAT0 + 48)

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

static void expect_reject(const uint8_t *buf, size_t len, const char *why)
{
	struct ptr_trace t;
	char err[256] = "";

	assert_int_equal(ptr_parse(buf, len, &t, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("expected '%s' in '%s'", why, err);
	assert_int_equal(t.nseg, 0);
	assert_null(t.seg);
}

static void test_rejects(void **state)
{
	static const struct {
		size_t off;
		int width; /* 4 or 8 bytes, 1 for one byte */
		uint64_t value;
		const char *why;
	} cases[] = {
		{ 0, 8, 0x1234, "no VSLPTRC1 magic" },
		{ 8, 4, 2, "version 2" },
		{ 12, 4, 48, "header size 48" },
		{ 16, 4, 40, "record size 40" },
		{ 20, 4, 0, "0 CPUs" },
		{ 20, 4, 65, "65 CPUs" },
		{ OFF_RECS + 4, 4, 20, "a multiple of 8" },
		{ OFF_RECS + 8, 4, 2, "RECS of cpu 2" },
		{ OFF_RECS + 12, 4, 1, "cannot hold 1 records" },
		{ OFF_REC0 + 28, 1, 0, "kind 0 is unknown" },
		{ OFF_REC0 + 28, 1, 7, "kind 7 is unknown" },
		{ OFF_REC0 + 29, 1, 0, "write at level 0" },
		{ OFF_REC0 + 29, 1, 5, "write at level 5" },
		{ OFF_REC0 + 0, 8, 0x5004, "8-byte aligned" },
		{ OFF_REC0 + 30, 1, 1, "record of cpu 1 in cpu 0's block" },
		{ OFF_REC1 + 0, 8, 0x5008, "not a page address" },
		{ OFF_REC1 + 29, 1, 9, "free of a level-9 table" },
		{ OFF_MARK + 8 + 32, 4, 2, "cannot hold 2 statistics" },
		{ OFF_MARK + 8 + 32, 4, 300, "300 statistics" },
		{ OFF_MARK + 4, 4, 40, "MARK block of 40 bytes" },
		{ OFF_END, 4, 9, "block type 9 is unknown" },
		{ OFF_END + 4, 4, 24, "END block of 24 bytes" },
		{ OFF_END + 8, 8, 3, "END counts 3 records" },
		{ OFF_END + 32, 8, 1, "END flags 0x1" }, /* flags: bit 0 ok, see below */
	};
	size_t len;
	uint8_t *good = valid_file(&len), *b = malloc(len + 16);
	struct ptr_trace t;
	char err[256];

	assert_int_equal(ptr_parse(good, len, &t, err, sizeof(err)), 0);
	assert_true(t.complete);
	ptr_free(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(b, good, len);
		if (cases[i].width == 8)
			put64(b, cases[i].off, cases[i].value);
		else if (cases[i].width == 4)
			put32(b, cases[i].off, (uint32_t)cases[i].value);
		else
			b[cases[i].off] = (uint8_t)cases[i].value;
		if (cases[i].off == OFF_END + 32) {
			put64(b, OFF_END + 32, 6); /* unknown flag bits */
			expect_reject(b, len, "END flags 0x6");
			continue;
		}
		expect_reject(b, len, cases[i].why);
	}
	/* names that are not NUL-terminated */
	memcpy(b, good, len);
	memset(b + OFF_MARK + 8, 'x', 32);
	expect_reject(b, len, "MARK name is not NUL-terminated");
	memcpy(b, good, len);
	memset(b + OFF_STAT0, 'y', 40);
	expect_reject(b, len, "statistic 0's name is not NUL-terminated");
	/* a non-write record with a level */
	memcpy(b, good, len);
	b[OFF_REC0 + 28] = VESSEL_PT_CR3;
	expect_reject(b, len, "cr3 record with level 1");
	/* bytes after END */
	memcpy(b, good, len);
	memset(b + len, 0, 8);
	expect_reject(b, len + 8, "8 bytes after the END block");
	expect_reject(good, 10, "shorter than the 32-byte header");
	free(b);
	free(good);
}

/* Every prefix of a valid file: an error inside the header, else a trace
 * marked incomplete with whatever whole blocks came before the cut. */
static void test_truncations(void **state)
{
	size_t len;
	uint8_t *good = valid_file(&len);

	for (size_t n = 0; n < len; n++) {
		uint8_t *b = malloc(n ? n : 1); /* exact size: ASan sees any overread */
		struct ptr_trace t;
		char err[256];
		int rc;

		memcpy(b, good, n);
		rc = ptr_parse(b, n, &t, err, sizeof(err));
		if (n < 32) {
			assert_int_equal(rc, -EINVAL);
		} else {
			assert_int_equal(rc, 0);
			assert_false(t.complete);
			assert_true(t.note[0] != '\0');
			assert_int_equal(t.records, n >= OFF_MARK ? 2 : 0);
			ptr_free(&t);
		}
		free(b);
	}
	free(good);
}

/* ---- the model on hand-written traces ---- */

static struct spt_params hand_params(void)
{
	struct spt_params p;

	spt_params_default(&p);
	p.stub_va = 0; /* no syscall stub in these address spaces */
	p.c_exit = 1000;
	p.c_emul = 100;
	p.c_update = 10;
	p.c_acc = 5;
	p.c_dev_read = 1;
	p.reads_per_write = 2;
	p.c_move = 50;
	p.c_walk1 = 2;
	p.c_walk2 = 7;
	p.refill = 0.5;
	return p;
}

/* Frames of the hand-written address space */
#define R   0x10000ull /* PML4 */
#define P3  0x11000ull /* PDPT */
#define PD  0x12000ull
#define PT  0x13000ull
#define PT2 0x14000ull
#define PT3 0x15000ull
#define PT4 0x16000ull
#define PG  0x80000ull /* data pages */
#define PF  0x3ull     /* present + writable */
#define AD  0x60ull    /* accessed + dirty */

/* r[0..3]: CR3 <- R, then R[0] -> P3 -> PD -> PT on cpu 0; returns 4. */
static uint32_t one_path(struct vessel_pt_rec *r)
{
	r[0] = CR3(0, R);
	r[1] = W(4, R + 0, 0, P3 | PF);
	r[2] = W(3, P3 + 0, 0, PD | PF);
	r[3] = W(2, PD + 0, 0, PT | PF);
	return 4;
}

static void run_one(const char *name, const struct vessel_pt_rec *r, uint32_t n,
		    const struct spt_params *p, struct spt_counts *c, struct ptr_trace *t)
{
	write_simple(path_of(name), r, n);
	load(path_of(name), t);
	assert_int_equal(t->nseg, 1);
	assert_int_equal(spt_run(t, p, c), 0);
}

/*
 * One process on cpu 0:
 *  1 CR3 <- R                   root shadow page created            (sp 1)
 *  2 R[0] <- P3                 R is shadowed: trap, flood(R)=1, pde_zapped 1
 *  3 P3[0] <- PD, 4 PD[0] <- PT not shadowed yet: no trap
 *  5 PT[1] <- page, used (A in the old value of 6): walk now (R is loaded):
 *    shadow pages for P3, PD, PT (sp 4), leaf entry, pf_fixed 1; the path
 *    was not shadowed at the write, so (b) does not prefill it
 *  6 PT[1] <- 0 (old had A|D)   trap; drops the leaf entry: remote flush 1
 *  7 PT[2] <- page2, end unknown: counted used; everything shadowed: trap,
 *    (b) prefills it, pf_fixed 2
 *  8 user #PF                   pf_guest 1
 *  9-11 PD[1..3] <- PT2..PT4    traps; the third flood-zaps PD (flooded 1,
 *    zapped 1, remote flush 2); pde_zapped 2, 3 before that
 * 12 invlpg
 */
static void test_model_one_process(void **state)
{
	struct spt_params p = hand_params();
	struct vessel_pt_rec r[12];
	struct spt_counts c;
	struct spt_price pr;
	struct ptr_trace t;

	next_seq = 0;
	one_path(r);
	r[4] = W(1, PT + 8, 0, PG | PF);
	r[5] = W(1, PT + 8, PG | PF | AD, 0);
	r[6] = W(1, PT + 16, 0, (PG + 0x1000) | PF);
	r[7] = rec(VESSEL_PT_FAULT, 0, 0x3000, 6, R, 0);
	r[8] = W(2, PD + 8, 0, PT2 | PF);
	r[9] = W(2, PD + 16, 0, PT3 | PF);
	r[10] = W(2, PD + 24, 0, PT4 | PF);
	r[11] = rec(VESSEL_PT_INVLPG, 0, 0x1000, 0, R, 0);
	run_one("one", r, 12, &p, &c, &t);

	assert_int_equal(c.records, 12);
	assert_int_equal(c.writes, 9);
	assert_int_equal(c.writes_leaf, 3);
	assert_int_equal(c.writes_upper, 6);
	assert_int_equal(c.cr3, 1);
	assert_int_equal(c.invlpg, 1);
	assert_int_equal(c.faults_user, 1);
	assert_int_equal(c.new_tables, 7);
	assert_int_equal(c.epochs, 2);
	assert_int_equal(c.epochs_accessed, 2);
	assert_int_equal(c.epochs_dirty, 1);
	assert_int_equal(c.epochs_unknown, 1);
	assert_int_equal(c.refill_pages, 0); /* nothing resident at the load */

	assert_int_equal(c.k_sp_created, 4);
	assert_int_equal(c.k_pf_fixed, 2);
	assert_int_equal(c.k_pf_guest, 1);
	assert_int_equal(c.k_sptes, 1);
	assert_int_equal(c.k_flooded, 1);
	assert_int_equal(c.k_zapped, 1);
	assert_int_equal(c.k_pde_zapped, 3);
	assert_int_equal(c.k_remote_flush, 2);
	assert_int_equal(c.k_unsync, 0);

	assert_int_equal(c.a_traps, 6);
	assert_int_equal(c.a_hidden, 2);
	assert_int_equal(c.a_exits, 6 + 2 + 1 + 1 + 1);
	assert_int_equal(c.b_dev_writes, 6);
	assert_int_equal(c.b_prefilled, 1);
	assert_int_equal(c.b_hidden, 1);
	assert_int_equal(c.b_moves_in, 4);
	assert_int_equal(c.b_moves_out, 0);
	assert_int_equal(c.b_exits, 1 + 1 + 1); /* shadow fault, CR3, guest fault */
	assert_int_equal(c.c_exits, 0);
	/* unsync variant: leaf writes 6 and 7 hit PT, one trap; invlpg syncs it */
	assert_int_equal(c.a_traps_leaf, 2);
	assert_int_equal(c.a_unsync_traps, 1);
	assert_int_equal(c.a_syncs, 1);
	assert_int_equal(c.b_load_fills, 0);

	spt_price(&c, &p, &pr);
	assert_true(pr.tlb_misses == 3); /* 2 first uses + 1 invlpg */
	/* 6 traps x 1110 + 2 shadow faults x 1010 + 3 exits x 1000 + 3 misses x 2 */
	assert_true(pr.a == 6 * 1110 + 2 * 1010 + 3000 + 6);
	/* 6 x (5 + 2 x 1) + 1 x 1010 + 4 moves x 50 + CR3 1000 + fault 1000 + 6 */
	assert_true(pr.b == 42 + 1010 + 200 + 2000 + 6);
	assert_true(pr.c == 3 * 7);
	/* (6 - 2 + 1) traps + 1 sync x c_sync + the same shadow faults and exits */
	assert_true(pr.a_unsync == 5 * 1110 + p.c_sync + 2 * 1010 + 3000 + 6);
	assert_true(pr.b_fill == pr.b);
	/* (a - c) / (2 used mappings x (7 - 2) cycles more per miss) */
	assert_true(pr.breakeven == (pr.a - pr.c) / 10);
	p.capacity = pr.breakeven;
	spt_price(&c, &p, &pr);
	assert_true(pr.c > pr.a - 1e-6 && pr.c < pr.a + 1e-6);
	ptr_free(&t);
}

/*
 * A process is built while cpu 0 runs on another root (exec), then loaded:
 * its first uses happen at the load. Then it exits and its tables are freed
 * and handed out again:
 *  - the PD (shadowed, level 2) is zeroed: three trapped writes, then the
 *    hypervisor lets go (flood): (a) 3 traps, (b) one move out, (k) one
 *    flood zap;
 *  - the PT (shadowed, level 1) is zeroed: its leaf entries go, the shadow
 *    page stays; user code then maps it writable and writes it: KVM makes
 *    it unsync; when it becomes a PD, the unsync page is zapped.
 * With the syscall stub address set, the first load also counts the stub's
 * first use (its path is in the kernel half of the root).
 */
static void test_model_exec_exit_reuse(void **state)
{
	struct spt_params p = hand_params();
	struct vessel_pt_rec r[32];
	struct spt_counts c;
	struct ptr_trace t;
	uint32_t n = 0;

	p.stub_va = 0xffffff0000000000ull; /* PML4 510, PDPT 0, PD 0, PT 0 */
	next_seq = 0;
	r[n++] = CR3(0, 0x1000); /* another root, no user half */
	/* the kernel half with the stub, shared through R[510] */
	r[n++] = W(4, R + 510 * 8, 0, 0x20000 | PF);
	r[n++] = W(3, 0x20000, 0, 0x21000 | PF);
	r[n++] = W(2, 0x21000, 0, 0x22000 | PF);
	r[n++] = W(1, 0x22000, 0, 0x23000 | 5); /* stub page, present + user */
	/* the user half: two used pages at 0x0 and 0x1000 */
	r[n++] = W(4, R + 0, 0, P3 | PF);
	r[n++] = W(3, P3 + 0, 0, PD | PF);
	r[n++] = W(2, PD + 0, 0, PT | PF);
	r[n++] = W(1, PT + 0, 0, PG | PF);
	r[n++] = W(1, PT + 8, 0, (PG + 0x1000) | PF);
	r[n++] = CR3(0x1000, R); /* first load: stub + 2 pending first uses */
	/* exit: the leaves are cleared (both were used; one written) */
	r[n++] = W(1, PT + 0, PG | PF | AD, 0);
	r[n++] = W(1, PT + 8, (PG + 0x1000) | PF | 0x20, 0);
	r[n++] = CR3(R, 0x1000);
	r[n++] = rec(VESSEL_PT_FREE, 1, PT, 0, 0, 0);
	r[n++] = rec(VESSEL_PT_FREE, 2, PD, 0, 0, 0);
	r[n++] = rec(VESSEL_PT_FREE, 3, P3, 0, 0, 0);
	/* the frames come back */
	r[n++] = rec(VESSEL_PT_ALLOC, 0, PD, 0, 0, 0);
	r[n++] = rec(VESSEL_PT_ALLOC, 0, PT, 0, 0, 0);
	/* another address space maps the old PT frame as a data page and writes it */
	r[n++] = W(4, 0x30000 + 0, 0, 0x31000 | PF);
	r[n++] = W(3, 0x31000, 0, 0x32000 | PF);
	r[n++] = W(2, 0x32000, 0, 0x33000 | PF);
	r[n++] = W(1, 0x33000, 0, PT | PF);
	r[n++] = W(1, 0x33000, PT | PF | AD, 0);
	/* later the old PT frame becomes a page directory */
	r[n++] = W(3, 0x31000 + 8, 0, PT | PF);
	run_one("reuse", r, n, &p, &c, &t);

	/* first load of R: stub path (PDPT, PD, PT of the kernel half: 3 new
	 * shadow pages + the root's) and the 2 pending uses (P3, PD, PT: 3 more) */
	assert_int_equal(c.k_sp_created, 1 /* 0x1000 */ + 1 /* R */ + 3 + 3);
	assert_int_equal(c.k_pf_fixed, 3);
	assert_int_equal(c.refill_pages, 2); /* two used pages resident at the load */
	/* exit: both leaves were shadowed: trapped, dropped (2 remote flushes) */
	assert_int_equal(c.epochs, 2 + 1 + 1);
	assert_int_equal(c.epochs_accessed, 2 + 1 + 1);
	/* reuse: PD flood-zapped when handed out (1 more remote flush); PT keeps
	 * its shadow page with no entries */
	assert_int_equal(c.k_flooded, 1);
	assert_int_equal(c.b_moves_out, 2);
	/* traps: R[0] write? R was not loaded then: none; 2 leaf clears, 3 + 3
	 * writes of the two reused frames */
	assert_int_equal(c.a_traps, 2 + 3 + 3);
	/* the data mapping of the old PT frame is written: unsync; when the
	 * frame turns into a PD that unsync page is zapped */
	assert_int_equal(c.k_unsync, 0);
	assert_int_equal(c.k_zapped, 1 + 1);
	assert_int_equal(c.k_remote_flush, 2 + 1);
	/* the 0x30000 root is never loaded: its data page's first use waits */
	assert_int_equal(c.k_sptes, 3 - 2);
	/* (b) could fill all three first uses at the load; unsync variant: the
	 * two leaf clears hit one table, synced at the next CR3 load */
	assert_int_equal(c.b_load_fills, 3);
	assert_int_equal(c.a_traps_leaf, 2);
	assert_int_equal(c.a_unsync_traps, 1);
	assert_int_equal(c.a_syncs, 1);
	ptr_free(&t);
}

/* Counts are per segment; shadow state and instant values carry over. */
static void test_model_segments(void **state)
{
	struct spt_params p = hand_params();
	struct vessel_pt_rec r[6];
	struct spt_counts c[2], sum = { 0 };
	struct ptf_writer w;
	struct ptr_trace t;

	next_seq = 0;
	one_path(r);
	r[4] = W(1, PT + 0, 0, PG | PF); /* used: see r[5] in the next segment */
	r[5] = W(1, PT + 0, PG | PF | 0x20, 0);
	assert_int_equal(ptf_create(&w, path_of("segs"), 1, 1 << 20), 0);
	assert_int_equal(ptf_write_recs(&w, 0, 0, r, 5), 0);
	assert_int_equal(ptf_write_mark(&w, "build", 0, NULL, 0), 0);
	assert_int_equal(ptf_write_recs(&w, 0, 1, r + 5, 1), 0);
	assert_int_equal(ptf_write_mark(&w, "teardown", 0, NULL, 0), 0);
	assert_int_equal(ptf_finish(&w, 0), 0);
	load(path_of("segs"), &t);
	assert_int_equal(t.nseg, 2);
	assert_int_equal(spt_run(&t, &p, c), 0);
	assert_int_equal(c[0].k_pf_fixed, 1); /* the A bit seen in the next segment */
	assert_int_equal(c[0].k_sptes, 1);
	assert_int_equal(c[1].k_sptes, 0);
	assert_int_equal(c[1].a_traps, 1);
	assert_int_equal(c[1].lost, 1);
	assert_int_equal(c[0].writes + c[1].writes, 5);
	spt_counts_add(&sum, &c[0]);
	spt_counts_add(&sum, &c[1]);
	assert_int_equal(sum.writes, 5);
	assert_int_equal(sum.k_pf_fixed, 1);
	assert_int_equal(sum.k_sptes, 0);
	ptr_free(&t);
}

/*
 * A demand fault on a read whose page is later written faults twice on a
 * shadow-paging host (KVM maps it read-only until it sets the guest's D
 * bit); a demand fault on a write, once.
 */
static void test_model_dirty_after_read(void **state)
{
	struct spt_params p = hand_params();
	struct vessel_pt_rec r[10];
	struct spt_counts c;
	struct ptr_trace t;

	next_seq = 0;
	one_path(r);
	r[4] = rec(VESSEL_PT_FAULT, 0, 0x5008, 4, R, 0); /* user read, not present */
	r[5] = W(1, PT + 5 * 8, 0, PG | PF);
	r[6] = W(1, PT + 5 * 8, PG | PF | AD, 0);
	r[7] = rec(VESSEL_PT_FAULT, 0, 0x6010, 6, R, 0); /* user write */
	r[8] = W(1, PT + 6 * 8, 0, (PG + 0x1000) | PF);
	r[9] = W(1, PT + 6 * 8, (PG + 0x1000) | PF | AD, 0);
	run_one("dirty", r, 10, &p, &c, &t);
	assert_int_equal(c.k_pf_guest, 2);
	assert_int_equal(c.k_pf_fixed, 2 + 1);
	assert_int_equal(c.k_d_faults, 1);
	assert_int_equal(c.a_hidden, 3);
	ptr_free(&t);
}

/*
 * KVM's root cache: a vCPU keeps its current root and 3 previous ones. A
 * freed PML4 reused while a vCPU still caches its root is zapped twice
 * (marked invalid, then freed: two mmu_shadow_zapped, two remote flushes);
 * one that has left every cache, once.
 */
static void test_model_root_cache(void **state)
{
	struct spt_params p = hand_params();
	struct vessel_pt_rec r[16];
	struct spt_counts c;
	struct ptr_trace t;
	uint32_t n = 0;

	next_seq = 0;
	r[n++] = CR3(0, 0x40000);
	r[n++] = CR3(0x40000, 0x41000); /* cache: 41 | 40 */
	r[n++] = rec(VESSEL_PT_FREE, 4, 0x40000, 0, 0, 0);
	r[n++] = rec(VESSEL_PT_ALLOC, 0, 0x40000, 0, 0, 0); /* zeroed: flood zap */
	r[n++] = CR3(0x41000, 0x42000);
	r[n++] = CR3(0x42000, 0x43000);
	r[n++] = CR3(0x43000, 0x44000);
	r[n++] = CR3(0x44000, 0x45000); /* cache: 45 | 44 43 42; 41 has left */
	r[n++] = rec(VESSEL_PT_FREE, 4, 0x41000, 0, 0, 0);
	r[n++] = rec(VESSEL_PT_ALLOC, 0, 0x41000, 0, 0, 0);
	r[n++] = CR3(0x45000, 0x40000); /* a new root at the old frame */
	run_one("roots", r, n, &p, &c, &t);
	assert_int_equal(c.k_flooded, 2);
	assert_int_equal(c.k_zapped, 2 + 1);
	assert_int_equal(c.k_remote_flush, 2 + 1);
	assert_int_equal(c.k_sp_created, 6 + 1);
	ptr_free(&t);
}

/* A trace of nonsense (valid format, impossible page tables) replays safely. */
static void test_model_nonsense(void **state)
{
	struct spt_params p = hand_params();
	struct vessel_pt_rec r[64];
	struct spt_counts c;
	struct ptr_trace t;
	uint64_t x = 1;

	next_seq = 0;
	for (int i = 0; i < 64; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		switch (x % 5) {
		case 0:
			r[i] = CR3(0, (x >> 8) & 0x7000);
			break;
		case 1:
			r[i] = rec(VESSEL_PT_ALLOC, 0, (x >> 8) & 0x7000, 0, 0, 0);
			break;
		case 2:
			r[i] = rec(VESSEL_PT_FREE, (uint8_t)(1 + (x >> 4) % 4), (x >> 8) & 0x7000,
				   0, 0, 0);
			break;
		default:
			/* tables pointing at themselves and each other, at any level */
			r[i] = W((uint8_t)(1 + (x >> 4) % 4), (x >> 8) & 0x7ff8, x & 0x67,
				 ((x >> 20) & 0x7000) | ((x >> 40) & 0xe7) | 1);
		}
	}
	run_one("nonsense", r, 64, &p, &c, &t);
	assert_int_equal(c.records, 64);
	ptr_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64map),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_seq_wraps),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_model_one_process),
		cmocka_unit_test(test_model_exec_exit_reuse),
		cmocka_unit_test(test_model_segments),
		cmocka_unit_test(test_model_dirty_after_read),
		cmocka_unit_test(test_model_root_cache),
		cmocka_unit_test(test_model_nonsense),
	};

	return cmocka_run_group_tests_name("sptmodel", tests, group_setup, group_teardown);
}
