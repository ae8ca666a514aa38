// SPDX-License-Identifier: MIT
#include "lib/elf64.h"
#include "lib/errno.h"

#define PT_LOAD	   1
#define PT_DYNAMIC 2
#define PT_INTERP  3
#define ET_EXEC	   2
#define EM_386	   3
#define EM_X86_64  62
#define PAGE	   4096ull
#define ELF32_TOP  0x100000000ull

/* Field readers: the image needs no alignment. */
static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -ENOEXEC;
}

int elf64_parse(const void *data, uint64_t size, uint64_t lo, uint64_t hi, struct elf64_image *img,
		const char **why)
{
	const uint8_t *d = data;
	uint64_t phoff, phnum, phentsize, prev_end = 0;
	int entry_ok = 0;

	img->nsegs = 0;
	img->compat = 0;
	if (size < 64)
		return fail(why, "shorter than an ELF header");
	if (d[0] != 0x7f || d[1] != 'E' || d[2] != 'L' || d[3] != 'F')
		return fail(why, "bad magic");
	if ((d[4] != 1 && d[4] != 2) || d[5] != 1 || d[6] != 1)
		return fail(why, "not ELF32/ELF64 little-endian version 1");
	img->compat = d[4] == 1;
	if (rd(d + 16, 2) != ET_EXEC)
		return fail(why, "not an executable (ET_EXEC)");
	if (rd(d + 18, 2) != (img->compat ? EM_386 : EM_X86_64))
		return fail(why, img->compat ? "ELF32 but not i386" : "not x86-64");
	if (img->compat) {
		img->entry = rd(d + 24, 4);
		phoff = rd(d + 28, 4);
		phentsize = rd(d + 42, 2);
		phnum = rd(d + 44, 2);
		if (hi > ELF32_TOP) /* a 32-bit process addresses only 4 GiB */
			hi = ELF32_TOP;
	} else {
		img->entry = rd(d + 24, 8);
		phoff = rd(d + 32, 8);
		phentsize = rd(d + 54, 2);
		phnum = rd(d + 56, 2);
	}
	if (phentsize != (img->compat ? 32u : 56u))
		return fail(why, "bad program header size");
	if (phoff > size || phnum > (size - phoff) / phentsize)
		return fail(why, "program headers outside the file");
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = d + phoff + i * phentsize;
		uint32_t type = (uint32_t)rd(ph, 4);
		struct elf64_segment s;

		if (type == PT_INTERP || type == PT_DYNAMIC)
			return fail(why, "dynamically linked");
		if (type != PT_LOAD)
			continue;
		if (img->compat) {
			s.offset = rd(ph + 4, 4);
			s.vaddr = rd(ph + 8, 4);
			s.filesz = rd(ph + 16, 4);
			s.memsz = rd(ph + 20, 4);
			s.flags = (uint32_t)rd(ph + 24, 4) & 7u;
		} else {
			s.flags = (uint32_t)rd(ph + 4, 4) & 7u;
			s.offset = rd(ph + 8, 8);
			s.vaddr = rd(ph + 16, 8);
			s.filesz = rd(ph + 32, 8);
			s.memsz = rd(ph + 40, 8);
		}
		if (s.memsz == 0)
			continue;
		if (s.filesz > s.memsz)
			return fail(why, "segment filesz > memsz");
		if (s.offset > size || s.filesz > size - s.offset)
			return fail(why, "segment data outside the file");
		if (s.filesz && !s.flags)
			return fail(why, "segment has file data but no access flag");
		if (s.vaddr % PAGE != s.offset % PAGE)
			return fail(why, "segment vaddr and offset differ modulo 4 KiB");
		if (s.vaddr < lo || s.vaddr >= hi || s.memsz > hi - s.vaddr)
			return fail(why, "segment outside the user image area");
		if (s.vaddr / PAGE * PAGE < prev_end)
			return fail(why, "segments overlap, share a page or are not ascending");
		if (img->nsegs == ELF64_MAX_SEGMENTS)
			return fail(why, "too many segments");
		prev_end = (s.vaddr + s.memsz + PAGE - 1) / PAGE * PAGE;
		if ((s.flags & ELF64_PF_X) && img->entry >= s.vaddr &&
		    img->entry < s.vaddr + s.memsz)
			entry_ok = 1;
		img->segs[img->nsegs++] = s;
	}
	if (!img->nsegs)
		return fail(why, "no loadable segment");
	if (!entry_ok)
		return fail(why, "entry point not in an executable segment");
	return 0;
}
