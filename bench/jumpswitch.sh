#!/bin/sh
# Search trampolines (docs/jumpswitch.md), `make bench BENCH=jumpswitch`:
#  1. guest instructions per getpid round trip under QEMU -icount (exact):
#     the trampoline with getpid learned (hit), with no entries (miss), the
#     retpolined table call (jumpswitch=off) and, from a kernel built with
#     GUEST_RETPOLINE=0, the plain indirect call;
#  2. the per-process trampolines (K2): guest instructions per empty
#     console write round trip (write(1, NULL, 0): the console's write
#     operation through the process's region) learned (hit), with no entries
#     (miss), without regions (jumpswitch.fd=off: the retpolined call) and
#     with jumpswitch=off;
#  3. the native replica (build/bench/jumpswitch_native), ns per call.
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

# K2: the system-call table learns at 3000 calls in every row (as above)
wicount() {
	sh scripts/qemu-run.sh --timeout 300 --icount \
		--cmdline "ubench ubench=write jumpswitch.period=3000 $2" "$1" |
		tr -d '\r' | awk '/^ubench: write [0-9-]/ { print $NF }'
}
whit=$(wicount "$KERNEL" "")
wmiss=$(wicount "$KERNEL" "jumpswitch.fd.entries=0")
wretp=$(wicount "$KERNEL" "jumpswitch.fd=off")
woff=$(wicount "$KERNEL" "jumpswitch=off")
echo
echo "jumpswitch: write(1, NULL, 0) round trip (the console write operation),"
echo "guest instructions under QEMU -icount shift=0, min of 5 x 2000"
printf '  %-48s %s\n' "per-process trampoline hit (learned)" "$whit" \
	"per-process trampoline miss (no entries)" "$wmiss" \
	"retpolined call (jumpswitch.fd=off)" "$wretp" \
	"retpolined call, no trampolines (jumpswitch=off)" "$woff"
echo
"$B/bench/jumpswitch_native" "${JS_NATIVE_CALLS:-200000}"
