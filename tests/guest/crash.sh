#!/bin/sh
# crash.sh VESSEL KERNEL: a kernel-mode fault must print the exception and a
# register dump, stop the other CPUs and power off with status 125, under QEMU
# TCG and (with /dev/kvm) under the Vessel VMM. Prints TAP.
set -u
. tests/guest/lib.sh
vessel=$1 kernel=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0

check() { # name status
	n=$((n + 1))
	if [ "$2" = 125 ] && grep -q 'kernel exception: page fault at address 0xdead0000 (write' "$out" &&
		grep -q 'RIP 0008:ffffffff8' "$out" && grep -q 'CR2 00000000dead0000' "$out" &&
		grep -q 'kernel panic on cpu' "$out"; then
		echo "ok $n - $1: kernel fault -> register dump, panic, status 125"
	else
		echo "not ok $n - $1: status $2, console:"
		sed 's/^/# /' "$out"
	fi
}

sh scripts/qemu-run.sh --timeout 120 --cmdline crashtest "$kernel" >"$out" 2>&1
check qemu $?
if ! vessel_unavailable "$vessel"; then
	"$vessel" run --cpus 2 --mem 256M --kernel "$kernel" --cmdline crashtest </dev/null >"$out" 2>&1
	check vessel $?
fi
