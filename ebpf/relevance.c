// SPDX-License-Identifier: MIT
/*
 * Relevance and liveness of registers, computed once per program.
 *
 * Liveness: live[i] has bit r set if register r may be read (its type or
 * value checked) on some path from instruction i before it is written.
 * Explored checkpoints are compared on live registers only (vstate.c).
 *
 * Relevance: rel[i] has bit r set if the value register r holds before
 * instruction i may, on some path, flow into something the verifier checks
 * or decides on: a jump condition, a memory access base or pointer offset,
 * a helper or local-call argument, a value stored to memory (it may be
 * reloaded with its bounds), or a function's result. Everything else (e.g. an
 * accumulator that only ends up in r0 of the main program) cannot change
 * which paths are feasible or whether a check passes, so states that differ
 * only there are equivalent for infinite-loop detection (vstate.c; explored
 * checkpoints use the finer marks of precision.c).
 *
 * Both are backward may-analyses to a fixpoint, solved together with a
 * worklist: when an instruction's sets grow, only its predecessors are
 * looked at again. Sets only grow (2 x 11 bits), so each instruction is
 * visited at most 23 times per predecessor edge: linear in the program.
 * (Repeated sweeps over the whole program needed one sweep per backward
 * jump on the way from a use to a definition: quadratic, 20 s for a chain
 * of 60000 jumps.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "verifier.h"

/*
 * Liveness: the registers instruction `in` reads (its type or value, for
 * any check), and in *kill those it overwrites without reading.
 */
static uint16_t live_uses(const struct verifier *v, const struct ebpf_insn *in, uint16_t *kill)
{
	unsigned cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	bool x = EBPF_SRC(in->code) == EBPF_X;

	*kill = 0;
	switch (cls) {
	case EBPF_ALU:
	case EBPF_ALU64:
		if (op == EBPF_MOV) {
			*kill = d;
			return x ? s : 0;
		}
		if (op == EBPF_NEG || op == EBPF_END)
			return d; /* END's source bit is the byte order */
		return (uint16_t)(d | (x ? s : 0));
	case EBPF_LD:
		*kill = d;
		return 0;
	case EBPF_LDX:
		*kill = d;
		return s;
	case EBPF_ST:
		return d;
	case EBPF_STX:
		if (EBPF_MODE(in->code) == EBPF_ATOMIC && in->imm == EBPF_CMPXCHG)
			return (uint16_t)(d | s | 1u);
		return (uint16_t)(d | s);
	}
	if (op == EBPF_JA)
		return 0;
	if (op == EBPF_EXIT)
		return 1u;
	if (op == EBPF_CALL) {
		uint16_t use = 0x3e; /* a local call: r1-r5 may be arguments */

		*kill = 0x3f; /* r0-r5 are replaced or clobbered */
		if (in->src != EBPF_PSEUDO_CALL_LOCAL) {
			const struct ebpf_helper *h = ebpf_env_helper(v->env, (uint32_t)in->imm);

			use = 0;
			for (int a = 0; a < 5; a++)
				if (h->args[a] != EBPF_ARG_NONE)
					use |= (uint16_t)(2u << a);
		}
		return use;
	}
	return (uint16_t)(d | (x ? s : 0));
}

/*
 * Relevance: of the registers instruction `in` reads (live_use), those whose
 * values it passes on to something that may matter, given the registers
 * that matter after it (out): an ALU result that matters nowhere makes its
 * inputs irrelevant (even a pointer's), main's r0 at exit is irrelevant, a
 * call passes on r1-r5.
 */
static uint16_t rel_uses(const struct ebpf_insn *in, bool in_main, uint16_t out, uint16_t live_use)
{
	unsigned cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
	bool jmp = cls == EBPF_JMP || cls == EBPF_JMP32;

	if (cls == EBPF_ALU || cls == EBPF_ALU64)
		return out & (1u << in->dst) ? live_use : 0;
	if (jmp && op == EBPF_EXIT)
		return in_main ? 0 : live_use;
	if (jmp && op == EBPF_CALL)
		return 0x3e;
	return live_use;
}

/*
 * Successors of instruction k within its function (a local call continues at
 * k + 1: the callee is analysed on its own); returns how many (0-2).
 * Targets are in range: cfg.c checked them.
 */
static int successors(const struct ebpf_insn *insns, size_t n, size_t k, size_t succ[2])
{
	const struct ebpf_insn *in = &insns[k];
	unsigned cls = EBPF_CLASS(in->code), op = EBPF_OP(in->code);
	int ns = 0;

	if (cls == EBPF_JMP || cls == EBPF_JMP32) {
		int64_t t =
			(int64_t)k + 1 + (cls == EBPF_JMP32 && op == EBPF_JA ? in->imm : in->off);

		if (op == EBPF_EXIT)
			return 0;
		if (op != EBPF_CALL && t >= 0 && t < (int64_t)n)
			succ[ns++] = (size_t)t;
		if (op != EBPF_JA && k + 1 < n)
			succ[ns++] = k + 1;
		return ns;
	}
	k += in->code == EBPF_OPC_LDDW ? 2 : 1;
	if (k < n)
		succ[ns++] = k;
	return ns;
}

int vfy_compute_relevance(struct verifier *v)
{
	const struct ebpf_insn *insns = v->insns;
	size_t n = v->n, end = n, nwork = 0;
	uint8_t *in_main = calloc(n, 1), *half = calloc(n, 1), *queued = calloc(n, 1);
	uint32_t *pstart = calloc(n + 1, sizeof(*pstart)), *preds = malloc(2 * n * sizeof(*preds));
	uint32_t *work = malloc(n * sizeof(*work));
	int rc = -ENOMEM;

	if (!in_main || !half || !queued || !pstart || !preds || !work)
		goto out;
	/* second halves of lddw have no relevance of their own */
	for (size_t k = 0; k + 1 < n; k++)
		if (!half[k] && insns[k].code == EBPF_OPC_LDDW)
			half[k + 1] = 1;
	/* instructions of the main function: reachable from 0 without calls;
	 * cfg.c already proved that functions are contiguous and closed */
	for (size_t i = 0; i < n; i++) {
		const struct ebpf_insn *in = &insns[i];

		if (!half[i] && in->code == (EBPF_JMP | EBPF_CALL) &&
		    in->src == EBPF_PSEUDO_CALL_LOCAL) {
			size_t t = (size_t)((int64_t)i + 1 + in->imm);

			if (t < end && t > 0)
				end = t;
		}
	}
	memset(in_main, 1, end);
	/* predecessor lists (compressed rows: preds[pstart[k] .. pstart[k+1])) */
	for (size_t k = 0; k < n; k++) {
		size_t succ[2];
		int ns = half[k] ? 0 : successors(insns, n, k, succ);

		for (int s = 0; s < ns; s++)
			pstart[succ[s] + 1]++;
	}
	for (size_t k = 0; k < n; k++)
		pstart[k + 1] += pstart[k];
	{
		uint32_t *fill = work; /* borrowed: next free place per row */

		memcpy(fill, pstart, n * sizeof(*fill));
		for (size_t k = 0; k < n; k++) {
			size_t succ[2];
			int ns = half[k] ? 0 : successors(insns, n, k, succ);

			for (int s = 0; s < ns; s++)
				preds[fill[succ[s]]++] = (uint32_t)k;
		}
	}
	vfy_charge(v, 2 * n);
	/* every instruction once, the last first (popped in reverse order) */
	memset(v->rel, 0, n * sizeof(*v->rel));
	memset(v->live, 0, n * sizeof(*v->live));
	for (size_t k = 0; k < n; k++) {
		if (half[k])
			continue;
		work[nwork++] = (uint32_t)k;
		queued[k] = 1;
	}
	while (nwork) {
		size_t k = work[--nwork], succ[2];
		int ns = successors(insns, n, k, succ);
		uint16_t out = 0, lout = 0, kill, use, nv, nl;

		queued[k] = 0;
		vfy_charge(v, 1);
		for (int s = 0; s < ns; s++) {
			out |= v->rel[succ[s]];
			lout |= v->live[succ[s]];
		}
		use = live_uses(v, &insns[k], &kill);
		nl = (uint16_t)((lout & ~kill) | use);
		use = rel_uses(&insns[k], in_main[k], out, use);
		nv = (uint16_t)((out & ~kill) | use);
		if (nv == v->rel[k] && nl == v->live[k])
			continue;
		v->rel[k] = nv;
		v->live[k] = nl;
		for (uint32_t p = pstart[k]; p < pstart[k + 1]; p++) {
			if (queued[preds[p]])
				continue;
			queued[preds[p]] = 1;
			work[nwork++] = preds[p];
		}
	}
	rc = 0;
out:
	free(in_main);
	free(half);
	free(queued);
	free(pstart);
	free(preds);
	free(work);
	return rc;
}
