#!/bin/sh
# bench/blk.sh: virtio-blk with calibrated interrupts against `every` and
# `coalesce` (docs/blk.md; results in docs/results.md).
#
# For each mode (blk.irq=every|coalesce|calibrated; threshold 32, timeout
# 1000 us) one VM with a 64 MiB image runs blkbench: sync reads and writes
# (1 in flight, 128 requests) and async reads and writes (batches of 32,
# 512 requests), 4 KiB at random offsets. Around each workload the VMM's
# control socket gives the counters (after an unmeasured warm-up). ROUNDS
# rounds (default 3), the modes interleaved in a rotating order; the median
# of each figure is printed, and for the sync latency also the median (and
# range) of the per-round ratios to `every`.
#
# What each column is:
#   irq/io guest   interrupts the guest's disk handler took, per request (count)
#   irq/io dev     interrupts the device raised (irqfd writes), per request (count)
#   mmio/io vmm    vCPU exits to the VMM (user space) for MMIO, per request:
#                  the disk's registers (interrupt status and acknowledge;
#                  queue notifications are ioeventfds, handled in KVM)
#                  (count; the console's port I/O for the typed command is
#                  left out)
#   kicks/io       queue notifications the driver wrote, per request: each
#                  is one exit into KVM (an ioeventfd), not into the VMM (count)
#   exits/io kvm   every vCPU exit KVM counted (KVM_GET_STATS_FD) during the
#                  workload, per request: the disk's (kicks, the two MMIO
#                  exits and the EOI of each interrupt) plus everything else
#                  the guest did meanwhile, timer ticks and halts of both
#                  vCPUs included, which grow with the workload's duration
#                  (a count, but not only the disk's)
#   lat us         host time from the device taking a request off the ring
#                  to the interrupt that reports it being raised: the median
#                  of the workload's last 128 requests (p50), and the mean
#   req/s          requests per second of guest time: guest kernel code is
#                  emulated on this host, so this is mostly kernel
#                  instructions, not the device
#
# Paired sync latency: the per-mode VMs above run at different times, and on
# a shared machine the noise between two VMs swamps a small difference. So
# each round also boots VMs with two fresh 64 MiB images and one interrupt
# mode per disk (blk.irq=every,calibrated, and calibrated,every to cancel any
# effect of the disk's position; the same for coalesce against every), and
# blkbench -d /dev/vda,/dev/vdb alternates 256 synchronous requests between
# them (128 each, after a warm-up of 64): the two modes see the same load at
# the same moments. The VMM measures each disk's latency separately (host
# time, as above: p50 of the disk's last 128 requests, exactly this
# workload's, and the mean); each VM gives one ratio per workload, printed
# with the median and range over the VMs, per order and overall.
#
# Then the two disk backends on the host (bench/blk_backend.c).
#
# SECTIONS (default "modes paired backends") picks the parts to run.
set -u
B=${B:-build}
VESSEL=${VESSEL:-$B/vessel}
W=$B/blk-bench
MEM=128M
NS=
n=0
ROUNDS=${ROUNDS:-3}
SECTIONS=${SECTIONS:-modes paired backends}
rm -rf "$W"
mkdir -p "$W"
. tests/lib/vm.sh


WORKLOADS="sync:read:128 sync:write:128 async:read:512 async:write:512"

# one mode, one round: appends "mode workload figures..." lines to $W/raw
round() {
	mode=$1
	rm -f "$W/d.img"
	truncate -s 64M "$W/d.img"
	boot_shell v --disk "$W/d.img" --cmdline "blk.irq=$mode" ||
		{ echo "bench/blk.sh: boot failed" >&2; cat "$W/v.err" >&2; stop_vm v; return 1; }
	# warm-up (not measured): the first I/O after boot pays page faults
	run_cmd v "blkbench -m sync -o read -n 32" 300 || { stop_vm v; return 1; }
	for w in $WORKLOADS; do
		m=${w%%:*} rest=${w#*:}
		op=${rest%%:*} cnt=${rest#*:}
		ctl v stats >"$W/s0.json"
		run_cmd v "blkbench -m $m -o $op -n $cnt -q 32" 900 || { echo "bench/blk.sh: $mode $w timed out" >&2; stop_vm v; return 1; }
		ctl v stats >"$W/s1.json"
		line=$(tr -d '\r' <"$W/v.out" | grep -o "blkbench: mode=$m op=$op .*" | tail -n 1)
		python3 - "$mode" "$m-$op" "$line" "$W/s0.json" "$W/s1.json" >>"$W/raw" <<'PY'
import json, sys
mode, wl, line, f0, f1 = sys.argv[1:6]
kv = dict(x.split('=') for x in line.split()[1:])
a, b = json.load(open(f0)), json.load(open(f1))
da = [d for d in a['devices'] if d['device'] == 'virtio-blk'][0]
db = [d for d in b['devices'] if d['device'] == 'virtio-blk'][0]
ios = db['requests'] - da['requests']
lat_n = db['latency_count'] - da['latency_count']
lat = (db['latency_sum_ns'] - da['latency_sum_ns']) / max(1, lat_n) / 1000
print(mode, wl, int(kv['interrupts']) / ios, (db['interrupts'] - da['interrupts']) / ios,
      (b['exits_by_kind']['mmio'] - a['exits_by_kind']['mmio']) / ios,
      (b['kvm']['exits'] - a['kvm']['exits']) / ios,
      lat, int(kv['iops']), db['latency_p50_recent_ns'] / 1000, int(kv['kicks']) / ios, ios)
PY
	done
	say v poweroff
	wait_exit v 60
}

# one VM, two disks with the modes of LIST ("every,calibrated"), sync reads
# and writes alternating between them: appends "LIST round workload
# mode0 p50_0 mean_0 mode1 p50_1 mean_1" lines (us) to $W/paired
pair_round() {
	list=$1
	rm -f "$W/d0.img" "$W/d1.img"
	truncate -s 64M "$W/d0.img"
	truncate -s 64M "$W/d1.img"
	boot_shell v --disk "$W/d0.img" --disk "$W/d1.img" --cmdline "blk.irq=$list" ||
		{ echo "bench/blk.sh: boot failed" >&2; cat "$W/v.err" >&2; stop_vm v; return 1; }
	run_cmd v "blkbench -m sync -o read -n 64 -d /dev/vda,/dev/vdb" 300 || { stop_vm v; return 1; }
	for op in read write; do
		ctl v stats >"$W/s0.json"
		run_cmd v "blkbench -m sync -o $op -n 256 -d /dev/vda,/dev/vdb" 900 ||
			{ echo "bench/blk.sh: $list sync $op timed out" >&2; stop_vm v; return 1; }
		ctl v stats >"$W/s1.json"
		python3 - "$list" "$r" "sync-$op" "$W/s0.json" "$W/s1.json" >>"$W/paired" <<'PY'
import json, sys
lst, rnd, wl, f0, f1 = sys.argv[1:6]
a, b = json.load(open(f0)), json.load(open(f1))
da = [d for d in a['devices'] if d['device'] == 'virtio-blk']
db = [d for d in b['devices'] if d['device'] == 'virtio-blk']
out = [lst, rnd, wl]
for mode, x, y in zip(lst.split(','), da, db):
    n = y['latency_count'] - x['latency_count']
    assert n == 128, f"{wl}: {n} latencies on one disk, not 128"
    out += [mode, y['latency_p50_recent_ns'] / 1000, (y['latency_sum_ns'] - x['latency_sum_ns']) / n / 1000]
print(*out)
PY
	done
	say v poweroff
	wait_exit v 60
}

if [ ! -c /dev/kvm ]; then
	echo "bench/blk.sh: no /dev/kvm" >&2
	exit 1
fi
: >"$W/raw"
: >"$W/paired"
has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
r=0
# the modes in a rotating order, so that none is always first or last
while [ $r -lt "$ROUNDS" ]; do
	case $((r % 3)) in
	0) order="every coalesce calibrated" ;;
	1) order="coalesce calibrated every" ;;
	2) order="calibrated every coalesce" ;;
	esac
	if has modes; then
		for mode in $order; do
			round $mode || exit 1
		done
	fi
	if has paired; then
		case $((r % 2)) in
		0) lists="every,calibrated calibrated,every every,coalesce coalesce,every" ;;
		1) lists="calibrated,every every,calibrated coalesce,every every,coalesce" ;;
		esac
		for l in $lists; do
			pair_round $l || exit 1
		done
	fi
	r=$((r + 1))
done
if has modes; then
echo "virtio-blk, 4 KiB random I/O, 64 MiB image, median of $ROUNDS rounds (counts per request; latency host-measured)"
python3 - "$W/raw" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault((f[0], f[1]), []).append([float(x) for x in f[2:]])
wls = ['sync-read', 'sync-write', 'async-read', 'async-write']
print(f"{'workload':<12} {'mode':<11} {'irq/io guest':>12} {'irq/io dev':>10} {'kicks/io':>8} "
      f"{'mmio/io vmm':>11} {'exits/io kvm':>12} {'lat p50 us':>10} {'lat mean':>9} {'req/s':>6}")
med = {}
for wl in wls:
    for mode in ['every', 'coalesce', 'calibrated']:
        v = rows.get((mode, wl))
        if not v:
            continue
        m = [statistics.median(col) for col in zip(*v)]
        med[(mode, wl)] = m
        print(f"{wl:<12} {mode:<11} {m[0]:12.3f} {m[1]:10.3f} {m[7]:8.3f} {m[2]:11.2f} "
              f"{m[3]:12.2f} {m[6]:10.1f} {m[4]:9.1f} {m[5]:6.0f}")
def ratio(a, b):
    return a / b if b else float('nan')
for wl in ['async-read', 'async-write']:
    e, c = med.get(('every', wl)), med.get(('calibrated', wl))
    if e and c:
        print(f"{wl}: calibrated/every interrupts: guest {ratio(c[0], e[0]):.3f}, "
              f"device {ratio(c[1], e[1]):.3f} (target <= 0.125)")
def paired(mode, wl):
    # the ratio to `every` within each round (the two VMs ran minutes apart
    # at most, so a load change on the shared machine hits both), p50 column
    a, e = rows.get((mode, wl), []), rows.get(('every', wl), [])
    r = sorted(ratio(x[6], y[6]) for x, y in zip(a, e))
    return (statistics.median(r), r[0], r[-1]) if r else (float('nan'),) * 3
for wl in ['sync-read', 'sync-write']:
    e, co, c = (med.get((m, wl)) for m in ('every', 'coalesce', 'calibrated'))
    if e and co and c:
        pc, pco = paired('calibrated', wl), paired('coalesce', wl)
        print(f"{wl}: p50 latency calibrated/every {ratio(c[6], e[6]):.2f} (target <= 1.10), "
              f"coalesce/every {ratio(co[6], e[6]):.2f}; paired per round: calibrated/every "
              f"median {pc[0]:.2f} ({pc[1]:.2f}-{pc[2]:.2f}), coalesce/every median "
              f"{pco[0]:.2f} ({pco[1]:.2f}-{pco[2]:.2f})")
PY
fi
if has paired; then
echo
echo "paired sync latency: one VM, two disks of different modes, 256 requests alternating (128 each); $ROUNDS rounds x 2 orders"
python3 - "$W/paired" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def fmt(v):
    v = sorted(v)
    return f"{statistics.median(v):.3f} ({v[0]:.3f}-{v[-1]:.3f}, {len(v)})" if v else "-"
print(f"{'workload':<11} {'ratio':<20} {'disk order':<18} {'p50 ratio: median (range, VMs)':<32} {'mean ratio: median (range, VMs)'}")
for wl in ['sync-read', 'sync-write']:
    for other in ['calibrated', 'coalesce']:
        allp, allm = [], []
        for order in [f"every,{other}", f"{other},every"]:
            p, m = [], []
            for f in rows:
                if f[0] != order or f[2] != wl:
                    continue
                d = {f[3]: (float(f[4]), float(f[5])), f[6]: (float(f[7]), float(f[8]))}
                p.append(d[other][0] / d['every'][0])
                m.append(d[other][1] / d['every'][1])
            allp += p
            allm += m
            print(f"{wl:<11} {other + '/every':<20} {order:<18} {fmt(p):<32} {fmt(m)}")
        print(f"{wl:<11} {other + '/every':<20} {'both':<18} {fmt(allp):<32} {fmt(allm)}")
        if other == 'calibrated' and allp:
            mp = statistics.median(allp)
            print(f"{wl}: calibrated/every p50, paired: median {mp:.3f} -> target <= 1.10 "
                  f"{'met' if mp <= 1.10 else 'NOT met'}")
# the raw latencies, for the record
print("per VM (us): order round workload mode p50 mean mode p50 mean")
for f in rows:
    print("  " + " ".join(f[:4] + [f"{float(x):.1f}" for x in f[4:6]] + [f[6]] + [f"{float(x):.1f}" for x in f[7:9]]))
PY
fi
if has backends; then
echo
echo "disk backends on the host (4 KiB random, page cache; bench/blk_backend.c):"
"$B/bench/blk_backend" 64 20000
fi
