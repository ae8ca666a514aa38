// SPDX-License-Identifier: MIT
/*
 * cmocka tests of the verifier's work accounting (issue 9): the budget is
 * enforced whatever the program's shape, the charge follows the size of the
 * state the verifier works on, the relevance pass is linear, and a program's
 * charge does not depend on what was loaded before. The time a unit takes is
 * measured by bench/ebpf_bench.c (--adversarial-grid), never here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ebpf/ebpf.h"
#include "ebpf/tools/testenv.h"
#include "tests/ebpf/advgen.h"
#include "tests/ebpf/asm.h"
#include "tests/ebpf/unit.h"

/*
 * The most a load may charge past the budget: the budget is checked before
 * each instruction and each comparison, and between two checks come at most
 * a comparison (8 frames x 76 registers and slots, 2 id-map probes each:
 * ~2,000), storing a checkpoint and a branch of 8 full frames (34 KiB each:
 * ~9,000 for arena memory and copying, each) and a copy and two id
 * propagations (~2,000). tests/fuzz/ebpf_fuzz.c checks the same bound.
 */
#define MAX_OVERSHOOT 50000

void unit_load_gen(const char *spec, struct gen_result *r)
{
	struct advgen_spec sp;
	struct ebpf_insn *insns;
	struct ebpf_prog *prog = NULL;
	struct testenv te;
	char msg[256], *text;

	assert_int_equal(advgen_parse(spec, &sp, msg, sizeof(msg)), 0);
	text = advgen_asm(&sp);
	assert_non_null(text);
	r->n = ebpf_asm(text, &insns, msg, sizeof(msg));
	free(text);
	assert_true(r->n > 0);
	assert_int_equal(testenv_init(&te, LAYOUT_MEM, NULL, 0), 0);
	memset(&r->err, 0, sizeof(r->err));
	r->rc = ebpf_prog_load(te.env, insns, (size_t)r->n * sizeof(*insns), &prog, &r->err);
	ebpf_verify_last_stats(&r->st);
	if (!r->rc) {
		uint64_t insns_done, states;

		/* the thread's last stats are the program's */
		ebpf_prog_verifier_stats(prog, &insns_done, &states);
		assert_int_equal(insns_done, r->st.insns);
		assert_int_equal(states, r->st.states);
		assert_int_equal(ebpf_prog_run(prog, testenv_ctx(&te), &te), 0);
	}
	ebpf_prog_free(prog);
	free(insns);
	testenv_free(&te);
}

/* Every shape of a grid is accepted, or rejected as too complex at one of
 * its instructions, without running past the budget. */
static void test_budget_every_shape(void **state)
{
	static const int frames[] = { 1, 3, 8 }, spills[] = { 0, 64 }, branches[] = { 0, 6, 30 };
	static const char *const ids[] = { "distinct", "shared", "none" };
	char spec[128];

	for (size_t f = 0; f < 3; f++)
		for (size_t s = 0; s < 2; s++)
			for (size_t b = 0; b < 3; b++)
				for (size_t i = 0; i < 3; i++)
					for (int l = 0; l <= 1; l++) {
						struct gen_result r;

						snprintf(spec, sizeof(spec),
							 "frames=%d spills=%d branches=%d ids=%s "
							 "loop=%d",
							 frames[f], spills[s], branches[b], ids[i],
							 l);
						unit_load_gen(spec, &r);
						assert_true(r.st.max_work > 0);
						assert_true(r.st.work <=
							    r.st.max_work + MAX_OVERSHOOT);
						if (r.rc == 0)
							continue;
						if (r.rc != -E2BIG ||
						    !strstr(r.err.msg, "too complex") ||
						    r.err.insn < 0 || r.err.insn >= r.n)
							fail_msg("%s: rc %d at %d: %s", spec, r.rc,
								 r.err.insn, r.err.msg);
					}
}

/*
 * The charge follows the state: with 8 frames of 64 spilled scalars, each
 * explored instruction (its comparisons, copies and checkpoints) costs
 * several times what it costs with one empty frame. A comparison charged one unit
 * whatever it walked let the first shape run 116 s.
 */
static void test_charge_follows_state_size(void **state)
{
	struct gen_result small, big;

	unit_load_gen("frames=1 spills=0 branches=30", &small);
	unit_load_gen("frames=8 spills=64 branches=30", &big);
	assert_int_equal(small.rc, -E2BIG);
	assert_int_equal(big.rc, -E2BIG);
	/* 454 and 86 units per instruction (comparisons stop at the
	 * innermost frame, where these states differ) */
	assert_true(big.st.work / big.st.insns > 4 * (small.st.work / small.st.insns));
	assert_true(strstr(big.err.msg, "work units") != NULL);
}

/*
 * The relevance pass is linear: a chain of backward jumps executed one
 * after the other made the old pass (a sweep over the program per jump)
 * quadratic, 20 s for 60000 jumps; charged per instruction it visits, it
 * would exceed the budget. Twice the chain, at most about twice the work.
 */
static void test_relevance_linear(void **state)
{
	struct gen_result a, b;

	unit_load_gen("chain=15000", &a);
	unit_load_gen("chain=30000", &b);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_true(b.st.work < 2 * a.st.work + a.st.work / 4);
	assert_true(b.st.work < 200 * (uint64_t)b.n);
}

/* The same program costs the same, whatever the thread loaded before (the
 * instruction a rejection names must not depend on it). */
static void test_charge_deterministic(void **state)
{
	struct gen_result first, again;

	unit_load_gen("frames=4 spills=64 branches=30", &first);
	unit_load_gen("frames=8 spills=64 loop=1", &again);
	unit_load_gen("chain=30000", &again);
	unit_load_gen("frames=4 spills=64 branches=30", &again);
	assert_int_equal(first.rc, again.rc);
	assert_int_equal(first.err.insn, again.err.insn);
	assert_int_equal(first.st.work, again.st.work);
	assert_int_equal(first.st.insns, again.st.insns);
}

/* ebpf_verify_last_stats: filled on rejection too, zero when the load
 * failed before verification. */
static void test_last_stats_contract(void **state)
{
	static const struct ebpf_insn bad_len[1];
	struct ebpf_env *env = ebpf_env_new();
	struct ebpf_verify_stats st;
	struct gen_result r;
	struct ebpf_prog *prog;

	unit_load_gen("frames=2 spills=4 branches=2", &r);
	assert_int_equal(r.rc, 0);
	assert_true(r.st.work > 0 && r.st.insns > 0 && r.st.work < r.st.max_work);
	unit_load_gen("frames=1 loop=1", &r);
	assert_int_equal(r.rc, -E2BIG);
	assert_true(r.st.work > r.st.max_work && r.st.insns > 0 && r.st.states > 0);
	assert_int_equal(ebpf_prog_load(env, bad_len, 4, &prog, NULL), -EINVAL);
	ebpf_verify_last_stats(&st);
	assert_int_equal(st.work, 0);
	assert_int_equal(st.insns, 0);
	ebpf_env_free(env);
}

int unit_work_tests(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_budget_every_shape),
		cmocka_unit_test(test_charge_follows_state_size),
		cmocka_unit_test(test_relevance_linear),
		cmocka_unit_test(test_charge_deterministic),
		cmocka_unit_test(test_last_stats_contract),
	};

	return cmocka_run_group_tests_name("ebpf-work", t, NULL, NULL);
}
