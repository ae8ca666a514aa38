// SPDX-License-Identifier: MIT
/*
 * Host unit tests of the lookahead decoder and emulator (guest/lib/x86dec,
 * x86emu): decoding of chosen encodings and refusals, and whole windows
 * through x86emu_run with each stop reason, the rcx/r11 of a `syscall`, and
 * the undefined-flags rule. The instruction-by-instruction checks against
 * Zydis and the host CPU are x86dec_oracle and x86emu_native.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "lib/x86emu.h"
#include "x86_testenv.h"

static int dec(const uint8_t *b, size_t n, struct x86_insn *in)
{
	return x86_decode(b, n, in);
}

#define DEC(in, ...)                                                                               \
	dec((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), in)

static void test_decode_examples(void **state)
{
	struct x86_insn in;

	(void)state;
	/* mov 0x10(%rip), %rax */
	assert_int_equal(DEC(&in, 0x48, 0x8b, 0x05, 0x10, 0, 0, 0), 7);
	assert_int_equal(in.op, X86_OP_MOV);
	assert_int_equal(in.base, X86_RIP);
	assert_int_equal(in.disp, 0x10);
	assert_int_equal(in.disp_off, 3);
	assert_int_equal(in.opnd[0].kind, X86_OPND_REG);
	assert_int_equal(in.opnd[0].reg, X86_RAX);
	assert_int_equal(in.opnd[1].kind, X86_OPND_MEM);
	/* mov %ah, (%r12,%r13,4): no REX.W, but REX would make 4 = spl; here none */
	assert_int_equal(DEC(&in, 0x88, 0x24, 0x24), 3);
	assert_int_equal(in.opnd[1].high8, 1);
	assert_int_equal(in.base, X86_RSP);
	assert_int_equal(in.index, X86_NOREG);
	assert_int_equal(DEC(&in, 0x40, 0x88, 0x24, 0x24), 4); /* spl with REX */
	assert_int_equal(in.opnd[1].high8, 0);
	assert_int_equal(in.opnd[1].reg, X86_RSP);
	assert_int_equal(DEC(&in, 0x0f, 0x05), 2);
	assert_int_equal(in.op, X86_OP_SYSCALL);
	assert_int_equal(DEC(&in, 0xcd, 0x80), 2);
	assert_int_equal(in.op, X86_OP_INT80);
	assert_int_equal(DEC(&in, 0xf3, 0x0f, 0x1e, 0xfa), 4);
	assert_int_equal(in.op, X86_OP_NOP);
	/* movabs $0x1122334455667788, %r9 */
	assert_int_equal(DEC(&in, 0x49, 0xb9, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), 10);
	assert_int_equal(in.imm, 0x1122334455667788ll);
	assert_int_equal(in.opnd[0].reg, X86_R9);
}

static void test_decode_refusals(void **state)
{
	struct x86_insn in;
	uint8_t long_insn[16];

	(void)state;
	assert_int_equal(DEC(&in, 0xcd, 0x81), -EINVAL);	     /* int $0x81 */
	assert_int_equal(DEC(&in, 0x64, 0x48, 0x8b, 0x00), -EINVAL); /* fs: */
	assert_int_equal(DEC(&in, 0xf0, 0xff, 0x00), -EINVAL);	     /* lock inc */
	assert_int_equal(DEC(&in, 0x67, 0x8b, 0x00), -EINVAL);	     /* addr32 */
	assert_int_equal(DEC(&in, 0x0f, 0x0b), -EINVAL);	     /* ud2 */
	assert_int_equal(DEC(&in, 0xf3, 0xa4), -EINVAL);	     /* rep movsb */
	assert_int_equal(DEC(&in, 0x87, 0x00), -EINVAL);	     /* xchg with memory */
	assert_int_equal(DEC(&in, 0x48, 0x66, 0x01, 0xc0), -EINVAL); /* REX not last */
	assert_int_equal(DEC(&in, 0x66, 0xe8, 0, 0), -EINVAL);	     /* call with 66 */
	assert_int_equal(DEC(&in, 0x48), -ERANGE);
	assert_int_equal(DEC(&in, 0x48, 0x8b, 0x05, 0x10), -ERANGE);
	memset(long_insn, 0x66, sizeof(long_insn)); /* more than 15 bytes of prefixes */
	long_insn[15] = 0x90;
	assert_int_equal(x86_decode(long_insn, sizeof(long_insn), &in), -EINVAL);
	assert_int_equal(x86_decode(long_insn, 5, &in), -ERANGE);
}

static struct x86_testenv t;

static enum x86emu_stop run(const uint8_t *code, size_t len, struct x86emu_state *s, unsigned max,
			    unsigned *n)
{
	struct x86emu_env env;

	x86_testenv_init(&t, &env, code, len);
	s->rip = X86T_CODE_VA;
	return x86emu_run(s, &env, max, n);
}

/* mov %rax,%rdx; test; jg; (ud2); mov %rsp,%rsi; mov $1,%edi; call; (ud2); push %rbp;
 * mov %rdx,%rbp; lea 8(%rip),%rcx; mov $1,%eax; syscall */
static const uint8_t w_cat[] = { 0x48, 0x89, 0xc2, 0x48, 0x85, 0xc0, 0x7f, 0x02, 0x0f, 0x0b, 0x48,
				 0x89, 0xe6, 0xbf, 0x01, 0x00, 0x00, 0x00, 0xe8, 0x02, 0x00, 0x00,
				 0x00, 0x0f, 0x0b, 0x55, 0x48, 0x89, 0xd5, 0x48, 0x8d, 0x0d, 0x08,
				 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05 };

static void test_window_to_syscall(void **state)
{
	struct x86emu_state s = { 0 };
	uint64_t ret, rbp;
	unsigned n;

	(void)state;
	s.r[X86_RAX] = 100;
	s.r[X86_RSP] = X86T_DATA_VA + 0x800;
	s.r[X86_RBP] = 0x1234;
	s.rflags = 0x202 | X86_CF;
	assert_int_equal(run(w_cat, sizeof(w_cat), &s, 64, &n), X86EMU_SYSCALL);
	assert_int_equal(n, 11);
	assert_int_equal(s.rip, X86T_CODE_VA + sizeof(w_cat));
	assert_int_equal(s.r[X86_RCX], s.rip); /* syscall: rcx = next rip */
	assert_int_equal(s.r[X86_R11], s.rflags);
	assert_int_equal(s.rflags, 0x202); /* test cleared CF; 100 = 0x64: odd parity */
	assert_int_equal(s.r[X86_RAX], 1);
	assert_int_equal(s.r[X86_RDX], 100);
	assert_int_equal(s.r[X86_RBP], 100);
	assert_int_equal(s.r[X86_RDI], 1);
	assert_int_equal(s.r[X86_RSI], X86T_DATA_VA + 0x800);
	assert_int_equal(s.r[X86_RSP], X86T_DATA_VA + 0x800 - 16);
	memcpy(&ret, t.data + 0x800 - 8, 8);
	memcpy(&rbp, t.data + 0x800 - 16, 8);
	assert_int_equal(ret, X86T_CODE_VA + 0x17); /* the call's return address */
	assert_int_equal(rbp, 0x1234);
}

static void test_window_stops(void **state)
{
	static const uint8_t jmp_self[] = { 0xeb, 0xfe };
	static const uint8_t inc_ud2[] = { 0x48, 0xff, 0xc0, 0x0f, 0x0b };
	static const uint8_t inc_store[] = { 0x48, 0xff, 0xc0, 0x48, 0x89, 0x01, 0x0f, 0x05 };
	struct x86emu_state s = { 0 };
	unsigned n;

	(void)state;
	/* the budget */
	assert_int_equal(run(jmp_self, sizeof(jmp_self), &s, 40, &n), X86EMU_WINDOW);
	assert_int_equal(n, 40);
	assert_int_equal(s.rip, X86T_CODE_VA);
	/* an instruction outside the subset: what came before it is done */
	memset(&s, 0, sizeof(s));
	s.rflags = 0x202;
	assert_int_equal(run(inc_ud2, sizeof(inc_ud2), &s, 40, &n), X86EMU_UNSUPPORTED);
	assert_int_equal(n, 1);
	assert_int_equal(s.r[X86_RAX], 1);
	assert_int_equal(s.rip, X86T_CODE_VA + 3);
	/* a store that faults: stop right before it */
	memset(&s, 0, sizeof(s));
	s.r[X86_RCX] = 0x8; /* not mapped */
	s.rflags = 0x202;
	assert_int_equal(run(inc_store, sizeof(inc_store), &s, 40, &n), X86EMU_FAULT);
	assert_int_equal(n, 1);
	assert_int_equal(s.rip, X86T_CODE_VA + 3);
	assert_int_equal(s.r[X86_RAX], 1);
	/* the same store into the data window reaches the syscall */
	memset(&s, 0, sizeof(s));
	s.r[X86_RCX] = X86T_DATA_VA + 8;
	s.rflags = 0x202;
	assert_int_equal(run(inc_store, sizeof(inc_store), &s, 40, &n), X86EMU_SYSCALL);
	assert_int_equal(n, 3);
	assert_int_equal(t.data[8], 1);
	/* code that runs off the end of what can be fetched faults */
	memset(&s, 0, sizeof(s));
	assert_int_equal(run(inc_ud2, 3, &s, 40, &n), X86EMU_FAULT);
	assert_int_equal(s.rip, X86T_CODE_VA + 3);
}

static void test_int80_keeps_rcx_r11(void **state)
{
	/* shl $3,%rax; add %rbx,%rax; int $0x80 */
	static const uint8_t w[] = { 0x48, 0xc1, 0xe0, 0x03, 0x48, 0x01, 0xd8, 0xcd, 0x80 };
	struct x86emu_state s = { 0 };
	unsigned n;

	(void)state;
	s.r[X86_RAX] = 5;
	s.r[X86_RBX] = 2;
	s.r[X86_RCX] = 77;
	s.r[X86_R11] = 88;
	s.rflags = 0x202;
	assert_int_equal(run(w, sizeof(w), &s, 40, &n), X86EMU_SYSCALL);
	assert_int_equal(n, 3);
	assert_int_equal(s.r[X86_RAX], 42);
	assert_int_equal(s.r[X86_RCX], 77);
	assert_int_equal(s.r[X86_R11], 88);
	assert_int_equal(s.rflags, 0x202); /* 42 = 0b101010: odd parity, no carries */
}

static void test_undefined_flags_rule(void **state)
{
	/* shl $3,%rax; syscall: r11 would carry the undefined AF and OF */
	static const uint8_t shl_sys[] = { 0x48, 0xc1, 0xe0, 0x03, 0x0f, 0x05 };
	/* imul %rbx,%rax; mov %rax,%rcx; test %rcx,%rcx; syscall: test overwrites them */
	static const uint8_t imul_ok[] = { 0x48, 0x0f, 0xaf, 0xc3, 0x48, 0x89,
					   0xc1, 0x48, 0x85, 0xc9, 0x0f, 0x05 };
	/* imul; mov (%rsi),%rcx (may fault between producer and overwrite); test; syscall */
	static const uint8_t imul_load[] = { 0x48, 0x0f, 0xaf, 0xc3, 0x48, 0x8b,
					     0x0e, 0x48, 0x85, 0xc9, 0x0f, 0x05 };
	/* shl $1,%rax (only AF undefined); jc: reads CF, which is defined, but is a branch */
	static const uint8_t shl1_jc[] = { 0x48, 0xd1, 0xe0, 0x72, 0x00, 0x0f, 0x05 };
	/* mov $0,%ecx; shl %cl,%eax: a zero count keeps every flag; add then overwrites */
	static const uint8_t shl_cl[] = { 0xb9, 0x00, 0x00, 0x00, 0x00, 0xd3,
					  0xe0, 0x01, 0xc0, 0x0f, 0x05 };
	struct x86emu_state s = { 0 };
	unsigned n;

	(void)state;
	s.rflags = 0x202;
	assert_int_equal(run(shl_sys, sizeof(shl_sys), &s, 40, &n), X86EMU_FLAGS);
	assert_int_equal(n, 0);
	assert_int_equal(s.rip, X86T_CODE_VA);

	memset(&s, 0, sizeof(s));
	s.r[X86_RAX] = 3;
	s.r[X86_RBX] = 5;
	s.rflags = 0x202;
	assert_int_equal(run(imul_ok, sizeof(imul_ok), &s, 40, &n), X86EMU_SYSCALL);
	assert_int_equal(n, 4);
	assert_int_equal(s.r[X86_RCX], s.rip);
	assert_int_equal(s.r[X86_R11], 0x202 | X86_PF); /* 15: four bits, even parity */
	/* the group must fit the budget: producer + 2 followers = 3 */
	memset(&s, 0, sizeof(s));
	s.rflags = 0x202;
	assert_int_equal(run(imul_ok, sizeof(imul_ok), &s, 2, &n), X86EMU_FLAGS);
	assert_int_equal(n, 0);
	memset(&s, 0, sizeof(s));
	s.rflags = 0x202;
	assert_int_equal(run(imul_ok, sizeof(imul_ok), &s, 3, &n), X86EMU_WINDOW);
	assert_int_equal(n, 3);

	memset(&s, 0, sizeof(s));
	s.rflags = 0x202;
	assert_int_equal(run(imul_load, sizeof(imul_load), &s, 40, &n), X86EMU_FLAGS);
	assert_int_equal(s.rip, X86T_CODE_VA);

	memset(&s, 0, sizeof(s));
	s.rflags = 0x202;
	assert_int_equal(run(shl1_jc, sizeof(shl1_jc), &s, 40, &n), X86EMU_FLAGS);

	memset(&s, 0, sizeof(s));
	s.r[X86_RAX] = 1;
	s.rflags = 0x202;
	assert_int_equal(run(shl_cl, sizeof(shl_cl), &s, 40, &n), X86EMU_SYSCALL);
	assert_int_equal(s.r[X86_RAX], 2);
}

static void test_divide(void **state)
{
	struct x86emu_env env;
	struct x86emu_state s = { 0 };
	struct x86_insn in;
	uint32_t undef;
	/* idiv %rcx; div %bl; cqto; idiv %rcx; mov %rax,%rdi; xor %edx,%edx; syscall */
	static const uint8_t w[] = { 0x48, 0x99, 0x48, 0xf7, 0xf9, 0x48,
				     0x89, 0xc7, 0x31, 0xd2, 0x0f, 0x05 };
	unsigned n;

	(void)state;
	x86_testenv_init(&t, &env, w, sizeof(w));
	assert_int_equal(DEC(&in, 0x48, 0xf7, 0xf9), 3); /* idiv %rcx */
	s.r[X86_RDX] = ~0ull;
	s.r[X86_RAX] = 0x8000000000000000ull;
	s.r[X86_RCX] = ~0ull; /* INT64_MIN / -1 does not fit: #DE */
	assert_int_equal(x86emu_exec(&s, &in, &env, &undef), -EINVAL);
	assert_int_equal(s.r[X86_RAX], 0x8000000000000000ull); /* unchanged */
	s.r[X86_RCX] = 0;				       /* by zero */
	assert_int_equal(x86emu_exec(&s, &in, &env, &undef), -EINVAL);
	s.r[X86_RCX] = 2;
	assert_int_equal(x86emu_exec(&s, &in, &env, &undef), 0);
	assert_int_equal(s.r[X86_RAX], 0xc000000000000000ull);
	assert_int_equal(s.r[X86_RDX], 0);
	assert_int_equal(undef, X86_ARITH_FLAGS);
	assert_int_equal(DEC(&in, 0xf6, 0xf3), 2); /* div %bl: al, ah = ax / bl */
	s.r[X86_RAX] = 0x1234000003e9ull;	   /* ax = 1001 */
	s.r[X86_RBX] = 10;
	assert_int_equal(x86emu_exec(&s, &in, &env, &undef), 0);
	assert_int_equal(s.r[X86_RAX], 0x123400000164ull); /* al = 100, ah = 1 */
	s.r[X86_RAX] = 0x0a00;				   /* 2560 / 10 = 256: too wide */
	assert_int_equal(x86emu_exec(&s, &in, &env, &undef), -EINVAL);
	/* in a window: the undefined flags are overwritten by the xor */
	memset(&s, 0, sizeof(s));
	s.r[X86_RAX] = (uint64_t)-100;
	s.r[X86_RCX] = 7;
	s.rflags = 0x202;
	assert_int_equal(run(w, sizeof(w), &s, 40, &n), X86EMU_SYSCALL);
	assert_int_equal(s.r[X86_RDI], (uint64_t)-14);
	assert_int_equal(s.rflags, 0x202 | X86_ZF | X86_PF);
}

static void test_conditions(void **state)
{
	(void)state;
	assert_true(x86_cond_true(0x4, X86_ZF));	   /* e */
	assert_false(x86_cond_true(0x5, X86_ZF));	   /* ne */
	assert_true(x86_cond_true(0x2, X86_CF));	   /* b */
	assert_true(x86_cond_true(0x6, X86_ZF));	   /* be */
	assert_true(x86_cond_true(0xc, X86_SF));	   /* l: SF != OF */
	assert_false(x86_cond_true(0xc, X86_SF | X86_OF)); /* l */
	assert_true(x86_cond_true(0xf, 0));		   /* g */
	assert_false(x86_cond_true(0xf, X86_ZF));	   /* g */
	assert_true(x86_cond_true(0xa, X86_PF));	   /* p */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_examples),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_window_to_syscall),
		cmocka_unit_test(test_window_stops),
		cmocka_unit_test(test_int80_keeps_rcx_r11),
		cmocka_unit_test(test_undefined_flags_rule),
		cmocka_unit_test(test_divide),
		cmocka_unit_test(test_conditions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
