// SPDX-License-Identifier: MIT
/*
 * ebpf-run [HEXMEM]: raw little-endian instructions on stdin; HEXMEM (hex
 * digits, optional) is copied into a buffer passed in r1, its length in r2.
 * Verifies, runs, prints r0 in hex and exits 0; on error prints the error
 * and exits 1. This is the plugin protocol of the eBPF conformance suite.
 * Helpers: see ebpf/tools/testenv.h.
 */
#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ebpf/ebpf.h"
#include "testenv.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int main(int argc, char **argv)
{
	size_t n = 0, memlen = 0;
	uint8_t *code, *mem = NULL;
	struct ebpf_error err;
	struct ebpf_prog *prog;
	struct testenv te;
	const char *hex = argc > 1 ? argv[1] : "";
	int rc;

	if (argc > 2 || (argc == 2 && !strcmp(argv[1], "--help"))) {
		fprintf(stderr, "usage: ebpf-run [HEXMEM] < program.bin\n");
		return 2;
	}
	mem = malloc(strlen(hex) / 2 + 1);
	for (const char *p = hex; *p;) {
		int hi, lo;

		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		hi = hexval(p[0]);
		lo = p[1] ? hexval(p[1]) : -1;
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "ebpf-run: bad hex memory near '%.8s'\n", p);
			return 1;
		}
		mem[memlen++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	code = testenv_read_all(stdin, &n, &rc);
	if (!code) {
		fprintf(stderr, "ebpf-run: the program on stdin: %s\n",
			rc == -EFBIG ? "too large (over 16 MiB)" : strerror(-rc));
		return 1;
	}
	if (testenv_init(&te, LAYOUT_MEM, mem, memlen)) {
		fprintf(stderr, "ebpf-run: out of memory\n");
		return 1;
	}
	rc = ebpf_prog_load(te.env, code, n, &prog, &err);
	if (rc) {
		if (err.insn >= 0)
			printf("error: instruction %d: %s\n", err.insn, err.msg);
		else
			printf("error: %s\n", err.msg);
		return 1;
	}
	printf("%" PRIx64 "\n", ebpf_prog_run(prog, testenv_ctx(&te), &te));
	ebpf_prog_free(prog);
	testenv_free(&te);
	free(code);
	free(mem);
	return 0;
}
