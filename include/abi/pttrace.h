/* SPDX-License-Identifier: MIT */
/*
 * The page-table trace file: written by `vessel run --pt-trace FILE`
 * (vmm/pttrace/), read by the shadow-paging model tools/sptmodel, which
 * validates all of it (a trace is untrusted input). docs/sptmodel.md has the
 * prose version.
 *
 * All integers little-endian; every block is a multiple of 8 bytes.
 *
 *   0  +----------------------------------------------+
 *      | header (32 bytes)                            |
 *   32 +----------------------------------------------+
 *      | block: type u32 | size u32 | payload[size]   |  RECS, MARK, ...
 *      | block ...                                    |
 *      | END block (always the last one)              |  missing: the VMM
 *      +----------------------------------------------+  died, trace cut
 *
 * Header:
 *   0  magic        VESSEL_PTF_MAGIC ("VSLPTRC1")
 *   8  version      VESSEL_PTF_VERSION
 *   12 header_size  32
 *   16 rec_size     32 (sizeof(struct vessel_pt_rec), include/abi/vessel.h)
 *   20 cpus         vCPUs of the VM (1 .. VESSEL_PTF_MAX_CPUS)
 *   24 mem_size     guest RAM, bytes
 *
 * Blocks (size = payload bytes; blocks follow each other without gaps):
 *   RECS  records drained from one CPU's buffer, in the order it wrote them:
 *         cpu u32 | count u32 | lost u64 | struct vessel_pt_rec[count]
 *         (size = 16 + 32 * count; lost = records that CPU dropped before
 *         these). Records of different CPUs interleave: `seq` orders them.
 *   MARK  a workload boundary, written with every vCPU paused after every
 *         buffer was drained, so every record before it happened before it:
 *         name[32] (NUL-terminated) | nstats u32 | pad u32 | host_ns u64 |
 *         struct vessel_ptf_stat[nstats]
 *         (size = 48 + 48 * nstats): the KVM binary statistics
 *         (KVM_GET_STATS_FD) at that moment, per-VM ones as they are and
 *         per-vCPU ones summed over the vCPUs, cumulative since the VM was
 *         created. host_ns: CLOCK_MONOTONIC.
 *   END   records u64 | lost u64 | drains u64 | flags u64 (size 32):
 *         totals over the file; VESSEL_PTF_END_F_RECOVERED: the VMM read
 *         every registered buffer after the VM stopped.
 *
 * Unknown block types are rejected (the version changes instead).
 */
#ifndef VESSEL_ABI_PTTRACE_H
#define VESSEL_ABI_PTTRACE_H

#include <stdint.h>

#define VESSEL_PTF_MAGIC     0x3143525450534c56ull /* "VSLPTRC1" little-endian */
#define VESSEL_PTF_VERSION   1u
#define VESSEL_PTF_MAX_CPUS  64u
#define VESSEL_PTF_NAME_MAX  32u  /* MARK name, with the NUL */
#define VESSEL_PTF_STAT_NAME 40u  /* stat name, with the NUL */
#define VESSEL_PTF_MAX_STATS 256u /* per MARK */
#define VESSEL_PTF_MAX_BLOCK (64u << 20)

enum vessel_ptf_block {
	VESSEL_PTF_RECS = 1,
	VESSEL_PTF_MARK = 2,
	VESSEL_PTF_END = 3,
};

#define VESSEL_PTF_END_F_RECOVERED 1ull

struct vessel_ptf_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint32_t rec_size;
	uint32_t cpus;
	uint64_t mem_size;
};

struct vessel_ptf_block_head {
	uint32_t type; /* enum vessel_ptf_block */
	uint32_t size; /* payload bytes after this head */
};

struct vessel_ptf_recs {
	uint32_t cpu;
	uint32_t count;
	uint64_t lost;
	/* struct vessel_pt_rec rec[count] */
};

struct vessel_ptf_stat {
	char name[VESSEL_PTF_STAT_NAME]; /* KVM's name, NUL-terminated */
	uint64_t value;
};

struct vessel_ptf_mark {
	char name[VESSEL_PTF_NAME_MAX];
	uint32_t nstats;
	uint32_t pad;
	uint64_t host_ns;
	/* struct vessel_ptf_stat stat[nstats] */
};

struct vessel_ptf_end {
	uint64_t records;
	uint64_t lost;
	uint64_t drains;
	uint64_t flags; /* VESSEL_PTF_END_F_* */
};

_Static_assert(sizeof(struct vessel_ptf_header) == 32, "pttrace file");
_Static_assert(sizeof(struct vessel_ptf_block_head) == 8, "pttrace file");
_Static_assert(sizeof(struct vessel_ptf_recs) == 16, "pttrace file");
_Static_assert(sizeof(struct vessel_ptf_stat) == 48, "pttrace file");
_Static_assert(sizeof(struct vessel_ptf_mark) == 48, "pttrace file");
_Static_assert(sizeof(struct vessel_ptf_end) == 32, "pttrace file");

#endif /* VESSEL_ABI_PTTRACE_H */
