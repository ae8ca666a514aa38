// SPDX-License-Identifier: MIT
/*
 * x86dec against Zydis (Debian's libzydis-dev) as the oracle: fuzzed byte
 * strings, half uniformly random, half built around the opcodes of the
 * subset (random prefixes, ModRM, SIB, displacements, immediates). For every
 * string x86_decode accepts, Zydis must decode the same length, mnemonic,
 * operand size and visible operands (registers, memory base/index/scale/
 * displacement, immediates and branch displacements, their sizes), and the
 * displacement/immediate offsets; the same string cut one byte short must
 * give -ERANGE. Prints one TAP line with the counts.
 *
 *   x86dec_oracle [-n COUNT] [-s SEED]      (default 1000000, seed 1)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <Zydis/Zydis.h>

#include "lib/errno.h"
#include "lib/x86dec.h"
#include "x86gen.h"

static const ZydisMnemonic jcc_m[16] = {
	ZYDIS_MNEMONIC_JO, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JB,  ZYDIS_MNEMONIC_JNB,
	ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JNZ, ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JNBE,
	ZYDIS_MNEMONIC_JS, ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JP,  ZYDIS_MNEMONIC_JNP,
	ZYDIS_MNEMONIC_JL, ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNLE,
};
static const ZydisMnemonic setcc_m[16] = {
	ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETB,	 ZYDIS_MNEMONIC_SETNB,
	ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETNZ, ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE,
	ZYDIS_MNEMONIC_SETS, ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETP,	 ZYDIS_MNEMONIC_SETNP,
	ZYDIS_MNEMONIC_SETL, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETNLE,
};
static const ZydisMnemonic cmov_m[16] = {
	ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVB,  ZYDIS_MNEMONIC_CMOVNB,
	ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNZ, ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE,
	ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVP,  ZYDIS_MNEMONIC_CMOVNP,
	ZYDIS_MNEMONIC_CMOVL, ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE,
};

static int mnemonic_ok(const struct x86_insn *in, ZydisMnemonic m)
{
	switch (in->op) {
	case X86_OP_ADD:
		return m == ZYDIS_MNEMONIC_ADD;
	case X86_OP_OR:
		return m == ZYDIS_MNEMONIC_OR;
	case X86_OP_ADC:
		return m == ZYDIS_MNEMONIC_ADC;
	case X86_OP_SBB:
		return m == ZYDIS_MNEMONIC_SBB;
	case X86_OP_AND:
		return m == ZYDIS_MNEMONIC_AND;
	case X86_OP_SUB:
		return m == ZYDIS_MNEMONIC_SUB;
	case X86_OP_XOR:
		return m == ZYDIS_MNEMONIC_XOR;
	case X86_OP_CMP:
		return m == ZYDIS_MNEMONIC_CMP;
	case X86_OP_TEST:
		return m == ZYDIS_MNEMONIC_TEST;
	case X86_OP_ROL:
		return m == ZYDIS_MNEMONIC_ROL;
	case X86_OP_ROR:
		return m == ZYDIS_MNEMONIC_ROR;
	case X86_OP_SHL:
		return m == ZYDIS_MNEMONIC_SHL;
	case X86_OP_SHR:
		return m == ZYDIS_MNEMONIC_SHR;
	case X86_OP_SAR:
		return m == ZYDIS_MNEMONIC_SAR;
	case X86_OP_INC:
		return m == ZYDIS_MNEMONIC_INC;
	case X86_OP_DEC:
		return m == ZYDIS_MNEMONIC_DEC;
	case X86_OP_NEG:
		return m == ZYDIS_MNEMONIC_NEG;
	case X86_OP_NOT:
		return m == ZYDIS_MNEMONIC_NOT;
	case X86_OP_MOV:
		return m == ZYDIS_MNEMONIC_MOV;
	case X86_OP_MOVZX:
		return m == ZYDIS_MNEMONIC_MOVZX;
	case X86_OP_MOVSX:
		return m == ZYDIS_MNEMONIC_MOVSX || m == ZYDIS_MNEMONIC_MOVSXD;
	case X86_OP_LEA:
		return m == ZYDIS_MNEMONIC_LEA;
	case X86_OP_CMOV:
		return m == cmov_m[in->cond];
	case X86_OP_SETCC:
		return m == setcc_m[in->cond];
	case X86_OP_JCC:
		return m == jcc_m[in->cond];
	case X86_OP_XCHG:
		return m == ZYDIS_MNEMONIC_XCHG;
	case X86_OP_CWDE:
		return m == (in->osize == 2 ? ZYDIS_MNEMONIC_CBW :
			     in->osize == 4 ? ZYDIS_MNEMONIC_CWDE :
					      ZYDIS_MNEMONIC_CDQE);
	case X86_OP_CDQ:
		return m == (in->osize == 2 ? ZYDIS_MNEMONIC_CWD :
			     in->osize == 4 ? ZYDIS_MNEMONIC_CDQ :
					      ZYDIS_MNEMONIC_CQO);
	case X86_OP_IMUL:
	case X86_OP_IMUL1:
		return m == ZYDIS_MNEMONIC_IMUL;
	case X86_OP_MUL:
		return m == ZYDIS_MNEMONIC_MUL;
	case X86_OP_DIV:
		return m == ZYDIS_MNEMONIC_DIV;
	case X86_OP_IDIV:
		return m == ZYDIS_MNEMONIC_IDIV;
	case X86_OP_PUSH:
		return m == ZYDIS_MNEMONIC_PUSH;
	case X86_OP_POP:
		return m == ZYDIS_MNEMONIC_POP;
	case X86_OP_LEAVE:
		return m == ZYDIS_MNEMONIC_LEAVE;
	case X86_OP_CALL:
	case X86_OP_CALL_IND:
		return m == ZYDIS_MNEMONIC_CALL;
	case X86_OP_RET:
		return m == ZYDIS_MNEMONIC_RET;
	case X86_OP_JMP:
	case X86_OP_JMP_IND:
		return m == ZYDIS_MNEMONIC_JMP;
	case X86_OP_NOP:
		return m == ZYDIS_MNEMONIC_NOP || m == ZYDIS_MNEMONIC_ENDBR64;
	case X86_OP_SYSCALL:
		return m == ZYDIS_MNEMONIC_SYSCALL;
	case X86_OP_INT80:
		return m == ZYDIS_MNEMONIC_INT;
	}
	return 0;
}

static ZydisRegister zreg(unsigned reg, unsigned size, int high8)
{
	switch (size) {
	case 8:
		return (ZydisRegister)(ZYDIS_REGISTER_RAX + reg);
	case 4:
		return (ZydisRegister)(ZYDIS_REGISTER_EAX + reg);
	case 2:
		return (ZydisRegister)(ZYDIS_REGISTER_AX + reg);
	}
	if (high8)
		return (ZydisRegister)(ZYDIS_REGISTER_AH + reg);
	if (reg < 4)
		return (ZydisRegister)(ZYDIS_REGISTER_AL + reg);
	if (reg < 8)
		return (ZydisRegister)(ZYDIS_REGISTER_SPL + reg - 4);
	return (ZydisRegister)(ZYDIS_REGISTER_R8B + reg - 8);
}

static ZydisRegister zaddr_reg(unsigned r)
{
	if (r == X86_RIP)
		return ZYDIS_REGISTER_RIP;
	if (r == X86_NOREG)
		return ZYDIS_REGISTER_NONE;
	return (ZydisRegister)(ZYDIS_REGISTER_RAX + r);
}

static uint64_t mask_bits(unsigned bits)
{
	return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

/* "" if in agrees with Zydis, else what differs. */
static const char *compare(const struct x86_insn *in, const ZydisDecodedInstruction *z,
			   const ZydisDecodedOperand *zo, char *why, size_t n)
{
	unsigned k = 0;

	if (z->length != in->len)
		return snprintf(why, n, "length %u, zydis %u", in->len, z->length), why;
	if (!mnemonic_ok(in, z->mnemonic))
		return snprintf(why, n, "op %s, zydis %s", x86_op_name(in->op),
				ZydisMnemonicGetString(z->mnemonic)),
		       why;
	if (in->op != X86_OP_NOP && in->op != X86_OP_SYSCALL && in->op != X86_OP_INT80 &&
	    z->operand_width != 8u * in->osize)
		return snprintf(why, n, "operand size %u, zydis %u", 8u * in->osize,
				z->operand_width),
		       why;
	for (unsigned i = 0; i < z->operand_count; i++) {
		const ZydisDecodedOperand *o = &zo[i];
		const struct x86_opnd *m;

		if (o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			continue;
		if (k >= in->nopnd)
			return snprintf(why, n, "%u operands, zydis has more", in->nopnd), why;
		m = &in->opnd[k++];
		switch (o->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER:
			if (m->kind != X86_OPND_REG)
				return snprintf(why, n, "operand %u: zydis register", k), why;
			if (o->reg.value != zreg(m->reg, m->size, m->high8))
				return snprintf(why, n, "operand %u: register %s, zydis %s", k,
						ZydisRegisterGetString(
							zreg(m->reg, m->size, m->high8)),
						ZydisRegisterGetString(o->reg.value)),
				       why;
			break;
		case ZYDIS_OPERAND_TYPE_MEMORY:
			if (m->kind != X86_OPND_MEM)
				return snprintf(why, n, "operand %u: zydis memory", k), why;
			if (o->mem.base != zaddr_reg(in->base) ||
			    o->mem.index != zaddr_reg(in->index) ||
			    (in->index != X86_NOREG && o->mem.scale != in->scale) ||
			    o->mem.disp.value != in->disp)
				return snprintf(why, n,
						"operand %u: memory base %s index %s scale %u "
						"disp %d, zydis %s %s %u %" PRId64,
						k, ZydisRegisterGetString(zaddr_reg(in->base)),
						ZydisRegisterGetString(zaddr_reg(in->index)),
						in->scale, in->disp,
						ZydisRegisterGetString(o->mem.base),
						ZydisRegisterGetString(o->mem.index), o->mem.scale,
						(int64_t)o->mem.disp.value),
				       why;
			if (o->mem.segment != ZYDIS_REGISTER_DS &&
			    o->mem.segment != ZYDIS_REGISTER_SS)
				return snprintf(why, n, "operand %u: segment %s", k,
						ZydisRegisterGetString(o->mem.segment)),
				       why;
			if (in->op == X86_OP_LEA)
				break; /* an address, not an access: no size */
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			if (m->kind != X86_OPND_IMM)
				return snprintf(why, n, "operand %u: zydis immediate", k), why;
			if (o->imm.is_relative) {
				if (o->imm.value.s != in->imm)
					return snprintf(why, n, "rel %" PRId64 ", zydis %" PRId64,
							in->imm, (int64_t)o->imm.value.s),
					       why;
			} else if ((o->imm.value.u & mask_bits(o->size)) !=
				   ((uint64_t)in->imm & mask_bits(o->size))) {
				return snprintf(why, n, "imm %#" PRIx64 ", zydis %#" PRIx64,
						(uint64_t)in->imm, (uint64_t)o->imm.value.u),
				       why;
			}
			break;
		default:
			return snprintf(why, n, "operand %u: zydis type %d", k, o->type), why;
		}
		if (o->size != 8u * m->size && !(in->op == X86_OP_LEA && k == 2) &&
		    !(o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE))
			return snprintf(why, n, "operand %u: size %u, zydis %u", k, 8u * m->size,
					o->size),
			       why;
	}
	if (k != in->nopnd)
		return snprintf(why, n, "%u operands, zydis %u", in->nopnd, k), why;
	if (in->disp_off != (z->raw.disp.size ? z->raw.disp.offset : 0))
		return snprintf(why, n, "disp offset %u, zydis %u", in->disp_off,
				z->raw.disp.offset),
		       why;
	if (in->imm_off != (z->raw.imm[0].size ? z->raw.imm[0].offset : 0))
		return snprintf(why, n, "imm offset %u, zydis %u", in->imm_off,
				z->raw.imm[0].offset),
		       why;
	return "";
}

int main(int argc, char **argv)
{
	unsigned long count = 1000000, accepted = 0, bad = 0, per_op[X86_OP_COUNT] = { 0 };
	ZydisDecoder dec;

	x86gen_seed(1);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			count = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			x86gen_seed(strtoull(argv[++i], NULL, 0));
		else {
			fprintf(stderr, "usage: x86dec_oracle [-n COUNT] [-s SEED]\n");
			return 2;
		}
	}
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	for (unsigned long t = 0; t < count; t++) {
		uint8_t b[X86_MAX_LEN];
		struct x86_insn in, in2;
		ZydisDecodedInstruction z;
		ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
		size_t avail = x86gen_insn(b);
		int len = x86_decode(b, avail, &in);
		const char *why;
		char buf[256];

		if (len < 0)
			continue;
		accepted++;
		per_op[in.op]++;
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, b, avail, &z, zo))) {
			why = "zydis refuses it";
		} else {
			why = compare(&in, &z, zo, buf, sizeof(buf));
			if (!*why && x86_decode(b, (size_t)len - 1, &in2) != -ERANGE)
				why = "one byte short is not -ERANGE";
		}
		if (*why) {
			if (bad++ < 30) {
				printf("# mismatch:");
				for (int i = 0; i < len; i++)
					printf(" %02x", b[i]);
				printf(": %s\n", why);
			}
		}
	}
	printf("1..1\n# decoded per op:");
	for (unsigned op = 1; op < X86_OP_COUNT; op++)
		printf(" %s=%lu", x86_op_name(op), per_op[op]);
	printf("\n%s 1 - x86dec vs Zydis: %lu byte strings, %lu decoded and compared, %lu "
	       "mismatches\n",
	       bad ? "not ok" : "ok", count, accepted, bad);
	return bad ? 1 : 0;
}
