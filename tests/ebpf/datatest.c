// SPDX-License-Identifier: MIT
/*
 * Data-file test runner: datatest [-e ELFDIR] [-w] FILE...
 *
 * A file holds test cases; each starts with a line `== name` followed by
 * sections:
 *   -- asm        the program (tests/ebpf/asm.h syntax)
 *   -- elf F [S]  or: the ELF object ELFDIR/F (section S)
 *   -- gen SPEC   or: a generated adversarial program (tests/ebpf/advgen.h)
 *   -- mem        input memory, hex bytes
 *   -- memseq N   or: N bytes of input memory, byte i = i & 0xff
 *   -- env        mem (default) | regions | regions-rw   (see testenv.h)
 *   -- result     expected r0 (the program must load and run)
 *   -- error      expected load failure: [@INSN] substring of the message
 * With neither result nor error, the program must load and run. Lines
 * starting with `#` are comments (in `-- asm`, the assembler's).
 * Prints one TAP line per case. With -d DIR, also writes each assembled
 * program as a seed for the fuzzer (tests/fuzz/ebpf_fuzz.c input format).
 * With -w, prints each case's verification statistics (work units) as a
 * TAP comment.
 * With -k, checks the expected results against the host kernel instead
 * (tests/ebpf/kbpf.h; an independent implementation): cases with input
 * memory, helper calls or expected errors are skipped, and so are programs
 * the kernel's verifier refuses; r0 is compared on its low 32 bits (a
 * socket filter returns u32).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "advgen.h"
#include "asm.h"
#include "kbpf.h"
#include "ebpf/tools/testenv.h"

struct tcase {
	char name[128];
	char *asm_text;
	char elf[256];
	char section[64];
	char gen[128];
	uint8_t mem[4096];
	size_t memlen;
	enum testenv_layout layout;
	int has_result, has_error, err_insn;
	uint64_t result;
	char error[256];
};

static int ntests, nfailed;
static const char *elfdir = ".";
static const char *seeddir;
static int show_work;

static void write_seed(const struct tcase *t, const struct ebpf_insn *insns, int n)
{
	char path[1024];
	FILE *f;
	uint8_t hdr[2];

	snprintf(path, sizeof(path), "%s/seed-%04d", seeddir, ntests);
	f = fopen(path, "wb");
	if (!f)
		return;
	hdr[0] = (uint8_t)(t->layout << 1);
	hdr[1] = (uint8_t)(t->memlen > 255 ? 255 : t->memlen);
	fwrite(hdr, 1, 2, f);
	fwrite(insns, sizeof(*insns), (size_t)n, f);
	fclose(f);
}

static void report(bool ok, const char *file, const struct tcase *t, const char *why)
{
	ntests++;
	if (!ok)
		nfailed++;
	printf("%sok %d - %s: %s%s%s\n", ok ? "" : "not ", ntests, file, t->name, why ? " # " : "",
	       why ? why : "");
}

static int kernel_mode;

static void report_skip(const char *file, const struct tcase *t, const char *why)
{
	printf("ok %d - kernel: %s: %s # SKIP %s\n", ++ntests, file, t->name, why);
}

/* run text in the kernel; 0 and *r0 = the u32 it returns, or -1 (why) */
static int kernel_run_text(const char *text, uint32_t *r0, char *why, size_t whylen)
{
	struct ebpf_insn *insns;
	int n, fd, rc = -1;

	n = ebpf_asm(text, &insns, why, whylen);
	if (n < 0)
		return -1;
	fd = kbpf_load(insns, (size_t)n, why, whylen);
	free(insns);
	if (fd < 0)
		return -1;
	if (kbpf_run(fd, 1, r0, why, whylen) >= 0)
		rc = 0;
	close(fd);
	return rc;
}

static void kernel_case(const char *file, const struct tcase *t)
{
	struct ebpf_insn *insns;
	char msg[1024], why[512], *wrapped;
	uint32_t lo, hi;
	uint64_t got;
	int n;

	if (t->elf[0] || t->gen[0] || t->memlen || t->layout != LAYOUT_MEM || !t->has_result) {
		report_skip(file, t, "uses memory, an ELF or expects an error");
		return;
	}
	n = ebpf_asm(t->asm_text ? t->asm_text : "", &insns, msg, sizeof(msg));
	if (n < 0) {
		report(false, file, t, msg);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (insns[i].code == 0x85 && insns[i].src == 0) {
			report_skip(file, t, "calls a helper (ids differ in the kernel)");
			free(insns);
			return;
		}
	}
	free(insns);
	/* a socket filter returns the low half of r0; for the high half, the
	 * program becomes a function called by `call; rsh r0, 32; exit` */
	if (kernel_run_text(t->asm_text, &lo, why, sizeof(why))) {
		report_skip(file, t, why);
		return;
	}
	wrapped = malloc(strlen(t->asm_text) + 64);
	sprintf(wrapped, "call __body\nrsh r0, 32\nexit\n__body:\n%s", t->asm_text);
	n = kernel_run_text(wrapped, &hi, why, sizeof(why));
	free(wrapped);
	if (n) {
		report_skip(file, t, why);
		return;
	}
	got = (uint64_t)hi << 32 | lo;
	if (got != t->result) {
		snprintf(msg, sizeof(msg), "kernel r0 = 0x%llx, expected 0x%llx",
			 (unsigned long long)got, (unsigned long long)t->result);
		ntests++;
		nfailed++;
		printf("not ok %d - kernel: %s: %s # %s\n", ntests, file, t->name, msg);
	} else {
		printf("ok %d - kernel: %s: %s\n", ++ntests, file, t->name);
	}
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* CPU time of this thread in microseconds */
static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void run_case(const char *file, struct tcase *t)
{
	struct ebpf_insn *insns = NULL;
	struct ebpf_prog *prog = NULL;
	struct ebpf_error err = { 0 };
	struct testenv te;
	char msg[1024];
	int n = 0, rc;
	double t0 = 0;

	if (testenv_init(&te, t->layout, t->mem, t->memlen)) {
		report(false, file, t, "environment setup failed");
		return;
	}
	if (t->elf[0]) {
		char path[600];
		size_t len;
		void *buf;

		snprintf(path, sizeof(path), "%s/%s", elfdir, t->elf);
		buf = read_file(path, &len);
		if (!buf) {
			snprintf(msg, sizeof(msg), "cannot read %s", path);
			report(false, file, t, msg);
			goto out;
		}
		t0 = cpu_us();
		rc = ebpf_prog_load_elf(te.env, buf, len, t->section[0] ? t->section : NULL, &prog,
					&err);
		t0 = cpu_us() - t0;
		free(buf);
	} else {
		char *text = t->asm_text;
		struct advgen_spec spec;

		if (t->gen[0]) {
			text = advgen_parse(t->gen, &spec, msg, sizeof(msg)) ? NULL :
									       advgen_asm(&spec);
			if (!text) {
				report(false, file, t, msg);
				goto out;
			}
		}
		n = ebpf_asm(text ? text : "", &insns, msg, sizeof(msg));
		if (text != t->asm_text)
			free(text);
		if (n < 0) {
			report(false, file, t, msg);
			goto out;
		}
		t0 = cpu_us();
		rc = ebpf_prog_load(te.env, insns, (size_t)n * sizeof(*insns), &prog, &err);
		t0 = cpu_us() - t0;
		if (seeddir)
			write_seed(t, insns, n);
	}
	if (show_work) {
		struct ebpf_verify_stats st;

		ebpf_verify_last_stats(&st);
		/* informational: the time is printed, never checked */
		printf("# work %s: %s: %llu units, %llu instructions explored, %llu states, "
		       "%.0f us\n",
		       file, t->name, (unsigned long long)st.work, (unsigned long long)st.insns,
		       (unsigned long long)st.states, t0);
	}
	if (t->has_error) {
		if (rc == 0) {
			report(false, file, t, "accepted, expected an error");
		} else if (!strstr(err.msg, t->error) ||
			   (t->err_insn >= 0 && err.insn != t->err_insn)) {
			snprintf(msg, sizeof(msg), "error at %d: %s; expected %d: %s", err.insn,
				 err.msg, t->err_insn, t->error);
			report(false, file, t, msg);
		} else {
			snprintf(msg, sizeof(msg), "at %d: %s", err.insn, err.msg);
			printf("# %s\n", msg);
			report(true, file, t, NULL);
		}
		goto out;
	}
	if (rc) {
		snprintf(msg, sizeof(msg), "rejected at %d: %s", err.insn, err.msg);
		report(false, file, t, msg);
		goto out;
	}
	{
		uint64_t r0 = ebpf_prog_run(prog, testenv_ctx(&te), &te);

		if (t->has_result && r0 != t->result) {
			snprintf(msg, sizeof(msg), "r0 = 0x%llx, expected 0x%llx",
				 (unsigned long long)r0, (unsigned long long)t->result);
			report(false, file, t, msg);
		} else {
			report(true, file, t, NULL);
		}
	}
out:
	ebpf_prog_free(prog);
	free(insns);
	testenv_free(&te);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static void parse_hex(struct tcase *t, const char *s)
{
	while (*s) {
		char *end;
		unsigned long v;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		v = strtoul(s, &end, 16);
		if (end == s)
			break;
		if (t->memlen < sizeof(t->mem))
			t->mem[t->memlen++] = (uint8_t)v;
		s = end;
	}
}

static void run_file(const char *path)
{
	size_t len;
	char *text = read_file(path, &len), *line, *save = NULL;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct tcase *t = NULL;
	char sect[16] = "";
	size_t asmcap = 0;

	if (!text) {
		printf("not ok %d - %s: cannot read\n", ++ntests, path);
		nfailed++;
		return;
	}
	for (line = strtok_r(text, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
		if (!line || !strncmp(line, "== ", 3)) {
			if (t) {
				if (kernel_mode)
					kernel_case(base, t);
				else
					run_case(base, t);
				free(t->asm_text);
				free(t);
				t = NULL;
			}
			if (!line)
				break;
			t = calloc(1, sizeof(*t));
			t->err_insn = -1;
			snprintf(t->name, sizeof(t->name), "%s", trim(line + 3));
			sect[0] = 0;
			asmcap = 0;
			continue;
		}
		if (!t)
			continue;
		if (!strncmp(line, "-- ", 3)) {
			char *arg = trim(line + 3), *sp = strchr(arg, ' ');

			if (sp)
				*sp++ = 0;
			snprintf(sect, sizeof(sect), "%s", arg);
			if (!strcmp(sect, "elf") && sp) {
				char *sec = strchr(trim(sp), ' ');

				if (sec) {
					*sec++ = 0;
					snprintf(t->section, sizeof(t->section), "%s", trim(sec));
				}
				snprintf(t->elf, sizeof(t->elf), "%s", trim(sp));
			}
			if (!strcmp(sect, "memseq") && sp) {
				unsigned long want = strtoul(sp, NULL, 0);

				for (t->memlen = 0; t->memlen < want && t->memlen < sizeof(t->mem);
				     t->memlen++)
					t->mem[t->memlen] = (uint8_t)t->memlen;
			}
			if (!strcmp(sect, "gen") && sp)
				snprintf(t->gen, sizeof(t->gen), "%s", trim(sp));
			if (!strcmp(sect, "error"))
				t->has_error = 1;
			if (!strcmp(sect, "result"))
				t->has_result = 1;
			continue;
		}
		if (strcmp(sect, "asm") && *trim(line) == '#')
			continue; /* a comment (the assembler has its own) */
		if (!strcmp(sect, "asm")) {
			size_t l = t->asm_text ? strlen(t->asm_text) : 0, ll = strlen(line);

			if (l + ll + 2 > asmcap) {
				asmcap = (l + ll + 2) * 2;
				t->asm_text = realloc(t->asm_text, asmcap);
			}
			memcpy(t->asm_text + l, line, ll);
			t->asm_text[l + ll] = '\n';
			t->asm_text[l + ll + 1] = 0;
		} else if (!strcmp(sect, "mem")) {
			parse_hex(t, line);
		} else if (!strcmp(sect, "result")) {
			t->result = strtoull(trim(line), NULL, 0);
		} else if (!strcmp(sect, "error")) {
			char *s = trim(line);

			if (*s == '@') {
				t->err_insn = (int)strtol(s + 1, &s, 10);
				s = trim(s);
			}
			snprintf(t->error, sizeof(t->error), "%s", s);
		} else if (!strcmp(sect, "env")) {
			char *s = trim(line);

			t->layout = !strcmp(s, "regions")    ? LAYOUT_REGIONS :
				    !strcmp(s, "regions-rw") ? LAYOUT_REGIONS_RW :
							       LAYOUT_MEM;
		}
	}
	free(text);
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-k")) {
			kernel_mode = 1;
			i++;
			continue;
		}
		if (!strcmp(argv[i], "-w")) {
			show_work = 1;
			i++;
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "-e"))
			elfdir = argv[i + 1];
		else if (!strcmp(argv[i], "-d"))
			seeddir = argv[i + 1];
		i += 2;
	}
	for (; i < argc; i++)
		run_file(argv[i]);
	printf("1..%d\n", ntests);
	printf("# %d tests, %d failed\n", ntests, nfailed);
	return nfailed ? 1 : 0;
}
