/* SPDX-License-Identifier: MIT */
/*
 * Writing the page-table trace file (include/abi/pttrace.h). No KVM, no VM:
 * the VMM's pttrace subsystem and the tests use it directly.
 */
#ifndef VMM_PTTRACE_TRACE_FILE_H
#define VMM_PTTRACE_TRACE_FILE_H

#include <stdint.h>

#include "abi/pttrace.h"
#include "abi/vessel.h"

struct ptf_writer {
	int fd;
	uint64_t records, lost, drains, marks; /* written so far */
};

/*
 * ptf_create - create (or truncate) the file at path and write the header.
 * 0 or -errno (-EINVAL for cpus outside 1..VESSEL_PTF_MAX_CPUS).
 */
int ptf_create(struct ptf_writer *w, const char *path, unsigned cpus, uint64_t mem_size);

/*
 * ptf_write_recs - a RECS block: n records of one CPU, lost = records it
 * dropped before them. 0 or -errno (-EINVAL if the block would be too large).
 */
int ptf_write_recs(struct ptf_writer *w, unsigned cpu, uint64_t lost,
		   const struct vessel_pt_rec *rec, uint32_t n);

/*
 * ptf_write_mark - a MARK block named name (truncated to 31 bytes) with n
 * statistics (n <= VESSEL_PTF_MAX_STATS). 0 or -errno.
 */
int ptf_write_mark(struct ptf_writer *w, const char *name, uint64_t host_ns,
		   const struct vessel_ptf_stat *stats, uint32_t n);

/*
 * ptf_finish - write the END block (totals, flags) and close the file.
 * 0 or -errno; the file is closed either way. Safe on a writer whose
 * ptf_create failed (fd -1): returns -EBADF.
 */
int ptf_finish(struct ptf_writer *w, uint64_t flags);

#endif
