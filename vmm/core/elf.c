// SPDX-License-Identifier: MIT
#include "core/elf.h"
#include "core/guest_mem.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int __attribute__((format(printf, 4, 5)))
fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int check_header(const Elf64_Ehdr *eh, size_t size, char *err, size_t errlen)
{
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return fail(-ENOEXEC, err, errlen, "not an ELF file (bad magic)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return fail(-ENOEXEC, err, errlen, "not a 64-bit ELF (class %u)",
			    eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(-ENOEXEC, err, errlen, "not a little-endian ELF");
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return fail(-ENOEXEC, err, errlen, "unknown ELF version");
	if (eh->e_type != ET_EXEC)
		return fail(-ENOEXEC, err, errlen,
			    "not an executable ELF (e_type %u, need ET_EXEC)", eh->e_type);
	if (eh->e_machine != EM_X86_64)
		return fail(-ENOEXEC, err, errlen, "not an x86-64 ELF (e_machine %u)",
			    eh->e_machine);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(-ENOEXEC, err, errlen, "bad program header size %u", eh->e_phentsize);
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHNUM)
		return fail(-ENOEXEC, err, errlen, "bad program header count %u (1..%u)",
			    eh->e_phnum, ELF_MAX_PHNUM);
	if (eh->e_phoff > size || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff)
		return fail(-ENOEXEC, err, errlen,
			    "program headers at offset %#llx lie beyond the end of the file",
			    (unsigned long long)eh->e_phoff);
	return 0;
}

static void get_phdr(const uint8_t *img, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph)
{
	/* memcpy: e_phoff need not be aligned */
	memcpy(ph, img + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

static int check_segment(struct gmem *m, const Elf64_Phdr *ph, unsigned i, size_t size,
			 uint64_t min_gpa, uint64_t max_gpa, char *err, size_t errlen)
{
	if (ph->p_filesz > ph->p_memsz)
		return fail(-ENOEXEC, err, errlen, "segment %u: p_filesz %#llx > p_memsz %#llx", i,
			    (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
		return fail(-ENOEXEC, err, errlen,
			    "segment %u: file data [%#llx, +%#llx) lies beyond the end of the file "
			    "(%zu bytes)",
			    i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
			    size);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return fail(-ENOEXEC, err, errlen, "segment %u: address range wraps around", i);
	if (ph->p_paddr < min_gpa)
		return fail(-ERANGE, err, errlen,
			    "segment %u: p_paddr %#llx is below %#llx (reserved for the VMM)", i,
			    (unsigned long long)ph->p_paddr, (unsigned long long)min_gpa);
	if (!gmem_ptr(m, ph->p_paddr, ph->p_memsz))
		return fail(-ERANGE, err, errlen,
			    "segment %u: [%#llx, %#llx) does not fit in guest RAM (%llu MiB)", i,
			    (unsigned long long)ph->p_paddr,
			    (unsigned long long)(ph->p_paddr + ph->p_memsz),
			    (unsigned long long)(m->size >> 20));
	if (ph->p_paddr + ph->p_memsz > max_gpa)
		return fail(-ERANGE, err, errlen,
			    "segment %u: [%#llx, %#llx) ends above %#llx, which the boot page tables "
			    "do not map",
			    i, (unsigned long long)ph->p_paddr,
			    (unsigned long long)(ph->p_paddr + ph->p_memsz),
			    (unsigned long long)max_gpa);
	return 0;
}

int elf_load(struct gmem *m, const void *img, size_t size, uint64_t min_gpa, uint64_t max_gpa,
	     struct elf_image *out, char *err, size_t errlen)
{
	const uint8_t *p = img;
	Elf64_Ehdr eh;
	Elf64_Phdr ph, other;
	struct elf_image res = { .lo = UINT64_MAX };
	bool entry_ok = false;
	int rc;

	if (size < sizeof(eh))
		return fail(-ENOEXEC, err, errlen, "file too small for an ELF header (%zu bytes)",
			    size);
	memcpy(&eh, p, sizeof(eh));
	rc = check_header(&eh, size, err, errlen);
	if (rc)
		return rc;

	/* pass 1: validate everything */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		get_phdr(p, &eh, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		rc = check_segment(m, &ph, i, size, min_gpa, max_gpa, err, errlen);
		if (rc)
			return rc;
		for (unsigned j = 0; j < i; j++) {
			get_phdr(p, &eh, j, &other);
			if (other.p_type != PT_LOAD || other.p_memsz == 0)
				continue;
			if (ph.p_paddr < other.p_paddr + other.p_memsz &&
			    other.p_paddr < ph.p_paddr + ph.p_memsz)
				return fail(-ENOEXEC, err, errlen,
					    "segments %u and %u overlap in physical memory", j, i);
		}
		if ((ph.p_flags & PF_X) && eh.e_entry >= ph.p_paddr &&
		    eh.e_entry - ph.p_paddr < ph.p_memsz)
			entry_ok = true;
		if (ph.p_paddr < res.lo)
			res.lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > res.hi)
			res.hi = ph.p_paddr + ph.p_memsz;
		res.nr_load++;
	}
	if (res.nr_load == 0)
		return fail(-ENOEXEC, err, errlen, "no loadable (PT_LOAD) segment");
	if (!entry_ok)
		return fail(-ENOEXEC, err, errlen,
			    "entry point %#llx is not inside an executable PT_LOAD segment "
			    "(e_entry must be a physical address)",
			    (unsigned long long)eh.e_entry);
	res.entry = eh.e_entry;

	/* pass 2: copy */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		uint8_t *dst;

		get_phdr(p, &eh, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		dst = gmem_ptr(m, ph.p_paddr, ph.p_memsz);
		memcpy(dst, p + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	if (out)
		*out = res;
	return 0;
}
