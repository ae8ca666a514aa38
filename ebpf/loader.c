// SPDX-License-Identifier: MIT
/* Loading raw instruction arrays: size checks, verification, pre-decoding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static __thread struct ebpf_verify_stats last_stats;

void ebpf_verify_last_stats(struct ebpf_verify_stats *out)
{
	*out = last_stats;
}

void ebpf_verify_stats_reset(void)
{
	memset(&last_stats, 0, sizeof(last_stats));
}

int ebpf_prog_load(const struct ebpf_env *env, const void *code, size_t len, struct ebpf_prog **out,
		   struct ebpf_error *err)
{
	struct ebpf_error dummy;
	struct ebpf_insn *insns;
	struct ebpf_prog *prog;
	size_t n;
	int rc;

	*out = NULL;
	ebpf_verify_stats_reset();
	if (!err)
		err = &dummy;
	err->insn = -1;
	err->msg[0] = 0;
	if (len == 0)
		return ebpf_fail(err, -1, "empty program");
	if (len % sizeof(struct ebpf_insn))
		return ebpf_fail(err, -1, "program length %zu is not a multiple of 8", len);
	n = len / sizeof(struct ebpf_insn);
	if (n > EBPF_MAX_INSNS) {
		ebpf_fail(err, -1, "program has %zu instructions, limit %d", n, EBPF_MAX_INSNS);
		return -E2BIG;
	}
	/* copy: the caller's buffer may be unaligned or change under us */
	insns = malloc(len);
	prog = calloc(1, sizeof(*prog));
	if (!insns || !prog) {
		free(insns);
		free(prog);
		ebpf_fail(err, -1, "out of memory");
		return -ENOMEM;
	}
	memcpy(insns, code, len);
	prog->len = n;
	prog->env = *env;
	rc = ebpf_verify(&prog->env, insns, n, err, &prog->vstats);
	last_stats = prog->vstats;
	if (!rc) {
		rc = ebpf_predecode(prog, insns, n);
		if (rc)
			ebpf_fail(err, -1, "out of memory");
	}
	free(insns);
	if (rc) {
		ebpf_prog_free(prog);
		return rc;
	}
	*out = prog;
	return 0;
}

void ebpf_prog_free(struct ebpf_prog *prog)
{
	if (!prog)
		return;
	free(prog->code);
	free(prog);
}

size_t ebpf_prog_len(const struct ebpf_prog *prog)
{
	return prog->len;
}

void ebpf_prog_verifier_stats(const struct ebpf_prog *prog, uint64_t *insns_processed,
			      uint64_t *states_stored)
{
	if (insns_processed)
		*insns_processed = prog->vstats.insns;
	if (states_stored)
		*states_stored = prog->vstats.states;
}
