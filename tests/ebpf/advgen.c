// SPDX-License-Identifier: MIT
/* Adversarial programs for the verifier; see advgen.h for the shape. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advgen.h"

int advgen_parse(const char *text, struct advgen_spec *spec, char *err, size_t errlen)
{
	const char *p = text;

	memset(spec, 0, sizeof(*spec));
	spec->frames = 1;
	while (*p) {
		char key[16], val[16];
		int used = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (sscanf(p, "%15[a-z]=%15[a-z0-9]%n", key, val, &used) != 2) {
			snprintf(err, errlen, "gen: expected key=value at '%s'", p);
			return -1;
		}
		p += used;
		if (!strcmp(key, "ids")) {
			if (!strcmp(val, "distinct"))
				spec->ids = ADV_IDS_DISTINCT;
			else if (!strcmp(val, "shared"))
				spec->ids = ADV_IDS_SHARED;
			else if (!strcmp(val, "none"))
				spec->ids = ADV_IDS_NONE;
			else
				goto bad;
			continue;
		}
		if (!strcmp(key, "frames"))
			spec->frames = atoi(val);
		else if (!strcmp(key, "spills"))
			spec->spills = atoi(val);
		else if (!strcmp(key, "branches"))
			spec->branches = atoi(val);
		else if (!strcmp(key, "loop"))
			spec->loop = atoi(val);
		else if (!strcmp(key, "chain"))
			spec->chain = atoi(val);
		else if (!strcmp(key, "helper"))
			spec->helper = atoi(val);
		else if (!strcmp(key, "ifs"))
			spec->ifs = atoi(val);
		else if (!strcmp(key, "use"))
			spec->use = atoi(val);
		else if (!strcmp(key, "marks"))
			spec->marks = atoi(val);
		else if (!strcmp(key, "straight"))
			spec->straight = atoi(val);
		else
			goto bad;
	}
	if (spec->frames < 1 || spec->frames > 8 || spec->branches < 0 || spec->branches > 63 ||
	    spec->spills < 0 || spec->spills > 64 || spec->loop < 0 || spec->loop > 1 ||
	    spec->chain < 0 || spec->chain > 60000 || spec->helper < 0 || spec->helper > 512 ||
	    spec->ifs < 0 || spec->ifs > 500 || spec->use < 0 || spec->use > 2 ||
	    (spec->use && spec->ifs < 2) || spec->marks < 0 || spec->marks > 60000 ||
	    spec->straight < 0 || spec->straight > 10000) {
		snprintf(err, errlen,
			 "gen: out of range (frames 1-8, spills 0-64, branches 0-63, loop 0-1, "
			 "chain 0-60000, helper 0-512, ifs 0-500, use 0-2 with ifs >= 2, marks "
			 "0-60000, straight 0-10000): %s",
			 text);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "gen: unknown key or value in '%s'", text);
	return -1;
}

struct out {
	char *s;
	size_t len, cap;
	int failed;
};

static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < o->cap - o->len)
			break;
		o->cap *= 2;
		o->s = realloc(o->s, o->cap);
		if (!o->s) {
			o->failed = 1;
			return;
		}
	}
	o->len += (size_t)n;
}

/* how many filler spills frame f has: the innermost frame keeps the top
 * `branches` slots for itself */
static int spill_count(const struct advgen_spec *sp, int f)
{
	return f == sp->frames - 1 && sp->spills > 64 - sp->branches ? 64 - sp->branches :
								       sp->spills;
}

/* the filler spills of frame f: slot s at r10-512+8s */
static void emit_spills(struct out *o, const struct advgen_spec *sp, int f)
{
	int n = spill_count(sp, f);

	for (int s = 0; s < n; s++) {
		int off = 512 - 8 * s;

		switch (sp->ids) {
		case ADV_IDS_DISTINCT:
			emit(o, "mov r6, %d\nstxdw [r10-%d], r6\n", f * 100 + s + 1, off);
			break;
		case ADV_IDS_SHARED:
			emit(o, "stxdw [r10-%d], r6\n", off);
			break;
		case ADV_IDS_NONE:
			emit(o, "stdw [r10-%d], %d\n", off, f * 100 + s + 1);
			break;
		}
	}
}

static void emit_unknown_r0(struct out *o)
{
	for (int r = 1; r <= 5; r++)
		emit(o, "mov r%d, 0\n", r);
	emit(o, "call 1\n");
}

/* ifs=N: N if-blocks taking 1 from r9 (from N), then r9 used (advgen.h) */
static void emit_ifs(struct out *o, const struct advgen_spec *sp)
{
	emit(o, "mov r9, %d\n", sp->ifs);
	for (int i = 0; i < sp->ifs; i++) {
		/* use=0: weights whose sums all differ (2^N counters) */
		unsigned w = sp->use ? 1 : ((unsigned)i * 2654435761u) >> 2 | 1;

		emit_unknown_r0(o);
		emit(o, "jgt r0, 100, +1\nsub r9, %u\n", w);
	}
	if (sp->use == 0) {
		emit(o, "mov r1, r9\nmov r2, 0\nmov r3, 0\nmov r4, 0\nmov r5, 0\ncall 1\n");
		return;
	}
	/* fill (helper 4) writes r9 bytes at r10 - N (use=1) or r10 - N + 1 */
	emit(o, "mov r1, r10\nadd r1, -%d\nmov r2, r9\ncall 4\n",
	     sp->use == 1 ? sp->ifs : sp->ifs - 1);
}

/* marks=N: N checkpoints, then each of the frame's n spills relied on */
static void emit_marks(struct out *o, const struct advgen_spec *sp, int n)
{
	for (int i = 0; i < sp->marks; i++)
		emit(o, "ja +0\n");
	for (int s = 0; s < n; s++)
		emit(o, "ldxdw r1, [r10-%d]\nmov r2, r10\nadd r2, r1\n", 512 - 8 * s);
}

/* straight=N: N blocks of index arithmetic, each relying on all before */
static void emit_straight(struct out *o, const struct advgen_spec *sp)
{
	emit(o, "stdw [r10-8], 0\nmov r3, 0\n");
	for (int i = 0; i < sp->straight; i++)
		emit(o, "add r3, 1\nand r3, 7\nmov r2, r10\nadd r2, -8\nadd r2, r3\n"
			"ldxb r0, [r2+0]\n");
}

static void emit_innermost(struct out *o, const struct advgen_spec *sp)
{
	if (sp->straight)
		emit_straight(o, sp);
	if (sp->marks)
		emit_marks(o, sp, spill_count(sp, sp->frames - 1));
	if (sp->ifs)
		emit_ifs(o, sp);
	for (int b = 0; b < sp->branches; b++)
		emit(o, "stdw [r10-%d], 0\n", 8 * (b + 1));
	if (sp->ids == ADV_IDS_SHARED) {
		emit(o, "mov r7, r6\n");
	} else {
		emit_unknown_r0(o);
		emit(o, "mov r7, r0\n");
	}
	for (int b = 0; b < sp->branches; b++)
		emit(o, "jset r7, %u, b%d\nstdw [r10-%d], 1\nb%d:\n", 1u << (b % 31), b,
		     8 * (b + 1), b);
	if (sp->loop) {
		emit(o, "mov r8, 0\nloop:\n");
		if (sp->helper)
			emit(o,
			     "mov r1, r10\nadd r1, -%d\nmov r2, %d\ncall 4\n"
			     "mov r1, r10\nadd r1, -%d\nmov r2, %d\ncall 2\n",
			     sp->helper, sp->helper, sp->helper, sp->helper);
		emit(o, "add r8, 1\njlt r8, r7, loop\n");
	}
	emit(o, "mov r0, 0\nexit\n");
}

char *advgen_asm(const struct advgen_spec *sp)
{
	struct out o = { .cap = 4096 };

	o.s = malloc(o.cap);
	if (!o.s)
		return NULL;
	o.s[0] = 0;
	emit(&o,
	     "# generated: frames=%d spills=%d branches=%d ids=%d loop=%d chain=%d helper=%d "
	     "ifs=%d use=%d marks=%d straight=%d\n",
	     sp->frames, sp->spills, sp->branches, (int)sp->ids, sp->loop, sp->chain, sp->helper,
	     sp->ifs, sp->use, sp->marks, sp->straight);
	if (sp->chain) {
		/* executed top down: c<chain>, ..., c2, c1; r9 used only at c1 */
		emit(&o, "mov r9, 0\nja32 top\nc1:\njeq r9, 0, +0\nja32 body\n");
		for (int c = 2; c <= sp->chain; c++)
			emit(&o, "%sja %s\n", c == sp->chain ? "top:\n" : "", c == 2 ? "c1" : "-2");
		if (sp->chain == 1)
			emit(&o, "top:\nja c1\n");
		emit(&o, "body:\n");
	}
	if (sp->ids == ADV_IDS_SHARED) {
		emit_unknown_r0(&o);
		emit(&o, "mov r6, r0\n");
	}
	for (int f = 0; f < sp->frames; f++) {
		if (f > 0) {
			emit(&o, "f%d:\n", f);
			if (sp->ids == ADV_IDS_SHARED)
				emit(&o, "mov r6, r1\n");
		}
		emit_spills(&o, sp, f);
		if (f == sp->frames - 1) {
			emit_innermost(&o, sp);
		} else {
			if (sp->ids == ADV_IDS_SHARED)
				emit(&o, "mov r1, r6\n");
			emit(&o, "call f%d\nexit\n", f + 1);
		}
	}
	if (o.failed)
		return NULL;
	return o.s;
}
