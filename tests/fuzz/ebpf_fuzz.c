// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for libebpf: any program the verifier accepts must run to
 * completion without a sanitizer report. The library is compiled with
 * -DEBPF_RUNTIME_CHECKS, so every load, store and atomic the interpreter
 * performs is also checked against the memory the program was given (ctx,
 * regions, its own stack): a verifier hole becomes a trap, even where ASan
 * could not see it (inside the interpreter's stack array). A program that
 * does not terminate trips libFuzzer's -timeout.
 *
 * Second objective: no verification may be slow. Every load must stay within
 * its work budget (the verifier charges each step in proportion to what it
 * touches, so the budget bounds the time: bench/ebpf_bench.c measures how
 * much); a load that runs more than one step past it aborts. The CPU time of
 * each load is measured too: the slowest is reported at exit, and with
 * EBPF_FUZZ_SLOW_MS=N a load taking more than N ms aborts (for long runs by
 * hand; timing never decides a test in make check).
 *
 * Input: byte 0 = mode (bit 0: structured, bits 1-2: layout, bit 3: ELF),
 * byte 1 = input memory length; the rest is raw instructions, an ELF object
 * (bit 3: the loader must reject malformed files without reading out of
 * bounds) or, in structured mode, 8-byte chunks mapped onto valid-looking
 * instructions so that most programs get deep into the verifier.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ebpf/ebpf.h"
#include "ebpf/isa.h"
#include "ebpf/tools/testenv.h"

static unsigned long n_runs, n_accepted;

/* the most a load may charge past its budget between two checks (see
 * tests/ebpf/unit_work.c) */
#define MAX_OVERSHOOT 50000

static double slowest_ms, slow_limit_ms;
static struct ebpf_verify_stats slowest;

static void __attribute__((destructor)) stats(void)
{
	if (n_runs)
		fprintf(stderr,
			"ebpf_fuzz: %lu programs, %lu accepted and run; slowest verification "
			"%.2f ms CPU (%llu of %llu work units, %llu instructions explored)\n",
			n_runs, n_accepted, slowest_ms, (unsigned long long)slowest.work,
			(unsigned long long)slowest.max_work, (unsigned long long)slowest.insns);
}

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *s = getenv("EBPF_FUZZ_SLOW_MS");

	slow_limit_ms = s ? atof(s) : 0;
	return 0;
}

/* the slow-verification objective, after each load that started at t0 */
static void check_work(double t0)
{
	struct ebpf_verify_stats st;
	double ms = cpu_ms() - t0;

	ebpf_verify_last_stats(&st);
	if (st.work > st.max_work + MAX_OVERSHOOT) {
		fprintf(stderr,
			"ebpf_fuzz: verification ran past its budget: %llu of %llu work units\n",
			(unsigned long long)st.work, (unsigned long long)st.max_work);
		abort();
	}
	if (ms > slowest_ms) {
		slowest_ms = ms;
		slowest = st;
	}
	if (slow_limit_ms > 0 && ms > slow_limit_ms) {
		fprintf(stderr,
			"ebpf_fuzz: slow verification: %.2f ms CPU > EBPF_FUZZ_SLOW_MS=%g "
			"(%llu work units, %llu instructions explored)\n",
			ms, slow_limit_ms, (unsigned long long)st.work,
			(unsigned long long)st.insns);
		abort();
	}
}

static const int32_t special_imm[] = { 0,  1,  -1,  2,	  7,	 8,	    16,	       31, 32,
				       63, 64, 255, 4096, -4096, INT32_MIN, INT32_MAX, -8, 512 };

static uint8_t pick_code(uint8_t b)
{
	static uint8_t codes[256];
	static int n;

	if (!n) {
		for (int c = 0; c < 256; c++) {
			unsigned cls = EBPF_CLASS(c);

			if ((cls == EBPF_ALU || cls == EBPF_ALU64) && EBPF_OP(c) <= EBPF_END)
				codes[n++] = (uint8_t)c;
			else if ((cls == EBPF_JMP || cls == EBPF_JMP32) && EBPF_OP(c) <= EBPF_JSLE)
				codes[n++] = (uint8_t)c;
			else if (cls == EBPF_LDX &&
				 (EBPF_MODE(c) == EBPF_MEM || EBPF_MODE(c) == EBPF_MEMSX))
				codes[n++] = (uint8_t)c;
			else if ((cls == EBPF_ST || cls == EBPF_STX) && EBPF_MODE(c) == EBPF_MEM)
				codes[n++] = (uint8_t)c;
			else if (cls == EBPF_STX && EBPF_MODE(c) == EBPF_ATOMIC &&
				 (EBPF_SIZE(c) == EBPF_W || EBPF_SIZE(c) == EBPF_DW))
				codes[n++] = (uint8_t)c;
		}
		codes[n++] = EBPF_OPC_LDDW;
		/* bias towards the interesting ones */
		for (int k = 0; k < 8; k++) {
			codes[n++] = EBPF_LDX | EBPF_MEM | EBPF_B;
			codes[n++] = EBPF_JMP | EBPF_JLT | EBPF_K;
			codes[n++] = EBPF_ALU64 | EBPF_ADD | EBPF_X;
			codes[n++] = EBPF_ALU64 | EBPF_MOV | EBPF_X;
			codes[n++] = EBPF_ALU64 | EBPF_AND | EBPF_K;
		}
	}
	return codes[b % n];
}

/* map 8 bytes onto an instruction; returns the slots written (1 or 2) */
static int structured(const uint8_t *c, struct ebpf_insn *in, int pc, int total)
{
	static const int32_t atomics[] = { EBPF_ADD,
					   EBPF_OR,
					   EBPF_AND,
					   EBPF_XOR,
					   EBPF_ADD | EBPF_FETCH,
					   EBPF_OR | EBPF_FETCH,
					   EBPF_AND | EBPF_FETCH,
					   EBPF_XOR | EBPF_FETCH,
					   EBPF_XCHG,
					   EBPF_CMPXCHG };
	uint8_t code = pick_code(c[0]);
	unsigned cls = EBPF_CLASS(code);
	int32_t imm;

	memset(in, 0, sizeof(*in));
	in->code = code;
	in->dst = c[1] % 11;
	in->src = c[2] % 11;
	if (c[4] & 1)
		imm = (int32_t)(c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24);
	else if (c[4] & 2)
		imm = special_imm[c[5] % (sizeof(special_imm) / sizeof(special_imm[0]))];
	else
		imm = (int8_t)c[5];
	in->imm = imm;
	in->off = (int8_t)c[3];
	if (cls == EBPF_ALU || cls == EBPF_ALU64) {
		if (EBPF_SRC(code) == EBPF_X)
			in->imm = 0;
		else
			in->src = 0;
		in->off = 0;
		if (EBPF_OP(code) == EBPF_DIV || EBPF_OP(code) == EBPF_MOD)
			in->off = c[3] & 1;
		if (EBPF_OP(code) == EBPF_MOV && EBPF_SRC(code) == EBPF_X)
			in->off = (int16_t)((c[3] & 3) * 8 == 24 ? 0 : (c[3] & 3) * 8);
		if (EBPF_OP(code) == EBPF_END) {
			in->imm = 16 << (c[5] % 3);
			in->src = 0;
		}
		if (EBPF_OP(code) == EBPF_NEG)
			in->imm = in->src = 0;
	} else if (cls == EBPF_JMP || cls == EBPF_JMP32) {
		/* mostly forward: backward jumps rarely make bounded loops */
		in->off = (int16_t)((c[3] & 0x80) && (c[3] & 0x40) ? (int8_t)c[3] % 12 : c[3] % 12);
		if (pc + 1 + in->off < 0 || pc + 1 + in->off >= total)
			in->off = 0;
		if (EBPF_SRC(code) == EBPF_X)
			in->imm = 0;
		else
			in->src = 0;
		if (EBPF_OP(code) == EBPF_CALL) {
			in->code = EBPF_JMP | EBPF_CALL;
			in->dst = in->off = 0;
			if (c[6] & 1) {
				in->src = EBPF_PSEUDO_CALL_LOCAL;
				in->imm = (int8_t)c[3] % 12;
			} else {
				in->src = 0;
				in->imm = 1 + c[5] % 5;
			}
		} else if (EBPF_OP(code) == EBPF_EXIT || EBPF_OP(code) == EBPF_JA) {
			in->code = EBPF_JMP | EBPF_OP(code);
			in->dst = in->src = 0;
			in->imm = 0;
			if (EBPF_OP(code) == EBPF_EXIT)
				in->off = 0;
		}
	} else if (cls == EBPF_LDX) {
		in->imm = 0;
	} else if (cls == EBPF_ST) {
		in->src = 0;
	} else if (cls == EBPF_STX) {
		in->imm = EBPF_MODE(code) == EBPF_ATOMIC ?
				  atomics[c[5] % (sizeof(atomics) / sizeof(atomics[0]))] :
				  0;
	} else if (code == EBPF_OPC_LDDW && pc + 1 < total) {
		in->src = in->off = 0;
		memset(&in[1], 0, sizeof(in[1]));
		in[1].imm = (int32_t)(c[6] | (uint32_t)c[7] << 8);
		return 2;
	} else {
		in->code = EBPF_ALU64 | EBPF_MOV | EBPF_K;
		in->src = 0;
		in->off = 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebpf_insn *insns;
	struct ebpf_prog *prog = NULL;
	struct ebpf_error err;
	struct testenv te;
	uint8_t mem[256];
	size_t n;
	double t0;
	int rc;

	if (size < 2 + 8)
		return 0;
	{
		uint8_t mode = data[0];
		enum testenv_layout layout = (enum testenv_layout)((mode >> 1) % 3);
		size_t memlen = data[1];

		for (size_t i = 0; i < memlen; i++)
			mem[i] = (uint8_t)(i * 13 + 5);
		if (testenv_init(&te, layout, mem, memlen))
			return 0;
		data += 2;
		size -= 2;
		if (mode & 8) {
			/* an exact-size heap copy, so ASan sees any overread */
			uint8_t *elf = malloc(size);

			memcpy(elf, data, size);
			n_runs++;
			t0 = cpu_ms();
			rc = ebpf_prog_load_elf(te.env, elf, size, NULL, &prog, NULL);
			check_work(t0);
			if (!rc) {
				n_accepted++;
				(void)ebpf_prog_run(prog, testenv_ctx(&te), &te);
				ebpf_prog_free(prog);
			}
			free(elf);
			testenv_free(&te);
			return 0;
		}
		n = size / 8;
		if (n > 4096)
			n = 4096;
		insns = calloc(n + 4, sizeof(*insns));
		if (mode & 1) {
			size_t k = 0;

			/* prologue: give r0 and r3-r9 values (most programs would
			 * otherwise stop at their first uninitialised read) */
			insns = realloc(insns, (n + 12) * sizeof(*insns));
			for (int r = 0; r <= 9; r++) {
				if (r == 1 || r == 2)
					continue;
				memset(&insns[k], 0, sizeof(insns[k]));
				insns[k].code = EBPF_ALU64 | EBPF_MOV | EBPF_K;
				insns[k].dst = (uint8_t)r;
				insns[k].imm =
					special_imm[(r * 7 + mode) %
						    (sizeof(special_imm) / sizeof(special_imm[0]))];
				k++;
			}
			n += k;
			while (k < n)
				k += (size_t)structured(data + (k - 8) * 8, &insns[k], (int)k,
							(int)n + 2);
			n = k;
			/* end with mov r0, 0; exit so that fall-through is rare */
			memset(&insns[n], 0, 2 * sizeof(*insns));
			insns[n].code = EBPF_ALU64 | EBPF_MOV | EBPF_K;
			insns[n + 1].code = EBPF_JMP | EBPF_EXIT;
			n += 2;
		} else {
			memcpy(insns, data, n * 8);
		}
	}
	n_runs++;
	t0 = cpu_ms();
	rc = ebpf_prog_load(te.env, insns, n * sizeof(*insns), &prog, &err);
	check_work(t0);
	if (!rc) {
		n_accepted++;
		(void)ebpf_prog_run(prog, testenv_ctx(&te), &te);
		ebpf_prog_free(prog);
	} else if (getenv("EBPF_FUZZ_VERBOSE")) {
		fprintf(stderr, "reject: %s\n", err.msg);
	}
	free(insns);
	testenv_free(&te);
	return 0;
}
