#!/bin/sh
# run-suites-test.sh: checks tests/run-suites.sh, the harness behind
# `make check`, on made-up suites: the closing `N passed, M failed` line and
# the exit status for each way a suite can pass or fail; and that `make
# bench` refuses a benchmark name it does not know. Prints TAP.
set -u
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
bad=0

# expect NAME WANT_SUMMARY WANT_STATUS(0 or nonzero) [WANT_TEXT] -- SPEC...
expect() {
	name=$1 want=$2 wstatus=$3 text=$4
	shift 5
	n=$((n + 1))
	B=$work sh "$here/run-suites.sh" "$@" >"$work/out" 2>&1
	st=$?
	last=$(tail -n 1 "$work/out")
	why=
	[ "$last" = "$want" ] || why="last line '$last', want '$want'"
	if [ "$wstatus" = 0 ] && [ "$st" != 0 ]; then
		why="$why; exit status $st, want 0"
	elif [ "$wstatus" != 0 ] && [ "$st" = 0 ]; then
		why="$why; exit status 0, want non-zero"
	fi
	if [ -n "$text" ] && ! grep -qF -- "$text" "$work/out"; then
		why="$why; no '$text' in the output"
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $name"
	else
		bad=1
		echo "not ok $n - $name: ${why#; }"
		sed 's/^/#   /' "$work/out"
	fi
}

echo "1..11"
expect "passing suite" "2 passed, 0 failed" 0 "" -- \
	'a|10|echo "ok 1 - x"; echo "ok 2 - y"'
expect "not ok fails" "1 passed, 1 failed" 1 "failing suites: a" -- \
	'a|10|echo "ok 1 - x"; echo "not ok 2 - y"'
expect "skip is not a pass" "1 passed, 0 failed" 0 "skipped: 1" -- \
	'a|10|echo "ok 1 - x"; echo "ok 2 - y # SKIP no /dev/kvm"'
expect "non-zero exit without not ok" "1 passed, 1 failed" 1 "exited with status 3" -- \
	'a|10|echo "ok 1 - x"; exit 3'
expect "no results" "0 passed, 1 failed" 1 "reported no results" -- \
	'a|10|echo hello'
expect "timeout" "1 passed, 1 failed" 1 "timed out after 1s" -- \
	'a|1|echo "ok 1 - x"; sleep 30'
expect "fewer results than planned" "2 passed, 1 failed" 1 "reported 2 of 3 planned" -- \
	'a|10|echo 1..3; echo "ok 1 - x"; echo "ok 2 - y"'
expect "plans of several binaries add up" "3 passed, 0 failed" 0 "" -- \
	'a|10|echo 1..2; echo "ok 1 - x"; echo "ok 2 - y"; echo 1..1; echo "ok 1 - z"'
expect "unknown suite (no command)" "0 passed, 1 failed" 1 "not a suite" -- \
	'nosuch|600|'
expect "counts add up over suites" "2 passed, 1 failed" 1 "failing suites: b" -- \
	'a|10|echo "ok 1 - x"' 'b|10|echo "not ok 1 - y"' 'c|10|echo "ok 1 - z"'

n=$((n + 1))
if make -s -C "$here/.." bench BENCH=nosuch B="${B:-build}" >"$work/out" 2>&1; then
	bad=1
	echo "not ok $n - make bench BENCH=nosuch exits 0"
elif ! grep -q "no benchmark named 'nosuch'" "$work/out"; then
	bad=1
	echo "not ok $n - make bench BENCH=nosuch: no message naming it"
	sed 's/^/#   /' "$work/out"
else
	echo "ok $n - make bench refuses an unknown benchmark"
fi
exit $bad
