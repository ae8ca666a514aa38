/* SPDX-License-Identifier: MIT */
/*
 * Validation of static ELF64 x86-64 and ELF32 i386 executables (the user
 * programs in the initrd; ELF32 ones run as 32-bit processes). The image is untrusted: every offset
 * and size is checked with overflow-safe arithmetic before the loader uses it. Also built for the
 * host and unit-tested there.
 */
#ifndef GUEST_LIB_ELF64_H
#define GUEST_LIB_ELF64_H

#include <stdint.h>

#define ELF64_MAX_SEGMENTS 8

#define ELF64_PF_X 1u
#define ELF64_PF_W 2u
#define ELF64_PF_R 4u

struct elf64_segment {
	uint64_t vaddr, memsz;	 /* where, how big in memory */
	uint64_t offset, filesz; /* bytes from the file; the rest is zero */
	uint32_t flags;		 /* ELF64_PF_* */
};

struct elf64_image {
	uint64_t entry;
	uint32_t compat; /* 1: ELF32 i386, runs in compatibility mode */
	uint32_t nsegs;
	struct elf64_segment segs[ELF64_MAX_SEGMENTS]; /* PT_LOAD, ascending vaddr */
};

/*
 * Checks that [data, data + size) is a static little-endian ET_EXEC, ELF64
 * x86-64 or ELF32 i386 (img->compat = 1; then hi is at most 4 GiB), whose
 * PT_LOAD segments lie in [lo, hi), have filesz <= memsz and
 * file bytes inside the image (and an access flag if it has any), vaddr ==
 * offset modulo 4 KiB, ascending and not sharing a page; no PT_INTERP or
 * PT_DYNAMIC; entry inside an executable segment. Fills *img. Returns 0 or -ENOEXEC; *why (if not
 * NULL) names the problem.
 */
int elf64_parse(const void *data, uint64_t size, uint64_t lo, uint64_t hi, struct elf64_image *img,
		const char **why);

#endif
