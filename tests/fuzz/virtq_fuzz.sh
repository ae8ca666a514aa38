#!/bin/sh
# virtq_fuzz.sh FUZZER CORPUS_DIR: run the virtqueue/virtio-blk request
# fuzzer briefly (FUZZ_SECONDS, default 20) from seeds holding well-formed
# requests (a read, a write, a flush, an id request); TAP.
set -u
fuzzer=$1 corpus=$2
secs=${FUZZ_SECONDS:-20}
mkdir -p "$corpus"
python3 - "$corpus" <<'PY'
import struct, sys
d = sys.argv[1]
def seed(name, reqs, ro=0):
    num = 16
    mem = bytearray(0x8000)  # guest memory from 0x1000
    desc = lambda i, a, l, f, n: struct.pack_into('<QIHH', mem, 16 * i, a, l, f, n)
    for k, (typ, length) in enumerate(reqs):
        hdr, dat, st = 0x4000 + 0x100 * k, 0x5000 + 0x400 * k, 0x4080 + 0x100 * k
        struct.pack_into('<IIQ', mem, hdr - 0x1000, typ, 0, 2 * k)
        w = 0 if typ == 1 else 2
        if length:
            desc(3 * k, hdr, 16, 1, 3 * k + 1)
            desc(3 * k + 1, dat, length, 1 | w, 3 * k + 2)
        else:
            desc(3 * k, hdr, 16, 1, 3 * k + 2)
        desc(3 * k + 2, st, 1, 2, 0)
        struct.pack_into('<H', mem, 0x1000 + 4 + 2 * k, 3 * k)
    struct.pack_into('<H', mem, 0x1000 + 2, len(reqs))
    head = bytes([4, ro]) + struct.pack('<HI', 0, 2048)
    open(f'{d}/seed-{name}', 'wb').write(head + bytes(mem))
seed('read', [(0, 1024)])
seed('mixed', [(0, 512), (1, 1024), (4, 0), (8, 20)])
seed('ro-write', [(1, 512)], ro=1)
PY
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/fuzz.log
if "$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=70000 "$corpus" >"$log" 2>&1; then
	runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -n 1)
	echo "ok 1 - virtq_fuzz: no crash in ${secs}s (${runs:-?})"
else
	echo "not ok 1 - virtq_fuzz found a crash"
	tail -n 40 "$log" | sed 's/^/# /'
	exit 1
fi
