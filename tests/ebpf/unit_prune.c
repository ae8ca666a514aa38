// SPDX-License-Identifier: MIT
/*
 * cmocka tests of pruning on live and precise state (issue 10, verifier
 * precision): independent if-blocks cost work linear in their number, a
 * counter the verifier relies on is still compared by value, and
 * backtracking stays linear on long straight-line code. Bounds are in work
 * units, which are deterministic; what a unit costs in time is measured by
 * bench/ebpf_bench.c, never here.
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
#include "tests/ebpf/unit.h"

/*
 * The most the 40-block program may cost. A unit takes at most about
 * 3.5 ns on the project machine (the slowest of the adversarial grid,
 * docs/ebpf.md), so this is at most 0.35 ms of CPU, far below the 10 ms
 * issue 10 asks for; it costs 44,849 today. Before pruning on precise
 * state it ran out of the whole budget (6,000,000).
 */
#define IF40_MAX_WORK 100000

/* the 72-byte context of the if-blocks corpus cases (accept-c.data) */
static void if_blocks_mem(uint8_t *mem)
{
	for (int i = 0; i < 72; i++)
		mem[i] = (uint8_t)(i * 37 + 11);
}

/* load section `sec` of if_blocks.o; run it if accepted, r0 in *r0 */
static int load_if_blocks(const char *sec, struct ebpf_verify_stats *st, struct ebpf_error *err,
			  uint64_t *r0)
{
	uint8_t mem[72];
	size_t len;
	uint8_t *obj = unit_read_file("if_blocks.o", &len);
	struct ebpf_prog *prog = NULL;
	struct testenv te;
	int rc;

	if_blocks_mem(mem);
	assert_int_equal(testenv_init(&te, LAYOUT_MEM, mem, sizeof(mem)), 0);
	rc = ebpf_prog_load_elf(te.env, obj, len, sec, &prog, err);
	ebpf_verify_last_stats(st);
	if (!rc)
		*r0 = ebpf_prog_run(prog, testenv_ctx(&te), &te);
	ebpf_prog_free(prog);
	testenv_free(&te);
	free(obj);
	return rc;
}

/* 40 if-blocks adding to a counter written to the context: accepted within
 * IF40_MAX_WORK, the same charge every time, and the right result */
static void test_if40_cheap(void **state)
{
	struct ebpf_verify_stats a, b;
	struct ebpf_error err;
	uint64_t r0 = 0;

	assert_int_equal(load_if_blocks("blocks/if40", &a, &err, &r0), 0);
	assert_int_equal(r0, 469);
	assert_true(a.work <= IF40_MAX_WORK);
	assert_int_equal(load_if_blocks("blocks/if40", &b, &err, &r0), 0);
	assert_int_equal(a.work, b.work);
	assert_int_equal(a.insns, b.insns);
	/* 64 blocks: more work, but not 2^24 times more */
	assert_int_equal(load_if_blocks("blocks/if64", &b, &err, &r0), 0);
	assert_int_equal(r0, 1299);
	assert_true(b.work < 2 * a.work);
}

/* The counter as an index is precise: the one path of 2^40 that reads past
 * the context is found. */
static void test_if40_index_precise(void **state)
{
	struct ebpf_verify_stats st;
	struct ebpf_error err;
	uint64_t r0 = 0;

	assert_int_equal(load_if_blocks("blocks/index40", &st, &err, &r0), 0);
	assert_int_equal(r0, 177);
	assert_int_equal(load_if_blocks("blocks/index40_oob", &st, &err, &r0), -EINVAL);
	assert_non_null(strstr(err.msg, "out-of-bounds access to context: bytes [72, 73)"));
}

/* Generated if-blocks (advgen ifs=N): linear in N when the counter decides
 * nothing, though its 2^N values all differ; when it sizes a helper's
 * buffer, checked by value. */
static void test_ifs_linear(void **state)
{
	struct gen_result a, b, c;

	unit_load_gen("ifs=40", &a);
	assert_int_equal(a.rc, 0);
	assert_true(a.st.work <= IF40_MAX_WORK);
	unit_load_gen("ifs=100", &a);
	unit_load_gen("ifs=400", &b);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_true(b.st.work < 5 * a.st.work);
	/* in 8 frames of 64 spilled numbers each */
	unit_load_gen("ifs=40 frames=8 spills=64", &c);
	assert_int_equal(c.rc, 0);
	assert_true(c.st.work < 2000000);
	/* precise: the size is N on the last of 2^40 paths only */
	unit_load_gen("ifs=40 use=1", &a);
	assert_int_equal(a.rc, 0);
	unit_load_gen("ifs=40 use=2", &b);
	assert_int_equal(b.rc, -EINVAL);
	assert_non_null(strstr(b.err.msg, "helper fill: stack buffer r1 of up to 40 bytes"));
	assert_non_null(strstr(b.err.msg, "out of bounds"));
}

/*
 * Backtracking walks back to a checkpoint at least: with none in a long
 * stretch of straight-line code it was quadratic (advgen straight=N;
 * 15,000 instructions ran out of the budget). A prune point every 64
 * straight instructions keeps it linear: twice the blocks, about twice the
 * work.
 */
static void test_backtracking_linear(void **state)
{
	struct gen_result a, b;

	unit_load_gen("straight=2500", &a);
	unit_load_gen("straight=5000", &b);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_true(a.st.work < 1000000);
	assert_true(b.st.work < 2 * a.st.work + a.st.work / 4);
}

int unit_prune_tests(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_if40_cheap),
		cmocka_unit_test(test_if40_index_precise),
		cmocka_unit_test(test_ifs_linear),
		cmocka_unit_test(test_backtracking_linear),
	};

	return cmocka_run_group_tests_name("ebpf-prune", t, NULL, NULL);
}
