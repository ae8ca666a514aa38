// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the lookahead decoder and emulator (guest/lib/x86dec,
 * x86emu). The input is code at X86T_CODE_VA (fetched through the decoder),
 * and also the initial registers and the data window, which some registers
 * point into. Checks, beyond ASan/UBSan:
 *  - x86_decode returns a length within the input and 15, or -EINVAL /
 *    -ERANGE (the latter only for inputs shorter than 15 bytes); the bytes
 *    cut to that length decode identically, one byte shorter give -ERANGE;
 *  - x86emu_exec is all-or-nothing: a refused or faulting instruction leaves
 *    registers, flags and memory as they were;
 *  - x86emu_run never runs past its budget, and stops for a system call
 *    only right after one.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/errno.h"
#include "lib/x86emu.h"
#include "x86_testenv.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct x86_testenv t;
	static uint8_t mem_before[X86T_DATA_LEN];
	struct x86emu_env env;
	struct x86emu_state s, before;
	struct x86_insn in, in2;
	unsigned n;
	int len = x86_decode(data, size, &in);

	if (len >= 0) {
		CHECK(len >= 1 && len <= X86_MAX_LEN && (size_t)len <= size && in.len == len);
		CHECK(x86_decode(data, (size_t)len, &in2) == len && !memcmp(&in, &in2, sizeof(in)));
		CHECK(x86_decode(data, (size_t)len - 1, &in2) == -ERANGE);
	} else {
		CHECK(len == -EINVAL || len == -ERANGE);
		CHECK(len != -ERANGE || size < X86_MAX_LEN);
	}

	x86_testenv_init(&t, &env, data, size);
	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < sizeof(t.data); i++)
		t.data[i] = size ? data[(i * 7) % size] : 0;
	for (int r = 0; r < X86_NREGS; r++) {
		uint64_t v = 0;

		for (int k = 0; k < 8 && size; k++)
			v = (v << 8) | data[(size_t)(r * 8 + k) % size];
		s.r[r] = (r % 3 == 0) ? X86T_DATA_VA + (v & 0xff8) : v; /* some point at the data */
	}
	s.rip = X86T_CODE_VA;
	s.rflags = 0x202 | (size ? data[0] & X86_ARITH_FLAGS : 0);

	/* one instruction: a failure changes nothing */
	if (len >= 0 && in.op != X86_OP_SYSCALL && in.op != X86_OP_INT80) {
		uint32_t undef;
		int r;

		before = s;
		memcpy(mem_before, t.data, sizeof(t.data));
		r = x86emu_exec(&s, &in, &env, &undef);
		CHECK(r == 0 || r == -EFAULT || r == -EINVAL);
		if (r) {
			CHECK(!memcmp(&s, &before, sizeof(s)));
			CHECK(!memcmp(mem_before, t.data, sizeof(t.data)));
		}
		s = before;
		memcpy(t.data, mem_before, sizeof(t.data));
	}

	/* a whole window */
	{
		enum x86emu_stop stop = x86emu_run(&s, &env, 32, &n);

		CHECK(stop < X86EMU_NSTOPS && n <= 32);
		CHECK(stop != X86EMU_WINDOW || n == 32);
		if (stop == X86EMU_SYSCALL) {
			uint64_t at = s.rip - X86T_CODE_VA;

			CHECK(at >= 2 && at <= size);
			CHECK((data[at - 2] == 0x0f && data[at - 1] == 0x05) ||
			      (data[at - 2] == 0xcd && data[at - 1] == 0x80));
		}
	}
	return 0;
}
