#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the eBPF community conformance suite (github.com/Alan-Jowett/
bpf_conformance, its tests/*.data) through libebpf, as an extra, optional
check (not part of `make check`: the suite is not vendored here).

    python3 tests/ebpf/conformance.py PATH/TO/bpf_conformance [BUILD]

Converts each test's assembler dialect (%rN registers, `lock fetch add32`,
`swapN`, `movsx832`, `call local f`, jumps to `exit`) to tests/ebpf/asm.h
syntax, writes the cases to BUILD/ebpf/conformance/ and runs
BUILD/ebpf/datatest on them (TAP output)."""
import os
import re
import subprocess
import sys


def convert(text):
    text = text.replace('%r', 'r')
    lines = text.split('\n')
    in_asm = False
    last_exit = None
    for i, line in enumerate(lines):
        if line.startswith('-- '):
            in_asm = line.strip() == '-- asm'
        elif in_asm and line.split('#')[0].strip() == 'exit':
            last_exit = i
    out = []
    for i, line in enumerate(lines):
        code = line.split('#')[0]
        m = re.match(r'\s*lock\s+(fetch\s+)?(\w+?)(32)?\s+(.*)', code)
        if m:
            fetch, op, w32, rest = m.groups()
            width = '32' if w32 else '64'
            if op in ('xchg', 'cmpxchg'):
                line = '%s%s %s' % (op, width, rest)
            else:
                line = '%s_%s%s %s' % ('fetch' if fetch else 'lock', op, width, rest)
        line = re.sub(r'\bswap(16|32|64)\b', r'bswap\1', line)
        line = re.sub(r'\bcall local (\w+)', r'call \1', line)
        m = re.match(r'(\s*)movsx(8|16|32)(32|64)\b(.*)', line)
        if m:
            line = '%smovsx%s%s%s' % (m.group(1), m.group(2),
                                      '_32' if m.group(3) == '32' else '', m.group(4))
        line = re.sub(r'(,|\bja)\s*exit\s*(#.*)?$', r'\1 __end', line)
        if i == last_exit:
            line = '__end: exit'
        out.append(line)
    return '\n'.join(out)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    src = os.path.join(sys.argv[1], 'tests')
    build = sys.argv[2] if len(sys.argv) > 2 else 'build'
    dst = os.path.join(build, 'ebpf', 'conformance')
    os.makedirs(dst, exist_ok=True)
    files = []
    for name in sorted(os.listdir(src)):
        if not name.endswith('.data'):
            continue
        with open(os.path.join(src, name)) as f:
            text = convert(f.read())
        path = os.path.join(dst, name)
        with open(path, 'w') as f:
            f.write('== %s\n%s' % (name[:-5], text))
        files.append(path)
    sys.exit(subprocess.call([os.path.join(build, 'ebpf', 'datatest')] + files))


if __name__ == '__main__':
    main()
