// SPDX-License-Identifier: MIT
/*
 * ebpf-verify [-c CTXSIZE] [-s SECTION|FUNCTION] FILE: verify a program, raw
 * little-endian instructions or an ELF object (recognised by its magic).
 * The context is CTXSIZE writable bytes (default 64) and the helpers are
 * those of ebpf/tools/testenv.h. Prints `accept` and exits 0, or
 * `reject: instruction N: reason` and exits 1 (2 for usage errors).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ebpf/ebpf.h"
#include "testenv.h"

int main(int argc, char **argv)
{
	const char *section = NULL;
	unsigned long ctx = 64;
	struct ebpf_error err;
	struct ebpf_prog *prog;
	struct testenv te;
	uint8_t *buf, *zero;
	size_t n = 0;
	FILE *f;
	int opt, rc;

	while ((opt = getopt(argc, argv, "c:s:")) != -1) {
		if (opt == 'c')
			ctx = strtoul(optarg, NULL, 0);
		else if (opt == 's')
			section = optarg;
		else
			goto usage;
	}
	if (optind != argc - 1 || ctx > (1u << 20))
		goto usage;
	f = fopen(argv[optind], "rb");
	if (!f) {
		perror(argv[optind]);
		return 2;
	}
	buf = testenv_read_all(f, &n, &rc);
	fclose(f);
	if (!buf) {
		fprintf(stderr, "ebpf-verify: %s: %s\n", argv[optind],
			rc == -EFBIG ? "too large for a program (over 16 MiB)" : strerror(-rc));
		return 2;
	}
	zero = calloc(1, ctx + 1);
	if (testenv_init(&te, LAYOUT_MEM, zero, ctx)) {
		fprintf(stderr, "ebpf-verify: out of memory\n");
		return 2;
	}
	if (n >= 4 && !memcmp(buf, "\177ELF", 4))
		rc = ebpf_prog_load_elf(te.env, buf, n, section, &prog, &err);
	else
		rc = ebpf_prog_load(te.env, buf, n, &prog, &err);
	if (rc) {
		if (err.insn >= 0)
			printf("reject: instruction %d: %s\n", err.insn, err.msg);
		else
			printf("reject: %s\n", err.msg);
		return 1;
	}
	{
		struct ebpf_verify_stats st;

		ebpf_verify_last_stats(&st);
		printf("accept (%zu instructions, %" PRIu64 " explored, %" PRIu64
		       " states, %" PRIu64 " of %" PRIu64 " work units)\n",
		       ebpf_prog_len(prog), st.insns, st.states, st.work, st.max_work);
	}
	ebpf_prog_free(prog);
	testenv_free(&te);
	free(zero);
	free(buf);
	return 0;
usage:
	fprintf(stderr, "usage: ebpf-verify [-c CTXSIZE] [-s SECTION|FUNCTION] FILE\n");
	return 2;
}
