#!/bin/sh
# The deprivileged monitor (docs/monitor.md), measured on the host:
#  - the round trip of a routed exit (a UART byte: the guest's OUT/IN to
#    COM1), from the exit to the resume decision, in-core (--monitor=inproc:
#    the same device model, timed the same way) against through the
#    sandboxed monitor (--monitor=sandboxed); median over RUNS boots of each,
#    alternating, each boot typing `help` and `poweroff` (about 2000 routed
#    exits per boot);
#  - a disk request: one synchronous 4 KiB read at a time (the guest's
#    blkbench, 200 of them per boot), its host-side parts in-core against
#    in the monitor: the device's service time (taken off the ring to
#    interrupt raised, the device's latency counter) and the driver's
#    register accesses per request the policy routes (MMIO exits, each
#    timed from exit to resume decision); both modes on the default
#    backend (io_uring, its ring restricted to read, write and fsync);
#  - the core-side operations per routed exit (ring posts, futex wakes and
#    waits, policy checks, IRQ line changes): what a CPU with the proposed
#    unprivileged-hypervisor mode would remove, and the modelled saving;
#  - the attack surface: system calls the monitor's seccomp filter allows,
#    against the distinct system calls the whole VMM makes in one boot
#    (strace -f -c of an inproc run: what one sandbox around all of it would
#    have to allow).
# Times come from CLOCK_MONOTONIC in the core (vessel run --stats).
set -eu
B=${B:-build}
RUNS=${RUNS:-5}
W=$B/bench-monitor
kernel=$B/guest/vessel.elf
initrd=$B/user/initrd.img
[ -w /dev/kvm ] || { echo "monitor bench: no usable /dev/kvm, skipped"; exit 0; }
mkdir -p "$W"

# counter NAME FILE: a counter of the --stats "monitor" line
counter() { sed -n "s/.*stats: monitor .* $1 \([0-9]*\).*/\1/p" "$2" | head -n 1; }

run() { # MODE I
	printf 'help\npoweroff\n' | timeout 300 "$B/vessel" run --kernel "$kernel" --initrd "$initrd" \
		--monitor="$1" --stats >"$W/$1-$2.log" 2>&1
	e=$(counter routed_exits "$W/$1-$2.log")
	ns=$(counter routed_ns "$W/$1-$2.log")
	ops=$(counter core_ops "$W/$1-$2.log")
	[ -n "$e" ] && [ "$e" -gt 0 ] || { echo "monitor bench: run $1 $2 failed" >&2; exit 1; }
	echo "$1 run $2: $e routed exits, $((ns / e)) ns each, $ops core-side ops" >&2
	echo "$((ns / e)) $e $ops" >>"$W/$1.txt"
}

# median [FILE]: of the first column
median() { sort -n "$@" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# alternate FN: FN inproc I, FN sandboxed I for I = 1..RUNS
alternate() {
	i=1
	while [ $i -le "$RUNS" ]; do
		"$1" inproc $i
		"$1" sandboxed $i
		i=$((i + 1))
	done
}

rm -f "$W/inproc.txt" "$W/sandboxed.txt"
alternate run
in_ns=$(median "$W/inproc.txt")
sb_ns=$(median "$W/sandboxed.txt")
ops=$(awk '{ e += $2; o += $3 } END { printf "%.2f", o / e }' "$W/sandboxed.txt")
exits=$(awk '{ e += $2 } END { printf "%d", e / NR }' "$W/sandboxed.txt")
allowed=$(counter monitor_syscalls "$W/sandboxed-1.log")

in_min=$(sort -n "$W/inproc.txt" | head -n 1 | cut -d' ' -f1)
sb_min=$(sort -n "$W/sandboxed.txt" | head -n 1 | cut -d' ' -f1)
echo "routed exit (UART byte) round trip, median of $RUNS boots: in-core $in_ns ns, sandboxed monitor $sb_ns ns"
echo "  (best boot: in-core $in_min ns, sandboxed monitor $sb_min ns; load average now: $(cut -d' ' -f1 /proc/loadavg))"
awk -v a="$in_ns" -v b="$sb_ns" 'BEGIN { printf "ratio sandboxed/in-core = %.1fx; %.1f us more per routed exit\n", b / a, (b - a) / 1000 }'
echo "core-side operations per routed exit (sandboxed): $ops (post + wake + waits + checks + IRQ changes)"
awk -v a="$in_ns" -v b="$sb_ns" -v e="$exits" 'BEGIN {
	printf "modelled saving with hardware direct resume: %.1f us per routed exit, %.1f ms per boot of %d routed exits\n",
		(b - a) / 1000, (b - a) * e / 1e6, e }'

# dstat NAME FILE: a counter of the --stats "virtio-blk vda" line
dstat() { sed -n "s/.*stats: virtio-blk vda: .* $1 \([0-9]*\).*/\1/p" "$2" | head -n 1; }
# kv LINE KEY: the value of KEY=VALUE in LINE
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

disk_run() { # MODE I
	log=$W/disk-$1-$2.log
	printf 'blkbench -m sync -o read -n 200\npoweroff\n' | timeout 600 "$B/vessel" run \
		--kernel "$kernel" --initrd "$initrd" --monitor="$1" --disk "$W/disk.img" \
		--stats >"$log" 2>&1
	lat=$(dstat latency_sum_ns "$log")
	cnt=$(dstat latency_count "$log")
	me=$(counter routed_mmio_exits "$log")
	mns=$(counter routed_mmio_ns "$log")
	line=$(tr -d '\r' <"$log" | grep -o "blkbench: mode=sync .*" | tail -n 1)
	reqs=$(kv "$line" ios)
	gex=$(kv "$line" exits)
	kicks=$(kv "$line" kicks)
	[ -n "$cnt" ] && [ "$cnt" -gt 0 ] && [ -n "$me" ] && [ "$me" -gt 0 ] && [ -n "$reqs" ] &&
		[ "$reqs" -gt 0 ] || { echo "monitor bench: disk run $1 $2 failed" >&2; exit 1; }
	# register accesses per request that exit to user space: the driver's
	# count less the kicks, which KVM's ioeventfd takes
	echo "disk $1 run $2: service $((lat / cnt)) ns, $((gex - kicks)) routed MMIO exits for $reqs requests at $((mns / me)) ns each" >&2
	echo "$((lat / cnt)) $((mns / me)) $((gex - kicks)) $reqs" >>"$W/disk-$1.txt"
}

rm -f "$W/disk-inproc.txt" "$W/disk-sandboxed.txt" "$W/disk.img"
truncate -s 16M "$W/disk.img"
alternate disk_run
for mode in inproc sandboxed; do
	f=$W/disk-$mode.txt
	svc=$(cut -d' ' -f1 "$f" | median)
	per=$(cut -d' ' -f2 "$f" | median)
	epr=$(awk '{ e += $3; r += $4 } END { printf "%.2f", e / r }' "$f")
	eval "svc_$mode=$svc per_$mode=$per epr_$mode=$epr"
done
echo "disk request (sync 4 KiB read, io_uring), median of $RUNS boots: device service (off the ring -> interrupt) in-core $svc_inproc ns, in the monitor $svc_sandboxed ns; routed register accesses per request $epr_inproc, each in-core $per_inproc ns, through the monitor $per_sandboxed ns"
awk -v s1="$svc_inproc" -v s2="$svc_sandboxed" -v p1="$per_inproc" -v p2="$per_sandboxed" \
	-v e1="$epr_inproc" -v e2="$epr_sandboxed" 'BEGIN {
	a = s1 + e1 * p1; b = s2 + e2 * p2
	printf "disk request round trip (host side: service + routed exits): in-core %.1f us, monitor %.1f us, ratio %.1fx\n",
		a / 1000, b / 1000, b / a }'

# names FILE...: the distinct system calls in strace output files
names() { sed -n 's/^\([a-z0-9_]*\)(.*/\1/p' "$@" | sort -u; }

if command -v strace >/dev/null; then
	printf 'poweroff\n' | strace -f -qq -c -o "$W/strace.txt" "$B/vessel" run --kernel "$kernel" \
		--initrd "$initrd" >/dev/null 2>&1 || true
	awk '/^-+/ { d++; next } d == 1 && NF { print $NF }' "$W/strace.txt" | sort >"$W/vmm.syscalls"
	"$B/vessel" __monitor --syscalls | sort >"$W/monitor.syscalls" # with disks
	whole=$(wc -l <"$W/vmm.syscalls")
	allowed_disk=$(counter monitor_syscalls "$W/disk-sandboxed-1.log")
	echo "attack surface: the monitor may make $allowed system calls (seccomp allow-list), $allowed_disk when it runs disks; the whole VMM made $whole distinct ones in one boot (strace -f -c; migration, the control socket and io_uring disks add more)"
	echo "of those, the monitor (with disks) may not make: $(comm -23 "$W/vmm.syscalls" "$W/monitor.syscalls" | tr '\n' ' ')"
	# each process of a sandboxed boot: one strace file per thread; the
	# monitor's are the process that exec'd __monitor and the threads it made
	rm -rf "$W/ff"
	mkdir -p "$W/ff"
	printf 'poweroff\n' | strace -f -ff -qq -o "$W/ff/t" "$B/vessel" run --kernel "$kernel" \
		--initrd "$initrd" --monitor=sandboxed >/dev/null 2>&1 || true
	mon=$(grep -l '"__monitor"' "$W"/ff/t.* | head -n 1)
	if [ -n "$mon" ]; then
		monfiles="$mon $(sed -n 's/^clone3\{0,1\}(.*) = \([0-9][0-9]*\)$/\1/p' "$mon" |
			sed "s|^|$W/ff/t.|")"
		corefiles=$(ls "$W"/ff/t.* | grep -v -x -F "$(printf '%s\n' $monfiles)")
		echo "sandboxed boot, per process: the core made $(names $corefiles | wc -l) distinct system calls; the monitor $(names $monfiles | wc -l) from fork to exit (its setup before the filter included: loader, unshare, prlimit64, seccomp), $(sed -n '/SECCOMP_SET_MODE_FILTER/,$p' "$mon" | sed -n 's/^\([a-z0-9_]*\)(.*/\1/p' | sort -u | wc -l) in its main thread after the filter"
	fi
else
	echo "attack surface: the monitor may make $allowed system calls (seccomp allow-list); strace missing: whole-VMM count skipped"
fi
