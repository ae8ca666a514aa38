#!/usr/bin/env python3
# check.py verify|fill IMAGE SEED FIRST COUNT: the blktest pattern on the host.
#   verify: sectors [FIRST, FIRST + COUNT) of IMAGE hold the pattern of SEED
#           (prints "check: ok ..." or the first bad sector, exit 1)
#   fill:   write the pattern there (a read-only disk's expected content)
# The pattern (user/blktest/blktest.c): 64-bit word k of sector s is the
# splitmix64 finaliser of SEED * 0x9e3779b97f4a7c15 + s * 64 + k.
import struct
import sys

M = (1 << 64) - 1


def mix(seed, i):
    z = (seed * 0x9E3779B97F4A7C15 + i) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def sector(seed, s):
    return struct.pack('<64Q', *(mix(seed, s * 64 + k) for k in range(64)))


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ('verify', 'fill'):
        print(__doc__ or 'usage: check.py verify|fill IMAGE SEED FIRST COUNT', file=sys.stderr)
        return 2
    mode, path = sys.argv[1], sys.argv[2]
    seed, first, count = (int(x, 0) for x in sys.argv[3:6])
    with open(path, 'r+b' if mode == 'fill' else 'rb') as f:
        f.seek(first * 512)
        if mode == 'fill':
            for s in range(first, first + count):
                f.write(sector(seed, s))
            return 0
        data = f.read(count * 512)
    for i in range(count):
        if data[i * 512:(i + 1) * 512] != sector(seed, first + i):
            print(f'check: {path}: sector {first + i} does not hold the pattern of seed {seed}')
            return 1
    print(f'check: ok {path} seed {seed} sectors {first}..{first + count}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
