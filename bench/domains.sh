#!/bin/sh
# Protection domains and code integrity (docs/integrity.md), in one run:
#  1. a secure-domain transition (root -> TCB echo entry -> back) against a
#     plain hypercall round trip: host-measured time per secure call (the
#     VMM's clock around the secure vCPU's run) and exits per call, plus the
#     guest's TSC median of each round trip;
#  2. one text patch (text_poke of 6 bytes at a registered site) with
#     --integrity=on (checked by the VMM, written by the TCB in the secure
#     domain) against --integrity=off (written by the kernel in its
#     privileged mode): guest TSC median and exits per patch.
# Guest TSC times include the emulated kernel code around the call (this
# host emulates CPL0, docs/platform.md): compare them only with each other.
#   B=build sh bench/domains.sh
set -u
B=${B:-build}
VESSEL=${VESSEL:-$B/vessel}
KERNEL=${KERNEL:-$B/guest/vessel.elf}
W=$B/bench-domains
[ -w /dev/kvm ] || { echo "domains bench: no /dev/kvm, skipped"; exit 0; }
rm -rf "$W"
mkdir -p "$W"

run() { # NAME ARGS...: a boot that powers off by itself (the kernel prompt gets "poweroff")
	name=$1
	shift
	printf 'poweroff\n' | timeout 600 "$VESSEL" run --no-initrd --kernel "$KERNEL" --stats "$@" \
		>"$W/$name.out" 2>"$W/$name.err" || { echo "domains bench: $name failed"; cat "$W/$name.err"; exit 1; }
}
exits() { sed -n 's/.*stats: \([0-9]*\) exits in total.*/\1/p' "$W/$1.err"; }
field() { sed -n "s/.*$2.*/\1/p" "$W/$1.$3" | tail -1; }

run idle --integrity=on
run dom --integrity=on --cmdline domainbench
hc_cyc=$(field dom 'plain hypercall median \([0-9]*\) TSC.*' out)
dc_cyc=$(field dom 'secure-domain call median \([0-9]*\) TSC.*' out)
khz=$(field dom 'tsc_khz \([0-9]*\).*' out)
calls=$(field dom 'secure domain: \([0-9]*\) calls.*' err)
sexits=$(field dom 'calls, \([0-9]*\) exits.*' err)
ns=$(field dom 'exits, \([0-9]*\) ns.*' err)

run pon --integrity=on --cmdline patchbench
run poff --integrity=off --cmdline patchbench
pon=$(field pon 'median \([0-9]*\) TSC.*' out)
poff=$(field poff 'median \([0-9]*\) TSC.*' out)
pcalls=$(field pon 'secure domain: \([0-9]*\) calls.*' err)
pns=$(field pon 'exits, \([0-9]*\) ns.*' err)

awk -v hc="$hc_cyc" -v dc="$dc_cyc" -v khz="$khz" -v calls="$calls" -v se="$sexits" \
	-v ns="$ns" -v pon="$pon" -v poff="$poff" -v pcalls="$pcalls" -v pns="$pns" \
	-v eidle="$(exits idle)" -v edom="$(exits dom)" -v eon="$(exits pon)" \
	-v eoff="$(exits poff)" 'BEGIN {
	printf "domain transition (50 round trips each, %d secure calls in the run):\n", calls
	printf "  host: %.1f us per secure call (VMM clock around the secure vCPU run), %.2f secure-vCPU exits per call\n", ns / calls / 1000, se / calls
	printf "  root exits: %d for domainbench vs %d for an idle boot: %.2f per round trip (100 round trips)\n", edom, eidle, (edom - eidle) / 100
	printf "  guest TSC median: plain hypercall %.1f us, secure-domain call %.1f us (ratio %.1f)\n", hc / khz * 1000, dc / khz * 1000, dc / hc
	printf "text patch (20 patches of 6 bytes):\n"
	printf "  guest TSC median: integrity on %.1f us, off %.1f us (ratio %.2f)\n", pon / khz * 1000, poff / khz * 1000, pon / poff
	printf "  host: %.1f us per TCB write in the secure domain; root exits on %d, off %d (%.1f more per patch)\n", pns / pcalls / 1000, eon, eoff, (eon - eoff) / 20
}'
