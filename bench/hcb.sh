#!/bin/sh
# Hyper-callbacks (docs/hcb.md), in one run: live migration with the guest's
# free-pages callback against the same VMM with --no-hyper-callbacks, for an
# idle guest, a guest after a memtest that filled and freed MEMTEST_MIB, and a
# guest dirtying memory while it migrates: bytes on the wire and total time
# (host-measured), as ratios. Then the callback's cost per run (host time
# and eBPF instructions, from the VMM's counters) and reclaim after the
# memtest (pages given back, time).
#   B=build sh bench/hcb.sh        MEM=256M MEMTEST_MIB=64 RUNS=1
set -u
B=${B:-build}
VESSEL=${VESSEL:-$B/vessel}
MEM=${MEM:-256M}
MEMTEST_MIB=${MEMTEST_MIB:-64}
W=$B/bench-hcb
NS=
n=0
PORT=$((40000 + $$ % 20000))
[ -w /dev/kvm ] || { echo "hcb bench: no /dev/kvm, skipped"; exit 0; }
rm -rf "$W"
mkdir -p "$W"
. tests/lib/vm.sh

# one migration of a fresh guest: WORKLOAD MODE (on|off) -> "bytes ms"
one() {
	args=
	[ "$2" = off ] && args=--no-hyper-callbacks
	boot_shell s $args || { echo "boot failed" >&2; stop_vm s; return 1; }
	case $1 in
	memtest)
		run_fg s "memtest -m $MEMTEST_MIB -n 1 -i 0" 900 ;;
	dirty)
		say s "memtest -m 32 -d 512 -i 0 &"
		wait_for "$W/s.out" "memtest: round 2 ok" 300 ;;
	esac
	PORT=$((PORT + 1))
	start_vm d --mem $MEM --control "$W/d.sock" --incoming tcp:127.0.0.1:$PORT $args
	wait_for "$W/d.err" "waiting for an incoming migration" 10
	ctl s migrate tcp:127.0.0.1:$PORT >/dev/null
	wait_exit s 300
	ctl d stats >"$W/d.stats" 2>/dev/null
	stop_vm d
	sed -n 's/.*migrated to .* MiB (\([0-9]*\) bytes) in \([0-9]*\) ms.*/\1 \2/p' "$W/s.err"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

echo "migration, $MEM guest, with the free-pages callback (on) and --no-hyper-callbacks (off)"
printf '%-10s %14s %14s %8s %10s %10s %8s\n' workload "bytes on" "bytes off" "off/on" "ms on" "ms off" "off/on"
for wl in idle memtest dirty; do
	set -- $(one $wl on) $(one $wl off)
	[ $# = 4 ] || { echo "$wl: a migration failed (see $W)"; continue; }
	printf '%-10s %14s %14s %8s %10s %10s %8s\n' "$wl" "$1" "$3" "$(ratio "$3" "$1")" "$2" "$4" \
		"$(ratio "$4" "$2")"
done

echo
echo "learning the free set of a 1 GiB guest, 5 times each (host time; median):"
start_vm q --mem 1G --control "$W/q.sock"
wait_for "$W/q.out" "ready" 120 && responds q
for how in "" guest; do
	for i in 1 2 3 4 5; do ctl q free-pages $how; done >"$W/fp$how.json"
	us=$(tr -d ' \n' <"$W/fp$how.json" | grep -o '"us":[0-9.]*' | cut -d: -f2 | sort -n | sed -n 3p)
	ex=$(tr -d ' \n' <"$W/fp$how.json" | grep -o '"exits":[0-9]*' | cut -d: -f2 | sort -n | sed -n 3p)
	nf=$(tr -d ' \n' <"$W/fp$how.json" | grep -o '"free_pages":[0-9]*' | cut -d: -f2 | sed -n 1p)
	printf '  %-16s %10s us  %3s VM exits  %s free pages\n' "${how:-hyper-callback}" "$us" "$ex" "$nf"
	eval "us_${how:-cb}=$us"
done
echo "  round trip / callback: $(ratio "$us_guest" "$us_cb")x (the guest side runs emulated on this" \
	"host: its time is inflated; the exits and the interrupt are what a real host pays too)"
stop_vm q

echo
echo "reclaim after memtest -m $MEMTEST_MIB -n 1 (the callback runs in the VMM; no guest entry)"
boot_shell r
run_fg r "memtest -m $MEMTEST_MIB -n 1 -i 0" 900
rss0=$(awk '/^RssShmem:/ { print $2 }' "/proc/$(pid_of r)/status")
ctl r reclaim >"$W/reclaim.json"
rss1=$(awk '/^RssShmem:/ { print $2 }' "/proc/$(pid_of r)/status")
ctl r stats >"$W/r.stats"
field() { tr -d ' \n' <"$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
echo "  pages given back $(field "$W/reclaim.json" pages), RssShmem $rss0 KiB -> $rss1 KiB," \
	"$(field "$W/reclaim.json" ms) ms in all (VM paused, callback, hole punching)"
runs=$(field "$W/r.stats" hcb_runs)
echo "  callback: $runs runs, $(awk -v i="$(field "$W/r.stats" hcb_insns)" -v r="$runs" \
	'BEGIN { printf "%.0f", i / r }') eBPF instructions and $(awk -v t="$(field "$W/r.stats" hcb_ns)" \
	-v r="$runs" 'BEGIN { printf "%.0f", t / r }') ns of host time per run" \
	"(one run answers 4096 frames = 16 MiB)"
stop_vm r
