/* SPDX-License-Identifier: MIT */
/*
 * ELF64 kernel loader: every PT_LOAD segment is copied to guest RAM at its
 * p_paddr, the rest of p_memsz is zeroed, and e_entry (a physical address)
 * must lie in an executable segment. The whole image is validated before a
 * single byte of guest memory is written.
 */
#ifndef VMM_CORE_ELF_H
#define VMM_CORE_ELF_H

#include <stddef.h>
#include <stdint.h>

struct gmem;

#define ELF_MAX_PHNUM 128u

struct elf_image {
	uint64_t entry;	  /* e_entry, guest-physical */
	uint64_t lo;	  /* lowest p_paddr of a loaded segment */
	uint64_t hi;	  /* end of the highest loaded segment (p_paddr + p_memsz) */
	unsigned nr_load; /* PT_LOAD segments loaded (p_memsz > 0) */
};

/*
 * elf_load - validate the ELF64 x86-64 executable `img` (size bytes) and load
 * it into guest memory. Segments must lie in RAM within [min_gpa, max_gpa)
 * (the range the boot page tables map) and must not overlap each other. On error returns -ENOEXEC (not a loadable
 * ELF) or -ERANGE (does not fit in guest RAM) and writes a one-line reason
 * into err (errlen bytes); guest memory is then left untouched.
 */
int elf_load(struct gmem *m, const void *img, size_t size, uint64_t min_gpa, uint64_t max_gpa,
	     struct elf_image *out, char *err, size_t errlen);

#endif
