// SPDX-License-Identifier: MIT
/*
 * The interpreter: pre-decoding of verified instructions into handler
 * indices with absolute jump targets, then threaded dispatch.
 *
 * Nothing here re-checks what the verifier proved (bounds, initialised
 * registers, call depth). Builds with -DEBPF_RUNTIME_CHECKS (the fuzzer)
 * add a check of every memory access against the memory the program was
 * given and trap on a violation, so that a verifier hole becomes a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "ops.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the interpreter assumes a little-endian host"
#endif

struct rt_frame {
	const struct ebpf_dinsn *ret;
	uint64_t saved[4]; /* r6..r9 */
};

/* RFC 9669 4.1: x / 0 = 0, x % 0 = x, LLONG_MIN / -1 = LLONG_MIN and
 * LLONG_MIN % -1 = 0 (the C operators would trap on the latter two). */
static inline uint64_t div64(uint64_t a, uint64_t b)
{
	return b ? a / b : 0;
}

static inline uint64_t mod64(uint64_t a, uint64_t b)
{
	return b ? a % b : a;
}

static inline uint64_t sdiv64(uint64_t a, uint64_t b)
{
	if (!b)
		return 0;
	if ((int64_t)b == -1)
		return -a;
	return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint64_t smod64(uint64_t a, uint64_t b)
{
	if (!b)
		return a;
	if ((int64_t)b == -1)
		return 0;
	return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t div32(uint32_t a, uint32_t b)
{
	return b ? a / b : 0;
}

static inline uint32_t mod32(uint32_t a, uint32_t b)
{
	return b ? a % b : a;
}

static inline uint32_t sdiv32(uint32_t a, uint32_t b)
{
	if (!b)
		return 0;
	if ((int32_t)b == -1)
		return -a;
	return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint32_t smod32(uint32_t a, uint32_t b)
{
	if (!b)
		return a;
	if ((int32_t)b == -1)
		return 0;
	return (uint32_t)((int32_t)a % (int32_t)b);
}

#ifdef EBPF_RUNTIME_CHECKS
struct rt_mem {
	uintptr_t lo[EBPF_MAX_REGIONS + 2], hi[EBPF_MAX_REGIONS + 2];
	unsigned n;
};

static void rt_setup(struct rt_mem *m, const struct ebpf_prog *prog, void *ctx, void *stack,
		     size_t stack_size)
{
	m->n = 0;
	if ((uintptr_t)ctx & 7)
		__builtin_trap(); /* the embedder must pass an 8-aligned context */
	m->lo[m->n] = (uintptr_t)ctx;
	m->hi[m->n++] = (uintptr_t)ctx + prog->env.ctx_size;
	m->lo[m->n] = (uintptr_t)stack;
	m->hi[m->n++] = (uintptr_t)stack + stack_size;
	for (unsigned i = 0; i < prog->env.nregions; i++) {
		uint64_t p;

		memcpy(&p, (char *)ctx + prog->env.regions[i].ctx_offset, 8);
		m->lo[m->n] = p;
		m->hi[m->n++] = p + prog->env.regions[i].size;
	}
}

static void rt_check(const struct rt_mem *m, uint64_t addr, size_t size)
{
	if (size == 0)
		__builtin_trap();
	for (unsigned i = 0; i < m->n; i++)
		if (addr >= m->lo[i] && addr + size <= m->hi[i] && addr + size >= addr)
			return;
	__builtin_trap();
}
#define RT_SETUP()                                                                                 \
	struct rt_mem rtm;                                                                         \
	rt_setup(&rtm, prog, ctx, stack, sizeof(stack))
#define RT_CHECK(addr, size) rt_check(&rtm, (addr), (size))
#define RT_ALIGN(addr, size)                                                                       \
	do {                                                                                       \
		if ((addr) & ((size)-1))                                                           \
			__builtin_trap();                                                          \
	} while (0)
#else
#define RT_ALIGN(addr, size) ((void)0)
#define RT_SETUP()	     ((void)0)
#define RT_CHECK(addr, size) ((void)0)
#endif

#define INTERP_NAME interp_fast
#include "interp_body.h"
#undef INTERP_NAME

#define INTERP_NAME  interp_counted
#define INTERP_COUNT 1
#include "interp_body.h"
#undef INTERP_NAME
#undef INTERP_COUNT

uint64_t ebpf_prog_run(const struct ebpf_prog *prog, void *ctx, void *user)
{
	return interp_fast(prog, ctx, user, NULL);
}

uint64_t ebpf_prog_run_counted(const struct ebpf_prog *prog, void *ctx, void *user, uint64_t *count)
{
	return interp_counted(prog, ctx, user, count);
}

static int alu_op(uint8_t code, const struct ebpf_insn *in)
{
	bool is64 = EBPF_CLASS(code) == EBPF_ALU64, x = EBPF_SRC(code) == EBPF_X;
	int base;

	switch (EBPF_OP(code)) {
	case EBPF_ADD:
		base = OP_ADD64_K;
		break;
	case EBPF_SUB:
		base = OP_SUB64_K;
		break;
	case EBPF_MUL:
		base = OP_MUL64_K;
		break;
	case EBPF_DIV:
		base = in->off ? OP_SDIV64_K : OP_DIV64_K;
		break;
	case EBPF_OR:
		base = OP_OR64_K;
		break;
	case EBPF_AND:
		base = OP_AND64_K;
		break;
	case EBPF_LSH:
		base = OP_LSH64_K;
		break;
	case EBPF_RSH:
		base = OP_RSH64_K;
		break;
	case EBPF_NEG:
		return is64 ? OP_NEG64 : OP_NEG32;
	case EBPF_MOD:
		base = in->off ? OP_SMOD64_K : OP_MOD64_K;
		break;
	case EBPF_XOR:
		base = OP_XOR64_K;
		break;
	case EBPF_MOV:
		if (in->off == 8)
			return is64 ? OP_MOVSX8_64 : OP_MOVSX8_32;
		if (in->off == 16)
			return is64 ? OP_MOVSX16_64 : OP_MOVSX16_32;
		if (in->off == 32)
			return OP_MOVSX32_64;
		base = OP_MOV64_K;
		break;
	case EBPF_ARSH:
		base = OP_ARSH64_K;
		break;
	case EBPF_END:
		if (is64 || EBPF_SRC(code) == EBPF_TO_BE)
			return in->imm == 16 ? OP_BSWAP16 : in->imm == 32 ? OP_BSWAP32 : OP_BSWAP64;
		return in->imm == 16 ? OP_ZEXT16 : in->imm == 32 ? OP_ZEXT32 : OP_NOP;
	default:
		return OP_INVALID;
	}
	/* the 32-bit list mirrors the 64-bit one, K before X */
	if (!is64)
		base += OP_ADD32_K - OP_ADD64_K;
	return base + x;
}

static int jmp_op(uint8_t code)
{
	bool x = EBPF_SRC(code) == EBPF_X;
	int base;

	switch (EBPF_OP(code)) {
	case EBPF_JEQ:
		base = OP_JEQ64_K;
		break;
	case EBPF_JGT:
		base = OP_JGT64_K;
		break;
	case EBPF_JGE:
		base = OP_JGE64_K;
		break;
	case EBPF_JSET:
		base = OP_JSET64_K;
		break;
	case EBPF_JNE:
		base = OP_JNE64_K;
		break;
	case EBPF_JSGT:
		base = OP_JSGT64_K;
		break;
	case EBPF_JSGE:
		base = OP_JSGE64_K;
		break;
	case EBPF_JLT:
		base = OP_JLT64_K;
		break;
	case EBPF_JLE:
		base = OP_JLE64_K;
		break;
	case EBPF_JSLT:
		base = OP_JSLT64_K;
		break;
	case EBPF_JSLE:
		base = OP_JSLE64_K;
		break;
	default:
		return OP_INVALID;
	}
	if (EBPF_CLASS(code) == EBPF_JMP32)
		base += OP_JEQ32_K - OP_JEQ64_K;
	return base + x;
}

static int mem_op(uint8_t code, int32_t imm)
{
	static const int ldx[4] = { OP_LDXW, OP_LDXH, OP_LDXB, OP_LDXDW };
	static const int ldxs[4] = { OP_LDXSW, OP_LDXSH, OP_LDXSB, OP_INVALID };
	static const int st[4] = { OP_STW, OP_STH, OP_STB, OP_STDW };
	static const int stx[4] = { OP_STXW, OP_STXH, OP_STXB, OP_STXDW };
	unsigned sz = EBPF_SIZE(code) >> 3;
	int base;

	switch (EBPF_CLASS(code)) {
	case EBPF_LDX:
		return EBPF_MODE(code) == EBPF_MEMSX ? ldxs[sz] : ldx[sz];
	case EBPF_ST:
		return st[sz];
	case EBPF_STX:
		if (EBPF_MODE(code) == EBPF_MEM)
			return stx[sz];
		base = EBPF_SIZE(code) == EBPF_DW ? OP_AADD_DW : OP_AADD_W;
		switch (imm) {
		case EBPF_ADD:
			return base;
		case EBPF_OR:
			return base + 1;
		case EBPF_AND:
			return base + 2;
		case EBPF_XOR:
			return base + 3;
		case EBPF_ADD | EBPF_FETCH:
			return base + 4;
		case EBPF_OR | EBPF_FETCH:
			return base + 5;
		case EBPF_AND | EBPF_FETCH:
			return base + 6;
		case EBPF_XOR | EBPF_FETCH:
			return base + 7;
		case EBPF_XCHG:
			return base + 8;
		case EBPF_CMPXCHG:
			return base + 9;
		}
	}
	return OP_INVALID;
}

int ebpf_predecode(struct ebpf_prog *prog, const struct ebpf_insn *insns, size_t n)
{
	struct ebpf_dinsn *code = calloc(n, sizeof(*code));

	if (!code)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct ebpf_insn *in = &insns[i];
		struct ebpf_dinsn *d = &code[i];
		uint8_t c = in->code;

		d->dst = in->dst;
		d->src = in->src;
		d->off = in->off;
		d->imm = (uint64_t)(int64_t)in->imm;
		switch (EBPF_CLASS(c)) {
		case EBPF_ALU:
		case EBPF_ALU64:
			d->op = alu_op(c, in);
			break;
		case EBPF_JMP:
		case EBPF_JMP32:
			if (EBPF_OP(c) == EBPF_JA) {
				d->op = OP_JA;
				d->off = (int32_t)(i + 1) +
					 (EBPF_CLASS(c) == EBPF_JMP32 ? in->imm : in->off);
			} else if (EBPF_OP(c) == EBPF_CALL && in->src == EBPF_PSEUDO_CALL_LOCAL) {
				d->op = OP_CALL_LOCAL;
				d->off = (int32_t)(i + 1) + in->imm;
			} else if (EBPF_OP(c) == EBPF_CALL) {
				const struct ebpf_helper *h = ebpf_env_helper(&prog->env, in->imm);

				d->op = OP_CALL_HELPER;
				d->imm = (uintptr_t)h->fn;
			} else if (EBPF_OP(c) == EBPF_EXIT) {
				d->op = OP_EXIT;
			} else {
				d->op = jmp_op(c);
				d->off = (int32_t)(i + 1) + in->off;
			}
			break;
		case EBPF_LD:
			d->op = OP_LDDW;
			d->imm = (uint32_t)in->imm | ((uint64_t)(uint32_t)insns[i + 1].imm << 32);
			code[++i].op = OP_INVALID;
			break;
		default:
			d->op = mem_op(c, in->imm);
			break;
		}
	}
	{
		const void *const *labels =
			(const void *const *)(uintptr_t)interp_fast(NULL, NULL, NULL, NULL);

		for (size_t i = 0; i < n; i++)
			code[i].handler = labels[code[i].op];
	}
	prog->code = code;
	return 0;
}
