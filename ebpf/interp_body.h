/* SPDX-License-Identifier: MIT */
/*
 * The interpreter loop, included twice by interp.c: once plain
 * (INTERP_NAME = interp_fast) and once counting executed instructions
 * (INTERP_COUNT defined). Threaded code: every handler ends by jumping
 * straight to the next one through the label table (computed goto).
 */
static uint64_t INTERP_NAME(const struct ebpf_prog *prog, void *ctx, void *user, uint64_t *count)
{
#define EBPF_LABEL(name) [OP_##name] = &&L_##name,
	static const void *const labels[OP__COUNT] = { EBPF_OPS(EBPF_LABEL) };
#undef EBPF_LABEL
	uint64_t stack[EBPF_MAX_FRAMES * EBPF_STACK_SIZE / 8];
	struct rt_frame frames[EBPF_MAX_FRAMES];
	const struct ebpf_dinsn *base, *pc;
	uint64_t r[11];
	unsigned depth = 0;
#ifdef INTERP_COUNT
	uint64_t n = 0;
#define COUNT() n++
#else
#define COUNT() ((void)0)
#endif
	if (!prog) /* predecode asks for the handler addresses */
		return (uintptr_t)labels;
	base = pc = prog->code;
	RT_SETUP();

	r[1] = (uintptr_t)ctx;
	r[2] = prog->env.ctx_size;
	r[10] = (uintptr_t)stack + sizeof(stack);
	(void)count;

#ifdef INTERP_COUNT
/* clang-format off */
#define DISPATCH()                                                                                 \
	do {                                                                                       \
		COUNT();                                                                           \
		goto *labels[pc->op];                                                              \
	} while (0)
#else
#define DISPATCH() goto *pc->handler
#endif
#define NEXT()                                                                                     \
	do {                                                                                       \
		pc++;                                                                              \
		DISPATCH();                                                                        \
	} while (0)
#define D     r[pc->dst]
#define S     r[pc->src]
#define IMM   pc->imm
#define D32   ((uint32_t)r[pc->dst])
#define S32   ((uint32_t)r[pc->src])
#define IMM32 ((uint32_t)pc->imm)

	DISPATCH();

	/* 64-bit arithmetic; imm was sign-extended to 64 bits by predecode */
#define ALU64(name, expr_k, expr_x)                                                                \
	L_##name##64_K : D = (expr_k);                                                             \
	NEXT();                                                                                    \
	L_##name##64_X : D = (expr_x);                                                             \
	NEXT();
	ALU64(ADD, D + IMM, D + S)
	ALU64(SUB, D - IMM, D - S)
	ALU64(MUL, D * IMM, D * S)
	ALU64(OR, D | IMM, D | S)
	ALU64(AND, D & IMM, D & S)
	ALU64(XOR, D ^ IMM, D ^ S)
	ALU64(MOV, IMM, S)
	ALU64(LSH, D << (IMM & 63), D << (S & 63))
	ALU64(RSH, D >> (IMM & 63), D >> (S & 63))
	ALU64(ARSH, (uint64_t)((int64_t)D >> (IMM & 63)), (uint64_t)((int64_t)D >> (S & 63)))
	ALU64(DIV, div64(D, IMM), div64(D, S))
	ALU64(SDIV, sdiv64(D, IMM), sdiv64(D, S))
	ALU64(MOD, mod64(D, IMM), mod64(D, S))
	ALU64(SMOD, smod64(D, IMM), smod64(D, S))
#undef ALU64
L_NEG64:
	D = -D;
	NEXT();
L_MOVSX8_64:
	D = (uint64_t)(int64_t)(int8_t)S;
	NEXT();
L_MOVSX16_64:
	D = (uint64_t)(int64_t)(int16_t)S;
	NEXT();
L_MOVSX32_64:
	D = (uint64_t)(int64_t)(int32_t)S;
	NEXT();

	/* 32-bit arithmetic: operate on the low halves, zero-extend the result */
#define ALU32(name, expr_k, expr_x)                                                                \
	L_##name##32_K : D = (uint32_t)(expr_k);                                                   \
	NEXT();                                                                                    \
	L_##name##32_X : D = (uint32_t)(expr_x);                                                   \
	NEXT();
	ALU32(ADD, D32 + IMM32, D32 + S32)
	ALU32(SUB, D32 - IMM32, D32 - S32)
	ALU32(MUL, D32 * IMM32, D32 * S32)
	ALU32(OR, D32 | IMM32, D32 | S32)
	ALU32(AND, D32 & IMM32, D32 & S32)
	ALU32(XOR, D32 ^ IMM32, D32 ^ S32)
	ALU32(MOV, IMM32, S32)
	ALU32(LSH, D32 << (IMM32 & 31), D32 << (S32 & 31))
	ALU32(RSH, D32 >> (IMM32 & 31), D32 >> (S32 & 31))
	ALU32(ARSH, (uint32_t)((int32_t)D32 >> (IMM32 & 31)), (uint32_t)((int32_t)D32 >> (S32 & 31)))
	ALU32(DIV, div32(D32, IMM32), div32(D32, S32))
	ALU32(SDIV, sdiv32(D32, IMM32), sdiv32(D32, S32))
	ALU32(MOD, mod32(D32, IMM32), mod32(D32, S32))
	ALU32(SMOD, smod32(D32, IMM32), smod32(D32, S32))
#undef ALU32
L_NEG32:
	D = (uint32_t)-D32;
	NEXT();
L_MOVSX8_32:
	D = (uint32_t)(int32_t)(int8_t)S;
	NEXT();
L_MOVSX16_32:
	D = (uint32_t)(int32_t)(int16_t)S;
	NEXT();

	/* byte order (the host is little-endian, checked in interp.c) */
L_ZEXT16:
	D = (uint16_t)D;
	NEXT();
L_ZEXT32:
	D = (uint32_t)D;
	NEXT();
L_NOP:
	NEXT();
L_BSWAP16:
	D = __builtin_bswap16((uint16_t)D);
	NEXT();
L_BSWAP32:
	D = __builtin_bswap32((uint32_t)D);
	NEXT();
L_BSWAP64:
	D = __builtin_bswap64(D);
	NEXT();

	/* loads and stores; addresses proven in bounds by the verifier */
#define LDX(name, type, ext)                                                                       \
	L_##name : {                                                                               \
		type v;                                                                            \
		RT_CHECK(S + (int64_t)pc->off, sizeof(type));                                      \
		memcpy(&v, (const void *)(uintptr_t)(S + (int64_t)pc->off), sizeof(v));            \
		D = (uint64_t)(ext)v;                                                              \
	}                                                                                          \
	NEXT();
	LDX(LDXB, uint8_t, uint64_t)
	LDX(LDXH, uint16_t, uint64_t)
	LDX(LDXW, uint32_t, uint64_t)
	LDX(LDXDW, uint64_t, uint64_t)
	LDX(LDXSB, int8_t, int64_t)
	LDX(LDXSH, int16_t, int64_t)
	LDX(LDXSW, int32_t, int64_t)
#undef LDX
#define ST(name, type, val)                                                                        \
	L_##name : {                                                                               \
		type v = (type)(val);                                                              \
		RT_CHECK(D + (int64_t)pc->off, sizeof(type));                                      \
		memcpy((void *)(uintptr_t)(D + (int64_t)pc->off), &v, sizeof(v));                  \
	}                                                                                          \
	NEXT();
	ST(STB, uint8_t, IMM)
	ST(STH, uint16_t, IMM)
	ST(STW, uint32_t, IMM)
	ST(STDW, uint64_t, IMM)
	ST(STXB, uint8_t, S)
	ST(STXH, uint16_t, S)
	ST(STXW, uint32_t, S)
	ST(STXDW, uint64_t, S)
#undef ST

	/* atomics: naturally aligned (verified), sequentially consistent */
#define AOP(label, type, stmt)                                                                     \
	L_##label : {                                                                              \
		type *ap = (type *)(uintptr_t)(D + (int64_t)pc->off);                              \
		RT_CHECK(D + (int64_t)pc->off, sizeof(type));                                      \
		RT_ALIGN(D + (int64_t)pc->off, sizeof(type));                                      \
		stmt;                                                                              \
	}                                                                                          \
	NEXT();
#define ATOMICS(sfx, type)                                                                         \
	AOP(AADD_##sfx, type, __atomic_fetch_add(ap, (type)S, __ATOMIC_SEQ_CST))                   \
	AOP(AOR_##sfx, type, __atomic_fetch_or(ap, (type)S, __ATOMIC_SEQ_CST))                     \
	AOP(AAND_##sfx, type, __atomic_fetch_and(ap, (type)S, __ATOMIC_SEQ_CST))                   \
	AOP(AXOR_##sfx, type, __atomic_fetch_xor(ap, (type)S, __ATOMIC_SEQ_CST))                   \
	AOP(FADD_##sfx, type, S = __atomic_fetch_add(ap, (type)S, __ATOMIC_SEQ_CST))               \
	AOP(FOR_##sfx, type, S = __atomic_fetch_or(ap, (type)S, __ATOMIC_SEQ_CST))                 \
	AOP(FAND_##sfx, type, S = __atomic_fetch_and(ap, (type)S, __ATOMIC_SEQ_CST))               \
	AOP(FXOR_##sfx, type, S = __atomic_fetch_xor(ap, (type)S, __ATOMIC_SEQ_CST))               \
	AOP(XCHG_##sfx, type, S = __atomic_exchange_n(ap, (type)S, __ATOMIC_SEQ_CST))              \
	AOP(CMPXCHG_##sfx, type, type expected = (type)r[0];                                       \
	    __atomic_compare_exchange_n(ap, &expected, (type)S, 0, __ATOMIC_SEQ_CST,               \
					__ATOMIC_SEQ_CST);                                         \
	    r[0] = expected)
	ATOMICS(W, uint32_t)
	ATOMICS(DW, uint64_t)
#undef ATOMICS
#undef AOP

L_LDDW:
	D = IMM;
	pc += 2;
	DISPATCH();

	/* jumps: pc->off holds the absolute target index */
L_JA:
	pc = base + pc->off;
	DISPATCH();
#define JMP(name, cond_k, cond_x)                                                                  \
	L_##name##_K : pc = (cond_k) ? base + pc->off : pc + 1;                                    \
	DISPATCH();                                                                                \
	L_##name##_X : pc = (cond_x) ? base + pc->off : pc + 1;                                    \
	DISPATCH();
#define JMPS(w, T, ST, d, s, k)                                                                    \
	JMP(JEQ##w, (T)d == (T)k, (T)d == (T)s)                                                    \
	JMP(JNE##w, (T)d != (T)k, (T)d != (T)s)                                                    \
	JMP(JGT##w, (T)d > (T)k, (T)d > (T)s)                                                      \
	JMP(JGE##w, (T)d >= (T)k, (T)d >= (T)s)                                                    \
	JMP(JLT##w, (T)d < (T)k, (T)d < (T)s)                                                      \
	JMP(JLE##w, (T)d <= (T)k, (T)d <= (T)s)                                                    \
	JMP(JSET##w, ((T)d & (T)k) != 0, ((T)d & (T)s) != 0)                                       \
	JMP(JSGT##w, (ST)d > (ST)k, (ST)d > (ST)s)                                                 \
	JMP(JSGE##w, (ST)d >= (ST)k, (ST)d >= (ST)s)                                               \
	JMP(JSLT##w, (ST)d < (ST)k, (ST)d < (ST)s)                                                 \
	JMP(JSLE##w, (ST)d <= (ST)k, (ST)d <= (ST)s)
	JMPS(64, uint64_t, int64_t, D, S, IMM)
	JMPS(32, uint32_t, int32_t, D, S, IMM)
#undef JMPS
#undef JMP

L_CALL_HELPER:
	r[0] = ((ebpf_helper_fn)(uintptr_t)pc->imm)(user, r[1], r[2], r[3], r[4], r[5]);
	NEXT();
L_CALL_LOCAL:
	/* depth bounded by the verifier (EBPF_MAX_FRAMES) */
	frames[depth].ret = pc + 1;
	memcpy(frames[depth].saved, &r[6], sizeof(frames[depth].saved));
	depth++;
	r[10] -= EBPF_STACK_SIZE;
	pc = base + pc->off;
	DISPATCH();
L_EXIT:
	if (depth == 0) {
#ifdef INTERP_COUNT
		*count += n;
#endif
		return r[0];
	}
	depth--;
	memcpy(&r[6], frames[depth].saved, sizeof(frames[depth].saved));
	r[10] += EBPF_STACK_SIZE;
	pc = frames[depth].ret;
	DISPATCH();
L_INVALID:
	/* never reached: predecode only emits it for the second lddw slot */
	__builtin_trap();

/* clang-format on */
#undef COUNT
#undef DISPATCH
#undef NEXT
#undef D
#undef S
#undef IMM
#undef D32
#undef S32
#undef IMM32
}
