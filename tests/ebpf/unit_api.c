// SPDX-License-Identifier: MIT
/* cmocka tests of the libebpf API: environment, loading, running. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ebpf/ebpf.h"
#include "tests/ebpf/asm.h"
#include "tests/ebpf/unit.h"

static uint64_t h_ret7(void *u, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return 7;
}

static struct ebpf_prog *load_asm(const struct ebpf_env *env, const char *text,
				  struct ebpf_error *err, int *rc)
{
	struct ebpf_insn *insns;
	struct ebpf_prog *prog = NULL;
	char msg[256];
	int n = ebpf_asm(text, &insns, msg, sizeof(msg));

	assert_true(n > 0);
	*rc = ebpf_prog_load(env, insns, (size_t)n * sizeof(*insns), &prog, err);
	free(insns);
	return prog;
}

static void test_helper_specs(void **state)
{
	struct ebpf_env *env = ebpf_env_new();
	enum ebpf_arg_type ok[5] = { EBPF_ARG_MEM_RO, EBPF_ARG_SIZE, EBPF_ARG_SCALAR };
	enum ebpf_arg_type no_size[5] = { EBPF_ARG_MEM_WO, EBPF_ARG_SCALAR };
	enum ebpf_arg_type lone_size[5] = { EBPF_ARG_SIZE };
	enum ebpf_arg_type last_buf[5] = { 0, 0, 0, 0, EBPF_ARG_MEM_RO };

	assert_int_equal(ebpf_env_add_helper(env, 1, "ok", h_ret7, ok), 0);
	assert_int_equal(ebpf_env_add_helper(env, 1, "dup", h_ret7, ok), -EEXIST);
	assert_int_equal(ebpf_env_add_helper(env, 2, "nosize", h_ret7, no_size), -EINVAL);
	assert_int_equal(ebpf_env_add_helper(env, 3, "lone", h_ret7, lone_size), -EINVAL);
	assert_int_equal(ebpf_env_add_helper(env, 4, "last", h_ret7, last_buf), -EINVAL);
	assert_int_equal(ebpf_env_add_helper(env, 0, "zero", h_ret7, NULL), -EINVAL);
	assert_int_equal(ebpf_env_add_helper(env, 5, "nofn", NULL, NULL), -EINVAL);
	for (uint32_t id = 10; id < 10 + EBPF_MAX_HELPERS - 1; id++)
		assert_int_equal(ebpf_env_add_helper(env, id, "h", h_ret7, NULL), 0);
	assert_int_equal(ebpf_env_add_helper(env, 999, "full", h_ret7, NULL), -ENOSPC);
	ebpf_env_free(env);
}

static void test_regions(void **state)
{
	struct ebpf_env *env = ebpf_env_new();

	assert_int_equal(ebpf_env_add_region(env, "r", 0, 16, 0), -EINVAL); /* ctx too small */
	assert_int_equal(ebpf_env_set_ctx(env, 24, 0), 0);
	assert_int_equal(ebpf_env_add_region(env, "a", 0, 16, 0), 0);
	assert_int_equal(ebpf_env_add_region(env, "b", 8, 16, EBPF_REGION_WRITABLE), 1);
	assert_int_equal(ebpf_env_add_region(env, "c", 8, 16, 0), -EINVAL);  /* taken */
	assert_int_equal(ebpf_env_add_region(env, "d", 12, 16, 0), -EINVAL); /* misaligned */
	assert_int_equal(ebpf_env_add_region(env, "e", 24, 16, 0), -EINVAL); /* outside */
	assert_int_equal(ebpf_env_set_ctx(env, 8, 0), -EINVAL); /* would cut region b */
	assert_int_equal(ebpf_env_set_ctx(env, EBPF_MAX_MEM_SIZE + 1, 0), -EINVAL);
	ebpf_env_free(env);
}

static void test_load_sizes(void **state)
{
	struct ebpf_env *env = ebpf_env_new();
	struct ebpf_prog *prog = (void *)1;
	struct ebpf_error err;
	uint8_t code[12] = { 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0 };
	struct ebpf_insn *big = calloc(EBPF_MAX_INSNS + 1, sizeof(*big));

	assert_int_equal(ebpf_prog_load(env, code, 0, &prog, &err), -EINVAL);
	assert_null(prog);
	assert_string_equal(err.msg, "empty program");
	assert_int_equal(ebpf_prog_load(env, code, 12, &prog, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a multiple of 8"));
	assert_int_equal(ebpf_prog_load(env, big, (EBPF_MAX_INSNS + 1) * 8, &prog, &err), -E2BIG);
	/* no error struct: still a clean failure */
	assert_int_equal(ebpf_prog_load(env, code, 12, &prog, NULL), -EINVAL);
	free(big);
	ebpf_env_free(env);
}

static void test_unaligned_code_buffer(void **state)
{
	struct ebpf_env *env = ebpf_env_new();
	struct ebpf_prog *prog;
	uint8_t buf[17] = { 0 };

	/* mov r0, 5; exit at an odd address */
	buf[1] = 0xb7;
	buf[5] = 5;
	buf[9] = 0x95;
	assert_int_equal(ebpf_prog_load(env, buf + 1, 16, &prog, NULL), 0);
	assert_int_equal(ebpf_prog_run(prog, NULL, NULL), 5);
	assert_int_equal(ebpf_prog_len(prog), 2);
	ebpf_prog_free(prog);
	ebpf_env_free(env);
}

static void test_counted_run(void **state)
{
	struct ebpf_env *env = ebpf_env_new();
	struct ebpf_error err;
	uint64_t count = 0, processed = 0, states = 0;
	int rc;
	struct ebpf_prog *prog = load_asm(env,
					  "mov r0, 0\n"
					  "mov r2, 0\n"
					  "l: add r0, r2\n"
					  "add r2, 1\n"
					  "jlt r2, 1000, l\n"
					  "lddw r3, 5\n"
					  "exit\n",
					  &err, &rc);

	assert_int_equal(rc, 0);
	assert_int_equal(ebpf_prog_run_counted(prog, NULL, NULL, &count), 499500);
	/* 2 + 3 * 1000 + lddw (once) + exit */
	assert_int_equal(count, 2 + 3000 + 1 + 1);
	ebpf_prog_verifier_stats(prog, &processed, &states);
	assert_true(processed >= 3000);
	assert_true(states > 0);
	ebpf_prog_free(prog);
	ebpf_env_free(env);
}

static void test_program_outlives_env(void **state)
{
	struct ebpf_env *env = ebpf_env_new();
	enum ebpf_arg_type none[5] = { 0 };
	struct ebpf_error err;
	struct ebpf_prog *prog;
	int rc;

	assert_int_equal(ebpf_env_add_helper(env, 9, "ret7", h_ret7, none), 0);
	prog = load_asm(env, "call 9\nadd r0, 1\nexit\n", &err, &rc);
	assert_int_equal(rc, 0);
	ebpf_env_free(env);
	assert_int_equal(ebpf_prog_run(prog, NULL, NULL), 8);
	ebpf_prog_free(prog);
}

static void test_error_names_instruction(void **state)
{
	struct ebpf_env *env = ebpf_env_new();
	struct ebpf_error err;
	int rc;
	struct ebpf_prog *prog;

	ebpf_env_set_ctx(env, 4, 0);
	prog = load_asm(env, "mov r0, 0\nmov r2, 1\nldxw r0, [r1+1]\nexit\n", &err, &rc);
	assert_null(prog);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(err.insn, 2);
	assert_non_null(strstr(err.msg, "bytes [1, 5) of 4"));
	ebpf_env_free(env);
}

/* the VMM's guest-copy helper shape: the verifier lets the program read the
 * buffer afterwards only because the helper promises to fill it */
static uint64_t h_copy(void *u, uint64_t dst, uint64_t n, uint64_t gaddr, uint64_t d, uint64_t e)
{
	const uint8_t *guest = u;

	if (gaddr >= 64 || n > 64 - gaddr) {
		memset((void *)(uintptr_t)dst, 0, n);
		return (uint64_t)-EFAULT;
	}
	memcpy((void *)(uintptr_t)dst, guest + gaddr, n);
	return 0;
}

static void test_guest_copy_contract(void **state)
{
	struct ebpf_env *env = ebpf_env_new();
	enum ebpf_arg_type args[5] = { EBPF_ARG_MEM_WO, EBPF_ARG_SIZE, EBPF_ARG_SCALAR };
	uint8_t guest[64];
	struct ebpf_error err;
	struct ebpf_prog *prog;
	uint64_t ctx[1];
	int rc;

	for (int i = 0; i < 64; i++)
		guest[i] = (uint8_t)i;
	ebpf_env_set_ctx(env, 8, 0);
	assert_int_equal(ebpf_env_add_helper(env, 1, "guest_copy", h_copy, args), 0);
	prog = load_asm(env,
			"ldxdw r3, [r1+0]\n"
			"mov r1, r10\n"
			"add r1, -8\n"
			"mov r2, 8\n"
			"call 1\n"
			"ldxdw r1, [r10-8]\n"
			"lsh r0, 32\n"
			"xor r0, r1\n"
			"exit\n",
			&err, &rc);
	assert_int_equal(rc, 0);
	ctx[0] = 8;
	assert_int_equal(ebpf_prog_run(prog, ctx, guest), 0x0f0e0d0c0b0a0908ull);
	ctx[0] = 60; /* crosses the end: zero-filled, error in r0 */
	assert_int_equal(ebpf_prog_run(prog, ctx, guest), (uint64_t)-EFAULT << 32);
	ebpf_prog_free(prog);
	ebpf_env_free(env);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest api[] = {
		cmocka_unit_test(test_helper_specs),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_load_sizes),
		cmocka_unit_test(test_unaligned_code_buffer),
		cmocka_unit_test(test_counted_run),
		cmocka_unit_test(test_program_outlives_env),
		cmocka_unit_test(test_error_names_instruction),
		cmocka_unit_test(test_guest_copy_contract),
	};
	int failed;

	unit_elf_dir = argc > 1 ? argv[1] : "build/ebpf/c";
	failed = cmocka_run_group_tests_name("ebpf-api", api, NULL, NULL);
	failed += unit_elf_tests();
	failed += unit_bounds_tests();
	failed += unit_work_tests();
	failed += unit_prune_tests();
	return failed ? 1 : 0;
}
