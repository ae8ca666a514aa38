#!/bin/sh
# Boot time of the bundled kernel to its ready point: `vessel run` versus
# `qemu-system-x86_64 -accel kvm -kernel` (the same ELF, through Multiboot),
# in one run, median of RUNS runs each, printed as a ratio.
#
# On this host /dev/kvm is nested PVM: guest kernel-mode code is emulated
# (~1 us per instruction), so both numbers are dominated by emulation and VM
# exits; the ratio compares the two VMMs on the same kernel, not kernel speed.
set -eu
B=${B:-build}
RUNS=${RUNS:-5}
MARKER=${MARKER:-vessel: ready}
kernel=$B/guest/vessel.elf
initrd=$B/user/initrd.img
[ -e /dev/kvm ] || { echo "boot bench: no /dev/kvm, skipped"; exit 0; }

# Show each run on stderr and keep stdout for the median. Not `tee
# /dev/stderr`: that re-opens stderr's file with O_TRUNC, so with
# `make bench >log 2>&1` it wiped everything printed before it.
show() {
	while IFS= read -r line; do
		printf '%s\n' "$line" >&2
		printf '%s\n' "$line"
	done
}

vessel=$("$B/bench/boot_time" -n "$RUNS" -m "$MARKER" -- \
	"$B/vessel" run --cpus 2 --mem 256M --kernel "$kernel" --initrd "$initrd" | show | sed -n 's/^median_ms=//p')
qemu=$("$B/bench/boot_time" -n "$RUNS" -m "$MARKER" -- \
	qemu-system-x86_64 -accel kvm -smp 2 -m 256 -display none -monitor none -serial stdio \
	-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$kernel" -initrd "$initrd" |
	show | sed -n 's/^median_ms=//p')
[ -n "$vessel" ] && [ -n "$qemu" ] || { echo "boot bench: a run failed" >&2; exit 1; }
echo "boot to ready (median of $RUNS, wall clock ms): vessel $vessel, qemu-kvm $qemu"
awk -v v="$vessel" -v q="$qemu" 'BEGIN { printf "ratio qemu/vessel = %.2fx (higher: vessel boots faster)\n", q / v }'
