// SPDX-License-Identifier: MIT
/* The test assembler (see asm.h). Two passes: labels, then encoding. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "asm.h"
#include "ebpf/isa.h"

#define MAX_LABELS 256

struct label {
	char name[48];
	int pc;
};

struct asm_ctx {
	struct label labels[MAX_LABELS];
	int nlabels;
	int line;
	char *err;
	size_t errlen;
};

static int aerr(struct asm_ctx *a, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(a->err, a->errlen, "line %d: ", a->line);

	va_start(ap, fmt);
	vsnprintf(a->err + n, a->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static char *skip(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	return s;
}

static char *word(char **s, char *buf, size_t len)
{
	size_t n = 0;

	*s = skip(*s);
	while (**s && !isspace((unsigned char)**s) && **s != ',' && n + 1 < len)
		buf[n++] = *(*s)++;
	buf[n] = 0;
	return buf;
}

static int parse_reg(struct asm_ctx *a, char **s, int *r)
{
	char w[16];

	word(s, w, sizeof(w));
	if ((w[0] != 'r' && w[0] != 'w') || !isdigit((unsigned char)w[1]))
		return aerr(a, "expected a register, got '%s'", w);
	*r = atoi(w + 1);
	if (*r > 15)
		return aerr(a, "bad register '%s'", w);
	return 0;
}

static int parse_num(struct asm_ctx *a, const char *w, long long *v)
{
	char *end;

	if (!*w)
		return aerr(a, "expected a number");
	if (w[0] == '-')
		*v = strtoll(w, &end, 0);
	else
		*v = (long long)strtoull(w[0] == '+' ? w + 1 : w, &end, 0);
	if (*end)
		return aerr(a, "bad number '%s'", w);
	return 0;
}

/* [rN+off] */
static int parse_mem(struct asm_ctx *a, char **s, int *r, int *off)
{
	char *p = skip(*s), *q;
	long long v = 0;

	if (*p != '[')
		return aerr(a, "expected [reg+off]");
	p++;
	if ((*p != 'r') || !isdigit((unsigned char)p[1]))
		return aerr(a, "expected a register in []");
	*r = (int)strtol(p + 1, &q, 10);
	if (*q == '+' || *q == '-')
		v = strtoll(q, &q, 0);
	if (*q != ']')
		return aerr(a, "expected ]");
	*off = (int)v;
	*s = q + 1;
	return 0;
}

static int find_label(struct asm_ctx *a, const char *name)
{
	for (int i = 0; i < a->nlabels; i++)
		if (!strcmp(a->labels[i].name, name))
			return a->labels[i].pc;
	return -1;
}

/* jump target: +N, -N or label; returns the pc-relative offset */
static int parse_target(struct asm_ctx *a, char **s, int pc, long long *off)
{
	char w[64];

	word(s, w, sizeof(w));
	if (w[0] == '+' || w[0] == '-' || isdigit((unsigned char)w[0]))
		return parse_num(a, w, off);
	{
		int t = find_label(a, w);

		if (t < 0)
			return aerr(a, "unknown label '%s'", w);
		*off = t - pc - 1;
	}
	return 0;
}

struct opname {
	const char *name;
	unsigned code;
};

static const struct opname alu_ops[] = {
	{ "add", EBPF_ADD },  { "sub", EBPF_SUB },   { "mul", EBPF_MUL },  { "div", EBPF_DIV },
	{ "sdiv", EBPF_DIV }, { "or", EBPF_OR },     { "and", EBPF_AND },  { "lsh", EBPF_LSH },
	{ "rsh", EBPF_RSH },  { "mod", EBPF_MOD },   { "smod", EBPF_MOD }, { "xor", EBPF_XOR },
	{ "mov", EBPF_MOV },  { "arsh", EBPF_ARSH }, { NULL, 0 }
};

static const struct opname jmp_ops[] = {
	{ "jeq", EBPF_JEQ }, { "jgt", EBPF_JGT },   { "jge", EBPF_JGE },   { "jset", EBPF_JSET },
	{ "jne", EBPF_JNE }, { "jsgt", EBPF_JSGT }, { "jsge", EBPF_JSGE }, { "jlt", EBPF_JLT },
	{ "jle", EBPF_JLE }, { "jslt", EBPF_JSLT }, { "jsle", EBPF_JSLE }, { NULL, 0 }
};

static const struct opname atomic_ops[] = {
	{ "lock_add", EBPF_ADD },
	{ "lock_or", EBPF_OR },
	{ "lock_and", EBPF_AND },
	{ "lock_xor", EBPF_XOR },
	{ "fetch_add", EBPF_ADD | EBPF_FETCH },
	{ "fetch_or", EBPF_OR | EBPF_FETCH },
	{ "fetch_and", EBPF_AND | EBPF_FETCH },
	{ "fetch_xor", EBPF_XOR | EBPF_FETCH },
	{ "xchg", EBPF_XCHG },
	{ "cmpxchg", EBPF_CMPXCHG },
	{ NULL, 0 },
};

static int lookup(const struct opname *t, const char *name, size_t len, unsigned *code)
{
	for (; t->name; t++)
		if (strlen(t->name) == len && !strncmp(t->name, name, len)) {
			*code = t->code;
			return 0;
		}
	return -1;
}

static unsigned size_code(char c)
{
	return c == 'b' ? EBPF_B : c == 'h' ? EBPF_H : c == 'w' ? EBPF_W : EBPF_DW;
}

/* encode one instruction line at pc into out (1 or 2 slots); returns slots */
static int encode(struct asm_ctx *a, char *s, int pc, struct ebpf_insn *out)
{
	char m[32];
	size_t ml;
	unsigned op;
	int d = 0, r = 0, off = 0;
	long long v = 0;
	struct ebpf_insn *in = out;

	memset(out, 0, 2 * sizeof(*out));
	word(&s, m, sizeof(m));
	ml = strlen(m);
	if (!strcmp(m, ".insn")) {
		long long f[5];

		for (int i = 0; i < 5; i++) {
			char w[32];

			if (parse_num(a, word(&s, w, sizeof(w)), &f[i]))
				return -1;
		}
		in->code = (uint8_t)f[0];
		in->dst = (uint8_t)f[1];
		in->src = (uint8_t)f[2];
		in->off = (int16_t)f[3];
		in->imm = (int32_t)f[4];
		return 1;
	}
	if (!strcmp(m, "exit")) {
		in->code = EBPF_JMP | EBPF_EXIT;
		return 1;
	}
	if (!strcmp(m, "call")) {
		char w[64];

		word(&s, w, sizeof(w));
		in->code = EBPF_JMP | EBPF_CALL;
		if (isdigit((unsigned char)w[0]) || w[0] == '-') {
			if (parse_num(a, w, &v))
				return -1;
			in->imm = (int32_t)v;
		} else {
			int t = find_label(a, w);

			if (t < 0)
				return aerr(a, "unknown function '%s'", w);
			in->src = EBPF_PSEUDO_CALL_LOCAL;
			in->imm = t - pc - 1;
		}
		return 1;
	}
	if (!strcmp(m, "lddw")) {
		char w[64];

		if (parse_reg(a, &s, &d) || parse_num(a, word(&s, w, sizeof(w)), &v))
			return -1;
		in[0].code = EBPF_OPC_LDDW;
		in[0].dst = (uint8_t)d;
		in[0].imm = (int32_t)(uint32_t)v;
		in[1].imm = (int32_t)(uint32_t)((unsigned long long)v >> 32);
		return 2;
	}
	if (!strcmp(m, "ja") || !strcmp(m, "ja32")) {
		if (parse_target(a, &s, pc, &v))
			return -1;
		if (m[2]) {
			in->code = EBPF_JMP32 | EBPF_JA;
			in->imm = (int32_t)v;
		} else {
			in->code = EBPF_JMP | EBPF_JA;
			in->off = (int16_t)v;
		}
		return 1;
	}
	if (!strcmp(m, "neg") || !strcmp(m, "neg32")) {
		if (parse_reg(a, &s, &d))
			return -1;
		in->code = (m[3] ? EBPF_ALU : EBPF_ALU64) | EBPF_NEG;
		in->dst = (uint8_t)d;
		return 1;
	}
	if ((!strncmp(m, "le", 2) || !strncmp(m, "be", 2) || !strncmp(m, "bswap", 5)) &&
	    isdigit((unsigned char)m[ml - 1])) {
		int bits = atoi(m + (m[0] == 'b' && m[1] == 's' ? 5 : 2));

		if (parse_reg(a, &s, &d))
			return -1;
		in->dst = (uint8_t)d;
		in->imm = bits;
		if (m[1] == 's')
			in->code = EBPF_ALU64 | EBPF_END | EBPF_TO_LE;
		else
			in->code = EBPF_ALU | EBPF_END | (m[0] == 'b' ? EBPF_TO_BE : EBPF_TO_LE);
		return 1;
	}
	if (!strncmp(m, "movsx", 5)) {
		int bits = atoi(m + 5);
		bool w32 = strstr(m, "_32") != NULL;

		if (parse_reg(a, &s, &d) || parse_reg(a, &s, &r))
			return -1;
		in->code = (w32 ? EBPF_ALU : EBPF_ALU64) | EBPF_MOV | EBPF_X;
		in->dst = (uint8_t)d;
		in->src = (uint8_t)r;
		in->off = (int16_t)bits;
		return 1;
	}
	if (!strncmp(m, "ldx", 3)) {
		bool sx = m[3] == 's';
		const char *sz = m + 3 + sx;

		if (parse_reg(a, &s, &d) || parse_mem(a, &s, &r, &off))
			return -1;
		in->code = EBPF_LDX | (sx ? EBPF_MEMSX : EBPF_MEM) |
			   size_code(sz[0] == 'd' ? 'd' : sz[0]);
		in->dst = (uint8_t)d;
		in->src = (uint8_t)r;
		in->off = (int16_t)off;
		return 1;
	}
	if (!strncmp(m, "stx", 3) || (m[0] == 's' && m[1] == 't')) {
		bool x = m[2] == 'x';
		const char *sz = m + 2 + x;

		if (parse_mem(a, &s, &d, &off))
			return -1;
		in->dst = (uint8_t)d;
		in->off = (int16_t)off;
		if (x) {
			if (parse_reg(a, &s, &r))
				return -1;
			in->src = (uint8_t)r;
			in->code = EBPF_STX | EBPF_MEM | size_code(sz[0]);
		} else {
			char w[32];

			if (parse_num(a, word(&s, w, sizeof(w)), &v))
				return -1;
			in->imm = (int32_t)v;
			in->code = EBPF_ST | EBPF_MEM | size_code(sz[0]);
		}
		return 1;
	}
	if (ml > 2 && !strcmp(m + ml - 2, "32") && !lookup(atomic_ops, m, ml - 2, &op)) {
		in->code = EBPF_STX | EBPF_ATOMIC | EBPF_W;
		goto atomic;
	}
	if (ml > 2 && !strcmp(m + ml - 2, "64") && !lookup(atomic_ops, m, ml - 2, &op)) {
		in->code = EBPF_STX | EBPF_ATOMIC | EBPF_DW;
	atomic:
		if (parse_mem(a, &s, &d, &off) || parse_reg(a, &s, &r))
			return -1;
		in->dst = (uint8_t)d;
		in->src = (uint8_t)r;
		in->off = (int16_t)off;
		in->imm = (int32_t)op;
		return 1;
	}
	{
		bool w32 = ml > 2 && !strcmp(m + ml - 2, "32");
		size_t base = w32 ? ml - 2 : ml;
		char w[64];

		if (!lookup(jmp_ops, m, base, &op)) {
			in->code = (w32 ? EBPF_JMP32 : EBPF_JMP) | op;
			if (parse_reg(a, &s, &d))
				return -1;
			in->dst = (uint8_t)d;
			word(&s, w, sizeof(w));
			if (w[0] == 'r' && isdigit((unsigned char)w[1])) {
				in->code |= EBPF_X;
				in->src = (uint8_t)atoi(w + 1);
			} else {
				if (parse_num(a, w, &v))
					return -1;
				in->imm = (int32_t)v;
			}
			if (parse_target(a, &s, pc, &v))
				return -1;
			in->off = (int16_t)v;
			return 1;
		}
		if (!lookup(alu_ops, m, base, &op)) {
			in->code = (w32 ? EBPF_ALU : EBPF_ALU64) | op;
			if (m[0] == 's' && (m[1] == 'd' || m[1] == 'm'))
				in->off = 1;
			if (parse_reg(a, &s, &d))
				return -1;
			in->dst = (uint8_t)d;
			word(&s, w, sizeof(w));
			if ((w[0] == 'r' || w[0] == 'w') && isdigit((unsigned char)w[1])) {
				in->code |= EBPF_X;
				in->src = (uint8_t)atoi(w + 1);
			} else {
				if (parse_num(a, w, &v))
					return -1;
				in->imm = (int32_t)v;
			}
			return 1;
		}
	}
	return aerr(a, "unknown mnemonic '%s'", m);
}

static bool is_lddw(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return !strncmp(s, "lddw", 4) && (s[4] == ' ' || s[4] == '\t');
}

int ebpf_asm(const char *text, struct ebpf_insn **out, char *err, size_t errlen)
{
	struct asm_ctx a = { .err = err, .errlen = errlen };
	char *copy = strdup(text), *line, *save = NULL;
	struct ebpf_insn *insns = NULL;
	int n = 0, cap = 0, pass;

	if (!copy)
		return -1;
	for (pass = 0; pass < 2; pass++) {
		char *buf = strdup(copy);
		int pc = 0;

		a.line = 0;
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *c = strpbrk(line, "#;"), *colon, *s;

			a.line++;
			if (c)
				*c = 0;
			s = skip(line);
			colon = strchr(s, ':');
			if (colon && !strchr(s, '[')) {
				*colon = 0;
				if (pass == 0) {
					if (a.nlabels == MAX_LABELS)
						return aerr(&a, "too many labels");
					snprintf(a.labels[a.nlabels].name, sizeof(a.labels[0].name),
						 "%s", s);
					a.labels[a.nlabels++].pc = pc;
				}
				s = skip(colon + 1);
			}
			while (*s && isspace((unsigned char)s[strlen(s) - 1]))
				s[strlen(s) - 1] = 0;
			if (!*s)
				continue;
			if (pass == 0) {
				pc += is_lddw(s) ? 2 : 1;
				continue;
			}
			if (n + 2 > cap) {
				cap = cap ? cap * 2 : 64;
				insns = realloc(insns, (size_t)cap * sizeof(*insns));
			}
			{
				int k = encode(&a, s, pc, &insns[n]);

				if (k < 0) {
					free(buf);
					free(copy);
					free(insns);
					return -1;
				}
				n += k;
				pc += k;
			}
		}
		free(buf);
	}
	free(copy);
	*out = insns;
	return n;
}
