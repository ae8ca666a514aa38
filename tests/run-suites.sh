#!/bin/sh
# run-suites.sh 'NAME|TIMEOUT|COMMAND'...
# Runs each suite command with a timeout, streams its output, keeps a log in
# $B/test-logs/NAME.log and counts its TAP lines:
#   "ok ..."              passed ("# SKIP" in the line: skipped)
#   "not ok ..."          failed ("# TODO": not counted)
#   "1..N"                a plan: the suite's plans add up to what it owes
# A suite that exits non-zero without a "not ok" line, times out, reports
# nothing at all, reports fewer results than its plans announced, or has no
# command (a name `make help` does not list) counts as one failure. The
# last line printed is
#   N passed, M failed
# and the exit status is non-zero when M > 0.
set -u
B=${B:-build}
logs=$B/test-logs
mkdir -p "$logs"
passed=0 failed=0 skipped=0
failures=

for spec in "$@"; do
	name=${spec%%|*}
	rest=${spec#*|}
	limit=${rest%%|*}
	cmd=${rest#*|}
	log=$logs/$name.log
	printf '== suite %s\n' "$name"
	start=$(date +%s)
	# empty before tail starts: it could otherwise print the last run's log
	# before the redirection below truncates it
	: >"$log"
	timeout -k 10 "$limit" sh -c "$cmd" >"$log" 2>&1 </dev/null &
	pid=$!
	tail -n +1 -f --pid=$pid "$log" 2>/dev/null
	wait $pid
	status=$?
	end=$(date +%s)
	p=$(grep -E '^[[:space:]]*ok( |$)' "$log" | grep -viE '#[[:space:]]*skip' | wc -l)
	s=$(grep -E '^[[:space:]]*ok( |$)' "$log" | grep -ciE '#[[:space:]]*skip')
	f=$(grep -E '^[[:space:]]*not ok( |$)' "$log" | grep -viE '#[[:space:]]*todo' | wc -l)
	all=$(grep -cE '^[[:space:]]*(not )?ok( |$)' "$log")
	planned=$(sed -nE 's/^[[:space:]]*1\.\.([0-9]+).*/\1/p' "$log" |
		awk '{ n += $1 } END { print n + 0 }')
	extra=
	if [ -z "$cmd" ]; then
		extra="has no command: not a suite (make help lists them)"
	elif [ "$status" = 124 ] || [ "$status" = 137 ]; then
		extra="timed out after ${limit}s"
	elif [ "$status" != 0 ] && [ "$f" = 0 ]; then
		extra="exited with status $status"
	elif [ $((p + s + f)) = 0 ]; then
		extra="reported no results"
	elif [ "$all" -lt "$planned" ]; then
		extra="reported $all of $planned planned results"
	fi
	if [ -n "$extra" ]; then
		f=$((f + 1))
		echo "not ok - suite $name $extra"
	fi
	[ "$f" -gt 0 ] && failures="$failures $name"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	printf '== suite %s: %d passed, %d failed, %d skipped (%ss, log %s)\n' \
		"$name" "$p" "$f" "$s" $((end - start)) "$log"
done

[ -n "$failures" ] && echo "failing suites:$failures"
echo "skipped: $skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
