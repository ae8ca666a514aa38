// SPDX-License-Identifier: MIT
/*
 * ELF loader for objects produced by `clang -O2 -target bpf -c`.
 *
 * The file is untrusted: every offset, size, count and index is checked
 * against the buffer before use, structures are copied out with memcpy (no
 * alignment assumption), and anything we do not understand is rejected
 * with a message naming it. Supported: one program section, plus .text
 * when the program calls functions there (appended after the program,
 * as libbpf does), with R_BPF_64_32 call relocations resolved.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif
#define R_BPF_64_64 1
#define R_BPF_64_32 10

struct elf_file {
	const uint8_t *buf;
	size_t len;
	Elf64_Ehdr eh;
	Elf64_Shdr *sh; /* copies of all section headers */
	const char *shstr;
	size_t shstr_len;
	struct ebpf_error *err;
};

static int efail(struct elf_file *f, const char *msg, const char *what)
{
	return ebpf_fail(f->err, -1, "ELF: %s%s%s", msg, what ? ": " : "", what ? what : "");
}

static bool in_file(const struct elf_file *f, uint64_t off, uint64_t size)
{
	return off <= f->len && size <= f->len - off;
}

/*
 * Section and symbol names are at most this long. Looking for the end of a
 * name is then bounded: searching up to the end of the table made a file
 * with many symbols naming one long string quadratic (0.4 s for 1.8 MB,
 * 6 s for 7 MB).
 */
#define MAX_NAME 255

/* a NUL-terminated string of at most MAX_NAME bytes at off inside a string
 * table, or NULL */
static const char *str_at(const char *tab, size_t tab_len, uint64_t off)
{
	size_t room;

	if (off >= tab_len)
		return NULL;
	room = tab_len - off < MAX_NAME + 1 ? tab_len - off : MAX_NAME + 1;
	if (!memchr(tab + off, 0, room))
		return NULL;
	return tab + off;
}

static const char *sec_name(const struct elf_file *f, unsigned i)
{
	const char *s = str_at(f->shstr, f->shstr_len, f->sh[i].sh_name);

	return s ? s : "?";
}

static int parse_headers(struct elf_file *f)
{
	const Elf64_Shdr *ss;

	if (f->len < sizeof(Elf64_Ehdr))
		return efail(f, "file shorter than an ELF header", NULL);
	memcpy(&f->eh, f->buf, sizeof(f->eh));
	if (memcmp(f->eh.e_ident, ELFMAG, SELFMAG))
		return efail(f, "bad magic (not an ELF file)", NULL);
	if (f->eh.e_ident[EI_CLASS] != ELFCLASS64)
		return efail(f, "not a 64-bit ELF file", NULL);
	if (f->eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return efail(f, "not little-endian", NULL);
	if (f->eh.e_ident[EI_VERSION] != EV_CURRENT)
		return efail(f, "unknown ELF version", NULL);
	if (f->eh.e_type != ET_REL)
		return efail(f, "not a relocatable object (ET_REL)", NULL);
	if (f->eh.e_machine != EM_BPF)
		return efail(f, "machine is not BPF (EM_BPF)", NULL);
	if (f->eh.e_shentsize != sizeof(Elf64_Shdr))
		return efail(f, "bad section header entry size", NULL);
	if (f->eh.e_shnum == 0 || f->eh.e_shnum >= SHN_LORESERVE)
		return efail(f, "bad section count", NULL);
	if (!in_file(f, f->eh.e_shoff, (uint64_t)f->eh.e_shnum * sizeof(Elf64_Shdr)))
		return efail(f, "section headers outside the file", NULL);
	if (f->eh.e_shstrndx >= f->eh.e_shnum)
		return efail(f, "section name table index out of range", NULL);
	f->sh = malloc((size_t)f->eh.e_shnum * sizeof(Elf64_Shdr));
	if (!f->sh)
		return -ENOMEM;
	memcpy(f->sh, f->buf + f->eh.e_shoff, (size_t)f->eh.e_shnum * sizeof(Elf64_Shdr));
	for (unsigned i = 0; i < f->eh.e_shnum; i++) {
		const Elf64_Shdr *s = &f->sh[i];

		if (s->sh_type != SHT_NOBITS && s->sh_type != SHT_NULL &&
		    !in_file(f, s->sh_offset, s->sh_size))
			return efail(f, "section contents outside the file", NULL);
	}
	ss = &f->sh[f->eh.e_shstrndx];
	if (ss->sh_type != SHT_STRTAB)
		return efail(f, "section name table is not a string table", NULL);
	f->shstr = (const char *)f->buf + ss->sh_offset;
	f->shstr_len = ss->sh_size;
	return 0;
}

static bool is_prog_section(const Elf64_Shdr *s)
{
	return s->sh_type == SHT_PROGBITS && (s->sh_flags & SHF_EXECINSTR) && s->sh_size > 0;
}

static int find_section(struct elf_file *f, const char *name, unsigned *out, bool *found)
{
	int text = -1;

	for (unsigned i = 1; i < f->eh.e_shnum; i++) {
		if (!is_prog_section(&f->sh[i]))
			continue;
		if (name) {
			if (!strcmp(sec_name(f, i), name)) {
				*out = i;
				return 0;
			}
			continue;
		}
		if (!strcmp(sec_name(f, i), ".text")) {
			text = (int)i;
			continue;
		}
		*out = i;
		return 0;
	}
	if (!name && text >= 0) {
		*out = (unsigned)text;
		return 0;
	}
	if (name) {
		*found = false; /* maybe a function name */
		return 0;
	}
	return efail(f, "no executable section", "(any)");
}

/* the symbol table and its strings, validated; 0 or -EINVAL */
static int get_symtab(struct elf_file *f, const Elf64_Shdr **symtab, const char **strs,
		      size_t *strs_len)
{
	for (unsigned i = 1; i < f->eh.e_shnum; i++) {
		const Elf64_Shdr *s = &f->sh[i];

		if (s->sh_type != SHT_SYMTAB)
			continue;
		if (s->sh_entsize != sizeof(Elf64_Sym) || s->sh_size % sizeof(Elf64_Sym) ||
		    s->sh_link == 0 || s->sh_link >= f->eh.e_shnum ||
		    f->sh[s->sh_link].sh_type != SHT_STRTAB)
			return efail(f, "bad symbol table", sec_name(f, i));
		*symtab = s;
		*strs = (const char *)f->buf + f->sh[s->sh_link].sh_offset;
		*strs_len = f->sh[s->sh_link].sh_size;
		return 0;
	}
	*symtab = NULL;
	return 0;
}

/*
 * The entry point: the function named `name` (when name is not a section),
 * else the section's only global function, else its start. Sets *sec (when
 * found by function name) and *entry (instruction offset in the section).
 */
static int find_entry(struct elf_file *f, const char *name, bool by_function, unsigned *sec,
		      size_t *entry)
{
	const Elf64_Shdr *symtab;
	const char *strs, *first = NULL;
	size_t strs_len, nglobal = 0;
	int rc = get_symtab(f, &symtab, &strs, &strs_len);

	*entry = 0;
	if (rc || !symtab)
		return rc ? rc : (by_function ? efail(f, "no executable section", name) : 0);
	for (size_t k = 1; k < symtab->sh_size / sizeof(Elf64_Sym); k++) {
		Elf64_Sym sym;
		const char *sname;

		memcpy(&sym, f->buf + symtab->sh_offset + k * sizeof(sym), sizeof(sym));
		if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == 0 ||
		    sym.st_shndx >= f->eh.e_shnum || !is_prog_section(&f->sh[sym.st_shndx]))
			continue;
		sname = str_at(strs, strs_len, sym.st_name);
		if (!sname)
			return efail(f, "symbol name out of range or longer than 255 bytes", NULL);
		if (sym.st_value % 8 || sym.st_value >= f->sh[sym.st_shndx].sh_size)
			return efail(f, "function symbol outside its section", sname);
		if (by_function) {
			if (strcmp(sname, name))
				continue;
			*sec = sym.st_shndx;
			*entry = sym.st_value / 8;
			return 0;
		}
		if (sym.st_shndx != *sec || ELF64_ST_BIND(sym.st_info) != STB_GLOBAL)
			continue;
		if (nglobal++ == 0) {
			first = sname;
			*entry = sym.st_value / 8;
		} else {
			return ebpf_fail(
				f->err, -1,
				"ELF: section %s has several global functions ('%s', '%s'): "
				"name the entry function",
				sec_name(f, *sec), first, sname);
		}
	}
	if (by_function)
		return efail(f, "no executable section or function", name);
	return 0;
}

struct layout {
	unsigned sec[2]; /* section index of part 0 (program) and 1 (.text) */
	size_t base[2];	 /* first instruction of each part */
	size_t n[2];
	int nparts;
};

/* apply the relocations of section `part` of the layout */
static int relocate(struct elf_file *f, struct layout *lay, int part, struct ebpf_insn *insns,
		    int *need_text, unsigned text_idx)
{
	unsigned target = lay->sec[part];

	for (unsigned r = 1; r < f->eh.e_shnum; r++) {
		const Elf64_Shdr *rs = &f->sh[r], *symtab, *strtab;
		size_t nrel, nsym;

		if (rs->sh_type == SHT_RELA && rs->sh_info == target)
			return efail(f, "RELA relocations unsupported", sec_name(f, r));
		if (rs->sh_type != SHT_REL || rs->sh_info != target)
			continue;
		if (rs->sh_entsize != sizeof(Elf64_Rel) || rs->sh_size % sizeof(Elf64_Rel))
			return efail(f, "bad relocation entry size", sec_name(f, r));
		if (rs->sh_link == 0 || rs->sh_link >= f->eh.e_shnum)
			return efail(f, "relocation symbol table index out of range",
				     sec_name(f, r));
		symtab = &f->sh[rs->sh_link];
		if (symtab->sh_type != SHT_SYMTAB || symtab->sh_entsize != sizeof(Elf64_Sym) ||
		    symtab->sh_size % sizeof(Elf64_Sym))
			return efail(f, "bad symbol table", sec_name(f, rs->sh_link));
		if (symtab->sh_link == 0 || symtab->sh_link >= f->eh.e_shnum ||
		    f->sh[symtab->sh_link].sh_type != SHT_STRTAB)
			return efail(f, "bad symbol string table", NULL);
		strtab = &f->sh[symtab->sh_link];
		nrel = rs->sh_size / sizeof(Elf64_Rel);
		nsym = symtab->sh_size / sizeof(Elf64_Sym);
		for (size_t k = 0; k < nrel; k++) {
			Elf64_Rel rel;
			Elf64_Sym sym;
			size_t idx, symi;
			struct ebpf_insn *in;
			const char *sname;
			int64_t tgt;

			memcpy(&rel, f->buf + rs->sh_offset + k * sizeof(rel), sizeof(rel));
			symi = ELF64_R_SYM(rel.r_info);
			if (symi == 0 || symi >= nsym)
				return efail(f, "relocation symbol index out of range", NULL);
			memcpy(&sym, f->buf + symtab->sh_offset + symi * sizeof(sym), sizeof(sym));
			sname = str_at((const char *)f->buf + strtab->sh_offset, strtab->sh_size,
				       sym.st_name);
			if (!sname)
				return efail(f, "symbol name out of range or longer than 255 bytes",
					     NULL);
			if (rel.r_offset % 8 || rel.r_offset / 8 >= lay->n[part])
				return efail(f, "relocation offset outside its section", sname);
			idx = lay->base[part] + rel.r_offset / 8;
			in = &insns[idx];
			if (ELF64_R_TYPE(rel.r_info) == R_BPF_64_64)
				return ebpf_fail(f->err, (int)idx,
						 "ELF: relocation against '%s' (map or global "
						 "data) unsupported",
						 sname);
			if (ELF64_R_TYPE(rel.r_info) != R_BPF_64_32 ||
			    in->code != (EBPF_JMP | EBPF_CALL) || in->src != EBPF_PSEUDO_CALL_LOCAL)
				return ebpf_fail(f->err, (int)idx,
						 "ELF: unsupported relocation type %u against '%s'",
						 (unsigned)ELF64_R_TYPE(rel.r_info), sname);
			if (sym.st_shndx != lay->sec[0] && sym.st_shndx != text_idx)
				return ebpf_fail(f->err, (int)idx,
						 "ELF: call to '%s' outside the program and .text",
						 sname);
			if (sym.st_shndx == text_idx && lay->nparts < 2 &&
			    lay->sec[0] != text_idx) {
				*need_text = 1;
				continue;
			}
			if (sym.st_value % 8)
				return efail(f, "misaligned function symbol", sname);
			{
				int p = sym.st_shndx == lay->sec[0] ? 0 : 1;

				tgt = (int64_t)(sym.st_value / 8) + in->imm + 1;
				if (sym.st_value / 8 > lay->n[p] || tgt < 0 ||
				    tgt >= (int64_t)lay->n[p])
					return efail(f, "call target outside its section", sname);
				tgt += (int64_t)lay->base[p];
			}
			in->imm = (int32_t)(tgt - (int64_t)idx - 1);
		}
	}
	return 0;
}

int ebpf_elf_extract(const void *elf, size_t len, const char *section, struct ebpf_insn **insns,
		     size_t *count, struct ebpf_error *err)
{
	struct elf_file f = { .buf = elf, .len = len, .err = err };
	struct layout lay = { .nparts = 1 };
	struct ebpf_insn *out = NULL;
	unsigned text_idx = 0;
	size_t entry = 0;
	int rc, need_text = 0;

	*insns = NULL;
	*count = 0;
	rc = parse_headers(&f);
	if (rc)
		goto fail;
	{
		bool found = true;

		rc = find_section(&f, section, &lay.sec[0], &found);
		if (!rc)
			rc = find_entry(&f, section, !found, &lay.sec[0], &entry);
		if (rc)
			goto fail;
	}
	for (unsigned i = 1; i < f.eh.e_shnum; i++)
		if (is_prog_section(&f.sh[i]) && !strcmp(sec_name(&f, i), ".text"))
			text_idx = i;
	for (int pass = 0; pass < 2; pass++) {
		size_t total = 0;

		for (int p = 0; p < lay.nparts; p++) {
			const Elf64_Shdr *s = &f.sh[lay.sec[p]];

			if (s->sh_size % 8) {
				rc = efail(&f, "section size is not a multiple of 8",
					   sec_name(&f, lay.sec[p]));
				goto fail;
			}
			lay.base[p] = total;
			lay.n[p] = s->sh_size / 8;
			total += lay.n[p];
		}
		if (total > EBPF_MAX_INSNS) {
			rc = efail(&f, "too many instructions", NULL);
			goto fail;
		}
		free(out);
		out = malloc(total * sizeof(*out) + 1);
		if (!out) {
			rc = -ENOMEM;
			goto fail;
		}
		for (int p = 0; p < lay.nparts; p++)
			memcpy(&out[lay.base[p]], f.buf + f.sh[lay.sec[p]].sh_offset, lay.n[p] * 8);
		need_text = 0;
		for (int p = 0; p < lay.nparts && !rc; p++)
			rc = relocate(&f, &lay, p, out, &need_text, text_idx);
		if (rc)
			goto fail;
		if (!need_text) {
			if (entry) {
				/* the entry is not first: call it from a 2-insn
				 * prologue (everything else moves as a block) */
				struct ebpf_insn *with = malloc((total + 2) * sizeof(*with));

				if (!with) {
					rc = -ENOMEM;
					goto fail;
				}
				memset(with, 0, 2 * sizeof(*with));
				with[0].code = EBPF_JMP | EBPF_CALL;
				with[0].src = EBPF_PSEUDO_CALL_LOCAL;
				with[0].imm = (int32_t)entry + 1;
				with[1].code = EBPF_JMP | EBPF_EXIT;
				memcpy(&with[2], out, total * sizeof(*out));
				free(out);
				out = with;
				total += 2;
			}
			*insns = out;
			*count = total;
			free(f.sh);
			return 0;
		}
		lay.sec[1] = text_idx;
		lay.nparts = 2;
	}
	rc = efail(&f, "relocation layout failed", NULL);
fail:
	if (rc == -ENOMEM)
		ebpf_fail(err, -1, "out of memory");
	free(out);
	free(f.sh);
	return rc;
}

int ebpf_prog_load_elf(const struct ebpf_env *env, const void *elf, size_t len, const char *section,
		       struct ebpf_prog **out, struct ebpf_error *err)
{
	struct ebpf_insn *insns;
	size_t n;
	int rc;

	*out = NULL;
	ebpf_verify_stats_reset();
	rc = ebpf_elf_extract(elf, len, section, &insns, &n, err);
	if (rc)
		return rc;
	rc = ebpf_prog_load(env, insns, n * sizeof(*insns), out, err);
	free(insns);
	return rc;
}
