/* SPDX-License-Identifier: MIT */
#ifndef TESTS_EBPF_UNIT_H
#define TESTS_EBPF_UNIT_H

/* directory of the clang-compiled test objects (build/ebpf/c) */
extern const char *unit_elf_dir;
/* run the ELF loader tests (unit_elf.c); returns the number of failures */
int unit_elf_tests(void);
/* soundness of the verifier's abstract domain (unit_bounds.c) */
int unit_bounds_tests(void);
/* the verifier's work accounting on generated programs (unit_work.c) */
int unit_work_tests(void);

#endif
