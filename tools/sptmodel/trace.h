/* SPDX-License-Identifier: MIT */
/*
 * Reading a page-table trace file (include/abi/pttrace.h) into memory, split
 * into workload segments at its MARK blocks. Everything is validated: the
 * file is untrusted input (fuzzed: tests/fuzz/pttrace_fuzz.c).
 */
#ifndef SPTMODEL_TRACE_H
#define SPTMODEL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/pttrace.h"
#include "abi/vessel.h"

struct ptr_stat {
	char name[VESSEL_PTF_STAT_NAME];
	uint64_t value;
};

/*
 * The records between two marks (or before the first, or after the last),
 * in `seq` order. A segment closed by a MARK carries that mark's name and
 * KVM statistics (cumulative since the VM was created).
 */
struct ptr_segment {
	char name[VESSEL_PTF_NAME_MAX]; /* the closing mark's, "" if none */
	bool marked;			/* closed by a MARK */
	uint64_t host_ns;		/* the mark's time */
	struct ptr_stat *stats;
	uint32_t nstats;
	struct vessel_pt_rec *rec;
	size_t nrec;
	uint64_t lost; /* records the guest dropped in this segment */
};

struct ptr_trace {
	uint32_t cpus;
	uint64_t mem_size;
	struct ptr_segment *seg;
	size_t nseg;
	bool complete;	/* the END block is there */
	bool recovered; /* END says every buffer was read at the end */
	uint64_t records, lost;
	char note[160]; /* why the trace is incomplete, "" if it is not */
};

/*
 * ptr_parse - validate and load the trace in buf[0..len). 0 with *t filled
 * (free with ptr_free), or -EINVAL with err saying what is wrong and at which
 * offset (t is then empty). A trace cut short (no END block, possibly a
 * partial last block: the VMM died) loads with complete = false and a note.
 */
int ptr_parse(const void *buf, size_t len, struct ptr_trace *t, char *err, size_t errlen);

/* ptr_read_file - ptr_parse() of a whole file; -errno with err naming it. */
int ptr_read_file(const char *path, struct ptr_trace *t, char *err, size_t errlen);

/* ptr_free - release what ptr_parse() allocated; safe on a zeroed trace. */
void ptr_free(struct ptr_trace *t);

/* ptr_stat - the statistic called name in seg, or 0 with *found false. */
uint64_t ptr_stat(const struct ptr_segment *seg, const char *name, bool *found);

/* ptr_kind_name - "write", "invlpg", "cr3", "fault", "free", "alloc" or "?". */
const char *ptr_kind_name(unsigned kind);

#endif
