/* SPDX-License-Identifier: MIT */
/* Shared between the files of libebpf; not part of the public API. */
#ifndef EBPF_INTERNAL_H
#define EBPF_INTERNAL_H

#include <stdbool.h>
#include "ebpf.h"
#include "isa.h"

struct ebpf_helper {
	uint32_t id;
	ebpf_helper_fn fn;
	enum ebpf_arg_type args[5];
	char name[32];
};

struct ebpf_region {
	uint32_t ctx_offset;
	uint32_t size;
	unsigned flags;
	char name[32];
};

struct ebpf_env {
	uint32_t ctx_size;
	unsigned ctx_flags;
	unsigned nregions;
	unsigned nhelpers;
	struct ebpf_region regions[EBPF_MAX_REGIONS];
	struct ebpf_helper helpers[EBPF_MAX_HELPERS];
};

/* Pre-decoded instruction executed by the interpreter: one handler index,
 * jump targets made absolute, immediates already extended. */
struct ebpf_dinsn {
	const void *handler; /* address of the op's code in the fast loop */
	uint16_t op;
	uint8_t dst;
	uint8_t src;
	int32_t off;
	uint64_t imm;
};

struct ebpf_prog {
	size_t len;
	struct ebpf_env env; /* copy: the program outlives the env */
	struct ebpf_dinsn *code;
	struct ebpf_verify_stats vstats;
};

/* Format an error at instruction `insn` (-1: none); returns -EINVAL. */
int ebpf_fail(struct ebpf_error *err, int insn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const struct ebpf_helper *ebpf_env_helper(const struct ebpf_env *env, uint32_t id);

/* verifier.c: verify insns against env; 0 or -EINVAL/-E2BIG/-ENOMEM. Fills
 * *stats (may be NULL) also on failure. */
int ebpf_verify(const struct ebpf_env *env, const struct ebpf_insn *insns, size_t n,
		struct ebpf_error *err, struct ebpf_verify_stats *stats);

/* cfg.c: structural checks (opcodes, fields, jump targets, reachability,
 * function boundaries). Fills is_prune (n bytes) with 1 at branch targets
 * and function entries, 2 at targets of backward jumps (loop heads). */
int ebpf_check_cfg(const struct ebpf_env *env, const struct ebpf_insn *insns, size_t n,
		   uint8_t *is_prune, struct ebpf_error *err);

/* loader.c: zero the thread's ebpf_verify_last_stats() */
void ebpf_verify_stats_reset(void);

/* interp.c: translate verified insns into prog->code. */
int ebpf_predecode(struct ebpf_prog *prog, const struct ebpf_insn *insns, size_t n);

#endif
