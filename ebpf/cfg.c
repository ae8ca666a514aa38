// SPDX-License-Identifier: MIT
/*
 * Structural checks, before any abstract interpretation: every opcode is one
 * RFC 9669 defines (and this engine supports), unused fields are zero,
 * registers exist, jump and call targets are inside the program and inside
 * their function, no jump lands in the second half of lddw, no function
 * falls through its end, and every instruction is reachable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define NO_TARGET INT64_MIN

static int check_alu(const struct ebpf_env *env, const struct ebpf_insn *in, int i,
		     struct ebpf_error *err)
{
	bool is64 = EBPF_CLASS(in->code) == EBPF_ALU64, x = EBPF_SRC(in->code) == EBPF_X;
	unsigned op = EBPF_OP(in->code);

	if (op > EBPF_END)
		return ebpf_fail(err, i, "unknown arithmetic operation 0x%02x", in->code);
	if (op == EBPF_END) {
		if (is64 && x)
			return ebpf_fail(err, i, "invalid byte swap opcode 0x%02x", in->code);
		if (in->imm != 16 && in->imm != 32 && in->imm != 64)
			return ebpf_fail(err, i, "byte swap width %d is not 16, 32 or 64", in->imm);
		if (in->src || in->off)
			return ebpf_fail(err, i, "reserved fields of byte swap must be zero");
		return 0;
	}
	if (op == EBPF_NEG) {
		if (x || in->src || in->off || in->imm)
			return ebpf_fail(err, i, "reserved fields of neg must be zero");
		return 0;
	}
	if (x) {
		if (in->imm)
			return ebpf_fail(err, i, "register-source arithmetic with non-zero imm");
		if (in->src > 10)
			return ebpf_fail(err, i, "invalid source register r%d", in->src);
	} else if (in->src) {
		return ebpf_fail(err, i, "immediate-source arithmetic with non-zero src register");
	}
	if (op == EBPF_DIV || op == EBPF_MOD) {
		if (in->off != 0 && in->off != 1)
			return ebpf_fail(err, i, "division offset %d is not 0 or 1", in->off);
	} else if (op == EBPF_MOV) {
		if (in->off && !(x && (in->off == 8 || in->off == 16 || (is64 && in->off == 32))))
			return ebpf_fail(err, i, "invalid sign-extension width %d for mov",
					 in->off);
	} else if (in->off) {
		return ebpf_fail(err, i, "reserved offset field of arithmetic must be zero");
	}
	(void)env;
	return 0;
}

static int check_mem(const struct ebpf_insn *in, int i, size_t n, struct ebpf_error *err)
{
	unsigned mode = EBPF_MODE(in->code), cls = EBPF_CLASS(in->code);

	if (in->src > 10)
		return ebpf_fail(err, i, "invalid source register r%d", in->src);
	switch (cls) {
	case EBPF_LD:
		if (mode == EBPF_ABS || mode == EBPF_IND)
			return ebpf_fail(err, i, "legacy packet access (opcode 0x%02x) unsupported",
					 in->code);
		if (in->code != EBPF_OPC_LDDW)
			return ebpf_fail(err, i, "unknown load opcode 0x%02x", in->code);
		if (in->src)
			return ebpf_fail(err, i,
					 "lddw with src=%d (map or BTF reference) unsupported",
					 in->src);
		if (in->off)
			return ebpf_fail(err, i, "reserved offset field of lddw must be zero");
		if ((size_t)i + 1 >= n)
			return ebpf_fail(err, i, "lddw is missing its second half");
		if (in[1].code || in[1].dst || in[1].src || in[1].off)
			return ebpf_fail(err, i + 1, "malformed second half of lddw");
		return 0;
	case EBPF_LDX:
		if (mode != EBPF_MEM && !(mode == EBPF_MEMSX && EBPF_SIZE(in->code) != EBPF_DW))
			return ebpf_fail(err, i, "unknown load opcode 0x%02x", in->code);
		if (in->imm)
			return ebpf_fail(err, i, "reserved imm field of load must be zero");
		return 0;
	case EBPF_ST:
		if (mode != EBPF_MEM)
			return ebpf_fail(err, i, "unknown store opcode 0x%02x", in->code);
		if (in->src)
			return ebpf_fail(err, i,
					 "reserved src field of store-immediate must be zero");
		return 0;
	default: /* STX */
		if (mode == EBPF_MEM) {
			if (in->imm)
				return ebpf_fail(err, i,
						 "reserved imm field of store must be zero");
			return 0;
		}
		if (mode != EBPF_ATOMIC)
			return ebpf_fail(err, i, "unknown store opcode 0x%02x", in->code);
		if (EBPF_SIZE(in->code) != EBPF_W && EBPF_SIZE(in->code) != EBPF_DW)
			return ebpf_fail(err, i, "atomic operations exist only on 32 and 64 bits");
		switch (in->imm) {
		case EBPF_ADD:
		case EBPF_OR:
		case EBPF_AND:
		case EBPF_XOR:
		case EBPF_ADD | EBPF_FETCH:
		case EBPF_OR | EBPF_FETCH:
		case EBPF_AND | EBPF_FETCH:
		case EBPF_XOR | EBPF_FETCH:
		case EBPF_XCHG:
		case EBPF_CMPXCHG:
			return 0;
		}
		return ebpf_fail(err, i, "unknown atomic operation 0x%x", (unsigned)in->imm);
	}
}

/* 0: not a jump; 1: conditional; 2: unconditional; 3: exit; 4: local call */
static int check_jmp(const struct ebpf_env *env, const struct ebpf_insn *in, int i, size_t n,
		     int64_t *target, struct ebpf_error *err)
{
	bool j32 = EBPF_CLASS(in->code) == EBPF_JMP32;
	unsigned op = EBPF_OP(in->code);

	if (op == EBPF_JA) {
		if (EBPF_SRC(in->code) || in->src || in->dst || (j32 ? in->off : in->imm))
			return ebpf_fail(err, i, "reserved fields of ja must be zero");
		*target = i + 1 + (int64_t)(j32 ? in->imm : in->off);
		return 2;
	}
	if (op == EBPF_EXIT) {
		if (j32 || EBPF_SRC(in->code) || in->src || in->dst || in->off || in->imm)
			return ebpf_fail(err, i, "malformed exit instruction 0x%02x", in->code);
		return 3;
	}
	if (op == EBPF_CALL) {
		if (j32 || EBPF_SRC(in->code) || in->dst || in->off)
			return ebpf_fail(err, i, "malformed call instruction 0x%02x", in->code);
		if (in->src == EBPF_PSEUDO_CALL_HELPER) {
			if (!ebpf_env_helper(env, (uint32_t)in->imm))
				return ebpf_fail(err, i, "call to unknown helper %d", in->imm);
			return 0;
		}
		if (in->src == EBPF_PSEUDO_CALL_LOCAL) {
			*target = i + 1 + (int64_t)in->imm;
			return 4;
		}
		return ebpf_fail(err, i, "call kind src=%d (BTF helper) unsupported", in->src);
	}
	if (op > EBPF_JSLE)
		return ebpf_fail(err, i, "unknown jump opcode 0x%02x", in->code);
	if (EBPF_SRC(in->code) == EBPF_X) {
		if (in->imm)
			return ebpf_fail(err, i, "register-source jump with non-zero imm");
		if (in->src > 10)
			return ebpf_fail(err, i, "invalid source register r%d", in->src);
	} else if (in->src) {
		return ebpf_fail(err, i, "immediate-source jump with non-zero src register");
	}
	*target = i + 1 + (int64_t)in->off;
	return 1;
}

int ebpf_check_cfg(const struct ebpf_env *env, const struct ebpf_insn *insns, size_t n,
		   uint8_t *is_prune, struct ebpf_error *err)
{
	uint8_t *half = calloc(n + 1, 1);	   /* 1: second half of lddw */
	uint8_t *seen = calloc(n + 1, 1);	   /* reachability */
	int32_t *func = malloc(n * sizeof(*func)); /* function start of each insn */
	int32_t *todo = malloc(n * sizeof(*todo));
	int64_t *tgt = malloc(n * sizeof(*tgt));
	int8_t *kind = malloc(n);
	int rc = -ENOMEM, ntodo = 0;

	if (!half || !seen || !func || !todo || !tgt || !kind) {
		ebpf_fail(err, -1, "out of memory");
		goto out;
	}
	memset(is_prune, 0, n);
	rc = -EINVAL;
	/* pass 1: decode every instruction */
	for (size_t i = 0; i < n; i++) {
		const struct ebpf_insn *in = &insns[i];
		int k = 0;

		tgt[i] = NO_TARGET;
		if (half[i]) {
			kind[i] = -1;
			continue;
		}
		if (in->dst > 10) {
			ebpf_fail(err, (int)i, "invalid destination register r%d", in->dst);
			goto out;
		}
		switch (EBPF_CLASS(in->code)) {
		case EBPF_ALU:
		case EBPF_ALU64:
			if (check_alu(env, in, (int)i, err))
				goto out;
			break;
		case EBPF_JMP:
		case EBPF_JMP32:
			k = check_jmp(env, in, (int)i, n, &tgt[i], err);
			if (k < 0)
				goto out;
			if (tgt[i] != NO_TARGET && (tgt[i] < 0 || tgt[i] >= (int64_t)n)) {
				ebpf_fail(err, (int)i, "jump target %lld out of range [0, %zu)",
					  (long long)tgt[i], n);
				goto out;
			}
			break;
		default:
			if (check_mem(in, (int)i, n, err))
				goto out;
			if (in->code == EBPF_OPC_LDDW)
				half[i + 1] = 1;
			break;
		}
		kind[i] = (int8_t)k;
	}
	/* pass 2: targets must not be lddw second halves; function starts */
	for (size_t i = 0; i < n; i++)
		func[i] = 0;
	is_prune[0] = 1;
	for (size_t i = 0; i < n; i++) {
		if (tgt[i] == NO_TARGET)
			continue;
		if (half[tgt[i]]) {
			ebpf_fail(err, (int)i, "jump into the middle of lddw at %lld",
				  (long long)tgt[i]);
			goto out;
		}
		/* every cycle contains a backward jump: its target is a loop head */
		if (tgt[i] <= (int64_t)i)
			is_prune[tgt[i]] = 2;
		else if (!is_prune[tgt[i]])
			is_prune[tgt[i]] = 1;
		if (kind[i] == 4)
			func[tgt[i]] = 1; /* mark function starts for now */
	}
	for (size_t i = 0, cur = 0; i < n; i++) {
		if (func[i] == 1 || i == 0)
			cur = i;
		func[i] = (int32_t)cur;
	}
	/* pass 3: functions end with exit or ja, jumps stay inside their function */
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n || func[i + 1] != func[i];
		size_t j = i;

		if (kind[i] == -1)
			j = i - 1; /* lddw second half: the lddw is what falls through */
		if (last && kind[j] != 2 && kind[j] != 3) {
			ebpf_fail(err, (int)j, "%s falls through its end",
				  func[i] ? "function" : "program");
			goto out;
		}
		if ((kind[i] == 1 || kind[i] == 2) && func[tgt[i]] != func[i]) {
			ebpf_fail(err, (int)i, "jump to %lld leaves the function starting at %d",
				  (long long)tgt[i], func[i]);
			goto out;
		}
	}
	/* pass 4: reachability from instruction 0 */
	seen[0] = 1;
	todo[ntodo++] = 0;
	while (ntodo) {
		int i = todo[--ntodo];
		int64_t succ[2];
		int ns = 0;

		switch (kind[i]) {
		case 0:
			succ[ns++] = i + (insns[i].code == EBPF_OPC_LDDW ? 2 : 1);
			break;
		case 1:
		case 4:
			succ[ns++] = i + 1;
			succ[ns++] = tgt[i];
			break;
		case 2:
			succ[ns++] = tgt[i];
			break;
		}
		for (int s = 0; s < ns; s++) {
			if (succ[s] >= (int64_t)n || seen[succ[s]])
				continue;
			seen[succ[s]] = 1;
			todo[ntodo++] = (int32_t)succ[s];
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!seen[i] && !half[i]) {
			ebpf_fail(err, (int)i, "unreachable instruction");
			goto out;
		}
	}
	rc = 0;
out:
	free(half);
	free(seen);
	free(func);
	free(todo);
	free(tgt);
	free(kind);
	return rc;
}
