// SPDX-License-Identifier: MIT
/*
 * cmocka tests of the ELF loader. libelf (Debian's elfutils) is used here
 * only as an independent oracle: it tells where sections, symbols and
 * relocations are, and our loader's output is checked against that; then
 * the same files are corrupted field by field and truncated at every length.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ebpf/ebpf.h"
#include "ebpf/isa.h"
#include "tests/ebpf/unit.h"

const char *unit_elf_dir;

uint8_t *unit_read_file(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", unit_elf_dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct oracle {
	size_t prog_idx, text_idx, rel_idx, symtab_idx;
	GElf_Shdr prog, text, rel, shstr;
	Elf_Data *prog_data;
	int prog_calls_text;
};

/* what libelf says about the object */
static Elf *oracle_open(uint8_t *buf, size_t len, struct oracle *o)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	memset(o, 0, sizeof(*o));
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_memory((char *)buf, len);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		gelf_getshdr(scn, &sh);
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!strcmp(name, "prog")) {
			o->prog_idx = elf_ndxscn(scn);
			o->prog = sh;
			o->prog_data = elf_getdata(scn, NULL);
		} else if (!strcmp(name, ".text")) {
			o->text_idx = elf_ndxscn(scn);
			o->text = sh;
		} else if (!strcmp(name, ".relprog")) {
			o->rel_idx = elf_ndxscn(scn);
			o->rel = sh;
			o->symtab_idx = sh.sh_link;
		}
	}
	if (o->rel_idx) {
		Elf_Data *rd = elf_getdata(elf_getscn(e, o->rel_idx), NULL);
		Elf_Data *sd = elf_getdata(elf_getscn(e, o->symtab_idx), NULL);

		for (size_t k = 0; k < o->rel.sh_size / sizeof(GElf_Rel); k++) {
			GElf_Rel r;
			GElf_Sym s;

			gelf_getrel(rd, (int)k, &r);
			gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &s);
			if (s.st_shndx == o->text_idx && o->text_idx)
				o->prog_calls_text = 1;
		}
	}
	assert_true(o->prog_idx != 0);
	return e;
}

static void check_matches_oracle(const char *name)
{
	size_t len, n;
	uint8_t *buf = unit_read_file(name, &len);
	struct ebpf_insn *insns;
	struct ebpf_error err;
	struct oracle o;
	Elf *e = oracle_open(buf, len, &o);
	const struct ebpf_insn *raw;

	assert_int_equal(ebpf_elf_extract(buf, len, "prog", &insns, &n, &err), 0);
	assert_int_equal(n, o.prog.sh_size / 8 + (o.prog_calls_text ? o.text.sh_size / 8 : 0));
	raw = o.prog_data->d_buf;
	for (size_t i = 0; i < o.prog.sh_size / 8; i++) {
		if (raw[i].code == (EBPF_JMP | EBPF_CALL) && raw[i].src == EBPF_PSEUDO_CALL_LOCAL) {
			/* resolved: lands inside the appended .text or the section */
			int64_t t = (int64_t)i + 1 + insns[i].imm;

			assert_true(t >= 0 && t < (int64_t)n);
			continue;
		}
		assert_memory_equal(&raw[i], &insns[i], sizeof(raw[i]));
	}
	free(insns);
	elf_end(e);
	free(buf);
}

static void test_matches_libelf(void **state)
{
	static const char *const objs[] = { "sum_bytes.o", "hash.o",	   "find_byte.o",
					    "calls.o",	   "guest_copy.o", "arith_loop.o" };

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		check_matches_oracle(objs[i]);
}

/* the call targets of calls.o are the entries of mix() and fold() */
static void test_call_targets(void **state)
{
	size_t len, n;
	uint8_t *buf = unit_read_file("calls.o", &len);
	struct ebpf_insn *insns;
	struct oracle o;
	Elf *e = oracle_open(buf, len, &o);
	Elf_Data *sd;
	size_t nsym, calls = 0;
	GElf_Shdr symsh;

	assert_true(o.prog_calls_text);
	assert_int_equal(ebpf_elf_extract(buf, len, NULL, &insns, &n, NULL), 0);
	gelf_getshdr(elf_getscn(e, o.symtab_idx), &symsh);
	sd = elf_getdata(elf_getscn(e, o.symtab_idx), NULL);
	nsym = symsh.sh_size / symsh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		int64_t t;
		int found = 0;

		if (insns[i].code != (EBPF_JMP | EBPF_CALL) || insns[i].src != 1)
			continue;
		calls++;
		t = (int64_t)i + 1 + insns[i].imm;
		for (size_t s = 0; s < nsym; s++) {
			GElf_Sym sym;

			gelf_getsym(sd, (int)s, &sym);
			if (GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx == o.text_idx &&
			    (int64_t)(o.prog.sh_size / 8 + sym.st_value / 8) == t)
				found = 1;
		}
		assert_true(found);
	}
	assert_true(calls >= 3);
	free(insns);
	elf_end(e);
	free(buf);
}

static void test_truncations(void **state)
{
	size_t len, n;
	uint8_t *buf = unit_read_file("calls.o", &len);

	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut + 1);
		struct ebpf_insn *insns = NULL;
		struct ebpf_error err;

		memcpy(copy, buf, cut);
		assert_int_equal(ebpf_elf_extract(copy, cut, NULL, &insns, &n, &err), -EINVAL);
		assert_null(insns);
		assert_true(strlen(err.msg) > 0);
		free(copy);
	}
	free(buf);
}

struct patch {
	const char *what;
	int where; /* 0: ELF header, 1: prog section header, 2: .relprog
		    * header, 3: first relocation, 4: shstrtab header */
	size_t off, size;
	uint64_t val;
	const char *msg;
};

static void test_corruptions(void **state)
{
	static const struct patch patches[] = {
		{ "magic", 0, 0, 1, 0, "bad magic" },
		{ "class", 0, EI_CLASS, 1, ELFCLASS32, "not a 64-bit" },
		{ "data", 0, EI_DATA, 1, ELFDATA2MSB, "not little-endian" },
		{ "version", 0, EI_VERSION, 1, 7, "unknown ELF version" },
		{ "type", 0, offsetof(Elf64_Ehdr, e_type), 2, ET_EXEC, "ET_REL" },
		{ "machine", 0, offsetof(Elf64_Ehdr, e_machine), 2, EM_X86_64, "not BPF" },
		{ "shentsize", 0, offsetof(Elf64_Ehdr, e_shentsize), 2, 32, "entry size" },
		{ "shoff", 0, offsetof(Elf64_Ehdr, e_shoff), 8, 1ull << 40, "outside the file" },
		{ "shoff wrap", 0, offsetof(Elf64_Ehdr, e_shoff), 8, ~0ull - 10,
		  "outside the file" },
		{ "shnum", 0, offsetof(Elf64_Ehdr, e_shnum), 2, 0xffff, "bad section count" },
		{ "shnum big", 0, offsetof(Elf64_Ehdr, e_shnum), 2, 0x7000, "outside the file" },
		{ "shstrndx", 0, offsetof(Elf64_Ehdr, e_shstrndx), 2, 200, "index out of range" },
		{ "prog offset", 1, offsetof(Elf64_Shdr, sh_offset), 8, 1ull << 33,
		  "contents outside the file" },
		{ "prog size", 1, offsetof(Elf64_Shdr, sh_size), 8, 1ull << 62,
		  "contents outside the file" },
		{ "prog size odd", 1, offsetof(Elf64_Shdr, sh_size), 8, 12, "multiple of 8" },
		{ "rel entsize", 2, offsetof(Elf64_Shdr, sh_entsize), 8, 24,
		  "relocation entry size" },
		{ "rel link", 2, offsetof(Elf64_Shdr, sh_link), 4, 999, "symbol table index" },
		{ "rel symbol", 3, offsetof(Elf64_Rel, r_info), 8, (9999ull << 32) | 10,
		  "symbol index out of range" },
		{ "rel offset", 3, offsetof(Elf64_Rel, r_offset), 8, 1ull << 20,
		  "outside its section" },
		{ "rel misaligned", 3, offsetof(Elf64_Rel, r_offset), 8, 3, "outside its section" },
		{ "rel type", 3, offsetof(Elf64_Rel, r_info), 8, (1ull << 32) | 99,
		  "unsupported relocation" },
		{ "shstrtab type", 4, offsetof(Elf64_Shdr, sh_type), 4, SHT_PROGBITS,
		  "not a string table" },
	};
	size_t len, n;
	uint8_t *buf = unit_read_file("calls.o", &len);
	struct oracle o;
	Elf *e = oracle_open(buf, len, &o);
	Elf64_Ehdr eh;
	size_t shstrndx;

	memcpy(&eh, buf, sizeof(eh));
	elf_getshdrstrndx(e, &shstrndx);
	assert_true(o.rel_idx != 0);
	for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
		const struct patch *p = &patches[i];
		uint8_t *copy = malloc(len);
		struct ebpf_insn *insns = NULL;
		struct ebpf_error err;
		size_t base = 0;

		memcpy(copy, buf, len);
		if (p->where == 1)
			base = eh.e_shoff + o.prog_idx * sizeof(Elf64_Shdr);
		else if (p->where == 2)
			base = eh.e_shoff + o.rel_idx * sizeof(Elf64_Shdr);
		else if (p->where == 3)
			base = o.rel.sh_offset;
		else if (p->where == 4)
			base = eh.e_shoff + shstrndx * sizeof(Elf64_Shdr);
		memcpy(copy + base + p->off, &p->val, p->size);
		assert_int_equal(ebpf_elf_extract(copy, len, "prog", &insns, &n, &err), -EINVAL);
		assert_null(insns);
		if (!strstr(err.msg, p->msg))
			fail_msg("%s: got '%s', expected '%s'", p->what, err.msg, p->msg);
		free(copy);
	}
	elf_end(e);
	free(buf);
}

/*
 * An object with a section `prog` (mov r0, 0; exit) and nsyms local
 * function symbols all named by one string of name_len bytes. Malloc'd,
 * length in *len.
 */
static uint8_t *named_object(size_t name_len, size_t nsyms, size_t *len)
{
	static const char shstr[] = "\0prog\0.symtab\0.strtab\0.shstrtab";
	const struct ebpf_insn text[2] = { { .code = EBPF_ALU64 | EBPF_MOV | EBPF_K },
					   { .code = EBPF_JMP | EBPF_EXIT } };
	size_t o_text = sizeof(Elf64_Ehdr), o_sym = o_text + sizeof(text);
	size_t o_str = o_sym + (nsyms + 1) * sizeof(Elf64_Sym), o_shs = o_str + name_len + 2;
	size_t shoff = (o_shs + sizeof(shstr) + 7) & ~(size_t)7;
	Elf64_Ehdr eh = { .e_type = ET_REL,
			  .e_machine = EM_BPF,
			  .e_version = EV_CURRENT,
			  .e_shoff = shoff,
			  .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_shentsize = sizeof(Elf64_Shdr),
			  .e_shnum = 5,
			  .e_shstrndx = 4 };
	Elf64_Shdr sh[5] = {
		{ 0 },
		{ .sh_name = 1,
		  .sh_type = SHT_PROGBITS,
		  .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
		  .sh_offset = o_text,
		  .sh_size = sizeof(text),
		  .sh_addralign = 8 },
		{ .sh_name = 6,
		  .sh_type = SHT_SYMTAB,
		  .sh_offset = o_sym,
		  .sh_size = (nsyms + 1) * sizeof(Elf64_Sym),
		  .sh_link = 3,
		  .sh_info = 1,
		  .sh_addralign = 8,
		  .sh_entsize = sizeof(Elf64_Sym) },
		{ .sh_name = 14,
		  .sh_type = SHT_STRTAB,
		  .sh_offset = o_str,
		  .sh_size = name_len + 2,
		  .sh_addralign = 1 },
		{ .sh_name = 22,
		  .sh_type = SHT_STRTAB,
		  .sh_offset = o_shs,
		  .sh_size = sizeof(shstr),
		  .sh_addralign = 1 },
	};
	Elf64_Sym sym = { .st_name = 1,
			  .st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC),
			  .st_shndx = 1,
			  .st_size = sizeof(text) };
	uint8_t *buf;

	*len = shoff + sizeof(sh);
	buf = calloc(1, *len);
	assert_non_null(buf);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + o_text, text, sizeof(text));
	for (size_t i = 1; i <= nsyms; i++)
		memcpy(buf + o_sym + i * sizeof(sym), &sym, sizeof(sym));
	memset(buf + o_str + 1, 'a', name_len);
	memcpy(buf + o_shs, shstr, sizeof(shstr));
	memcpy(buf + shoff, sh, sizeof(sh));
	return buf;
}

/*
 * Names are at most 255 bytes, so that finding a name's end is bounded: a
 * file of 40000 symbols naming one 800 KB string took 6 s to load before
 * (every lookup searched the rest of the table).
 */
static void test_long_names(void **state)
{
	struct ebpf_insn *insns = NULL;
	struct ebpf_error err;
	size_t len, n;
	uint8_t *buf = named_object(255, 3, &len);

	assert_int_equal(ebpf_elf_extract(buf, len, NULL, &insns, &n, &err), 0);
	assert_int_equal(n, 2);
	free(insns);
	free(buf);
	buf = named_object(256, 3, &len);
	assert_int_equal(ebpf_elf_extract(buf, len, NULL, &insns, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "longer than 255 bytes"));
	free(buf);
	buf = named_object(800000, 40000, &len);
	assert_int_equal(ebpf_elf_extract(buf, len, NULL, &insns, &n, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "longer than 255 bytes"));
	free(buf);
}

static void test_globals_rejected(void **state)
{
	size_t len;
	uint8_t *buf = unit_read_file("global_var.o", &len);
	struct ebpf_env *env = ebpf_env_new();
	struct ebpf_prog *prog;
	struct ebpf_error err;

	assert_int_equal(ebpf_prog_load_elf(env, buf, len, NULL, &prog, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "map or global data"));
	ebpf_env_free(env);
	free(buf);
}

static void test_load_and_run(void **state)
{
	size_t len;
	uint8_t *buf = unit_read_file("sum_bytes.o", &len);
	struct ebpf_env *env = ebpf_env_new();
	struct ebpf_prog *prog;
	struct ebpf_error err;
	uint8_t ctx[64];

	for (int i = 0; i < 64; i++)
		ctx[i] = 2;
	ebpf_env_set_ctx(env, 64, 0);
	assert_int_equal(ebpf_prog_load_elf(env, buf, len, "prog", &prog, &err), 0);
	assert_int_equal(ebpf_prog_run(prog, ctx, NULL), 128);
	ebpf_prog_free(prog);
	/* a context one byte short must be refused */
	ebpf_env_set_ctx(env, 63, 0);
	assert_int_equal(ebpf_prog_load_elf(env, buf, len, "prog", &prog, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "of 63"));
	ebpf_env_free(env);
	free(buf);
}

int unit_elf_tests(void)
{
	const struct CMUnitTest elf[] = {
		cmocka_unit_test(test_matches_libelf),	 cmocka_unit_test(test_call_targets),
		cmocka_unit_test(test_truncations),	 cmocka_unit_test(test_corruptions),
		cmocka_unit_test(test_globals_rejected), cmocka_unit_test(test_load_and_run),
		cmocka_unit_test(test_long_names),
	};

	return cmocka_run_group_tests_name("ebpf-elf", elf, NULL, NULL);
}
