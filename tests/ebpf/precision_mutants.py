#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Take each rule of pruning on live and precise state out of the verifier,
one at a time, and check that the verifier corpus then fails (some unsafe
program gets accepted, or a budget case changes): every rule the soundness
argument of docs/ebpf.md ("Pruning") relies on must have a test.

Run by hand from the top of the tree (it rebuilds build/ebpf/datatest once
per mutant, about 3 minutes in all; not part of make check):

    python3 tests/ebpf/precision_mutants.py [NAME...]

Each mutant edits one source file in place and restores it afterwards, also
on failure or Ctrl-C. Exit status 1 if a mutant makes no test fail.
Not listed: a new frame's slots counting as overwritten (verifier.c,
callee->written): without it the liveness walk marks older frames too,
which is conservative, so no test can fail.
"""
import subprocess
import sys

MUTANTS = {
    "pointer + number precise": (
        "ebpf/verifier.c",
        "if ((x || !dp) &&\n\t\t\t    (rc = vfy_mark_precise(",
        "if (0 && (x || !dp) &&\n\t\t\t    (rc = vfy_mark_precise("),
    "pointer - number precise": (
        "ebpf/verifier.c",
        "if (x && (rc = vfy_mark_precise(v, (uint16_t)(1u << in->src))))",
        "if (0 && x && (rc = vfy_mark_precise(v, (uint16_t)(1u << in->src))))"),
    "decided jump precise": (
        "ebpf/verifier.c", "if ((!t_ok || !f_ok || copies) &&", "if ((copies) &&"),
    "jump refining copies precise": (
        "ebpf/verifier.c", "if ((!t_ok || !f_ok || copies) &&", "if ((!t_ok || !f_ok) &&"),
    "helper size precise": (
        "ebpf/vmem.c",
        "if ((rc = vfy_mark_precise(v, (uint16_t)(1u << (r + 1)))))",
        "if (0 && (rc = vfy_mark_precise(v, (uint16_t)(1u << (r + 1)))))"),
    "reload recorded": (
        "ebpf/vmem.c", "vfy_hist_note(v, H_RELOAD, p->frame, (int)(b0 / 8));", ";"),
    "spill recorded": (
        "ebpf/vmem.c", "vfy_hist_note(v, H_SPILL, p->frame, (int)(base / 8));", ";"),
    "backtrack: call arguments": (
        "ebpf/precision.c", "n->regs[f] |= n->regs[f + 1] & 0x3e;", ";"),
    "backtrack: callee result": (
        "ebpf/precision.c", "n->regs[f] = n->regs[f - 1] & 1u;", "n->regs[f] = 0;"),
    "backtrack: jump between registers": (
        "ebpf/precision.c", "n->regs[f] |= (uint16_t)(d | s);", "n->regs[f] |= 0;"),
    "backtrack: arithmetic source": (
        "ebpf/precision.c", "n->regs[f] |= s; /* d op= s", "; /* d op= s"),
    "pruned path propagates precision": (
        "ebpf/vstate.c", "(rc = vfy_propagate_precision(v, &c->st, regs))", "(rc = 0)"),
    "pruned path propagates liveness": (
        "ebpf/vstate.c", "if ((rc = vfy_propagate_liveness(v, &c->st)) ||", "if ((rc = 0) ||"),
    "precise spills compared": (
        "ebpf/vstate.c",
        "if (!reg_leq(&c->spill[s], oldr, k->prec_slots >> s & 1, m))",
        "if (!reg_leq(&c->spill[s], oldr, 0, m))"),
    "ids of precise numbers": (
        "ebpf/vstate.c",
        "if (o->type == T_SCALAR && !ids_match(m, o->id, c->id))",
        "if (0 && !ids_match(m, o->id, c->id))"),
    "caller registers live": (
        "ebpf/vstate.c", "v->live[callsite[f + 1] + 1] & REL_CALLEE_SAVED;", "0;"),
    "stack reads mark": (
        "ebpf/vmem.c",
        "int rc = vfy_mark_read(v, p->frame, slot_range(base, b1));",
        "int rc = vfy_mark_read(v, p->frame, 0 & slot_range(base, b1));"),
    "narrow write hides the slot": (
        "ebpf/vmem.c",
        "} else if (acc == ACC_WRITE && val) {\n\t\t\tstack_set_misc(f, base, base + (int64_t)size);",
        "} else if (acc == ACC_WRITE && val) {\n\t\t\tf->written |= slot_range(base, base + "
        "(int64_t)size);\n\t\t\tstack_set_misc(f, base, base + (int64_t)size);"),
    "helper write hides by its maximum size": (
        "ebpf/vmem.c",
        "f->written |= slots_covered(lo, lo + (int64_t)sz->b.umin);",
        "f->written |= slots_covered(lo, lo + (int64_t)sz->b.umax);"),
    "helper arguments live": (
        "ebpf/relevance.c", "use |= (uint16_t)(2u << a);", "use |= 0;"),
    "call arguments live": (
        "ebpf/relevance.c", "uint16_t use = 0x3e; /* a local call", "uint16_t use = 0; /* a local call"),
    "load base live": (
        "ebpf/relevance.c",
        "\tcase EBPF_LDX:\n\t\t*kill = d;\n\t\treturn s;\n\tcase EBPF_ST:\n\t\treturn d;\n\tcase EBPF_STX:\n"
        "\t\tif (EBPF_MODE(in->code) == EBPF_ATOMIC && in->imm == EBPF_CMPXCHG)\n"
        "\t\t\treturn (uint16_t)(d | s | 1u);\n\t\treturn (uint16_t)(d | s);\n\t}\n\tif (op == EBPF_JA)",
        "\tcase EBPF_LDX:\n\t\t*kill = d;\n\t\treturn 0;\n\tcase EBPF_ST:\n\t\treturn d;\n\tcase EBPF_STX:\n"
        "\t\tif (EBPF_MODE(in->code) == EBPF_ATOMIC && in->imm == EBPF_CMPXCHG)\n"
        "\t\t\treturn (uint16_t)(d | s | 1u);\n\t\treturn (uint16_t)(d | s);\n\t}\n\tif (op == EBPF_JA)"),
}

CORPUS = "build/ebpf/datatest -e build/ebpf/c tests/ebpf/verifier/*.data"


def run(name, path, old, new):
    src = open(path).read()
    if src.count(old) != 1:
        print(f"{name}: the text to change is not found once in {path}")
        return False
    try:
        open(path, "w").write(src.replace(old, new))
        b = subprocess.run("make -s build/ebpf/datatest", shell=True,
                           capture_output=True, text=True)
        if b.returncode:
            print(f"{name}: does not build:\n{b.stderr[-400:]}")
            return False
        r = subprocess.run(CORPUS, shell=True, capture_output=True, text=True)
        fails = [l.split(" - ", 1)[1].split(" #")[0] for l in r.stdout.splitlines()
                 if l.startswith("not ok")]
        print(f"{name}: {len(fails)} failing" + "".join(f"\n    {f}" for f in fails))
        return bool(fails)
    finally:
        open(path, "w").write(src)


def main():
    names = sys.argv[1:] or list(MUTANTS)
    subprocess.run("make -s build/ebpf/datatest build/ebpf/c/if_blocks.o", shell=True,
                   check=True)
    missed = [n for n in names if not run(n, *MUTANTS[n])]
    subprocess.run("make -s build/ebpf/datatest", shell=True)
    if missed:
        print("not caught: " + ", ".join(missed))
        return 1
    print(f"all {len(names)} mutants caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
