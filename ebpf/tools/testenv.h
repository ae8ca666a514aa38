/* SPDX-License-Identifier: MIT */
/*
 * The environment the tools (ebpf-run, ebpf-verify), the data-file tests
 * and the fuzzer run programs in, so that they all agree on helper ids and
 * argument specs.
 *   helper 1 sum5(a, b, c, d, e)              -> a + b + c + d + e
 *   helper 2 memsum(ptr RO, size)             -> sum of the bytes
 *   helper 3 copy_guest(ptr WO, size, gaddr)  -> 0, or -14 (EFAULT) with the
 *            buffer zero-filled: copies from a 4 KiB fake guest memory whose
 *            byte i is (i * 7) & 0xff; the VMM's real helper has this shape
 *   helper 4 fill(ptr WO, size)               -> size, buffer filled with 0xab
 *   helper 5 ctx_first(ctx)                   -> first byte of the context, or 0
 * Layout "mem": r1 = the input memory (writable), r2 = its length.
 * Layout "regions": r1 = a 16-byte context {u64 data; u64 len}; data is a
 * read-only region (the input memory), len its length; "regions-rw" makes
 * it writable.
 */
#ifndef EBPF_TOOLS_TESTENV_H
#define EBPF_TOOLS_TESTENV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ebpf/ebpf.h"

enum testenv_layout { LAYOUT_MEM, LAYOUT_REGIONS, LAYOUT_REGIONS_RW };

struct testenv {
	struct ebpf_env *env;
	enum testenv_layout layout;
	uint8_t *mem; /* malloc'd copy of the input, exactly len bytes */
	size_t len;
	uint64_t ctx16[2]; /* the "regions" context: {data, len} */
};

/* Build env + buffers for `mem` of `len` bytes. Returns 0 or -errno. */
int testenv_init(struct testenv *t, enum testenv_layout layout, const uint8_t *mem, size_t len);
/* The ctx pointer to pass to ebpf_prog_run. */
void *testenv_ctx(struct testenv *t);
void testenv_free(struct testenv *t);

/* Largest program file the tools read: a full raw program is 512 KiB; an
 * ELF object with debug info is bigger, but not by this much. */
#define TESTENV_FILE_MAX (16u << 20)

/*
 * Read all of f (a program: raw instructions or ELF), refusing it as soon as
 * it exceeds TESTENV_FILE_MAX instead of reading it whole first. Returns a
 * malloc'd buffer and *n, or NULL with -errno in *err (-EFBIG: too large).
 */
uint8_t *testenv_read_all(FILE *f, size_t *n, int *err);

#endif
