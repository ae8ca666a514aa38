// SPDX-License-Identifier: MIT
/*
 * The lookahead subset of x86-64 (see x86dec.h). Table-free: one switch on
 * the opcode, with ModRM/SIB, prefixes and immediates decoded by helpers.
 * Only these prefixes are accepted: 66 (operand size), one REX right before
 * the opcode, and F3 in endbr64. Anything else is -EINVAL.
 */
#include "lib/errno.h"
#include "lib/x86dec.h"

struct dstate {
	const uint8_t *code;
	size_t avail; /* bytes readable at code, capped at X86_MAX_LEN */
	size_t pos;
	int err;     /* first error: -ERANGE (ran out of bytes) */
	uint8_t rex; /* 0 or 0x40..0x4f */
	uint8_t p66; /* operand-size prefix seen */
};

static uint8_t next8(struct dstate *d)
{
	if (d->pos >= d->avail) {
		if (!d->err)
			d->err = -ERANGE;
		return 0;
	}
	return d->code[d->pos++];
}

/* n bytes little-endian, sign-extended from 8*n bits. */
static int64_t next_signed(struct dstate *d, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)next8(d) << (8 * i);
	if (n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~0ull << (8 * n);
	return (int64_t)v;
}

static void set_reg(const struct dstate *d, struct x86_opnd *o, unsigned r, unsigned size)
{
	o->kind = X86_OPND_REG;
	o->size = (uint8_t)size;
	o->reg = (uint8_t)r;
	o->high8 = 0;
	if (size == 1 && !d->rex && r >= 4 && r < 8) { /* AH CH DH BH */
		o->reg = (uint8_t)(r - 4);
		o->high8 = 1;
	}
}

/* REX.W, else 66, else 32 bits: the "v" operand size. */
static unsigned vsize(const struct dstate *d)
{
	return (d->rex & 8) ? 8 : d->p66 ? 2 : 4;
}

/*
 * Decodes ModRM (+SIB, +displacement): *reg gets the reg field with REX.R,
 * *rm the r/m operand of `size` bytes (a register or the memory operand).
 * Returns mod (3 = register operand).
 */
static unsigned modrm(struct dstate *d, struct x86_insn *in, unsigned *reg, struct x86_opnd *rm,
		      unsigned size)
{
	uint8_t b = next8(d);
	unsigned mod = b >> 6, r = b & 7;

	*reg = ((b >> 3) & 7) | ((d->rex & 4) ? 8 : 0);
	if (mod == 3) {
		set_reg(d, rm, r | ((d->rex & 1) ? 8 : 0), size);
		return mod;
	}
	rm->kind = X86_OPND_MEM;
	rm->size = (uint8_t)size;
	rm->reg = 0;
	rm->high8 = 0;
	in->index = X86_NOREG;
	in->scale = 1;
	if (r == 4) {
		uint8_t sib = next8(d);
		unsigned idx = ((sib >> 3) & 7) | ((d->rex & 2) ? 8 : 0);

		in->scale = (uint8_t)(1u << (sib >> 6));
		in->index = (uint8_t)(idx == X86_RSP ? X86_NOREG : idx);
		if ((sib & 7) == 5 && mod == 0) {
			in->base = X86_NOREG;
			in->disp_off = (uint8_t)d->pos;
			in->disp = (int32_t)next_signed(d, 4);
			return mod;
		}
		in->base = (uint8_t)((sib & 7) | ((d->rex & 1) ? 8 : 0));
	} else if (r == 5 && mod == 0) {
		in->base = X86_RIP;
		in->disp_off = (uint8_t)d->pos;
		in->disp = (int32_t)next_signed(d, 4);
		return mod;
	} else {
		in->base = (uint8_t)(r | ((d->rex & 1) ? 8 : 0));
	}
	if (mod == 1) {
		in->disp_off = (uint8_t)d->pos;
		in->disp = (int32_t)next_signed(d, 1);
	} else if (mod == 2) {
		in->disp_off = (uint8_t)d->pos;
		in->disp = (int32_t)next_signed(d, 4);
	}
	return mod;
}

/* An immediate of n bytes (sign-extended) as the operand opnd[i] of `size` bytes. */
static void imm(struct dstate *d, struct x86_insn *in, int i, unsigned n, unsigned size)
{
	in->imm_off = (uint8_t)d->pos;
	in->imm = next_signed(d, n);
	in->opnd[i].kind = X86_OPND_IMM;
	in->opnd[i].size = (uint8_t)size;
}

/* The "z" immediate: 2 bytes for 16-bit operands, else 4 (sign-extended to 64). */
static unsigned zsize(unsigned osize)
{
	return osize == 2 ? 2 : 4;
}

/* r/m, reg (dir 0) or reg, r/m (dir 1), both of size. */
static void rm_reg(struct dstate *d, struct x86_insn *in, unsigned size, int dir)
{
	unsigned reg;

	modrm(d, in, &reg, &in->opnd[dir ? 1 : 0], size);
	set_reg(d, &in->opnd[dir ? 0 : 1], reg, size);
	in->osize = (uint8_t)size;
	in->nopnd = 2;
}

static const uint8_t alu_ops[8] = { X86_OP_ADD, X86_OP_OR,  X86_OP_ADC, X86_OP_SBB,
				    X86_OP_AND, X86_OP_SUB, X86_OP_XOR, X86_OP_CMP };

/* 0x80-0x83 and the shift group's ModRM reg field. */
static const uint8_t shift_ops[8] = { X86_OP_ROL, X86_OP_ROR, X86_OP_NONE, X86_OP_NONE,
				      X86_OP_SHL, X86_OP_SHR, X86_OP_NONE, X86_OP_SAR };

static int decode_0f(struct dstate *d, struct x86_insn *in)
{
	uint8_t op = next8(d);
	unsigned reg, mod, v = vsize(d);

	if (op == 0x05) { /* syscall */
		if (d->p66 || d->rex)
			return -EINVAL;
		in->op = X86_OP_SYSCALL;
		in->osize = 8;
		return 0;
	}
	if (op == 0x1f) {	     /* nop r/m */
		rm_reg(d, in, v, 0); /* shown as nop r/m, reg; never accessed */
		if (in->opnd[1].reg & 7)
			return -EINVAL;
		in->op = X86_OP_NOP;
		return 0;
	}
	if (op >= 0x40 && op <= 0x4f) { /* cmovcc */
		rm_reg(d, in, v, 1);
		in->op = X86_OP_CMOV;
		in->cond = op & 15;
		return 0;
	}
	if (op >= 0x80 && op <= 0x8f) { /* jcc rel32 */
		if (d->p66)
			return -EINVAL;
		in->op = X86_OP_JCC;
		in->cond = op & 15;
		in->osize = 8;
		imm(d, in, 0, 4, 8);
		in->nopnd = 1;
		return 0;
	}
	if (op >= 0x90 && op <= 0x9f) { /* setcc r/m8 */
		if (d->p66)
			return -EINVAL;
		modrm(d, in, &reg, &in->opnd[0], 1);
		if ((reg & 7) != 0)
			return -EINVAL;
		in->op = X86_OP_SETCC;
		in->cond = op & 15;
		in->osize = 1;
		in->nopnd = 1;
		return 0;
	}
	if (op == 0xaf) { /* imul r, r/m */
		rm_reg(d, in, v, 1);
		in->op = X86_OP_IMUL;
		return 0;
	}
	if (op == 0xb6 || op == 0xb7 || op == 0xbe || op == 0xbf) { /* movzx / movsx */
		unsigned ssize = (op & 1) ? 2 : 1;

		if (ssize == 2 && v == 2)
			return -EINVAL; /* movzx r16, r/m16: a plain move in disguise */
		mod = modrm(d, in, &reg, &in->opnd[1], ssize);
		(void)mod;
		set_reg(d, &in->opnd[0], reg, v);
		in->op = op < 0xb8 ? X86_OP_MOVZX : X86_OP_MOVSX;
		in->osize = (uint8_t)v;
		in->nopnd = 2;
		return 0;
	}
	return -EINVAL;
}

static int decode_op(struct dstate *d, struct x86_insn *in, uint8_t op)
{
	unsigned reg, mod, v = vsize(d);

	if (op < 0x40 && (op & 7) < 6) { /* the ALU block: add or adc sbb and sub xor cmp */
		unsigned size = (op & 1) ? v : 1;

		in->op = alu_ops[op >> 3];
		if ((op & 7) < 4) {
			rm_reg(d, in, size, (op & 2) != 0);
		} else { /* AL/eAX, imm */
			set_reg(d, &in->opnd[0], X86_RAX, size);
			imm(d, in, 1, size == 1 ? 1 : zsize(size), size);
			in->osize = (uint8_t)size;
			in->nopnd = 2;
		}
		return 0;
	}
	if (op >= 0x50 && op <= 0x5f) { /* push / pop r64 */
		if (d->p66)
			return -EINVAL;
		in->op = op < 0x58 ? X86_OP_PUSH : X86_OP_POP;
		set_reg(d, &in->opnd[0], (op & 7) | ((d->rex & 1) ? 8 : 0), 8);
		in->osize = 8;
		in->nopnd = 1;
		return 0;
	}
	if (op >= 0x70 && op <= 0x7f) { /* jcc rel8 */
		if (d->p66)
			return -EINVAL;
		in->op = X86_OP_JCC;
		in->cond = op & 15;
		in->osize = 8;
		imm(d, in, 0, 1, 8);
		in->nopnd = 1;
		return 0;
	}
	if (op >= 0xb0 && op <= 0xbf) { /* mov r, imm */
		unsigned size = op < 0xb8 ? 1 : v;

		in->op = X86_OP_MOV;
		set_reg(d, &in->opnd[0], (op & 7) | ((d->rex & 1) ? 8 : 0), size);
		imm(d, in, 1, size == 8 ? 8 : size == 1 ? 1 : zsize(size), size);
		in->osize = (uint8_t)size;
		in->nopnd = 2;
		return 0;
	}
	switch (op) {
	case 0x63: /* movsxd r64, r/m32 */
		if (!(d->rex & 8))
			return -EINVAL;
		modrm(d, in, &reg, &in->opnd[1], 4);
		set_reg(d, &in->opnd[0], reg, 8);
		in->op = X86_OP_MOVSX;
		in->osize = 8;
		in->nopnd = 2;
		return 0;
	case 0x68: /* push imm32 */
	case 0x6a: /* push imm8 */
		if (d->p66)
			return -EINVAL;
		in->op = X86_OP_PUSH;
		in->osize = 8;
		imm(d, in, 0, op == 0x68 ? 4 : 1, 8);
		in->nopnd = 1;
		return 0;
	case 0x69: /* imul r, r/m, imm */
	case 0x6b:
		rm_reg(d, in, v, 1);
		imm(d, in, 2, op == 0x6b ? 1 : zsize(v), v);
		in->op = X86_OP_IMUL;
		in->nopnd = 3;
		return 0;
	case 0x80: /* alu r/m8, imm8 */
	case 0x81: /* alu r/m, imm */
	case 0x83: /* alu r/m, imm8 */ {
		unsigned size = op == 0x80 ? 1 : v;

		modrm(d, in, &reg, &in->opnd[0], size);
		in->op = alu_ops[reg & 7];
		imm(d, in, 1, op == 0x81 ? zsize(size) : 1, size);
		in->osize = (uint8_t)size;
		in->nopnd = 2;
		return 0;
	}
	case 0x84: /* test r/m, r */
	case 0x85:
		rm_reg(d, in, (op & 1) ? v : 1, 0);
		in->op = X86_OP_TEST;
		return 0;
	case 0x86: /* xchg r/m, r: registers only (with memory it is a locked access) */
	case 0x87:
		rm_reg(d, in, (op & 1) ? v : 1, 0);
		if (in->opnd[0].kind != X86_OPND_REG)
			return -EINVAL;
		in->op = X86_OP_XCHG;
		return 0;
	case 0x88: /* mov r/m, r */
	case 0x89:
	case 0x8a: /* mov r, r/m */
	case 0x8b:
		rm_reg(d, in, (op & 1) ? v : 1, (op & 2) != 0);
		in->op = X86_OP_MOV;
		return 0;
	case 0x8d: /* lea r, m */
		mod = modrm(d, in, &reg, &in->opnd[1], v);
		if (mod == 3 || v == 2)
			return -EINVAL;
		set_reg(d, &in->opnd[0], reg, v);
		in->op = X86_OP_LEA;
		in->osize = (uint8_t)v;
		in->nopnd = 2;
		return 0;
	case 0x90: /* nop, or xchg r8, rax with REX.B */
		if (!(d->rex & 1)) {
			in->op = X86_OP_NOP;
			in->osize = (uint8_t)v;
			return 0;
		}
		/* fall through */
	case 0x91: /* xchg r, rax */
	case 0x92:
	case 0x93:
	case 0x94:
	case 0x95:
	case 0x96:
	case 0x97:
		set_reg(d, &in->opnd[0], (op & 7) | ((d->rex & 1) ? 8 : 0), v);
		set_reg(d, &in->opnd[1], X86_RAX, v);
		in->op = X86_OP_XCHG;
		in->osize = (uint8_t)v;
		in->nopnd = 2;
		return 0;
	case 0x98: /* cbw / cwde / cdqe */
	case 0x99: /* cwd / cdq / cqo */
		in->op = op == 0x98 ? X86_OP_CWDE : X86_OP_CDQ;
		in->osize = (uint8_t)v;
		return 0;
	case 0xa8: /* test al, imm8 */
	case 0xa9: /* test eax, imm */ {
		unsigned size = op == 0xa8 ? 1 : v;

		set_reg(d, &in->opnd[0], X86_RAX, size);
		imm(d, in, 1, size == 1 ? 1 : zsize(size), size);
		in->op = X86_OP_TEST;
		in->osize = (uint8_t)size;
		in->nopnd = 2;
		return 0;
	}
	case 0xc0: /* shift r/m8, imm8 */
	case 0xc1:
	case 0xd0: /* shift r/m8, 1 */
	case 0xd1:
	case 0xd2: /* shift r/m8, cl */
	case 0xd3: {
		unsigned size = (op & 1) ? v : 1;

		modrm(d, in, &reg, &in->opnd[0], size);
		in->op = shift_ops[reg & 7];
		if (in->op == X86_OP_NONE)
			return -EINVAL;
		if (op <= 0xc1) {
			imm(d, in, 1, 1, 1);
			in->imm &= 0xff;
		} else if (op <= 0xd1) {
			in->opnd[1].kind = X86_OPND_IMM;
			in->opnd[1].size = 1;
			in->imm = 1;
		} else {
			set_reg(d, &in->opnd[1], X86_RCX, 1);
		}
		in->osize = (uint8_t)size;
		in->nopnd = 2;
		return 0;
	}
	case 0xc3: /* ret */
	case 0xc9: /* leave */
		if (d->p66)
			return -EINVAL;
		in->op = op == 0xc3 ? X86_OP_RET : X86_OP_LEAVE;
		in->osize = 8;
		return 0;
	case 0xc6: /* mov r/m8, imm8 */
	case 0xc7: /* mov r/m, imm */ {
		unsigned size = (op & 1) ? v : 1;

		modrm(d, in, &reg, &in->opnd[0], size);
		if ((reg & 7) != 0)
			return -EINVAL;
		imm(d, in, 1, size == 1 ? 1 : zsize(size), size);
		in->op = X86_OP_MOV;
		in->osize = (uint8_t)size;
		in->nopnd = 2;
		return 0;
	}
	case 0xcd: /* int $0x80 only */
		if (d->p66 || d->rex)
			return -EINVAL;
		imm(d, in, 0, 1, 1);
		in->imm &= 0xff;
		if (in->imm != 0x80)
			return -EINVAL;
		in->op = X86_OP_INT80;
		in->osize = 8;
		in->nopnd = 1;
		return 0;
	case 0xe8: /* call rel32 */
	case 0xe9: /* jmp rel32 */
	case 0xeb: /* jmp rel8 */
		if (d->p66)
			return -EINVAL;
		in->op = op == 0xe8 ? X86_OP_CALL : X86_OP_JMP;
		in->osize = 8;
		imm(d, in, 0, op == 0xeb ? 1 : 4, 8);
		in->nopnd = 1;
		return 0;
	case 0xf6: /* test/not/neg/mul/imul/div/idiv r/m8 */
	case 0xf7: {
		unsigned size = (op & 1) ? v : 1;

		modrm(d, in, &reg, &in->opnd[0], size);
		in->osize = (uint8_t)size;
		in->nopnd = 1;
		switch (reg & 7) {
		case 0:
			imm(d, in, 1, size == 1 ? 1 : zsize(size), size);
			in->op = X86_OP_TEST;
			in->nopnd = 2;
			return 0;
		case 2:
			in->op = X86_OP_NOT;
			return 0;
		case 3:
			in->op = X86_OP_NEG;
			return 0;
		case 4:
			in->op = X86_OP_MUL;
			return 0;
		case 5:
			in->op = X86_OP_IMUL1;
			return 0;
		case 6:
			in->op = X86_OP_DIV;
			return 0;
		case 7:
			in->op = X86_OP_IDIV;
			return 0;
		}
		return -EINVAL;
	}
	case 0xfe: /* inc/dec r/m8 */
		modrm(d, in, &reg, &in->opnd[0], 1);
		if ((reg & 7) > 1)
			return -EINVAL;
		in->op = (reg & 7) ? X86_OP_DEC : X86_OP_INC;
		in->osize = 1;
		in->nopnd = 1;
		return 0;
	case 0xff: {
		/* the size of the operand depends on the ModRM reg field: peek it */
		unsigned sub;

		if (d->pos >= d->avail) {
			d->err = -ERANGE;
			return 0;
		}
		sub = (d->code[d->pos] >> 3) & 7;
		if (sub == 0 || sub == 1) {
			modrm(d, in, &reg, &in->opnd[0], v);
			in->op = sub ? X86_OP_DEC : X86_OP_INC;
			in->osize = (uint8_t)v;
		} else if (sub == 2 || sub == 4 || sub == 6) {
			if (d->p66)
				return -EINVAL;
			modrm(d, in, &reg, &in->opnd[0], 8);
			in->op = sub == 2 ? X86_OP_CALL_IND :
				 sub == 4 ? X86_OP_JMP_IND :
					    X86_OP_PUSH;
			in->osize = 8;
		} else {
			return -EINVAL;
		}
		in->nopnd = 1;
		return 0;
	}
	}
	return -EINVAL;
}

int x86_decode(const uint8_t *code, size_t avail, struct x86_insn *in)
{
	struct dstate d = { code, avail < X86_MAX_LEN ? avail : X86_MAX_LEN, 0, 0, 0, 0 };
	uint8_t b, f3 = 0;
	int r;

	*in = (struct x86_insn){ 0 };
	in->base = X86_NOREG;
	in->index = X86_NOREG;
	in->scale = 1;
	for (;;) { /* legacy prefixes */
		b = next8(&d);
		if (d.err)
			return avail >= X86_MAX_LEN ? -EINVAL : d.err;
		if (b == 0x66)
			d.p66 = 1;
		else if (b == 0xf3)
			f3 = 1;
		else
			break;
	}
	if ((b & 0xf0) == 0x40) { /* REX, right before the opcode */
		d.rex = b;
		b = next8(&d);
		if (d.err)
			return avail >= X86_MAX_LEN ? -EINVAL : d.err;
	}
	if (f3) { /* only endbr64: F3 0F 1E FA */
		if (d.p66 || d.rex || b != 0x0f || next8(&d) != 0x1e || next8(&d) != 0xfa)
			return d.err && avail < X86_MAX_LEN ? d.err : -EINVAL;
		in->op = X86_OP_NOP;
		in->osize = 8;
		in->len = (uint8_t)d.pos;
		return in->len;
	}
	r = b == 0x0f ? decode_0f(&d, in) : decode_op(&d, in, b);
	if (d.err) /* ran out of bytes: truncated, or longer than any instruction */
		return avail >= X86_MAX_LEN ? -EINVAL : d.err;
	if (r) {
		*in = (struct x86_insn){ 0 };
		return r;
	}
	if (d.pos > X86_MAX_LEN)
		return -EINVAL;
	in->len = (uint8_t)d.pos;
	return in->len;
}

int x86_insn_has_mem(const struct x86_insn *in)
{
	switch (in->op) {
	case X86_OP_PUSH:
	case X86_OP_POP:
	case X86_OP_LEAVE:
	case X86_OP_CALL:
	case X86_OP_CALL_IND:
	case X86_OP_RET:
		return 1;
	case X86_OP_LEA:
	case X86_OP_NOP:
		return 0;
	}
	for (unsigned i = 0; i < in->nopnd; i++)
		if (in->opnd[i].kind == X86_OPND_MEM)
			return 1;
	return 0;
}

const char *x86_op_name(unsigned op)
{
	static const char *const names[X86_OP_COUNT] = {
		[X86_OP_NONE] = "(none)", [X86_OP_ADD] = "add",		[X86_OP_OR] = "or",
		[X86_OP_ADC] = "adc",	  [X86_OP_SBB] = "sbb",		[X86_OP_AND] = "and",
		[X86_OP_SUB] = "sub",	  [X86_OP_XOR] = "xor",		[X86_OP_CMP] = "cmp",
		[X86_OP_TEST] = "test",	  [X86_OP_ROL] = "rol",		[X86_OP_ROR] = "ror",
		[X86_OP_SHL] = "shl",	  [X86_OP_SHR] = "shr",		[X86_OP_SAR] = "sar",
		[X86_OP_INC] = "inc",	  [X86_OP_DEC] = "dec",		[X86_OP_NEG] = "neg",
		[X86_OP_NOT] = "not",	  [X86_OP_MOV] = "mov",		[X86_OP_MOVZX] = "movzx",
		[X86_OP_MOVSX] = "movsx", [X86_OP_LEA] = "lea",		[X86_OP_CMOV] = "cmovcc",
		[X86_OP_SETCC] = "setcc", [X86_OP_XCHG] = "xchg",	[X86_OP_CWDE] = "cwde",
		[X86_OP_CDQ] = "cdq",	  [X86_OP_IMUL] = "imul",	[X86_OP_PUSH] = "push",
		[X86_OP_MUL] = "mul",	  [X86_OP_IMUL1] = "imul1",	[X86_OP_DIV] = "div",
		[X86_OP_IDIV] = "idiv",	  [X86_OP_POP] = "pop",		[X86_OP_LEAVE] = "leave",
		[X86_OP_CALL] = "call",	  [X86_OP_CALL_IND] = "call",	[X86_OP_RET] = "ret",
		[X86_OP_JMP] = "jmp",	  [X86_OP_JMP_IND] = "jmp",	[X86_OP_JCC] = "jcc",
		[X86_OP_NOP] = "nop",	  [X86_OP_SYSCALL] = "syscall", [X86_OP_INT80] = "int",
	};

	return op < X86_OP_COUNT && names[op] ? names[op] : "?";
}
