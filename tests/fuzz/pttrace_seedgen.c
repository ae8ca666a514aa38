// SPDX-License-Identifier: MIT
/*
 * pttrace_seedgen DIR: seed traces for tests/fuzz/pttrace_fuzz.c, written by
 * the VMM's own trace writer: an empty trace, and one process's life (exec,
 * first uses, faults, flushes, exit, tables freed and reused) over two CPUs
 * with a marked boundary carrying statistics.
 */
#include "pttrace/trace_file.h"

#include <stdio.h>
#include <string.h>

static int empty(const char *dir)
{
	char path[512];
	struct ptf_writer w;

	snprintf(path, sizeof(path), "%s/seed-empty", dir);
	return ptf_create(&w, path, 1, 1 << 20) || ptf_finish(&w, 0);
}

static int process(const char *dir)
{
	static const struct vessel_ptf_stat st[] = { { "pf_fixed", 3 }, { "mmu_flooded", 1 } };
	struct vessel_pt_rec r[] = {
		{ 0, 0, 0x10000, 0, VESSEL_PT_CR3, 0, 0 },
		{ 0x10000, 0, 0x11003, 1, VESSEL_PT_WRITE, 4, 0 },
		{ 0x11000, 0, 0x12003, 2, VESSEL_PT_WRITE, 3, 0 },
		{ 0x12000, 0, 0x13003, 3, VESSEL_PT_WRITE, 2, 0 },
		{ 0x13008, 0, 0x80003, 4, VESSEL_PT_WRITE, 1, 0 },
		{ 0x3000, 6, 0x10000, 5, VESSEL_PT_FAULT, 0, 0 },
		{ 0x13018, 0, 0x81003, 6, VESSEL_PT_WRITE, 1, 0 },
		{ 0x13008, 0x80063, 0, 7, VESSEL_PT_WRITE, 1, 0 },
		{ 0x1000, 0, 0x10000, 8, VESSEL_PT_INVLPG, 0, 0 },
		{ 0x12008, 0, 0x14003, 9, VESSEL_PT_WRITE, 2, 0 },
		{ 0x12010, 0, 0x15003, 10, VESSEL_PT_WRITE, 2, 0 },
		{ 0x12018, 0, 0x16003, 11, VESSEL_PT_WRITE, 2, 0 },
	};
	struct vessel_pt_rec r2[] = {
		{ 0x13018, 0x81063, 0, 12, VESSEL_PT_WRITE, 1, 1 },
		{ 0, 0x10000, 0x1000, 13, VESSEL_PT_CR3, 0, 1 },
		{ 0x13000, 0, 0, 14, VESSEL_PT_FREE, 1, 1 },
		{ 0x12000, 0, 0, 15, VESSEL_PT_FREE, 2, 1 },
		{ 0x12000, 0, 0, 16, VESSEL_PT_ALLOC, 0, 1 },
		{ 0x13000, 0, 0, 17, VESSEL_PT_ALLOC, 0, 1 },
	};
	char path[512];
	struct ptf_writer w;

	snprintf(path, sizeof(path), "%s/seed-process", dir);
	return ptf_create(&w, path, 2, 64 << 20) ||
	       ptf_write_recs(&w, 0, 0, r, sizeof(r) / sizeof(r[0])) ||
	       ptf_write_mark(&w, "build", 1000, st, 2) ||
	       ptf_write_recs(&w, 1, 2, r2, sizeof(r2) / sizeof(r2[0])) ||
	       ptf_write_mark(&w, "end", 2000, st, 1) || ptf_finish(&w, VESSEL_PTF_END_F_RECOVERED);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pttrace_seedgen DIR\n");
		return 2;
	}
	if (empty(argv[1]) || process(argv[1])) {
		fprintf(stderr, "pttrace_seedgen: cannot write the seeds in %s\n", argv[1]);
		return 1;
	}
	return 0;
}
