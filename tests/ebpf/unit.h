/* SPDX-License-Identifier: MIT */
#ifndef TESTS_EBPF_UNIT_H
#define TESTS_EBPF_UNIT_H

#include <stddef.h>
#include <stdint.h>
#include "ebpf/ebpf.h"

/* directory of the clang-compiled test objects (build/ebpf/c) */
extern const char *unit_elf_dir;
/* run the ELF loader tests (unit_elf.c); returns the number of failures */
int unit_elf_tests(void);
/* soundness of the verifier's abstract domain (unit_bounds.c) */
int unit_bounds_tests(void);
/* the verifier's work accounting on generated programs (unit_work.c) */
int unit_work_tests(void);
/* pruning on live and precise state (unit_prune.c) */
int unit_prune_tests(void);

/* the file `name` of unit_elf_dir, malloc'd (unit_elf.c; fails the test if
 * it cannot be read) */
uint8_t *unit_read_file(const char *name, size_t *len);

/* a load and what it cost (unit_work.c) */
struct gen_result {
	int n, rc;
	struct ebpf_error err;
	struct ebpf_verify_stats st;
};

/* Generate the program of advgen SPEC (tests/ebpf/advgen.h), load it in the
 * "mem" environment without memory, and run it if accepted (r0 must be 0). */
void unit_load_gen(const char *spec, struct gen_result *r);

#endif
