#!/bin/sh
# Search trampolines (docs/jumpswitch.md), `make bench BENCH=jumpswitch`:
#  1. guest instructions per getpid round trip under QEMU -icount (exact):
#     the trampoline with getpid learned (hit), with no entries (miss), the
#     retpolined table call (jumpswitch=off) and, from a kernel built with
#     GUEST_RETPOLINE=0, the plain indirect call;
#  2. the native replica (build/bench/jumpswitch_native), ns per call.
#   B=build sh bench/jumpswitch.sh
set -eu
B=${B:-build}
KERNEL=$B/guest/vessel.elf
PLAIN_B=$B/bench-noretpoline
PLAIN=$PLAIN_B/guest/vessel.elf

make -s B="$PLAIN_B" GUEST_RETPOLINE=0 "$PLAIN" >/dev/null

# guest instructions per round trip for KERNEL CMDLINE (the direct syscall path)
icount() {
	sh scripts/qemu-run.sh --timeout 300 --icount --cmdline "ubench $2" "$1" |
		tr -d '\r' | awk '/^ubench: syscall \(probe/ { print $NF }'
}

# learning steps at calls 3000 (write) and 6000 (flip): runs 4 and 5 of 2000 are hot
hit=$(icount "$KERNEL" "jumpswitch.period=3000")
miss=$(icount "$KERNEL" "jumpswitch.entries=0")
retp=$(icount "$KERNEL" "jumpswitch=off")
plain=$(icount "$PLAIN" "jumpswitch=off")

echo "jumpswitch: getpid round trip (syscall entry, 3-instruction user loop), guest"
echo "instructions under QEMU -icount shift=0, min of 5 x 2000"
printf '  %-48s %s\n' "trampoline hit (getpid learned)" "$hit" \
	"trampoline miss (no entries: then retpolined table)" "$miss" \
	"retpolined table call (jumpswitch=off)" "$retp" \
	"plain indirect call (GUEST_RETPOLINE=0 kernel)" "$plain"
echo
"$B/bench/jumpswitch_native" "${JS_NATIVE_CALLS:-200000}"
