#!/bin/sh
# tools.sh BUILD: checks of the ebpf-run and ebpf-verify command-line
# contracts (output and exit status); prints TAP.
set -u
B=${1:-build}
run=$B/ebpf-run
verify=$B/ebpf-verify
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

check() { # check NAME EXPECTED_STATUS EXPECTED_OUTPUT_SUBSTRING STATUS OUTPUT
	n=$((n + 1))
	if [ "$4" = "$2" ] && case "$5" in *"$3"*) true ;; *) false ;; esac; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1 # status $4 (want $2), output '$5' (want '$3')"
		failed=$((failed + 1))
	fi
}

# mov r0, 42; exit
printf '\267\000\000\000\052\000\000\000\225\000\000\000\000\000\000\000' >"$tmp/ret42"
# ldxb r0, [r1+1]; exit
printf '\161\020\001\000\000\000\000\000\225\000\000\000\000\000\000\000' >"$tmp/load"
# mov r0, r2; exit
printf '\277\040\000\000\000\000\000\000\225\000\000\000\000\000\000\000' >"$tmp/len"
# exit (r0 uninitialised)
printf '\225\000\000\000\000\000\000\000' >"$tmp/bad"
# mov r0, 1 (falls off the end), 7 bytes
printf '\267\000\000\000\001\000\000' >"$tmp/short"

out=$("$run" <"$tmp/ret42"); check "ebpf-run prints r0 in hex" 0 "2a" $? "$out"
out=$("$run" 0011aa <"$tmp/load"); check "ebpf-run passes memory in r1" 0 "11" $? "$out"
out=$("$run" aabbcc <"$tmp/len"); check "ebpf-run passes the length in r2" 0 "3" $? "$out"
out=$("$run" <"$tmp/len"); check "ebpf-run without memory: r2 is 0" 0 "0" $? "$out"
out=$("$run" <"$tmp/bad"); check "ebpf-run reports a rejected program" 1 \
	"instruction 0: r0 is not initialised" $? "$out"
out=$("$run" <"$tmp/short"); check "ebpf-run rejects a truncated program" 1 \
	"not a multiple of 8" $? "$out"
out=$("$run" 0g <"$tmp/ret42" 2>&1); check "ebpf-run rejects bad hex" 1 "bad hex" $? "$out"

out=$("$verify" "$tmp/ret42"); check "ebpf-verify accepts a raw program" 0 "accept" $? "$out"
out=$("$verify" "$tmp/bad"); check "ebpf-verify rejects with index and reason" 1 \
	"reject: instruction 0: r0 is not initialised at exit" $? "$out"
out=$("$verify" -c 64 "$B/ebpf/c/sum_bytes.o"); check "ebpf-verify accepts a clang ELF" 0 \
	"accept" $? "$out"
out=$("$verify" -c 63 "$B/ebpf/c/sum_bytes.o"); check "ebpf-verify rejects it with a smaller context" 1 \
	"out-of-bounds access to context" $? "$out"
out=$("$verify" -c 64 "$B/ebpf/c/oob_read.o"); check "ebpf-verify rejects an out-of-bounds C loop" 1 \
	"bytes [64, 65) of 64" $? "$out"
out=$("$verify" "$B/ebpf/c/global_var.o"); check "ebpf-verify rejects globals in ELF" 1 \
	"map or global data" $? "$out"
out=$("$verify" -s nosuch "$B/ebpf/c/sum_bytes.o"); check "ebpf-verify: missing section" 1 \
	"no executable section" $? "$out"
out=$("$verify" "$tmp/does-not-exist" 2>&1); check "ebpf-verify: missing file" 2 "" $? "$out"
out=$("$verify" 2>&1); check "ebpf-verify: usage" 2 "usage" $? "$out"
# a huge file is refused as soon as it passes the limit, not read whole first:
# with 256 MiB of address space, reading 1 GiB would fail differently
truncate -s 1G "$tmp/huge"
out=$(sh -c "ulimit -v 262144; exec \"$verify\" \"$tmp/huge\"" 2>&1)
check "ebpf-verify: a 1 GiB file is refused early" 2 "too large for a program" $? "$out"
out=$(sh -c "ulimit -v 262144; exec \"$run\" <\"$tmp/huge\"" 2>&1)
check "ebpf-run: a 1 GiB program is refused early" 1 "too large" $? "$out"
rm -f "$tmp/huge"
echo "1..$n"
[ "$failed" = 0 ]
