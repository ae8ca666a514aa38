/* SPDX-License-Identifier: MIT */
/*
 * Generator of adversarial programs for the verifier: shapes whose
 * verification is expensive (many call frames with spilled scalars, many
 * branches whose two sides leave different states, many distinct scalar ids,
 * an unbounded loop in a deep frame). Used by the verifier corpus
 * (`-- gen SPEC` in tests/ebpf/verifier/ data files), the unit tests, the fuzzer
 * seeds and the benchmark.
 *
 * Shape: main calls f1, which calls f2, ... up to `frames` frames. Every
 * frame first spills `spills` scalars to the bottom of its stack
 * (r10-512 upwards). The innermost frame then makes r7 an unknown number (a
 * helper result) and has `branches` conditional jumps on it; the fall-through
 * side of branch b stores 1 into slot r10-8(b+1) (0 before), so the two
 * sides differ and nothing can be pruned (2^branches paths). The innermost
 * frame ends with `mov r0, 0; exit` or, with loop=1, an unbounded loop first
 * (a counter compared with r7: rejected as too complex).
 *
 * With ifs=N, the innermost frame first has N independent if-blocks (issue
 * 10): each asks helper 1 for an unknown number and, when it is at most
 * 100, takes a weight from a counter r9 that starts at N (2^N paths; the
 * path where every jump is taken is explored last). Then the counter is
 * used: use=0 passes it to helper 1 as a plain number (the weights make
 * the 2^N counters all differ, but no check depends on them: pruned,
 * linear), use=1 as the size of a helper's N-byte stack buffer (weights 1:
 * precise, N + 1 values per join, all in bounds), use=2 the same with an
 * (N-1)-byte buffer: one byte past the stack on the last path only, which
 * must be rejected.
 *
 * With marks=N, the innermost frame has N checkpoints in a row (ja +0)
 * after its spills, then reloads each spill and adds it to a pointer: each
 * reload marks its slot live and each addition marks it precise in every
 * checkpoint of the path (the walks of liveness.c and precision.c, over
 * checkpoints long out of the cache).
 *
 * With straight=N, the innermost frame first has N blocks of straight-line
 * index arithmetic (r3 = (r3 + 1) & 7, then a stack read at r10 - 8 + r3):
 * each read relies on a value computed from every block before, so
 * backtracking walks the path back to the nearest checkpoint each time.
 */
#ifndef TESTS_EBPF_ADVGEN_H
#define TESTS_EBPF_ADVGEN_H

#include <stddef.h>

enum advgen_ids {
	ADV_IDS_DISTINCT, /* each spilled scalar has its own id (mov rX, k; stxdw) */
	ADV_IDS_SHARED,	  /* all spills are copies of one unknown (one id, every
			   * branch on it updates every copy in every frame) */
	ADV_IDS_NONE,	  /* spilled constants without ids (stdw imm) */
};

struct advgen_spec {
	int frames;   /* 1..8 */
	int spills;   /* per frame (the innermost: at most 64 - branches) */
	int branches; /* 0..63 in the innermost frame */
	enum advgen_ids ids;
	int loop;     /* 1: an unbounded loop in the innermost frame */
	int chain;    /* 0..60000 backward jumps executed one after the other
		       * before main's body, a register used only at the last:
		       * a backward data-flow pass needs one round per jump */
	int helper;   /* loop=1: each iteration fills and sums this many bytes
		       * of its stack (helpers 4 and 2 of ebpf/tools/testenv.h) */
	int ifs;      /* 0..500 independent if-blocks in the innermost frame */
	int use;      /* ifs: 0 plain number, 1 buffer size in bounds, 2 one
		       * byte out of bounds on one path */
	int marks;    /* 0..60000 checkpoints in a row, then every spill used */
	int straight; /* 0..10000 blocks of straight-line index arithmetic */
};

/* Parse "frames=8 spills=34 branches=30 ids=distinct|shared|none loop=0|1
 * chain=N helper=N ifs=N use=0|1|2 marks=N straight=N" (any order,
 * omitted keys: frames=1 spills=0 branches=0 ids=distinct loop=0 chain=0
 * helper=0 ifs=0 use=0 marks=0 straight=0).
 * Returns 0, or -1 with a message in err for an unknown key or a value out
 * of range. */
int advgen_parse(const char *text, struct advgen_spec *spec, char *err, size_t errlen);

/* The program as assembler text (tests/ebpf/asm.h syntax), malloc'd; NULL
 * on allocation failure. spec must have passed advgen_parse's checks. */
char *advgen_asm(const struct advgen_spec *spec);

#endif
