#!/bin/sh
# console-input.sh VESSEL KERNEL INITRD: piped console input reaches the
# shell whole, from its very first byte, under QEMU TCG and (with /dev/kvm)
# under the Vessel VMM. Input that arrives before the kernel programs the
# UART (QEMU holds the first byte in the receiver) must not be lost.
# The shell's output line may follow its prompt: input typed ahead is echoed
# before the prompt is printed. Prints TAP.
set -u
. tests/guest/lib.sh
vessel=$1 kernel=$2 initrd=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0

check() { # name status
	n=$((n + 1))
	if [ "$2" = 0 ] && tr -d '\r' <"$out" | grep -qE '^(\$ )?first-byte-kept and a line longer than the sixteen-byte FIFO$' && ! grep -q 'command not found' "$out"; then
		echo "ok $n - $1: piped input arrives whole"
	else
		echo "not ok $n - $1: status $2, console:"
		sed 's/^/# /' "$out" | tail -n 30
	fi
}

input='echo first-byte-kept and a line longer than the sixteen-byte FIFO\npoweroff\n'
printf "$input" | sh scripts/qemu-run.sh --timeout 120 --initrd "$initrd" "$kernel" >"$out" 2>&1
check qemu $?
if ! vessel_unavailable "$vessel"; then
	printf "$input" | timeout 120 "$vessel" run --kernel "$kernel" --initrd "$initrd" >"$out" 2>&1
	check vessel $?
fi
