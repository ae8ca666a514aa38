// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the page-table trace reader and the model behind it
 * (tools/sptmodel). Each input is used twice:
 *  1. as a trace file: ptr_parse() must accept it or reject it with a
 *     message, never crash; an accepted trace is replayed by the model;
 *  2. as raw records: repaired to valid kinds, levels and alignment and
 *     wrapped in a well-formed file (header, RECS, MARK, END), it must be
 *     accepted, and the model must replay whatever page tables the records
 *     make up (tables pointing at themselves, frames reused at other levels).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "trace.h"

static void replay(const struct ptr_trace *t)
{
	struct spt_params p;
	struct spt_counts *c = calloc(t->nseg ? t->nseg : 1, sizeof(*c)), sum = { 0 };
	struct spt_price pr;

	if (!c)
		abort();
	spt_params_default(&p);
	if (spt_run(t, &p, c))
		abort(); /* only -ENOMEM, which the fuzzer's limits do not reach */
	for (size_t i = 0; i < t->nseg; i++)
		spt_counts_add(&sum, &c[i]);
	spt_price(&sum, &p, &pr);
	free(c);
}

static void *put(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nrec = size / sizeof(struct vessel_pt_rec);
	struct vessel_ptf_header h = { VESSEL_PTF_MAGIC, VESSEL_PTF_VERSION, 32, 32, 2, 1 << 20 };
	struct vessel_ptf_block_head rb = { VESSEL_PTF_RECS, (uint32_t)(16 + 32 * nrec) };
	struct vessel_ptf_recs rh = { 0, (uint32_t)nrec, 0 };
	struct vessel_ptf_block_head mb = { VESSEL_PTF_MARK, 48 };
	struct vessel_ptf_mark mk = { "fuzz", 0, 0, 0 };
	struct vessel_ptf_block_head eb = { VESSEL_PTF_END, 32 };
	struct vessel_ptf_end end = { nrec, 0, 1, 0 };
	struct ptr_trace t;
	uint8_t *buf, *p;
	char err[256];

	if (!ptr_parse(data, size, &t, err, sizeof(err))) {
		replay(&t);
		ptr_free(&t);
	}

	buf = malloc(32 + 8 + 16 + 32 * nrec + 8 + 48 + 8 + 32);
	if (!buf)
		return 0;
	p = put(buf, &h, sizeof(h));
	p = put(p, &rb, sizeof(rb));
	p = put(p, &rh, sizeof(rh));
	for (size_t i = 0; i < nrec; i++) {
		struct vessel_pt_rec r;

		memcpy(&r, data + i * sizeof(r), sizeof(r));
		r.cpu = 0;
		r.kind = (uint8_t)(1 + r.kind % VESSEL_PT_KIND_MAX);
		if (r.kind == VESSEL_PT_WRITE || r.kind == VESSEL_PT_FREE)
			r.level = (uint8_t)(1 + r.level % 4);
		else
			r.level = 0;
		if (r.kind == VESSEL_PT_WRITE)
			r.addr &= ~7ull;
		if (r.kind == VESSEL_PT_FREE || r.kind == VESSEL_PT_ALLOC)
			r.addr &= ~4095ull;
		/* keep frames in a small range so records meet each other */
		r.addr &= 0xffffull |
			  (r.kind == VESSEL_PT_INVLPG || r.kind == VESSEL_PT_FAULT ? ~0ull : 0);
		r.new_val &= 0x800000000000ffffull;
		p = put(p, &r, sizeof(r));
	}
	p = put(p, &mb, sizeof(mb));
	p = put(p, &mk, sizeof(mk));
	p = put(p, &eb, sizeof(eb));
	p = put(p, &end, sizeof(end));
	if (ptr_parse(buf, (size_t)(p - buf), &t, err, sizeof(err)))
		abort(); /* a repaired trace must be accepted */
	replay(&t);
	ptr_free(&t);
	free(buf);
	return 0;
}
