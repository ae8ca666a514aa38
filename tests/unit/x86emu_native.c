// SPDX-License-Identifier: MIT
/*
 * x86emu against the host CPU itself: fuzzed instructions that x86dec
 * accepts run once natively (in a generated code page, with every general
 * register and the arithmetic flags loaded from random values) and once in
 * the emulator, on two copies of the same data buffer. Registers, RIP (taken
 * or not), the defined flags (the emulator says which it left undefined)
 * and the buffer must agree. Memory operands, the stack, RBP for leave and
 * branch targets are steered into the buffer/code page so that nothing
 * faults, except divisions: where the emulator refuses one (the CPU would
 * raise #DE), the CPU must indeed raise it (SIGFPE). Prints one TAP line
 * with the counts.
 *
 *   x86emu_native [-n COUNT] [-s SEED]      (default 300000, seed 1)
 */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/errno.h"
#include "lib/x86emu.h"
#include "x86gen.h"

#define STATE	 0x10000000ul /* in[16], in_flags, out[16], out_flags, saved rsp, taken */
#define ST_IN	 (STATE + 0)
#define ST_INF	 (STATE + 16 * 8)
#define ST_OUT	 (STATE + 17 * 8)
#define ST_OUTF	 (STATE + 33 * 8)
#define ST_SAVE	 (STATE + 34 * 8)
#define ST_TAKEN (STATE + 35 * 8)
#define ST_STACK (STATE + 0x800) /* the popf scratch stack */
#define DATA	 0x10010000ul
#define DATA_LEN 0x2000ul
#define CODE	 0x20000000ul

static uint8_t emu_mem[DATA_LEN];

static int in_data(uint64_t a, unsigned size)
{
	return a >= DATA && a + size <= DATA + DATA_LEN && a + size > a;
}

static int mem_read(void *ctx, uint64_t addr, uint64_t *val, unsigned size)
{
	(void)ctx;
	if (!in_data(addr, size))
		return -EFAULT;
	*val = 0;
	memcpy(val, emu_mem + (addr - DATA), size);
	return 0;
}

static int mem_write(void *ctx, uint64_t addr, uint64_t val, unsigned size)
{
	(void)ctx;
	if (!in_data(addr, size))
		return -EFAULT;
	memcpy(emu_mem + (addr - DATA), &val, size);
	return 0;
}

static int no_fetch(void *ctx, uint64_t rip, const struct x86_insn **in)
{
	(void)ctx;
	(void)rip;
	(void)in;
	return -EFAULT;
}

static const struct x86emu_env env = { no_fetch, mem_read, mem_write, NULL };

/* ---- code generation ---- */

static uint8_t *cp;

static void emit(const void *b, size_t n)
{
	memcpy(cp, b, n);
	cp += n;
}

static void emit1(uint8_t b)
{
	*cp++ = b;
}

static void emit32(uint32_t v)
{
	emit(&v, 4);
}

/* mov abs32 -> reg (load 1) or reg -> abs32 (load 0), 64-bit. */
static void mov_abs(unsigned reg, uint32_t addr, int load)
{
	emit1((uint8_t)(0x48 | (reg >= 8 ? 4 : 0)));
	emit1(load ? 0x8b : 0x89);
	emit1((uint8_t)(0x04 | ((reg & 7) << 3)));
	emit1(0x25);
	emit32(addr);
}

static uint64_t insn_addr;   /* where the instruction under test sits */
static size_t alt_dist = 13; /* "taken" path: insn end + 13 */

/* Lays out prologue, insn, the two epilogues; returns the insn address. */
static void build(const uint8_t *insn, size_t len)
{
	static const uint8_t save[] = {
		0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57
	};
	static const uint8_t restore[] = { 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d,
					   0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
	uint8_t *common_jmp;

	cp = (uint8_t *)CODE;
	emit(save, sizeof(save));
	emit((const uint8_t[]){ 0x48, 0x89, 0x24, 0x25 }, 4); /* mov %rsp, ST_SAVE */
	emit32((uint32_t)ST_SAVE);
	emit((const uint8_t[]){ 0x48, 0xbc }, 2); /* movabs ST_STACK, %rsp */
	{
		uint64_t v = ST_STACK;
		emit(&v, 8);
	}
	emit((const uint8_t[]){ 0xff, 0x34, 0x25 }, 3); /* push ST_INF */
	emit32((uint32_t)ST_INF);
	emit1(0x9d); /* popf */
	for (unsigned r = 0; r < 16; r++)
		mov_abs(r, (uint32_t)(ST_IN + 8 * r), 1);
	insn_addr = (uint64_t)cp;
	emit(insn, len);
	/* fall-through: taken = 0 (8 bytes), jmp common (5 bytes): 13 bytes */
	emit((const uint8_t[]){ 0xc6, 0x04, 0x25 }, 3);
	emit32((uint32_t)ST_TAKEN);
	emit1(0);
	emit1(0xe9);
	common_jmp = cp;
	emit32(0);
	/* taken: insn end + 13 */
	emit((const uint8_t[]){ 0xc6, 0x04, 0x25 }, 3);
	emit32((uint32_t)ST_TAKEN);
	emit1(1);
	{
		int32_t rel = (int32_t)(cp - (common_jmp + 4));
		memcpy(common_jmp, &rel, 4);
	}
	for (unsigned r = 0; r < 16; r++)
		mov_abs(r, (uint32_t)(ST_OUT + 8 * r), 0);
	emit((const uint8_t[]){ 0x9f, 0x0f, 0x90, 0xc0 }, 4); /* lahf; seto %al */
	mov_abs(0, (uint32_t)ST_OUTF, 0);
	mov_abs(4, (uint32_t)ST_SAVE, 1); /* mov ST_SAVE, %rsp */
	emit(restore, sizeof(restore));
}

static sigjmp_buf fpe_jmp;

static void on_fpe(int sig)
{
	(void)sig;
	siglongjmp(fpe_jmp, 1);
}

/* Runs the generated code; 1 if it raised SIGFPE (#DE). */
static int run_native(void)
{
	if (sigsetjmp(fpe_jmp, 1))
		return 1;
	((void (*)(void))CODE)();
	return 0;
}

static uint64_t st(uint64_t a)
{
	return *(volatile uint64_t *)a;
}

static void st_set(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)a = v;
}

static uint64_t rand_value(void)
{
	uint64_t r = x86gen_rand();

	switch (r % 8) {
	case 0:
		return 0;
	case 1:
		return ~0ull;
	case 2:
		return x86gen_rand() & 0xff;
	case 3:
		return (x86gen_rand() & 1) ? 0x80000000ull : 0x8000000000000000ull;
	case 4:
		return x86gen_rand() % 70; /* shift counts around the widths */
	}
	return x86gen_rand();
}

/* Points the memory operand of in at a random place in the buffer. */
static int steer_mem(struct x86_insn *in, uint8_t *b, uint64_t *regs)
{
	uint64_t t = DATA + 0x100 + x86gen_rand() % (DATA_LEN - 0x200);

	if (in->base == X86_RIP || (in->base == X86_NOREG && in->index == X86_NOREG)) {
		int64_t d = in->base == X86_RIP ? (int64_t)t - (int64_t)(insn_addr + in->len) :
						  (int64_t)t;

		if (!in->disp_off || d != (int32_t)d)
			return -1;
		memcpy(b + in->disp_off, &(int32_t){ (int32_t)d }, 4);
		return 0;
	}
	if (in->base == X86_NOREG) {
		uint64_t v = t - (uint64_t)(int64_t)in->disp;

		regs[in->index] = v / in->scale;
		return 0;
	}
	if (in->index == in->base) {
		uint64_t v = t - (uint64_t)(int64_t)in->disp;

		regs[in->base] = v / (1u + in->scale);
		return 0;
	}
	regs[in->base] = t - (uint64_t)(int64_t)in->disp -
			 (in->index != X86_NOREG ? regs[in->index] * in->scale : 0);
	return 0;
}

static int uses_stack(const struct x86_insn *in)
{
	switch (in->op) {
	case X86_OP_PUSH:
	case X86_OP_POP:
	case X86_OP_CALL:
	case X86_OP_CALL_IND:
	case X86_OP_RET:
	case X86_OP_LEAVE:
		return 1;
	}
	return 0;
}

static int has_mem_opnd(const struct x86_insn *in)
{
	for (unsigned i = 0; i < in->nopnd; i++)
		if (in->opnd[i].kind == X86_OPND_MEM)
			return 1;
	return 0;
}

static const char *regname[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
				   "r8",  "r9",	 "r10", "r11", "r12", "r13", "r14", "r15" };

int main(int argc, char **argv)
{
	unsigned long count = 300000, ran = 0, skipped = 0, bad = 0, divide_errors = 0;
	unsigned long per_op[X86_OP_COUNT] = { 0 };
	static uint8_t native_init[DATA_LEN];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			count = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			x86gen_seed(strtoull(argv[++i], NULL, 0));
		else {
			fprintf(stderr, "usage: x86emu_native [-n COUNT] [-s SEED]\n");
			return 2;
		}
	}
	if (mmap((void *)STATE, 0x1000, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)STATE ||
	    mmap((void *)DATA, DATA_LEN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)DATA ||
	    mmap((void *)CODE, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)CODE) {
		perror("x86emu_native: mmap");
		return 2;
	}
	{
		static uint8_t altstack[65536];
		stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
		struct sigaction sa = { .sa_handler = on_fpe, .sa_flags = SA_ONSTACK };

		sigaltstack(&ss, NULL);
		sigaction(SIGFPE, &sa, NULL);
	}
	for (unsigned long t = 0; t < count; t++) {
		uint8_t b[X86_MAX_LEN];
		struct x86_insn in;
		struct x86emu_state s;
		uint64_t regs[16], inflags, nf, target;
		uint32_t undef, defined;
		int len, r;
		const char *why = NULL;

		x86gen_insn(b);
		len = x86_decode(b, sizeof(b), &in);
		if (len < 0 || in.op == X86_OP_SYSCALL || in.op == X86_OP_INT80)
			continue;
		build(b, (size_t)len); /* to learn insn_addr; rebuilt after patching */
		for (int i = 0; i < 16; i++)
			regs[i] = rand_value();
		inflags = 0x202 | (x86gen_rand() & X86_ARITH_FLAGS);
		if (uses_stack(&in))
			regs[X86_RSP] = DATA + 0x800 + (x86gen_rand() % 0x1000);
		if (in.op == X86_OP_LEAVE)
			regs[X86_RBP] = DATA + 0x100 + (x86gen_rand() % (DATA_LEN - 0x200));
		if (has_mem_opnd(&in)) {
			if (uses_stack(&in) && (in.base == X86_RSP || in.index == X86_RSP)) {
				skipped++;
				continue;
			}
			if (steer_mem(&in, b, regs)) {
				skipped++;
				continue;
			}
		}
		/* branches go to the "taken" epilogue, insn end + 13 */
		target = insn_addr + (uint64_t)len + alt_dist;
		if (in.op == X86_OP_JCC || in.op == X86_OP_JMP || in.op == X86_OP_CALL) {
			size_t n = (in.imm_off ? (size_t)len - in.imm_off : 0);

			if (n == 1)
				b[in.imm_off] = (uint8_t)alt_dist;
			else
				memcpy(b + in.imm_off, &(int32_t){ (int32_t)alt_dist }, 4);
		}
		len = x86_decode(b, sizeof(b), &in); /* the patched instruction */
		if (len < 0) {
			skipped++;
			continue;
		}
		build(b, (size_t)len);
		for (size_t i = 0; i < DATA_LEN; i += 8)
			*(uint64_t *)(native_init + i) = rand_value();
		if (in.op == X86_OP_RET)
			memcpy(native_init + (regs[X86_RSP] - DATA), &target, 8);
		if (in.op == X86_OP_CALL_IND || in.op == X86_OP_JMP_IND) {
			if (in.opnd[0].kind == X86_OPND_REG) {
				if (in.opnd[0].reg == X86_RSP) {
					skipped++; /* call *%rsp would push into the code page */
					continue;
				}
				regs[in.opnd[0].reg] = target;
			} else {
				/* the effective address, as the emulator computes it */
				uint64_t ea =
					(uint64_t)(int64_t)in.disp +
					(in.base == X86_RIP   ? insn_addr + (uint64_t)len :
					 in.base == X86_NOREG ? 0 :
								regs[in.base]) +
					(in.index == X86_NOREG ? 0 : regs[in.index] * in.scale);
				if (!in_data(ea, 8)) {
					skipped++;
					continue;
				}
				memcpy(native_init + (ea - DATA), &target, 8);
			}
		}
		memcpy((void *)DATA, native_init, DATA_LEN);
		memcpy(emu_mem, native_init, DATA_LEN);
		for (int i = 0; i < 16; i++)
			st_set(ST_IN + 8 * (uint64_t)i, regs[i]);
		st_set(ST_INF, inflags);

		memcpy(s.r, regs, sizeof(regs));
		s.rip = insn_addr;
		s.rflags = inflags;
		r = x86emu_exec(&s, &in, &env, &undef);
		if (r == -EINVAL && in.op != X86_OP_DIV && in.op != X86_OP_IDIV) {
			skipped++; /* e.g. a zero shift count on memory: refused, fine */
			continue;
		}
		if (run_native() != (r == -EINVAL)) {
			why = r ? "emulator refused a division the CPU did" :
				  "the CPU raised #DE, the emulator did not";
		} else if (r == -EINVAL) {
			divide_errors++;
			continue;
		}
		ran++;
		per_op[in.op]++;
		nf = st(ST_OUTF);
		nf = ((nf >> 8) & (X86_CF | X86_PF | X86_AF | X86_ZF | X86_SF)) |
		     ((nf & 1) ? X86_OF : 0);
		defined = X86_ARITH_FLAGS & ~undef;
		if (why)
			;
		else if (r)
			why = "emulator faulted";
		else if ((s.rflags & defined) != (nf & defined))
			why = "flags";
		else if (s.rip != insn_addr + (uint64_t)len + (st(ST_TAKEN) & 0xff ? alt_dist : 0))
			why = "rip";
		else if (memcmp(emu_mem, (void *)DATA, DATA_LEN))
			why = "memory";
		for (int i = 0; !why && i < 16; i++)
			if (s.r[i] != st(ST_OUT + 8 * (uint64_t)i))
				why = regname[i];
		if (why && bad++ < 30) {
			printf("# mismatch (%s):", why);
			for (int i = 0; i < len; i++)
				printf(" %02x", b[i]);
			printf(" [%s] flags in %#" PRIx64 " cpu %#" PRIx64 " emu %#" PRIx64
			       " undef %#x\n",
			       x86_op_name(in.op), inflags, nf, s.rflags & X86_ARITH_FLAGS, undef);
			for (int i = 0; i < 16; i++)
				if (s.r[i] != st(ST_OUT + 8 * (uint64_t)i))
					printf("#   %s: in %#" PRIx64 " cpu %#" PRIx64
					       " emu %#" PRIx64 "\n",
					       regname[i], regs[i], st(ST_OUT + 8 * (uint64_t)i),
					       s.r[i]);
		}
	}
	printf("1..1\n# executed per op:");
	for (unsigned op = 1; op < X86_OP_COUNT; op++)
		if (per_op[op])
			printf(" %s=%lu", x86_op_name(op), per_op[op]);
	printf("\n%s 1 - x86emu vs the host CPU: %lu instructions run both ways (%lu skipped, "
	       "%lu divide errors raised by both), %lu mismatches\n",
	       bad ? "not ok" : "ok", ran, skipped, divide_errors, bad);
	return bad ? 1 : 0;
}
