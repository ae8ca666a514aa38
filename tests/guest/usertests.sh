#!/bin/sh
# usertests.sh [--kvm] RUNNER [ARGS...]
#
# Boots the guest with RUNNER (e.g. `build/vessel run` or
# `sh scripts/qemu-run.sh`), types `usertests [$USERTESTS_ARGS]` and, once
# its summary is out, `poweroff` into its console, and turns the session into TAP
# for tests/run-suites.sh:
#   - every "ok N - name" / "not ok N - name" line of usertests, renumbered, prefixed
#     with "usertests: ";
#   - "not ok - usertests: missing results" if fewer results than the plan
#     ("1..N") came out (the guest died, hung or panicked);
#   - one line for the VM itself: it must power off with status 0.
# With --kvm the suite reports itself skipped where /dev/kvm is missing.
# The whole console log is kept in $B/test-logs/usertests-console-PID.log.
set -u
need_kvm=0
if [ "${1:-}" = "--kvm" ]; then
	need_kvm=1
	shift
fi
if [ $# -eq 0 ]; then
	echo "usage: usertests.sh [--kvm] RUNNER [ARGS...]" >&2
	exit 2
fi
if [ "$need_kvm" = 1 ] && [ ! -w /dev/kvm ]; then
	echo "ok 1 - usertests # SKIP no usable /dev/kvm"
	exit 0
fi
B=${B:-build}
mkdir -p "$B/test-logs"
log="$B/test-logs/usertests-console-$$.log"
timeout_s=${USERTESTS_TIMEOUT:-1500}

# Typed at a live console (a FIFO): `usertests` once the shell is up,
# `poweroff` once usertests printed its summary. Nothing is typed ahead, so
# the kernel's echo of typed-ahead input cannot land inside a result line.
fifo=$(mktemp -u)
mkfifo "$fifo"
trap 'rm -f "$fifo"' EXIT
: >"$log" # exists before await reads it (the VM opens it in the background)
timeout -k 10 "$timeout_s" "$@" <"$fifo" >"$log" 2>&1 &
vm=$!
exec 3>"$fifo"
# await REGEX: until a console line matches REGEX or the VM is gone (the
# timeout above bounds a hang)
await() {
	until tr -d '\r' <"$log" | grep -qE -- "$1"; do
		kill -0 "$vm" 2>/dev/null || { tr -d '\r' <"$log" | grep -qE -- "$1"; return; }
		sleep 0.2
	done
}
name=${UT_NAME:-usertests}
await 'Vessel shell' && printf '%s\n' "${UT_CMD:-usertests ${USERTESTS_ARGS:-}}" >&3 &&
	await "$name: ([0-9]+ passed, )?[0-9]+ failed|sh: $name( \\(pid [0-9]+\\) killed|: exit status)" &&
	printf 'poweroff\n' >&3
exec 3>&-
wait "$vm"
status=$?
tr -d '\r' <"$log" >"$log.txt"

awk -v status="$status" -v logf="$log" -v name="${UT_NAME:-usertests}" '
{ sub(/^(\$ )+/, "") }   # output that follows a shell prompt on the same line
/^1\.\.[0-9]+$/ && !plan { plan = substr($0, 4) + 0; next }
/^(not )?ok [0-9]+ - / {
	n++
	line = $0
	sub(/^(not )?ok [0-9]+ - /, "", line)
	if ($1 == "not") { print "not ok " n " - " name ": " line; bad++ }
	else print "ok " n " - " name ": " line
	next
}
/^#/ { sub(/[ \t]+$/, ""); print; next }
END {
	results = n
	if (!plan) print "not ok " ++n " - " name ": no plan line (did the shell start " name "? see " logf ")"
	else if (results < plan) print "not ok " ++n " - " name ": only " results " of " plan " results (guest died or hung? see " logf ")"
	if (status == 0) print "ok " ++n " - " name ": VM powered off with status 0"
	else if (status == 124 || status == 137) print "not ok " ++n " - " name ": VM timed out (see " logf ")"
	else print "not ok " ++n " - " name ": VM exited with status " status " (see " logf ")"
	exit (bad > 0 || !plan || results < plan || status != 0) ? 1 : 0
}' "$log.txt"
rc=$?
rm -f "$log.txt"
exit $rc
